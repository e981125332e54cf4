"""Signed tokens for one-click unsubscribe links.

A token is ``<payload>.<mac>``, both base64url without padding, where the
payload is ``v1:<purpose>:<email>`` and the MAC is HMAC-SHA256 over it. The
email travels in the token (so the endpoint needs no lookup table and old links
keep working) and the purpose is signed with it (so a token minted for one use
can never be replayed for another). Tokens do not expire: an unsubscribe link
in a two-year-old message must still work (RFC 8058 and the big mailbox
providers expect that). A sign-up confirmation link must not work for ever, so
:meth:`TokenSigner.sign_until` signs the expiry time into the purpose
(``confirm@<unix seconds>``): it cannot be changed without breaking the MAC.

The current key comes from the environment variable named by
``delivery.signing_key_env``; when unset, a random key is generated once and
kept in the store, so links stay valid across restarts without configuration.
Keys rotate without breaking a link already sent: new links are signed with
the current key, and a token signed with any earlier key still verifies, be it
one listed in ``delivery.previous_signing_keys_env`` or the generated key in
the store (still honoured after an operator switches to a configured key).
:mod:`syndicator.deliver.keys` tells processes that disagree about keys apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from syndicator.config import DeliverySettings
from syndicator.store.protocol import Storage

UNSUBSCRIBE = "unsubscribe"
CONFIRM = "confirm"
"""A sign-up confirmation link (expiring: :meth:`TokenSigner.sign_until`)."""
SECRET_NAME = "unsubscribe-key"  # noqa: S105 - the name of the stored key, not a key
_VERSION = "v1"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: any character outside the base64url alphabet is an error, not skipped."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


class TokenSigner:
    """Mints tokens with the current key and checks them against every key it was given.

    Pure, so render and the endpoint share it.
    """

    def __init__(self, key: str | bytes, previous: Iterable[str | bytes] = ()) -> None:
        if not key:
            raise ValueError("the signing key must not be empty")
        keys: list[bytes] = []
        for each in (key, *previous):
            raw = each.encode("utf-8") if isinstance(each, str) else each
            if raw and raw not in keys:
                keys.append(raw)
        self.keys: tuple[bytes, ...] = tuple(keys)
        """The current key first, then the earlier ones that still verify."""

    @staticmethod
    def _mac(key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, payload, hashlib.sha256).digest()

    def sign(self, email: str, purpose: str = UNSUBSCRIBE) -> str:
        """A token that proves ``email`` was given a link for ``purpose`` by us."""
        if ":" in purpose:
            raise ValueError("purpose must not contain ':'")
        payload = f"{_VERSION}:{purpose}:{email}".encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(self.keys[0], payload))}"

    def verify(self, token: str, purpose: str = UNSUBSCRIBE) -> str | None:
        """The email the token was minted for, or None if it is not genuine or not for ``purpose``.

        The MAC is compared, in constant time, with the MAC under every key (all of
        them, so the time taken does not tell which key matched) before the payload
        is trusted at all.
        """
        head, dot, tail = token.strip().partition(".")
        if not dot or not head or not tail:
            return None
        try:
            payload = _b64decode(head)
            mac = _b64decode(tail)
        except (binascii.Error, ValueError):
            return None
        genuine = False
        for key in self.keys:
            genuine |= hmac.compare_digest(mac, self._mac(key, payload))
        if not genuine:
            return None
        try:
            version, got_purpose, email = payload.decode("utf-8").split(":", 2)
        except (UnicodeDecodeError, ValueError):
            return None
        if version != _VERSION or got_purpose != purpose or not email:
            return None
        return email

    def sign_until(self, email: str, purpose: str, expires: datetime) -> str:
        """A token for ``purpose`` that :meth:`verify_until` refuses from ``expires`` on."""
        return self.sign(email, f"{purpose}@{int(expires.timestamp())}")

    def verify_until(self, token: str, purpose: str, now: datetime) -> str | None:
        """The email of a genuine, unexpired token for ``purpose``; None otherwise."""
        head = token.strip().partition(".")[0]
        try:
            _, signed_purpose, _ = _b64decode(head).decode("utf-8").split(":", 2)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        name, at, expiry = signed_purpose.partition("@")
        if name != purpose or not at or not expiry.isdigit():
            return None
        # verify() checks the MAC over the whole payload, expiry included.
        email = self.verify(token, signed_purpose)
        if email is None or now.timestamp() >= int(expiry):
            return None
        return email


GENERATED = "generated"
"""The source of a key that no variable gave: generated once and kept in the store."""


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """The keys one installation signs and verifies with, and where the current one comes from."""

    current: str
    previous: tuple[str, ...]
    source: str
    """The environment variable's name, or :data:`GENERATED`."""

    def signer(self) -> TokenSigner:
        return TokenSigner(self.current, self.previous)


def signing_keys(store: Storage, delivery: DeliverySettings) -> SigningKeys:
    """The configured key, else the stored one (generated on first use); plus the earlier keys.

    Once a key is configured, the stored generated key (if one was ever made) still
    verifies: the links signed with it are in mailboxes and never expire.
    """
    configured = delivery.signing_key
    if configured is None:
        current = store.get_or_create_secret(SECRET_NAME, secrets.token_urlsafe(32))
        return SigningKeys(current, delivery.previous_signing_keys, GENERATED)
    stored = store.get_secret(SECRET_NAME)
    previous = delivery.previous_signing_keys + ((stored,) if stored else ())
    return SigningKeys(configured, previous, delivery.signing_key_env)


def signer_for(store: Storage, delivery: DeliverySettings) -> TokenSigner:
    """The signer configured for this installation (see :func:`signing_keys`)."""
    return signing_keys(store, delivery).signer()
