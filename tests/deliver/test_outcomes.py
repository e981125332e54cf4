"""The ledger's state rules on their own: no database, no server, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicator.deliver.outcomes import (
    after_failure,
    attempt_state,
    expired,
    interrupted,
    stopped_by_bounces,
)
from syndicator.errors import DeliveryOutcome
from syndicator.store.protocol import DispatchState


@pytest.mark.parametrize(
    ("outcome", "first", "resend"),
    [
        ("temporary", "pending", "unknown"),  # nothing arrived: an unknown stays unknown
        ("unavailable", "pending", "unknown"),
        ("refused", "failed", "failed"),
        ("rejected", "failed", "failed"),
        ("unknown", "unknown", "failed"),  # never a third copy
    ],
)
def test_state_after_a_failed_attempt(
    outcome: DeliveryOutcome, first: DispatchState, resend: DispatchState
) -> None:
    assert after_failure("sending", outcome) == first
    assert after_failure("resending", outcome) == resend


@pytest.mark.parametrize(
    ("state", "attempt"),
    [("pending", "sending"), ("sending", "sending"), ("unknown", "resending")],
)
def test_an_unknown_outcome_gets_its_one_more_chance(state: DispatchState, attempt: str) -> None:
    assert attempt_state(state) == attempt


def test_a_stopped_run_leaves_in_flight_messages_unknown_then_failed() -> None:
    assert interrupted("sending") == "unknown"
    assert interrupted("resending") == "failed"
    assert interrupted("pending") is None
    assert interrupted("unknown") is None


def test_expiry_and_bounce_limits() -> None:
    made = datetime(2026, 1, 1, tzinfo=UTC)
    four_days = timedelta(hours=96)
    assert not expired(made, made + four_days - timedelta(seconds=1), four_days)
    assert expired(made, made + four_days, four_days)
    assert not stopped_by_bounces(2, 3)
    assert stopped_by_bounces(3, 3)
