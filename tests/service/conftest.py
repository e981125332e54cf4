"""Fixtures for the service tests: the shipped configuration, runnable from a test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipped_config(tmp_path: Path) -> Path:
    """The shipped config.yaml in ``tmp_path``, reading the bundled samples where they are.

    Its database, feeds and outbox land in ``tmp_path`` (relative paths are relative to
    the config file); its network sources fail offline, as in the Quick start.
    """
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("path: samples/releases", f"path: {REPO / 'samples' / 'releases'}")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path
