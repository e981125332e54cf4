"""Signed unsubscribe tokens."""

from __future__ import annotations

import base64

import pytest

from syndicator.deliver.tokens import (
    GENERATED,
    SECRET_NAME,
    TokenSigner,
    signer_for,
    signing_keys,
)
from syndicator.store import SqlStore

from .conftest import SIGNING_KEY, MakeSettings


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
    assert signing_keys(store, settings.delivery).source == GENERATED


def test_generated_key_keeps_verifying_after_a_key_is_configured(
    store: SqlStore, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links signed with the generated key are in mailboxes; configuring a key must not kill them."""
    settings = make_settings()
    monkeypatch.delenv("SYNDICATOR_SIGNING_KEY")
    old_link = signer_for(store, settings.delivery).sign("ann@example.org")
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "from-env")
    signer = signer_for(store, settings.delivery)
    assert signer.verify(old_link) == "ann@example.org"
    new_link = signer.sign("bob@example.org")
    assert TokenSigner("from-env").verify(new_link) == "bob@example.org"  # signs with the new key
    assert signing_keys(store, settings.delivery).source == "SYNDICATOR_SIGNING_KEY"


def test_a_configured_key_does_not_create_a_stored_one(
    store: SqlStore, make_settings: MakeSettings
) -> None:
    signer_for(store, make_settings().delivery)
    assert store.get_secret(SECRET_NAME) is None


def test_links_signed_with_any_earlier_key_keep_working() -> None:
    first, second = TokenSigner("k1"), TokenSigner("k2", ["k1"])
    old = first.sign("ann@example.org")
    rotated = TokenSigner("k3", ["k2", "k1"])
    assert rotated.verify(old) == "ann@example.org"
    assert rotated.verify(second.sign("bob@example.org")) == "bob@example.org"
    new = rotated.sign("cy@example.org")
    assert new != TokenSigner("k1").sign("cy@example.org")
    assert TokenSigner("k3").verify(new) == "cy@example.org"  # the first key signs
    assert first.verify(new) is None
    assert second.verify(new) is None


def test_rotation_keeps_tampered_and_cross_purpose_tokens_out() -> None:
    rotated = TokenSigner("k2", ["k1"])
    for signer in (TokenSigner("k1"), TokenSigner("k2")):
        head, _, mac = signer.sign("ann@example.org").partition(".")
        forged = base64.urlsafe_b64encode(b"v1:unsubscribe:bob@example.org").rstrip(b"=").decode()
        assert rotated.verify(f"{forged}.{mac}") is None
        assert rotated.verify(f"{head}.{mac[:-2]}AA") is None
        assert rotated.verify(signer.sign("ann@example.org", purpose="manage")) is None
        assert rotated.verify(signer.sign("ann@example.org", purpose="manage"), "manage")
    assert TokenSigner("k2", ["k1"]).verify(TokenSigner("k0").sign("ann@example.org")) is None


def test_previous_keys_come_from_one_variable_split_on_spaces_and_commas(
    store: SqlStore, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_PREVIOUS_SIGNING_KEYS", " k1,k2\n k3 ,, ")
    delivery = make_settings().delivery
    assert delivery.previous_signing_keys == ("k1", "k2", "k3")
    signer = signer_for(store, delivery)
    for key in ("k1", "k2", "k3", SIGNING_KEY):
        assert signer.verify(TokenSigner(key).sign("ann@example.org")) == "ann@example.org"
    assert TokenSigner(SIGNING_KEY).verify(signer.sign("ann@example.org")) == "ann@example.org"


def test_characters_outside_the_alphabet_are_not_skipped() -> None:
    """A lenient decoder would accept many spellings of one token; only the minted one counts."""
    signer = TokenSigner("key")
    head, _, mac = signer.sign("ann@example.org").partition(".")
    assert signer.verify(f"{head}.{mac}") == "ann@example.org"
    assert signer.verify(f"{head}!.{mac}") is None
    assert signer.verify(f"{head}.{mac[:4]}*{mac[4:]}") is None


# ---------------------------------------------------------------------------- expiring


def test_an_expiring_token_works_until_its_time_and_never_after() -> None:
    from datetime import UTC, datetime, timedelta

    signer = TokenSigner("key")
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    token = signer.sign_until("ann@example.org", "confirm", now + timedelta(days=7))
    assert signer.verify_until(token, "confirm", now) == "ann@example.org"
    assert signer.verify_until(token, "confirm", now + timedelta(days=7, seconds=-1))
    assert signer.verify_until(token, "confirm", now + timedelta(days=7)) is None
    assert signer.verify_until(token, "unsubscribe", now) is None  # another purpose
    assert signer.verify(token) is None  # not an unsubscribe token
    assert TokenSigner("other").verify_until(token, "confirm", now) is None


def test_a_moved_expiry_breaks_the_token() -> None:
    from datetime import UTC, datetime, timedelta

    signer = TokenSigner("key")
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    token = signer.sign_until("ann@example.org", "confirm", now)
    _head, _, mac = token.partition(".")
    later = int((now + timedelta(days=365)).timestamp())
    forged = base64.urlsafe_b64encode(f"v1:confirm@{later}:ann@example.org".encode())
    assert signer.verify_until(f"{forged.rstrip(b'=').decode()}.{mac}", "confirm", now) is None
    for junk in ["", ".", "abc.def", token + "x"]:
        assert signer.verify_until(junk, "confirm", now) is None
