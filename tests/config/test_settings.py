"""Loading config.yaml: typed settings, errors that name file and key, docs that stay true."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from syndicator.config import (
    CollectSettings,
    DeliverySettings,
    FeedSource,
    FolderSource,
    PageSource,
    PublishSettings,
    ScheduleSettings,
    Settings,
    SignupSettings,
    SmtpSettings,
    SubscriberSettings,
    TaxonomySettings,
    TopicSettings,
    load_settings,
)
from syndicator.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
TOPICS = [{"id": "corruption", "title": "Corruption"}]


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def minimal(**extra: Any) -> dict[str, Any]:
    return {"base_url": "https://x.example/feeds", "taxonomy": {"topics": TOPICS}, **extra}


def test_minimal_config_gets_defaults_and_resolves_paths(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, minimal(sources=[{"id": "f", "type": "folder", "path": "rel"}]))
    )
    assert settings.base_url_text == "https://x.example/feeds/"
    assert settings.publish.output_dir == tmp_path / "feeds"
    assert settings.delivery.outbox_dir == tmp_path / "var" / "outbox"
    assert settings.database == f"sqlite:///{tmp_path / 'var' / 'syndicator.sqlite3'}"
    source = settings.sources[0]
    assert isinstance(source, FolderSource)
    assert source.path == tmp_path / "rel"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (minimal(publsh={}), r"publsh: unknown key"),
        (
            minimal(sources=[{"id": "a", "type": "feed", "url": "not a url"}]),
            r"sources\.0\.url",
        ),
        (minimal(sources=[{"id": "a", "type": "ftp"}]), r"sources\.0"),
        ({"taxonomy": {"topics": TOPICS}}, r"base_url: required key is missing"),
        (minimal(collect={"concurrency": 0}), r"collect\.concurrency.*got 0"),
        (
            minimal(subscribers=[{"email": "a@x.org", "topics": ["terrorism"]}]),
            r"subscribers\.0 \(a@x\.org\): unknown topic\(s\) terrorism",
        ),
        (
            minimal(
                subscribers=[
                    {"email": "a@x.org", "topics": ["corruption"], "timezone": "Mars/Base"}
                ]
            ),
            r"subscribers\.0\.timezone.*unknown time zone 'Mars/Base'",
        ),
        (
            minimal(subscribers=[{"email": "a@x.org", "query": "bribery (port"}]),
            r"subscribers\.0\.query.*\(at character 9\):\n  bribery \(port\n          \^",
        ),
        (
            minimal(subscribers=[{"email": "a@x.org", "query": "topic:arson fire"}]),
            r"subscribers\.0\.query \(a@x\.org\): unknown topic \"arson\"",
        ),
        (
            minimal(subscribers=[{"email": "a@x.org", "countries": ["UA", "XX"]}]),
            r"subscribers\.0\.countries.*unknown country code \"XX\"",
        ),
        (minimal(subscribers=[{"email": "a@x.org"}]), r"subscribers\.0.*topics, countries or"),
        (
            minimal(subscribers=[{"email": "a@x.org", "topics": ["corruption"], "language": "de"}]),
            r"subscribers\.0\.language.*unknown language 'de'; shipped: en, fr, es, ru",
        ),
        (minimal(delivery={"language": "pt"}), r"delivery\.language.*unknown language 'pt'"),
        (minimal(delivery={"transport": "smtp"}), r"transport 'smtp' needs an 'smtp' block"),
        (
            minimal(
                sources=[
                    {"id": "a", "type": "folder", "path": "x"},
                    {"id": "a", "type": "folder", "path": "y"},
                ]
            ),
            r"source ids must be unique; repeated: a",
        ),
        (minimal(taxonomy={"topics": [{"id": "all", "title": "All"}]}), r"reserved"),
        ("- just\n- a list\n", r"top level must be a mapping"),
        ("base_url: [unclosed\n", r"not valid YAML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, data: Any, expected: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message
    assert re.search(expected, message), message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: configuration file not found"):
        load_settings(tmp_path / "nowhere.yaml")


def test_config_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, minimal())
    monkeypatch.setenv("SYNDICATOR_CONFIG", str(path))
    assert load_settings().config_path == path.resolve()


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(
        write(
            tmp_path,
            minimal(
                delivery={"transport": "smtp", "smtp": {"host": "mail", "password_env": "MY_PW"}}
            ),
        )
    )
    assert settings.delivery.smtp is not None
    assert settings.delivery.smtp.password is None
    monkeypatch.setenv("MY_PW", "s3cret")
    assert settings.delivery.smtp.password == "s3cret"
    assert "s3cret" not in (tmp_path / "config.yaml").read_text(encoding="utf-8")


def test_shipped_config_is_valid() -> None:
    settings = load_settings(REPO / "config.yaml")
    assert any(isinstance(s, FolderSource) for s in settings.enabled_sources)
    assert any(isinstance(s, FeedSource) for s in settings.sources)
    assert any(isinstance(s, PageSource) for s in settings.sources)


MODELS: list[type[BaseModel]] = [
    Settings,
    FeedSource,
    PageSource,
    FolderSource,
    CollectSettings,
    TaxonomySettings,
    TopicSettings,
    PublishSettings,
    DeliverySettings,
    SmtpSettings,
    SubscriberSettings,
    ScheduleSettings,
    SignupSettings,
    SignupSettings,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_setting_is_documented(model: type[BaseModel]) -> None:
    reference = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in model.model_fields
        if name != "config_path" and f"`{name}`" not in reference
    ]
    assert not missing, f"docs/configuration.md does not describe {model.__name__}: {missing}"


@pytest.mark.parametrize("reserved", ["all", "index", "feeds", "items"])
def test_topic_ids_reserved_by_publishing_are_refused_at_their_key(
    tmp_path: Path, reserved: str
) -> None:
    """Issue 8: config and publishing kept two lists that disagreed (``items``, the item
    pages' folder, was in neither; ``feeds`` only in one); now one, from syndicator.site."""
    topics = [{"id": "corruption", "title": "Corruption"}, {"id": reserved, "title": "X"}]
    path = write(tmp_path, minimal(taxonomy={"topics": topics}))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"taxonomy.topics.1.id: Value error, {reserved!r} is reserved by publishing" in str(
        caught.value
    )
