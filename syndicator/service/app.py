"""The application facade: every command's work, done without printing.

:class:`Syndicator` is what the command line and the web application call
(reader's ``Reader`` is the model). They parse their input, call one method,
and present what it returns; neither opens the store, builds a tagger or edits
the configuration itself. Keeping the work here means a newcomer follows
``syndicator run`` from ``cli.py`` into one method, and a second front end (a
web page, a test, a script) gets the same behaviour for free.

The store is opened on first use and closed by :meth:`close` (or the ``with``
block); heavy parts (the tagger, the collector) are imported only by the
methods that need them, so ``syndicator status`` does not pay for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from syndicator.config import Settings, config_path, load_settings
from syndicator.errors import ConfigError, SubscriberError, SyndicatorError
from syndicator.jsonl import BadLine, read_objects
from syndicator.models import StoredItem, TagResult
from syndicator.store.protocol import RecipientState, Storage

if TYPE_CHECKING:
    from syndicator.collect.discover import DiscoveredFeed
    from syndicator.deliver.render import Rendered
    from syndicator.service.pipeline import CycleReport
    from syndicator.service.subscribers import ImportReport, Outcome
    from syndicator.tagging import Tagger
    from syndicator.tagging.evaluate import EvalReport


@dataclass(frozen=True, slots=True)
class Explanation:
    """A stored item with the tagger's full verdict on it (None: not tagged yet)."""

    item: StoredItem
    verdict: TagResult | None


@dataclass(frozen=True, slots=True)
class SourceProposal:
    """The feeds found at a URL, and the configuration entry for the chosen one."""

    found: tuple[DiscoveredFeed, ...]
    entry: dict[str, str]
    config_file: Path
    added: bool
    """False for a dry run: the entry is only proposed."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_database(settings: Settings) -> Storage:
    """The store of an installation, opened (and migrated): for a front end that keeps
    one open for its whole life, such as the web application."""
    from syndicator.store import open_store

    return open_store(settings.database)


class Syndicator:
    """One installation (its settings and its database), as the commands use it."""

    def __init__(self, settings: Settings, store: Storage | None = None) -> None:
        self.settings = settings
        self._store = store
        self._own_store = store is None
        self._tagger: Tagger | None = None

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Syndicator:
        """The installation configured at ``path`` (else ``$SYNDICATOR_CONFIG``, ./config.yaml)."""
        return cls(load_settings(path))

    # ---- lifetime ----------------------------------------------------------------------

    @property
    def store(self) -> Storage:
        """The database, opened (and migrated) on first use."""
        if self._store is None:
            self._store = open_database(self.settings)
        return self._store

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None and self._own_store:
            store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def tagger(self) -> Tagger:
        """The tagger of this configuration's taxonomy, built once, on first use."""
        if self._tagger is None:
            from syndicator.tagging import Tagger

            self._tagger = Tagger.from_settings(self.settings.taxonomy)
        return self._tagger

    # ---- the cycle ---------------------------------------------------------------------

    def run(
        self,
        stages: Iterable[str] | None = None,
        *,
        force: bool = False,
        now: datetime | None = None,
    ) -> CycleReport:
        """One cycle of the chosen stages (all by default); see :mod:`.pipeline`."""
        from syndicator.service.pipeline import run_cycle
        from syndicator.service.stages import STAGES

        chosen = tuple(stages) if stages else STAGES
        tagger = self.tagger if "tag" in chosen else None
        if "deliver" in chosen:
            from syndicator.service.signing import announce_keys

            announce_keys(self.settings, "run")  # the links it signs stay in mailboxes
        return run_cycle(
            self.settings, stages=chosen, force=force, now=now, store=self.store, tagger=tagger
        )

    # ---- looking ------------------------------------------------------------------------

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        """Sources, items, subscribers and messages as plain data (``status --json``)."""
        from syndicator.service.report import status_snapshot

        return status_snapshot(self.store, self.settings, now or utc_now())

    def items(self, topic: str | None = None, limit: int = 30) -> list[StoredItem]:
        """Tagged items, newest first; ``topic`` must be one of the taxonomy's."""
        if topic is not None:
            self._check_topics([topic])
        return self.store.recent_items(topic, limit)

    def explain(self, item_id: int) -> Explanation:
        stored = self.store.get_item(item_id)
        if stored is None:
            raise SyndicatorError(f"item {item_id} does not exist (see `syndicator items`)")
        return Explanation(stored, self.store.tag_result(item_id))

    # ---- operator decisions --------------------------------------------------------------

    def retag(
        self,
        item_id: int,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        now: datetime | None = None,
    ) -> StoredItem:
        """Record an operator's topics for an item; they win over the tagger from now on."""
        self._check_topics([*add, *remove])
        if not add and not remove:
            raise SyndicatorError("nothing to do: give --add TOPIC and/or --remove TOPIC")
        if self.store.get_item(item_id) is None:
            raise SyndicatorError(f"item {item_id} does not exist (see `syndicator items`)")
        return self.store.set_manual_tags(item_id, add, remove, now or utc_now())

    def unsubscribe(self, email: str, *, undo: bool = False, now: datetime | None = None) -> bool:
        """Stop (or restore) all mail to ``email``; False when nothing changed.

        Restoring also resumes an address that mail had stopped for after bounces.
        """
        from syndicator.addresses import AddressError, parse_address

        try:
            parse_address(email)
        except AddressError as exc:
            raise SyndicatorError(f"unsubscribe {email!r}: {exc}") from None
        if undo:
            return self.store.resubscribe(email)
        return self.store.unsubscribe(email, now or utc_now())

    # ---- subscribers (docs/subscribers.md) -----------------------------------------------

    def subscribers(self, now: datetime | None = None) -> list[RecipientState]:
        """Every recipient, the removed and forgotten ones too (``subscribers list``)."""
        self._sync_config(now)
        return self.store.recipient_states(include_gone=True)

    def add_subscriber(
        self,
        email: str,
        topics: Sequence[str],
        *,
        cadence: str = "daily",
        timezone: str = "UTC",
        alerts: bool = False,
        name: str | None = None,
        countries: Sequence[str] = (),
        query: str | None = None,
        language: str | None = None,
        now: datetime | None = None,
    ) -> Outcome:
        """Add (or change) an operator-managed subscriber; mail starts with the next run."""
        from syndicator.service import subscribers as ops

        self._sync_config(now)
        try:
            wanted = ops.make_entry(
                self.settings,
                email,
                tuple(topics),
                cadence=cadence,
                timezone=timezone,
                alerts=alerts,
                name=name,
                countries=tuple(countries),
                query=query,
                language=language,
            )
        except ops.EntryError as exc:
            raise SubscriberError(email, str(exc)) from None
        return ops.save(self.store, self.settings, wanted, "operator", now or utc_now())

    def remove_subscriber(
        self, email: str, *, forget: bool = False, now: datetime | None = None
    ) -> bool:
        """Stop mail to a database-managed subscriber; ``forget`` erases their address."""
        from syndicator.service import subscribers as ops

        self._sync_config(now)
        try:
            return ops.remove(self.store, self.settings, email, forget=forget, now=now or utc_now())
        except ops.EntryError as exc:
            raise SubscriberError(email, str(exc)) from None

    def import_subscribers(self, path: Path, now: datetime | None = None) -> ImportReport:
        from syndicator.service import subscribers as ops

        self._sync_config(now)
        return ops.import_csv(self.store, self.settings, path, now or utc_now())

    def export_subscribers(self, now: datetime | None = None) -> list[dict[str, Any]]:
        from syndicator.service import subscribers as ops

        self._sync_config(now)
        return ops.export_records(self.store)

    def _sync_config(self, now: datetime | None) -> None:
        """The configuration's subscribers first, so what the operator sees and changes
        is what the next run sends to (the configuration wins)."""
        from syndicator.deliver import _subscriber

        subs = [_subscriber(s) for s in self.settings.subscribers]
        self.store.sync_config_recipients(subs, now or utc_now())

    def _check_topics(self, topics: Iterable[str]) -> None:
        known = self.settings.taxonomy.ids
        unknown = [t for t in topics if t not in known]
        if unknown:
            raise ConfigError(
                f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )

    # ---- leases --------------------------------------------------------------------------

    def leases(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Every lease: who holds it, since when, how long yet, and whether they live."""
        from syndicator.service.report import lease_entry

        moment = now or utc_now()
        return [lease_entry(record, moment) for record in self.store.leases()]

    def break_lease(self, name: str, now: datetime | None = None) -> dict[str, Any]:
        """Remove the lease ``name`` whoever holds it; what it was, as :meth:`leases` shows it.

        Its holder, if still running, stops at its next checkpoint.
        """
        from syndicator.service.report import lease_entry

        record = self.store.break_lease(name)
        if record is None:
            raise SyndicatorError(f"no lease named {name!r} (`syndicator leases` lists them)")
        return lease_entry(record, now or utc_now())

    # ---- sources -------------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.settings.config_path or config_path(None)

    def propose_source(
        self, url: str, *, source_id: str | None = None, pick: int = 1, dry_run: bool = False
    ) -> SourceProposal:
        """Find the feed at ``url`` and add the ``pick``-th one found to the configuration.

        The configuration file keeps its comments; an entry that would make it
        invalid, a duplicate id and an already configured feed are refused.
        """
        from syndicator.collect import discover_feeds
        from syndicator.config_edit import add_source

        found = tuple(discover_feeds(url, self.settings.collect))
        if not found:
            raise SyndicatorError(
                f"{url}: no feed found (neither the page itself, its <link rel=alternate> "
                "nor the common feed paths); for a listing page without a feed add a 'page' source"
            )
        if not 1 <= pick <= len(found):
            raise SyndicatorError(f"--pick {pick}: choose 1 to {len(found)}")
        chosen = found[pick - 1]
        taken = {s.id for s in self.settings.sources}
        if source_id and source_id in taken:
            raise ConfigError(f"a source with id {source_id!r} already exists")
        configured = {s.location for s in self.settings.sources}
        if chosen.url in configured:
            raise SyndicatorError(f"{chosen.url} is already configured")
        entry = {"id": source_id or new_source_id(chosen.url, taken), "type": "feed"}
        entry["url"] = chosen.url
        if chosen.title:
            entry["title"] = chosen.title
        if not dry_run:
            add_source(self.config_file, entry)
        return SourceProposal(found, entry, self.config_file, added=not dry_run)

    def set_source_enabled(self, source_id: str, enabled: bool) -> None:
        """Pause or resume a source in the configuration file; its history stays."""
        from syndicator.config_edit import rewrite_config, with_source_enabled

        rewrite_config(
            self.config_file, lambda text: with_source_enabled(text, source_id, enabled)
        )

    def remove_source(self, source_id: str, *, forget: bool = False) -> int:
        """Take a source out of the configuration; with ``forget``, its stored items too.

        Returns how many items were forgotten. Without ``forget`` the items stay
        in the store (and in feeds until newer ones push them out), so removing
        a source by mistake loses nothing: add it back and it carries on.
        """
        from syndicator.config_edit import rewrite_config, without_source

        rewrite_config(self.config_file, lambda text: without_source(text, source_id))
        return self.store.forget_source(source_id) if forget else 0

    # ---- tagging -------------------------------------------------------------------------

    def tag_records(self, lines: Iterable[str], name: str) -> Iterator[dict[str, Any] | BadLine]:
        """The verdict for each ``{"id", "title", "text", "lang"?}`` JSON line, as printed by
        ``syndicator tag --jsonl``, or the line's problem; one bad line stops nothing."""
        for line in read_objects(lines, name):
            if isinstance(line, BadLine):
                yield line
                continue
            where, record = line
            if not all(isinstance(record.get(k, ""), str) for k in ("title", "text")):
                yield BadLine(where, "'title' and 'text' must be strings")
                continue
            yield self.tag_record(record)

    def tag_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The verdict for one record (see :meth:`tag_records`)."""
        result = self.tagger.tag(
            record.get("title", ""),
            record.get("text", ""),
            record.get("lang"),
            record.get("declared_topics", ()),
        )
        return {
            "id": record.get("id"),
            "topics": list(result.topics),
            "scores": {k: round(v, 3) for k, v in result.scores.items()},
            "evidence": result.evidence,
            "lang": result.lang,
            "countries": list(result.countries),
        }

    def evaluate(self, path: Path) -> EvalReport:
        """Precision, recall and F1 of the tagger on the labelled records in ``path``."""
        from syndicator.tagging.evaluate import evaluate, load_labelled_jsonl

        return evaluate(self.tagger, load_labelled_jsonl(path))

    # ---- delivery --------------------------------------------------------------------------

    def preview_digest(self, email: str, now: datetime | None = None) -> Rendered | None:
        """The digest ``email`` would get next, rendered but neither sent nor recorded.

        None when nothing new waits for them.
        """
        from syndicator.deliver.preview import preview_digest

        return preview_digest(self.store, self.settings, email, now or utc_now())


def new_source_id(url: str, taken: set[str]) -> str:
    """A readable, unused source id made from a feed's address (host and path words)."""
    parts = urlsplit(url)
    words = [parts.hostname or "source"] + [p for p in parts.path.split("/") if p]
    base = "-".join(words).lower().removeprefix("www.")
    base = "".join(c if c.isalnum() or c in "-." else "-" for c in base).strip("-.")[:60]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
