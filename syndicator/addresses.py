"""Email addresses: one check for every place an address enters.

Addresses come from the configuration (subscribers, the sender, Reply-To, the
unsubscribe mailbox), from the command line (``syndicator unsubscribe EMAIL``)
and, later, from a sign-up form. A hand-written pattern let
``a@x.org, b@y.org`` and ``a@x.org;b@y.org`` through as one "address": two
recipients where the operator meant one, or a header that says something else
than the envelope. email-validator knows the RFCs (and IDNA) better than any
pattern, so it decides. Its DNS check is off: there is no resolver here, and
whether an operator's typo is caught must not depend on one.

Internationalised local parts (``jörg@…``) are refused: they need SMTPUTF8
end to end, which the SMTP transport does not negotiate, so such an address
would fail at every run instead of once, here. Internationalised domains are
fine: :attr:`Mailbox.ascii` carries the IDNA form that SMTP and headers need.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """Not one valid email address; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A validated address, in the forms each use needs."""

    address: str
    """The validator's normalised form (domain lower-cased, in Unicode): tells one mailbox
    spelt two ways apart from two mailboxes. Subscribers stay keyed by the address as
    written (lower-cased), so existing databases keep their keys."""
    ascii: str
    """The same address with its domain in IDNA (``xn--``) form: the envelope and headers."""
    name: str | None = None
    """The display name, where one was allowed and given (``Desk <desk@example.org>``)."""

    @property
    def domain(self) -> str:
        """The ASCII domain, for Message-IDs and List-Id."""
        return self.ascii.rpartition("@")[2]


def parse_address(value: str, *, display_name: bool = False) -> Mailbox:
    """``value`` as one validated address, else :class:`AddressError` with the reason.

    ``display_name`` allows the ``Name <local@domain>`` form (the sender, Reply-To);
    a subscriber's address is the bare address, their name a setting of its own.
    """
    try:
        valid = validate_email(
            value,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_display_name=display_name,
        )
    except EmailNotValidError as exc:
        raise AddressError(f"not a valid email address: {exc}") from None
    return Mailbox(
        address=valid.normalized,
        ascii=valid.ascii_email or valid.normalized,
        name=valid.display_name or None,
    )
