"""config.yaml → typed, validated settings.

Every error names the file, the key path and what was expected, because the
person reading it is an operator editing YAML, not a Python developer. Unknown
keys are errors: a misspelt key that is silently ignored is a setting that
silently does nothing. Relative paths are resolved against the folder of the
config file so that cron, systemd and a shell in another folder agree.
Secrets are never read from the file, only from environment variables named
in it.
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from syndicator.addresses import Mailbox, parse_address
from syndicator.errors import ConfigError
from syndicator.i18n import check_language
from syndicator.site import RESERVED_TOPIC_IDS
from syndicator.text import safe_url

ENV_CONFIG = "SYNDICATOR_CONFIG"
DEFAULT_CONFIG = Path("config.yaml")
TOPIC_ID = r"^[a-z0-9][a-z0-9-]*$"
SOURCE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Strict(BaseModel):
    """Base for every settings block: unknown keys are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- sources


class SourceSettings(Strict):
    """What every kind of source has; each kind's model adds its own keys.

    The kinds are not listed here: :mod:`syndicator.collect.kinds` maps each
    ``type`` to its model and its collector, and :func:`_source_of_kind`
    validates an entry by the model of its kind. Paths among a kind's keys are
    resolved against the config file's folder, whatever the kind.
    """

    type: str
    id: Annotated[str, Field(pattern=SOURCE_ID, max_length=100)]
    title: str | None = None
    interval_minutes: Annotated[int | None, Field(ge=1)] = None
    """How often to fetch; defaults to ``collect.interval_minutes``."""
    lang: str | None = None
    enabled: bool = True

    @property
    def location(self) -> str | None:
        """The URL or path the source is read from, as the store keeps it
        (``SourceState.url``); None for a kind that reads from nowhere outside."""
        return None


class FeedSource(SourceSettings):
    """An RSS, Atom, RDF or JSON Feed fetched over HTTP(S)."""

    type: Literal["feed"] = "feed"
    url: HttpUrl
    full_text: bool = False
    """Fetch each new item's linked page and extract its main text (summary-only feeds)."""
    full_text_limit: Annotated[int, Field(ge=1, le=500)] = 20
    """With ``full_text``: at most this many item pages fetched per cycle (the newest first)."""

    @property
    def location(self) -> str:
        return str(self.url)


class PageSource(SourceSettings):
    """A press-release listing page of an organisation that publishes no feed."""

    type: Literal["page"] = "page"
    url: HttpUrl
    link_selector: str = "main a[href], article a[href]"
    """CSS selector for the links to individual releases on the listing page."""
    link_pattern: str | None = None
    """Regular expression a release URL must match (filters navigation links)."""
    max_new_per_cycle: Annotated[int, Field(ge=1, le=500)] = 20

    @property
    def location(self) -> str:
        return str(self.url)

    @field_validator("link_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class FolderSource(SourceSettings):
    """A folder of release files: .txt (seed format), .html, .md and .eml."""

    type: Literal["folder"] = "folder"
    path: Path
    patterns: tuple[str, ...] = ("*.txt", "*.html", "*.htm", "*.md", "*.markdown", "*.eml")
    recursive: bool = True

    @property
    def location(self) -> str:
        return str(self.path)


def _source_of_kind(entry: Any) -> Any:
    """Validate one ``sources`` entry by the model its ``type`` names in the kinds registry.

    The registry is looked up when a file is validated, not when this module is
    imported: the registry's module imports this one, and a kind registered
    later (a plugin, a test) must count. An unknown or missing ``type`` is an
    error at ``sources.N.type`` that lists the known kinds.
    """
    if not isinstance(entry, dict):
        return entry  # not a mapping: SourceSettings says what it expected
    from syndicator.collect.kinds import known_kinds, source_kind

    name = entry.get("type")
    kind = source_kind(name) if isinstance(name, str) else None
    if kind is None:
        problem = PydanticCustomError(
            "unknown_source_type",
            "unknown source type {type}; known: {known}",
            {"type": repr(name) if name is not None else "(none given)",
             "known": ", ".join(known_kinds())},
        )
        detail = InitErrorDetails(type=problem, loc=("type",), input=name)
        raise ValidationError.from_exception_data("SourceSettings", [detail])
    return kind.settings.model_validate(entry)


Source = Annotated[SerializeAsAny[SourceSettings], BeforeValidator(_source_of_kind)]
"""One ``sources`` entry, as the model of its kind (a :class:`SourceSettings` subclass)."""


class CollectSettings(Strict):
    """How politely and within which bounds sources are fetched."""

    user_agent: str = "Syndicator/{version} (+{contact})"
    """``{version}`` and ``{contact}`` are filled in; servers see who is asking."""
    contact: str = "https://github.com/syndicator/syndicator"
    """An address a site operator can write to about our fetching."""
    interval_minutes: Annotated[int, Field(ge=1)] = 60
    jitter: Annotated[float, Field(ge=0, le=0.5)] = 0.1
    """Fraction of the interval added at random so sources do not all fire together."""
    max_interval_minutes: Annotated[int, Field(ge=1)] = 24 * 60
    """Upper bound for intervals stretched by Cache-Control, Retry-After or backoff."""
    connect_timeout: Annotated[float, Field(gt=0)] = 10.0
    read_timeout: Annotated[float, Field(gt=0)] = 20.0
    total_timeout: Annotated[float, Field(gt=0)] = 60.0
    concurrency: Annotated[int, Field(ge=1, le=500)] = 50
    per_host: Annotated[int, Field(ge=1, le=8)] = 2
    min_host_interval: Annotated[float, Field(ge=0)] = 1.0
    """Seconds between two requests to the same host."""
    max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    """Cap on a response body after decompression."""
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    max_entries: Annotated[int, Field(ge=1)] = 500
    """Entries kept per source per cycle."""
    max_field_chars: Annotated[int, Field(ge=100)] = 200_000
    allow_networks: tuple[str, ...] = ()
    """Hosts or networks (``127.0.0.1``, ``10.0.0.0/8``) allowed despite being non-global."""
    parse_workers: Annotated[int, Field(ge=0, le=32)] = 2
    """Worker processes that parse feeds and read release pages (0: in-process, with no
    hang protection)."""
    parse_timeout: Annotated[float, Field(gt=0)] = 30.0
    """Seconds one feed or page may take to parse before its worker is killed (the feed's
    source fails; a page is a warning)."""
    parse_memory_mb: Annotated[int, Field(ge=64)] = 1024
    """Address-space limit of a parse worker; a document that needs more fails alone."""


# --------------------------------------------------------------------------- taxonomy


class TopicSettings(Strict):
    """One threat category subscribers can follow."""

    id: Annotated[str, Field(pattern=TOPIC_ID, max_length=60)]
    title: str
    description: str = ""
    link: HttpUrl | None = None
    """The organisation's page on the topic (the release's "Further information" link)."""
    terms: dict[str, dict[str, float]] = Field(default_factory=dict)
    """Extra terms per language code (``en``, ``ru``, ``*`` for all): term → weight."""
    exclude: tuple[str, ...] = ()
    """Phrases (any language) that cancel a match of this topic they overlap.

    "wildlife trafficking" excluded from ``trafficking-in-persons`` keeps the
    word "trafficking" inside it from counting for that topic."""
    threshold: Annotated[float | None, Field(gt=0)] = None
    """Score a release needs for this topic; the vocabulary's (or the taxonomy's) when absent."""
    declared: tuple[str, ...] = ()
    """Extra publisher labels that name this topic in a "Further information" list
    (matched as phrases, e.g. "Terrorism Prevention"); the id, title and link count already."""

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        # Its files would overwrite a site-level output (syndicator.site names them).
        if value in RESERVED_TOPIC_IDS:
            raise ValueError(
                f"{value!r} is reserved by publishing (reserved: "
                f"{', '.join(sorted(RESERVED_TOPIC_IDS))}); rename the topic"
            )
        return value


class TaxonomySettings(Strict):
    """The topics and where their vocabulary comes from."""

    vocabulary: Path | None = None
    """A YAML vocabulary file; the built-in one when absent."""
    threshold: Annotated[float | None, Field(gt=0)] = None
    """Default score threshold for topics without their own; the vocabulary's when absent."""
    topics: tuple[TopicSettings, ...]

    @field_validator("topics")
    @classmethod
    def _unique(cls, topics: tuple[TopicSettings, ...]) -> tuple[TopicSettings, ...]:
        seen: set[str] = set()
        for topic in topics:
            if topic.id in seen:
                raise ValueError(f"topic id {topic.id!r} is listed twice")
            seen.add(topic.id)
        if not topics:
            raise ValueError("at least one topic is required")
        return topics

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)


# --------------------------------------------------------------------------- publish


class PublishSettings(Strict):
    """What goes into the output folder."""

    output_dir: Path = Path("feeds")
    title: str = "Syndicator"
    description: str = "Press releases on transnational threats, by topic."
    max_entries: Annotated[int, Field(ge=1, le=10_000)] = 50
    formats: tuple[str, ...] = ("rss", "atom", "json", "opml", "html")
    """Names from the output formats registry (:mod:`syndicator.publish.formats`)."""
    language: str = "en"

    @field_validator("formats")
    @classmethod
    def _registered(cls, formats: tuple[str, ...]) -> tuple[str, ...]:
        # Looked up now, not at import: the registry imports this module.
        from syndicator.publish.formats import known_formats

        known = known_formats()
        unknown = [f for f in formats if f not in known]
        if unknown:
            raise ValueError(
                f"unknown output format(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(known)}"
            )
        return formats


# --------------------------------------------------------------------------- delivery


class SmtpSettings(Strict):
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str = "SYNDICATOR_SMTP_PASSWORD"  # noqa: S105 (a variable name)
    """Name of the environment variable holding the password; never the password itself."""
    timeout: Annotated[float, Field(gt=0)] = 30.0
    """Seconds to connect and for each answer before the end of the data (greeting, EHLO,
    TLS, login, MAIL FROM, RCPT TO, DATA) and to send the data."""
    data_timeout: Annotated[float, Field(gt=0)] = 600.0
    """Seconds to wait for the answer to the end of the data (the final dot). RFC 5321
    §4.5.3.2 gives the server 10 minutes there: it may be scanning the message. No answer in
    time means the message may have been delivered (outcome unknown)."""

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_env)


class DeliverySettings(Strict):
    """How digests and alerts leave the building."""

    transport: str = "outbox"
    """A name from the transports registry (:mod:`syndicator.deliver.transports`)."""
    outbox_dir: Path = Path("var/outbox")
    sender: str = "Syndicator <syndicator@example.org>"
    """The From address, with an optional display name. The default is a placeholder."""
    reply_to: str | None = None
    smtp: SmtpSettings | None = None
    digest_time: time = time(7, 0)
    """Local time of day (in each subscriber's time zone) from which a digest is due."""
    weekly_day: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    max_items_per_digest: Annotated[int, Field(ge=1)] = 100
    signing_key_env: str = "SYNDICATOR_SIGNING_KEY"
    """Environment variable with the key that signs unsubscribe links.

    When unset, a random key is generated once and kept in the database."""
    previous_signing_keys_env: str = "SYNDICATOR_PREVIOUS_SIGNING_KEYS"
    """Environment variable with earlier keys, separated by spaces or commas: links they
    signed still verify (unsubscribe links never expire), new links use the current key.

    One variable rather than a list of names, so a rotation touches only the secrets file."""
    unsubscribe_url: str | None = None
    """Base URL of the unsubscribe endpoint; ``{base_url}unsubscribe`` when absent."""
    unsubscribe_mailto: str | None = None
    """An address that takes unsubscribe requests by mail (``mailto:`` optional)."""
    language: str = "en"
    """The language of digests, alerts and the unsubscribe page for subscribers who have
    none of their own: one of :data:`syndicator.i18n.LANGUAGES`."""

    @field_validator("language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        return check_language(value)

    @field_validator("sender", "reply_to")
    @classmethod
    def _mailbox(cls, value: str | None) -> str | None:
        if value is not None:
            parse_address(value, display_name=True)
        return value

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _mailto(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return parse_address(value.removeprefix("mailto:")).address

    @field_validator("unsubscribe_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        # It goes into the List-Unsubscribe header as it is.
        if value is not None and safe_url(value) != value:
            raise ValueError("must be an absolute http(s) URL without spaces or line breaks")
        return value
    deadline_seconds: Annotated[float, Field(gt=0)] = 900.0
    """Total time one deliver run may spend sending; what is left waits for the next run.
    Keeps a hanging server from holding the delivery lease for hours."""
    max_bounces: Annotated[int, Field(ge=1)] = 3
    """Permanent refusals of an address (5xx to RCPT TO) in a row after which mail to it
    stops, until ``syndicator unsubscribe --undo``; a delivered message resets the count."""
    give_up_after_hours: Annotated[float, Field(gt=0)] = 96.0
    """A message still not accepted this long after it was built fails for good (RFC 5321
    §4.5.4.1 suggests giving up after 4-5 days), so nothing is retried forever."""

    @field_validator("transport")
    @classmethod
    def _known_transport(cls, value: str) -> str:
        # Looked up now, not at import: the registry imports this module.
        from syndicator.deliver.transports import known_transports

        known = known_transports()
        if value not in known:
            raise ValueError(f"unknown transport {value!r}; known: {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _smtp_needs_settings(self) -> DeliverySettings:
        if self.transport == "smtp" and self.smtp is None:
            raise ValueError("transport 'smtp' needs an 'smtp' block with at least 'host'")
        return self

    @property
    def sender_mailbox(self) -> Mailbox:
        return parse_address(self.sender, display_name=True)

    @property
    def reply_to_mailbox(self) -> Mailbox | None:
        return parse_address(self.reply_to, display_name=True) if self.reply_to else None

    @property
    def unsubscribe_mailbox(self) -> Mailbox | None:
        return parse_address(self.unsubscribe_mailto) if self.unsubscribe_mailto else None

    @property
    def signing_key(self) -> str | None:
        return os.environ.get(self.signing_key_env) or None

    @property
    def previous_signing_keys(self) -> tuple[str, ...]:
        """The earlier keys, in the order given (generated keys hold no space or comma)."""
        text = os.environ.get(self.previous_signing_keys_env, "")
        return tuple(key for key in re.split(r"[\s,]+", text) if key)


class SubscriberSettings(Strict):
    email: str
    """One bare address, kept as written: the store keys subscribers by it, lower-cased, and a
    normalised spelling (an ``xn--`` domain in Unicode) would be a new key for an old reader."""
    name: str | None = None
    topics: tuple[Annotated[str, Field(pattern=TOPIC_ID, max_length=60)], ...] = ()
    countries: tuple[str, ...] = ()
    """ISO 3166-1 alpha-2 codes: only items placed in one of these countries."""
    query: str | None = None
    """A saved search (docs/queries.md) the items must also match."""
    cadence: Literal["daily", "weekly"] = "daily"
    timezone: str = "UTC"
    alerts: bool = False
    language: str | None = None
    """The language of their messages; ``delivery.language`` when absent."""

    @field_validator("language")
    @classmethod
    def _shipped_language(cls, value: str | None) -> str | None:
        return check_language(value) if value is not None else None

    @field_validator("countries")
    @classmethod
    def _known_countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from syndicator.query.subscription import check_countries  # the parser's own list

        return check_countries(value)

    @field_validator("query")
    @classmethod
    def _valid_query(cls, value: str | None) -> str | None:
        from syndicator.query.subscription import check_query  # the parser's own rules

        return check_query(value) if value else None

    @model_validator(mode="after")
    def _asks_for_something(self) -> SubscriberSettings:
        if not (self.topics or self.countries or self.query):
            raise ValueError("give topics, countries or a query: otherwise it is every item")
        return self

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        parse_address(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Vienna)"
            ) from exc
        return value


# --------------------------------------------------------------------------- service


class ScheduleSettings(Strict):
    """When ``syndicator worker`` runs what."""

    collect_every_minutes: Annotated[int, Field(ge=1)] = 30
    deliver_every_minutes: Annotated[int, Field(ge=1)] = 15
    """How often to check for due digests; each subscriber's own time decides what is sent."""
    misfire_grace_seconds: Annotated[int, Field(ge=1)] = 600


class SignupSettings(Strict):
    """The sign-up form on the published pages, answered by ``syndicator serve``."""

    enabled: bool = True
    """Put the form on the index and topic pages and accept sign-ups (double opt-in)."""
    pending_days: Annotated[int, Field(ge=1, le=90)] = 7
    """How long a confirmation link works; an unconfirmed sign-up is deleted after it."""
    max_per_ip_per_hour: Annotated[int, Field(ge=1)] = 10
    """Sign-ups one client address may send per hour (per ``serve`` process, in memory)."""
    max_mails_per_address_per_day: Annotated[int, Field(ge=1)] = 3
    """Confirmation or reminder mails one address may be sent per day (idem)."""


class Settings(Strict):
    """The whole configuration file."""

    base_url: HttpUrl
    """Public URL the output folder is served at; feeds' self links are built from it."""
    database: str = "sqlite:///var/syndicator.sqlite3"
    """SQLAlchemy URL: ``sqlite:///relative/path`` or ``postgresql+psycopg://user@host/db``."""
    sources: tuple[Source, ...] = ()
    collect: CollectSettings = CollectSettings()
    taxonomy: TaxonomySettings
    publish: PublishSettings = PublishSettings()
    delivery: DeliverySettings = DeliverySettings()
    subscribers: tuple[SubscriberSettings, ...] = ()
    schedule: ScheduleSettings = ScheduleSettings()
    signup: SignupSettings = SignupSettings()
    templates_dir: Path | None = None
    """A folder with customised copies of ``templates/pages`` and ``templates/email``."""
    config_path: Path | None = Field(default=None, exclude=True)
    """Where these settings were read from (set by :func:`load_settings`)."""

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: HttpUrl) -> HttpUrl:
        text = str(value)
        return value if text.endswith("/") else HttpUrl(text + "/")

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        ids = [s.id for s in self.sources]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"source ids must be unique; repeated: {', '.join(dupes)}")
        topics = set(self.taxonomy.ids)
        for n, sub in enumerate(self.subscribers):
            unknown = [t for t in sub.topics if t not in topics]
            if unknown:
                raise ValueError(
                    f"subscribers.{n} ({sub.email}): unknown topic(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(topics))}"
                )
            if sub.query:
                from syndicator.query.subscription import check_query  # see SubscriberSettings

                try:
                    check_query(sub.query, topics, ids)
                except ValueError as exc:
                    raise ValueError(f"subscribers.{n}.query ({sub.email}): {exc}") from None
        # The same mailbox spelt two ways (case, an xn-- domain) would get every message twice.
        emails = [parse_address(s.email).address.lower() for s in self.subscribers]
        repeated = sorted({e for e in emails if emails.count(e) > 1})
        if repeated:
            raise ValueError(f"subscriber emails must be unique; repeated: {', '.join(repeated)}")
        return self

    @property
    def base_url_text(self) -> str:
        return str(self.base_url)

    @property
    def enabled_sources(self) -> tuple[SourceSettings, ...]:
        """The sources to collect; disabled ones keep their stored history but are not fetched."""
        return tuple(s for s in self.sources if s.enabled)


def _format_validation_error(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: invalid configuration ({error.error_count()} problem(s))"]
    for problem in error.errors():
        loc = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and where it is nested)"
        elif problem["type"] == "missing":
            message = "required key is missing"
        value = problem.get("input")
        shown = ""
        if problem["type"] not in {"missing", "extra_forbidden"} and not isinstance(
            value, dict | list
        ):
            shown = f" (got {value!r})"
        lines.append(f"  {loc}: {message}{shown}")
    return "\n".join(lines)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    """Make every relative path in the settings relative to the config file's folder."""

    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p)

    sources = tuple(
        s.model_copy(
            update={name: resolve(value) for name, value in s if isinstance(value, Path)}
        )
        for s in settings.sources
    )
    vocabulary = settings.taxonomy.vocabulary
    taxonomy = settings.taxonomy.model_copy(
        update={"vocabulary": resolve(vocabulary) if vocabulary else None}
    )
    database = settings.database
    prefix = "sqlite:///"
    if database.startswith(prefix) and not database.startswith("sqlite:////"):
        rest = database[len(prefix) :]
        if rest and rest != ":memory:":
            database = prefix + str(resolve(Path(rest)))
    templates = settings.templates_dir
    return settings.model_copy(
        update={
            "templates_dir": resolve(templates) if templates else None,
            "sources": sources,
            "taxonomy": taxonomy,
            "database": database,
            "publish": settings.publish.model_copy(
                update={"output_dir": resolve(settings.publish.output_dir)}
            ),
            "delivery": settings.delivery.model_copy(
                update={"outbox_dir": resolve(settings.delivery.outbox_dir)}
            ),
        }
    )


def parse_settings(data: Any, path: Path) -> Settings:
    """Validate already-loaded YAML data; ``path`` names the file in errors."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys, got {type(data).__name__}"
        )
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc)) from None
    resolved = _resolve_paths(settings, path.resolve().parent)
    return resolved.model_copy(update={"config_path": path.resolve()})


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: the argument, else ``$SYNDICATOR_CONFIG``, else ./config.yaml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(ENV_CONFIG)
    return Path(from_env) if from_env else DEFAULT_CONFIG


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate a config file; every failure is a :class:`ConfigError`."""
    file = config_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read configuration file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from None
    return parse_settings(data, file)
