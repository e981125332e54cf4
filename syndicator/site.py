"""Where published things live in the output folder, for every stage that links to them.

Publishing writes the pages and delivery links to them from email, so both take
file names from here and cannot disagree. An item's page is named after the
same name-based UUID as its feed entry id (source id + item identity), never
the database row: the link stays the same across re-created databases, hosts
and ``base_url`` moves, and a link in an old email keeps working.
"""

from __future__ import annotations

import uuid

ITEMS_DIR = "items"
"""Sub-folder of the output folder holding one page per item."""
ALL = "all"
"""File stem of the outputs carrying every topic (``all.rss``, ``all.atom``, ...)."""
INDEX_PAGE = "index.html"
OPML_FILE = "feeds.opml"
SIGNUP_PATH = "signup"
"""Where the pages' sign-up form posts, under ``base_url`` (answered by ``syndicator serve``);
the confirmation link opens ``signup/confirm``. No file of the folder has this name."""

RESERVED_TOPIC_IDS = frozenset(
    {ALL, ITEMS_DIR, *(name.rsplit(".", 1)[0] for name in (INDEX_PAGE, OPML_FILE))}
)
"""Topic ids whose outputs would collide with a site-level name: the all-topics feeds,
the index page, the OPML list, the item pages' folder. Derived from the names above, so
a renamed output cannot leave the check behind; config validation refuses them."""

ENTRY_NAMESPACE = uuid.UUID("c2a65b21-f501-5fa3-bdbc-f143ddcb3fa8")
"""uuid5(NAMESPACE_URL, 'https://github.com/syndicator/syndicator#feed-entry').

Hard-coded: changing it would change every published entry id and page name, and
readers would show every item as new again.
"""


def item_uuid(source_id: str, identity: str) -> str:
    """The item's stable UUID (entry id ``urn:uuid:…``, page name, page anchor)."""
    return str(uuid.uuid5(ENTRY_NAMESPACE, f"{source_id}\n{identity}"))


def item_page(source_id: str, identity: str) -> str:
    """The item's page, relative to the output folder: ``items/<uuid>.html``."""
    return f"{ITEMS_DIR}/{item_uuid(source_id, identity)}.html"


def topic_page(topic_id: str) -> str:
    """The topic's page, relative to the output folder."""
    return f"{topic_id}.html"
