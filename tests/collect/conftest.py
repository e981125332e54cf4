"""Fixtures of the collect tests; helpers live in collect_helpers.py beside this file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from collect_helpers import Script, run_server

from syndicator.config import CollectSettings


@pytest.fixture
def server() -> Iterator[Script]:
    yield from run_server()


@pytest.fixture
def settings() -> CollectSettings:
    return CollectSettings(
        allow_networks=("127.0.0.1",),
        min_host_interval=0,
        connect_timeout=2,
        read_timeout=2,
        total_timeout=5,
        jitter=0.1,
    )
