"""The formats Syndicator ships, registered when :mod:`syndicator.publish` is imported.

Media types are the ones feeds announce for themselves (``rel="self"``) and pages
announce for them (``<link rel="alternate">``). The OPML list points at Atom
first (it carries category labels and full content), then RSS, then JSON Feed.
"""

from __future__ import annotations

from syndicator.publish.feeds import atom_bytes, rss_bytes
from syndicator.publish.formats import OutputFormat, register_format
from syndicator.publish.jsonfeed import json_bytes

BUILT_IN = (
    OutputFormat("rss", "application/rss+xml", "RSS", rss_bytes, opml_rank=1),
    OutputFormat("atom", "application/atom+xml", "Atom", atom_bytes, opml_rank=0),
    OutputFormat("json", "application/feed+json", "JSON Feed", json_bytes, opml_rank=2),
    OutputFormat("opml", "text/x-opml", "OPML", None),
    OutputFormat("html", "text/html", "HTML pages", None),
)

for _fmt in BUILT_IN:
    register_format(_fmt)
