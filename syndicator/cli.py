"""The command line: parse arguments, call the service or a stage, print.

Exit status: 0 when the command did its job (a cycle with failed sources still
counts: they are reported), 2 for an invalid configuration or usage, 1 for any
other error that stopped the command (database, output folder, bad input).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from syndicator import __version__
from syndicator.addresses import AddressError, parse_address
from syndicator.config import FolderSource, Settings, load_settings
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.service import logs

if TYPE_CHECKING:
    from syndicator.tagging import Tagger

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


# ---------------------------------------------------------------------------- cycle


def cmd_run(args: argparse.Namespace) -> int:
    from syndicator.service.pipeline import run_cycle
    from syndicator.service.report import print_cycle
    from syndicator.service.stages import STAGES

    stages = args.stages or STAGES
    settings = _settings(args)
    if "deliver" in stages:
        from syndicator.service.signing import announce_keys

        announce_keys(settings, "run")  # the links it signs stay in mailboxes: never forgotten
    report = run_cycle(settings, stages=stages, force=args.force)
    print_cycle(report, sys.stdout)
    return 0


def cmd_stage(stage: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        args.stages = [stage]
        if stage == "collect":
            args.stages = ["collect", "tag"]  # a stored item is always a tagged item
        return cmd_run(args)

    return run


def cmd_worker(args: argparse.Namespace) -> int:
    from syndicator.service.worker import run_worker

    run_worker(_settings(args))
    return 0


def _snapshot(args: argparse.Namespace) -> dict[str, Any]:
    from syndicator.service.report import status_snapshot
    from syndicator.store import open_store

    settings = _settings(args)
    store = open_store(settings.database)
    try:
        return status_snapshot(store, settings, datetime.now(UTC))
    finally:
        store.close()


def cmd_status(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_status

    snapshot = _snapshot(args)
    if args.json:
        print(json.dumps(snapshot, ensure_ascii=False, indent=2))
    else:
        print_status(snapshot, sys.stdout)
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_items
    from syndicator.store import open_store

    settings = _settings(args)
    if args.topic is not None and args.topic not in settings.taxonomy.ids:
        raise ConfigError(
            f"unknown topic {args.topic!r}; known: {', '.join(settings.taxonomy.ids)}"
        )
    store = open_store(settings.database)
    try:
        print_items(store.recent_items(args.topic, args.limit), sys.stdout)
    finally:
        store.close()
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_sources

    print_sources(_snapshot(args), sys.stdout)
    return 0


def cmd_leases(args: argparse.Namespace) -> int:
    from syndicator.service.report import lease_entry, print_leases
    from syndicator.store import open_store

    settings = _settings(args)
    store = open_store(settings.database)
    try:
        now = datetime.now(UTC)
        if args.leases_command != "break":
            print_leases([lease_entry(r, now) for r in store.leases()], sys.stdout)
            return 0
        record = store.break_lease(args.name)
    finally:
        store.close()
    if record is None:
        raise SyndicatorError(f"no lease named {args.name!r} (`syndicator leases` lists them)")
    entry = lease_entry(record, now)
    who = f"{entry['host']} pid {entry['pid']}" if entry["host"] else record.holder
    state = {
        "alive": "its process is alive on this machine",
        "dead": "its process no longer exists",
        "unknown": "on another machine or in another container, so not checked from here",
        "expired": "its lease had expired",
    }[entry["holder_state"]]
    print(f"Broke lease {record.name!r}, held by {who}: {state}.")
    if entry["holder_state"] in ("alive", "unknown"):
        print(
            f"syndicator: warning: {who} may still be working under this lease. It stops at "
            "its next checkpoint (before its next message, file, tag batch or source) with an "
            "error, but what it is doing at that moment still finishes, and another worker "
            "may take the lease meanwhile.",
            file=sys.stderr,
        )
    return 0


def _source_id(url: str, taken: set[str]) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    words = [parts.hostname or "source"] + [p for p in parts.path.split("/") if p]
    base = "-".join(words).lower().removeprefix("www.")
    base = "".join(c if c.isalnum() or c in "-." else "-" for c in base).strip("-.")[:60]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def cmd_sources_add(args: argparse.Namespace) -> int:
    from syndicator.collect import discover_feeds
    from syndicator.config import config_path
    from syndicator.config_edit import add_source, source_snippet

    settings = _settings(args)
    found = discover_feeds(args.url, settings.collect)
    if not found:
        raise SyndicatorError(
            f"{args.url}: no feed found (neither the page itself, its <link rel=alternate> "
            "nor the common feed paths); for a listing page without a feed add a 'page' source"
        )
    for number, feed in enumerate(found, 1):
        print(f"[{number}] {feed.url}\n    {feed.kind}: {feed.title}")
        for title in feed.sample_titles:
            print(f"      - {title}")
    if not 1 <= args.pick <= len(found):
        raise SyndicatorError(f"--pick {args.pick}: choose 1 to {len(found)}")
    chosen = found[args.pick - 1]
    taken = {s.id for s in settings.sources}
    if args.id and args.id in taken:
        raise ConfigError(f"a source with id {args.id!r} already exists")
    configured = {str(s.url) for s in settings.sources if not isinstance(s, FolderSource)}
    if chosen.url in configured:
        raise SyndicatorError(f"{chosen.url} is already configured")
    entry = {
        "id": args.id or _source_id(chosen.url, taken),
        "type": "feed",
        "url": chosen.url,
        "title": chosen.title or None,
    }
    entry = {k: v for k, v in entry.items() if v is not None}
    if args.dry_run:
        print("\nWould add to the configuration:\n" + source_snippet(entry))
        return 0
    path = settings.config_path or config_path(args.config)
    add_source(path, entry)
    print(f"\nAdded source {entry['id']!r} to {path}; the next run fetches it.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Parse the configuration (exit 2 naming the key), then prove it can run here (exit 1)."""
    from syndicator.service.checks import run_checks

    settings = _settings(args)
    print(
        f"{'ok':<8} configuration: {settings.config_path} — {len(settings.sources)} source(s), "
        f"{len(settings.taxonomy.topics)} topic(s), {len(settings.subscribers)} subscriber(s)"
    )
    findings = run_checks(settings, smtp=args.smtp)
    for finding in findings:
        print(finding.line())
    problems = sum(not f.ok for f in findings)
    if problems:
        print(f"{problems} problem(s) found")
        return 1
    return 0


# ---------------------------------------------------------------------------- tagging


def _open_text(name: str) -> IO[str]:
    if name == "-":
        return sys.stdin
    try:
        return open(name, encoding="utf-8")  # closed by the caller
    except OSError as exc:
        raise SyndicatorError(f"{name}: cannot read: {exc.strerror or exc}") from None


def _records(stream: IO[str], name: str) -> Iterator[dict[str, Any] | str]:
    """Each non-blank line's record, or an error message naming the line, so one bad
    line is reported and the others are still tagged."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"{name}:{number}: not valid JSON: {exc.msg}"
            continue
        if not isinstance(record, dict):
            yield f"{name}:{number}: expected a JSON object"
        elif not isinstance(record.get("title", ""), str) or not isinstance(
            record.get("text", ""), str
        ):
            yield f"{name}:{number}: 'title' and 'text' must be strings"
        else:
            yield record


def _tagger(args: argparse.Namespace) -> Tagger:
    from syndicator.tagging import Tagger

    return Tagger.from_settings(_settings(args).taxonomy)


def cmd_tag(args: argparse.Namespace) -> int:
    tagger = _tagger(args)
    bad = 0
    stream = _open_text(args.jsonl)
    try:
        for record in _records(stream, args.jsonl):
            if isinstance(record, str):
                print(record, file=sys.stderr)
                bad += 1
                continue
            result = tagger.tag(
                record.get("title", ""),
                record.get("text", ""),
                record.get("lang"),
                record.get("declared_topics", ()),
            )
            line = {
                "id": record.get("id"),
                "topics": list(result.topics),
                "scores": {k: round(v, 3) for k, v in result.scores.items()},
                "evidence": result.evidence,
                "lang": result.lang,
                "countries": list(result.countries),
            }
            print(json.dumps(line, ensure_ascii=False), flush=False)
    finally:
        if stream is not sys.stdin:
            stream.close()
    sys.stdout.flush()
    return 1 if bad else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from syndicator.tagging.evaluate import evaluate, format_report, load_labelled_jsonl

    tagger = _tagger(args)
    try:
        records = load_labelled_jsonl(Path(args.file))
    except OSError as exc:
        raise SyndicatorError(f"{args.file}: cannot read: {exc.strerror or exc}") from None
    print(format_report(evaluate(tagger, records)))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_explanation
    from syndicator.store import open_store

    settings = _settings(args)
    store = open_store(settings.database)
    try:
        stored = store.get_item(args.item)
        if stored is None:
            raise SyndicatorError(f"item {args.item} does not exist (see `syndicator status`)")
        print_explanation(stored, store.tag_result(args.item), sys.stdout)
    finally:
        store.close()
    return 0


def cmd_retag(args: argparse.Namespace) -> int:
    from syndicator.store import open_store

    settings = _settings(args)
    known = set(settings.taxonomy.ids)
    unknown = [t for t in [*args.add, *args.remove] if t not in known]
    if unknown:
        raise ConfigError(
            f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    if not args.add and not args.remove:
        raise SyndicatorError("nothing to do: give --add TOPIC and/or --remove TOPIC")
    store = open_store(settings.database)
    try:
        stored = store.set_manual_tags(args.item, args.add, args.remove, datetime.now(UTC))
    finally:
        store.close()
    print(f"item {stored.id}: topics now {', '.join(stored.topics) or '(none)'}")
    print("The next `syndicator run` (or `syndicator publish`) republishes the feeds.")
    return 0


# ---------------------------------------------------------------------------- subscribers


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    from syndicator.store import open_store

    email: str = args.email
    try:
        parse_address(email)
    except AddressError as exc:
        raise SyndicatorError(f"unsubscribe {email!r}: {exc}") from None
    settings = _settings(args)
    store = open_store(settings.database)
    try:
        if args.undo:
            changed = store.resubscribe(email)
        else:
            changed = store.unsubscribe(email, datetime.now(UTC))
    finally:
        store.close()
    verb = "resubscribed" if args.undo else "unsubscribed"
    print(f"{email}: {verb}" if changed else f"{email}: no change")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from syndicator.deliver.unsubscribe import make_unsubscribe_app
    from syndicator.store import open_store

    settings = _settings(args)
    app = make_unsubscribe_app(lambda: open_store(settings.database), settings)
    print(f"Serving one-click unsubscribe at http://{args.host}:{args.port}/unsubscribe")
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syndicator",
        description="Collect press releases, tag them by threat topic, publish feeds and digests.",
    )
    parser.add_argument("--version", action="version", version=f"syndicator {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        help="configuration file (default: $SYNDICATOR_CONFIG, else ./config.yaml)",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="one full cycle: collect, tag, publish, deliver (for cron)")
    run.add_argument("--force", action="store_true", help="fetch every source, due or not")
    run.add_argument(
        "--stage",
        dest="stages",
        action="append",
        choices=["collect", "tag", "publish", "deliver"],
        help="run only this stage (repeatable)",
    )
    run.set_defaults(handler=cmd_run)
    for stage, text in [
        ("collect", "fetch due sources and tag what they bring"),
        ("publish", "write feeds, OPML and pages from the store"),
        ("deliver", "send the digests and alerts that are due"),
    ]:
        p = sub.add_parser(stage, help=text)
        p.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
        p.set_defaults(handler=cmd_stage(stage))

    sub.add_parser("worker", help="run cycles on the configured schedule (systemd)").set_defaults(
        handler=cmd_worker
    )
    status = sub.add_parser("status", help="sources, items per topic, subscribers")
    status.add_argument("--json", action="store_true", help="machine-readable, for monitoring")
    status.set_defaults(handler=cmd_status)
    sources = sub.add_parser("sources", help="list sources and their health; 'add URL' adds one")
    sources.set_defaults(handler=cmd_sources)
    sources_sub = sources.add_subparsers(dest="sources_command", metavar="ACTION")
    add = sources_sub.add_parser("add", help="find the feed of a site or page and add it")
    add.add_argument("url", metavar="URL")
    add.add_argument("--id", help="source id (default: made from the feed's address)")
    add.add_argument("--pick", type=int, default=1, help="which of several found feeds (1-based)")
    add.add_argument(
        "--dry-run", action="store_true", help="show what would be added, change nothing"
    )
    add.set_defaults(handler=cmd_sources_add)

    leases = sub.add_parser(
        "leases", help="who holds which lease (stages, sources); 'break NAME' removes one"
    )
    leases.set_defaults(handler=cmd_leases)
    leases_sub = leases.add_subparsers(dest="leases_command", metavar="ACTION")
    breaking = leases_sub.add_parser(
        "break", help="remove a lease whoever holds it (its holder stops at its next checkpoint)"
    )
    breaking.add_argument("name", metavar="NAME", help="as listed, e.g. deliver or source:osce")

    items = sub.add_parser("items", help="list tagged items, newest first, with their ids")
    items.add_argument("--topic", help="only this topic")
    items.add_argument("--limit", type=int, default=30)
    items.set_defaults(handler=cmd_items)
    check = sub.add_parser(
        "check",
        help="validate the configuration, then check it can run here (folders, database, "
        "templates); changes nothing",
    )
    check.add_argument(
        "--smtp", action="store_true", help="also connect and log in to the SMTP server, then QUIT"
    )
    check.set_defaults(handler=cmd_check)

    tag = sub.add_parser("tag", help="tag JSON Lines records and print one verdict per line")
    tag.add_argument("--jsonl", required=True, metavar="FILE", help="records file, or - for stdin")
    tag.set_defaults(handler=cmd_tag)

    ev = sub.add_parser("eval", help="precision, recall and F1 of the tagger on labelled records")
    ev.add_argument("file", metavar="FILE.jsonl")
    ev.set_defaults(handler=cmd_eval)

    explain = sub.add_parser("explain", help="show a stored item's scores and evidence")
    explain.add_argument("item", type=int, metavar="ITEM")
    explain.set_defaults(handler=cmd_explain)

    retag = sub.add_parser("retag", help="override the tagger's topics for a stored item")
    retag.add_argument("item", type=int, metavar="ITEM")
    retag.add_argument("--add", action="append", default=[], metavar="TOPIC")
    retag.add_argument("--remove", action="append", default=[], metavar="TOPIC")
    retag.set_defaults(handler=cmd_retag)

    unsub = sub.add_parser("unsubscribe", help="stop all mail to an address (or --undo)")
    unsub.add_argument("email")
    unsub.add_argument(
        "--undo",
        action="store_true",
        help="resubscribe instead (also resumes mail stopped by bounces)",
    )
    unsub.set_defaults(handler=cmd_unsubscribe)
    serve = sub.add_parser("serve", help="serve the one-click unsubscribe endpoint over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (behind a proxy)")
    serve.add_argument("--port", type=int, default=8470)
    serve.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"syndicator: configuration error: {exc}", file=sys.stderr)
        return 2
    except SyndicatorError as exc:
        print(f"syndicator: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
