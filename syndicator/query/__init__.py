"""Saved searches: the query language, its one matcher, and what the store pre-filters.

Pure: nothing here reads a database, a file the operator wrote, or the clock.
See docs/queries.md for the language.
"""

from syndicator.errors import QuerySyntaxError
from syndicator.query.matcher import ItemView, explain, matches
from syndicator.query.prefilter import Condition, prefilter
from syndicator.query.syntax import Query, parse

__all__ = [
    "Condition",
    "ItemView",
    "Query",
    "QuerySyntaxError",
    "explain",
    "matches",
    "parse",
    "prefilter",
]
