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


def find_subscriber(store: Storage, settings: Settings, email: str) -> Subscriber:
    """The reader ``email`` as the store knows them, else as configured (not yet synced)."""
    wanted = email.strip().lower()
    for state in store.subscriber_states():
        if state.subscriber.email.lower() == wanted:
            return state.subscriber
    for configured in settings.subscribers:
        if configured.email.lower() == wanted:
            return _subscriber(configured)
    raise SyndicatorError(f"{email}: no such subscriber (see `syndicator status`)")


def preview_digest(
    store: Storage, settings: Settings, email: str, now: datetime
) -> Rendered | None:
    """The digest ``email`` would get next with what is unsent now; None when nothing is."""
    subscriber = find_subscriber(store, settings, email)
    items = store.unsent_items(
        subscriber.email, subscriber.topics, "digest", settings.delivery.max_items_per_digest
    )
    if not items:
        return None
    renderer = Renderer(settings, signer_for(store, settings.delivery), settings.templates_dir)
    message_id = make_msgid(idstring="preview", domain=renderer.domain)
    return renderer.render("digest", subscriber, items, message_id, now)
