"""Signed unsubscribe tokens."""

from __future__ import annotations

import base64

from syndicator.deliver.tokens import TokenSigner, signer_for
from syndicator.store import SqlStore


def test_round_trip() -> None:
    signer = TokenSigner("key")
    token = signer.sign("ann@example.org")
    assert signer.verify(token) == "ann@example.org"
    assert "=" not in token  # no padding, safe in a URL without escaping


def test_wrong_key_wrong_purpose_and_garbage_fail() -> None:
    token = TokenSigner("key").sign("ann@example.org")
    assert TokenSigner("other").verify(token) is None
    assert TokenSigner("key").verify(token, purpose="manage") is None
    for junk in ["", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", token + "x", token[:-2]]:
        assert TokenSigner("key").verify(junk) is None


def test_tampered_email_fails() -> None:
    signer = TokenSigner("key")
    _head, _, mac = signer.sign("ann@example.org").partition(".")
    forged = base64.urlsafe_b64encode(b"v1:unsubscribe:bob@example.org").rstrip(b"=").decode()
    assert signer.verify(f"{forged}.{mac}") is None


def test_key_is_created_once_and_kept(store: SqlStore, make_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    monkeypatch.delenv("SYNDICATOR_SIGNING_KEY")
    token = signer_for(store, settings.delivery).sign("ann@example.org")
    assert signer_for(store, settings.delivery).verify(token) == "ann@example.org"
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "from-env")
    assert signer_for(store, settings.delivery).verify(token) is None


def test_characters_outside_the_alphabet_are_not_skipped() -> None:
    """A lenient decoder would accept many spellings of one token; only the minted one counts."""
    signer = TokenSigner("key")
    head, _, mac = signer.sign("ann@example.org").partition(".")
    assert signer.verify(f"{head}.{mac}") == "ann@example.org"
    assert signer.verify(f"{head}!.{mac}") is None
    assert signer.verify(f"{head}.{mac[:4]}*{mac[4:]}") is None
