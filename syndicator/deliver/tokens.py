"""Signed tokens for one-click unsubscribe links.

A token is ``<payload>.<mac>``, both base64url without padding, where the
payload is ``v1:<purpose>:<email>`` and the MAC is HMAC-SHA256 over it. The
email travels in the token (so the endpoint needs no lookup table and old links
keep working) and the purpose is signed with it (so a token minted for one use
can never be replayed for another). Tokens do not expire: an unsubscribe link
in a two-year-old message must still work (RFC 8058 and the big mailbox
providers expect that).

The key comes from the environment variable named by
``delivery.signing_key_env``; when unset, a random key is generated once and
kept in the store, so links stay valid across restarts without configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from syndicator.config import DeliverySettings
from syndicator.store.protocol import Storage

UNSUBSCRIBE = "unsubscribe"
SECRET_NAME = "unsubscribe-key"  # noqa: S105 - the name of the stored key, not a key
_VERSION = "v1"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: any character outside the base64url alphabet is an error, not skipped."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


class TokenSigner:
    """Mints and checks tokens with one key; pure, so render and the endpoint share it."""

    def __init__(self, key: str | bytes) -> None:
        if not key:
            raise ValueError("the signing key must not be empty")
        self._key = key.encode("utf-8") if isinstance(key, str) else key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def sign(self, email: str, purpose: str = UNSUBSCRIBE) -> str:
        """A token that proves ``email`` was given a link for ``purpose`` by us."""
        if ":" in purpose:
            raise ValueError("purpose must not contain ':'")
        payload = f"{_VERSION}:{purpose}:{email}".encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def verify(self, token: str, purpose: str = UNSUBSCRIBE) -> str | None:
        """The email the token was minted for, or None if it is not genuine or not for ``purpose``.

        The MAC is compared in constant time before the payload is trusted at all.
        """
        head, dot, tail = token.strip().partition(".")
        if not dot or not head or not tail:
            return None
        try:
            payload = _b64decode(head)
            mac = _b64decode(tail)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            version, got_purpose, email = payload.decode("utf-8").split(":", 2)
        except (UnicodeDecodeError, ValueError):
            return None
        if version != _VERSION or got_purpose != purpose or not email:
            return None
        return email


def signer_for(store: Storage, delivery: DeliverySettings) -> TokenSigner:
    """The signer configured for this installation (environment key, else the stored one)."""
    key = delivery.signing_key or store.get_or_create_secret(SECRET_NAME, secrets.token_urlsafe(32))
    return TokenSigner(key)
