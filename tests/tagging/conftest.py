"""Shared fixtures: the default five-topic taxonomy, compiled once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicator.config import TaxonomySettings
from syndicator.tagging import Tagger

UNODC = "https://www.unodc.org/unodc/en"
DEFAULT_TOPICS = (
    ("organized-crime", "Organized crime", f"{UNODC}/organized-crime/index.html"),
    ("trafficking-in-persons", "Trafficking in persons", f"{UNODC}/human-trafficking/index.html"),
    ("drug-trafficking", "Drug trafficking", f"{UNODC}/drug-trafficking/index.html"),
    ("corruption", "Corruption", f"{UNODC}/corruption/index.html"),
    ("terrorism", "Terrorism", f"{UNODC}/terrorism/index.html"),
)

SettingsFactory = Callable[..., TaxonomySettings]


def _make_settings(
    topic_changes: dict[str, dict[str, Any]] | None = None, **changes: Any
) -> TaxonomySettings:
    topics = []
    for topic_id, title, link in DEFAULT_TOPICS:
        topic: dict[str, Any] = {"id": topic_id, "title": title, "link": link}
        topic.update((topic_changes or {}).get(topic_id, {}))
        topics.append(topic)
    return TaxonomySettings.model_validate({"topics": topics, **changes})


@pytest.fixture(scope="session")
def make_settings() -> SettingsFactory:
    """Build TaxonomySettings for the default topics, with per-topic changes."""
    return _make_settings


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return Tagger.from_settings(_make_settings())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``shared`` folder beside the repository root; tests skip when it is absent."""
    path = Path(__file__).resolve().parents[3] / "shared"
    if not path.is_dir():
        pytest.skip("../shared is not available")
    return path
