"""Fixtures of the publish tests: settings with a temporary output folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicator.config import Settings, parse_settings
from tests.publish.builders import BASE_URL, TOPICS

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings with our three topics; keyword arguments go into the ``publish`` block."""

    def factory(**publish: Any) -> Settings:
        data: dict[str, Any] = {
            "base_url": BASE_URL.rstrip("/"),  # the validator adds the slash
            "taxonomy": {"topics": TOPICS},
            "sources": [
                {"type": "folder", "id": "unodc", "path": "releases", "title": "UNODC"},
            ],
            "publish": {"output_dir": str(tmp_path / "out"), **publish},
        }
        return parse_settings(data, tmp_path / "config.yaml")

    return factory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()
