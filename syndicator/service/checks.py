"""``syndicator check``: can this configuration run here, not only does it parse?

Each check looks at one thing a run needs (a folder source, the database, an
output folder, the templates, the vocabulary, the SMTP server on request) and
gives one :class:`Finding` keyed by the configuration path it concerns, so the
operator knows which line of config.yaml to fix. Checks change nothing: a
database or a folder that does not exist yet is reported as "created by the
first run", provided its parent folder can take it.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateNotFound, TemplateSyntaxError

from syndicator.config import FolderSource, Settings, SmtpSettings
from syndicator.errors import SyndicatorError

TEMP_PREFIX = ".syndicator-check-"


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one check: the configuration key it concerns and what was found."""

    key: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'problem':<8} {self.key}: {self.text}"


def run_checks(settings: Settings, smtp: bool = False) -> list[Finding]:
    """Every check for ``settings``, in the order of the configuration file.

    ``smtp`` also connects to the configured SMTP server (it is left alone
    otherwise: a check run from a laptop should not knock on the mail relay).
    """
    findings = list(_sources(settings))
    findings.append(_database(settings.database))
    findings.append(_taxonomy(settings))
    findings.append(_writable("publish.output_dir", settings.publish.output_dir))
    if settings.delivery.transport == "outbox":
        findings.append(_writable("delivery.outbox_dir", settings.delivery.outbox_dir))
    findings.append(_templates(settings.templates_dir))
    if smtp:
        findings.append(_smtp(settings.delivery.smtp))
    return findings


# --------------------------------------------------------------------------- sources


def _sources(settings: Settings) -> Iterator[Finding]:
    """Enabled folder sources exist and can be listed; feeds and pages are not contacted."""
    for number, source in enumerate(settings.sources):
        if not isinstance(source, FolderSource) or not source.enabled:
            continue
        key = f"sources[{number}] (id={source.id}).path"
        path = source.path
        if not path.exists():
            yield Finding(key, False, f"{path} does not exist")
        elif not path.is_dir():
            yield Finding(key, False, f"{path} is not a folder")
        else:
            try:
                with os.scandir(path) as entries:
                    next(entries, None)
            except OSError as exc:
                yield Finding(key, False, f"{path} cannot be read ({_os_reason(exc)})")
            else:
                yield Finding(key, True, f"{path} can be read")


# --------------------------------------------------------------------------- database


def _database(url: str) -> Finding:
    from syndicator.store.probe import probe_database
    from syndicator.store.schema import SCHEMA_VERSION

    try:
        state = probe_database(url)
    except SyndicatorError as exc:
        return Finding("database", False, str(exc).removeprefix("database: "))
    if state.version is None:
        if state.sqlite_file is None:
            return Finding("database", True, f"{state.url} is in memory: nothing is kept")
        folder = _folder_finding("database", state.sqlite_file.parent)
        if not folder.ok:
            return folder
        created = f"{state.url} does not exist yet; the first run creates it"
        return Finding("database", True, created)
    if state.newer_than_code:
        return Finding(
            "database",
            False,
            f"{state.url}: schema version {state.version} is newer than this Syndicator "
            f"({SCHEMA_VERSION}); upgrade Syndicator",
        )
    if state.version == 0:
        return Finding("database", True, f"{state.url} opens; the first run creates the tables")
    if state.version < SCHEMA_VERSION:
        return Finding(
            "database",
            True,
            f"{state.url} opens, schema version {state.version}; "
            f"the next run migrates it to {SCHEMA_VERSION}",
        )
    return Finding("database", True, f"{state.url} opens, schema version {state.version}")


# --------------------------------------------------------------------------- tagging


def _taxonomy(settings: Settings) -> Finding:
    """The vocabulary loads and compiles for the configured topics, as the tag stage needs."""
    from syndicator.tagging.taxonomy import compile_taxonomy

    vocabulary = settings.taxonomy.vocabulary
    key = "taxonomy.vocabulary" if vocabulary is not None else "taxonomy"
    try:
        compile_taxonomy(settings.taxonomy)
    except (SyndicatorError, OSError) as exc:
        return Finding(key, False, str(exc))
    source = str(vocabulary) if vocabulary is not None else "the built-in vocabulary"
    return Finding(key, True, f"{len(settings.taxonomy.topics)} topic(s) from {source}")


# --------------------------------------------------------------------------- folders


def _writable(key: str, folder: Path) -> Finding:
    finding = _folder_finding(key, folder)
    if finding.ok and folder.is_dir():
        return Finding(key, True, f"{folder} can be written")
    if finding.ok:
        return Finding(key, True, f"{folder} does not exist yet; the first run creates it")
    return finding


def _folder_finding(key: str, folder: Path) -> Finding:
    """Whether files can be written in ``folder``, or it can be made, without leaving a trace.

    Writing a temporary file (deleted at once) is the only test that holds for
    root, read-only mounts and ACLs alike; a folder that does not exist yet is
    judged by its nearest existing ancestor, which the run would create it in.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        blocked = "" if existing == folder else f"cannot be created: {existing} "
        return Finding(key, False, f"{folder} {blocked}is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=TEMP_PREFIX):
            pass
    except OSError as exc:
        where = "" if existing == folder else f" (cannot be created in {existing})"
        return Finding(key, False, f"{folder} is not writable{where}: {_os_reason(exc)}")
    return Finding(key, True, str(folder))


# --------------------------------------------------------------------------- templates


def _templates(templates_dir: Path | None) -> Finding:
    """Every template a run loads is there and parses (as publish and deliver load them)."""
    from syndicator.deliver.confirm import SIGNUP_PAGE, TEMPLATES
    from syndicator.deliver.render import KINDS, UNSUBSCRIBE_PAGE
    from syndicator.deliver.templates import load_template, make_environment
    from syndicator.publish.templates import page_environment
    from syndicator.resources import default_templates_dir

    key = "templates_dir" if templates_dir is not None else "templates (shipped)"
    try:
        root = templates_dir if templates_dir is not None else default_templates_dir()
        pages = page_environment(root)
        for name in ("index.html", "topic.html"):
            try:
                pages.get_template(name)
            except TemplateNotFound:
                missing = f"page template {name!r} not found in {root / 'pages'}"
                return Finding(key, False, missing)
            except TemplateSyntaxError as exc:
                return Finding(key, False, f"{exc.filename or name}:{exc.lineno}: {exc.message}")
        email = make_environment(root)
        messages = [f"email/{k}.{ext}" for k in KINDS for ext in ("txt", "html")]
        for name in [*messages, UNSUBSCRIBE_PAGE, *TEMPLATES, SIGNUP_PAGE]:
            load_template(email, name)
    except SyndicatorError as exc:
        return Finding(key, False, str(exc))
    return Finding(key, True, f"{root} holds the page and email templates")


# --------------------------------------------------------------------------- SMTP


def _smtp(settings: SmtpSettings | None) -> Finding:
    """Connect, EHLO, STARTTLS and log in as a deliver run would, then QUIT."""
    from syndicator.deliver.transports import SmtpTransport

    key = "delivery.smtp"
    if settings is None:
        return Finding(key, False, "not configured (there is no smtp block to connect to)")
    if settings.username and not settings.password:
        return Finding(
            "delivery.smtp.password_env",
            False,
            f"{settings.password_env} is not set; the login of {settings.username!r} needs "
            "the password in it",
        )
    where = f"{settings.host}:{settings.port}"
    try:
        SmtpTransport(settings).probe()
    except smtplib.SMTPNotSupportedError:
        return Finding(key, False, f"{where} does not offer STARTTLS (security: starttls)")
    except smtplib.SMTPAuthenticationError as exc:
        reply = _smtp_reply(exc.smtp_code, exc.smtp_error)
        return Finding(key, False, f"{where} refused the login of {settings.username!r} ({reply})")
    except smtplib.SMTPResponseException as exc:
        reply = _smtp_reply(exc.smtp_code, exc.smtp_error)
        return Finding(key, False, f"{where} answered {reply}")
    except ssl.SSLError as exc:
        return Finding(key, False, f"{where}: TLS failed ({type(exc).__name__}: {exc})")
    except (smtplib.SMTPException, OSError) as exc:
        return Finding(key, False, f"{where} did not answer ({_os_reason(exc)})")
    login = f", logged in as {settings.username!r}" if settings.username else ""
    return Finding(key, True, f"{where} answered (security: {settings.security}{login})")


def _smtp_reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _os_reason(exc: BaseException) -> str:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
