"""What a sign-up does, decided without a store, a clock or a mail server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from syndicator.models import ManagedBy, RecipientStatus, Subscriber
from syndicator.service.signup import decide
from syndicator.store.protocol import RecipientState

NOW = datetime(2026, 12, 4, tzinfo=UTC)
ROW = RecipientState(
    id=1,
    subscriber=Subscriber("ann@example.org", ("corruption",)),
    status="active",
    managed_by="self",
    subscribed_at=NOW,
    unsubscribed_at=None,
    last_digest_at=None,
)


def row(status: RecipientStatus, managed_by: ManagedBy = "self") -> RecipientState:
    return replace(ROW, status=status, managed_by=managed_by)


def test_an_unknown_address_is_sent_a_confirmation() -> None:
    assert decide(None, mails_left=True).action == "confirm"


@pytest.mark.parametrize("managed_by", ["config", "operator", "self"])
@pytest.mark.parametrize("status", ["active", "paused"])
def test_a_subscribed_address_is_told_so_and_nothing_changes(
    status: RecipientStatus, managed_by: ManagedBy
) -> None:
    assert decide(row(status, managed_by), mails_left=True).action == "already"


def test_an_unconfirmed_or_returning_reader_is_sent_a_confirmation() -> None:
    assert decide(row("pending"), mails_left=True).action == "confirm"
    assert decide(row("unsubscribed"), mails_left=True).action == "confirm"
    assert decide(row("unsubscribed", "operator"), mails_left=True).action == "confirm"


@pytest.mark.parametrize(
    ("status", "managed_by"),
    [
        ("removed", "operator"),  # the operator took them off
        ("forgotten", "operator"),
        ("unsubscribed", "config"),  # config.yaml owns the row
        ("removed", "config"),
    ],
)
def test_what_the_form_may_not_undo_gets_nothing(
    status: RecipientStatus, managed_by: ManagedBy
) -> None:
    decision = decide(row(status, managed_by), mails_left=True)
    assert decision.action == "nothing"


@pytest.mark.parametrize("found", [None, ROW, row("pending")])
def test_past_the_per_address_limit_nothing_is_sent(found: RecipientState | None) -> None:
    assert decide(found, mails_left=False).action == "nothing"
