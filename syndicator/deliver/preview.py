"""The next digest of one reader, rendered for a person to look at; nothing is sent.

``syndicator digest preview EMAIL`` answers "what will this reader get?" without
the quoted-printable noise of an ``.eml`` file and without touching the ledger:
no dispatch is reserved, so the real digest later carries exactly these items.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid

from syndicator.config import Settings
from syndicator.deliver import _subscriber
from syndicator.deliver.render import Rendered, Renderer
from syndicator.deliver.tokens import signer_for
from syndicator.errors import SyndicatorError
from syndicator.models import Subscriber
from syndicator.store.protocol import Storage
from syndicator.store.search import unsent_for_subscriber


def find_subscriber(
    store: Storage, settings: Settings, email: str
) -> tuple[Subscriber, int | None]:
    """The reader ``email`` and their recipient id as the store knows them, else as
    configured (not yet synced: no id, nothing sent to them yet)."""
    wanted = email.strip().lower()
    for configured in settings.subscribers:  # the configuration wins (docs/subscribers.md)
        if configured.email.lower() == wanted:
            stored = store.find_recipient(wanted)
            return _subscriber(configured), stored.id if stored is not None else None
    stored = store.find_recipient(wanted)
    if stored is not None and stored.status not in ("removed", "forgotten"):
        return stored.subscriber, stored.id
    raise SyndicatorError(f"{email}: no such subscriber (see `syndicator subscribers list`)")


def preview_digest(
    store: Storage, settings: Settings, email: str, now: datetime
) -> Rendered | None:
    """The digest ``email`` would get next with what is unsent now; None when nothing is."""
    subscriber, recipient_id = find_subscriber(store, settings, email)
    items = unsent_for_subscriber(
        store, recipient_id, subscriber, "digest", settings.delivery.max_items_per_digest
    )
    if not items:
        return None
    renderer = Renderer(settings, signer_for(store, settings.delivery), settings.templates_dir)
    message_id = make_msgid(idstring="preview", domain=renderer.domain)
    return renderer.render("digest", subscriber, items, message_id, now)
