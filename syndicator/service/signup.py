"""What to do with one sign-up from the pages: a pure decision, no store, no clock, no mail.

The web handler (:mod:`syndicator.web.signup`) reads the address's row, asks
:func:`decide`, then does what the answer says. Keeping the rules here lets every
case be tested without I/O, and keeps the two promises of double opt-in in one place:

* nothing but a confirmation is ever sent to an address that has not confirmed;
* the reader always sees the same answer ("check your mail"), whatever we knew
  about the address, so the form cannot be used to find out who is subscribed.
  Only the mail differs, and only the mailbox's owner reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from syndicator.store.protocol import RecipientState

Action = Literal["confirm", "already", "nothing"]
"""``confirm``: store the sign-up as pending and mail a confirmation link;
``already``: change nothing, mail "you are already subscribed" (with the unsubscribe link);
``nothing``: change nothing, send nothing."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    """For the log line: why, in a word or two (never shown to the visitor)."""


def decide(found: RecipientState | None, *, mails_left: bool) -> Decision:
    """The action for a sign-up of an address whose row is ``found`` (None: unknown).

    ``mails_left`` is False when the address was already sent as many sign-up mails
    today as allowed (``signup.max_mails_per_address_per_day``): then nothing is sent,
    so the form cannot be used to flood someone's mailbox.
    """
    if not mails_left:
        return Decision("nothing", "address_limit")
    if found is None:
        return Decision("confirm", "new")
    if found.status in ("active", "paused"):
        return Decision("already", "subscribed")
    if found.managed_by == "config":
        # config.yaml owns this row (removed from it, or unsubscribed): a sign-up may not
        # overwrite the file's choices, and a confirmation would be undone at the next sync.
        return Decision("nothing", "config_row")
    if found.status == "pending":
        return Decision("confirm", "pending_again")
    if found.status == "unsubscribed":
        return Decision("confirm", "returning")  # their own new consent, once confirmed
    # ``removed`` (the operator took them off) and ``forgotten``: not the form's to undo.
    return Decision("nothing", found.status)
