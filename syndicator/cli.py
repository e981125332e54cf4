"""The command line: parse arguments, call the service or a stage, print.

Exit status: 0 when the command did its job (a cycle with failed sources still
counts: they are reported), 2 for an invalid configuration or usage, 1 for any
other error that stopped the command (database, output folder, bad input).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from syndicator import __version__
from syndicator.config import load_settings
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.service import logs

if TYPE_CHECKING:
    from syndicator.service.app import Syndicator

Handler = Callable[[argparse.Namespace], int]


def _app(args: argparse.Namespace) -> Syndicator:
    from syndicator.service.app import Syndicator

    return Syndicator.from_config(args.config)


# ---------------------------------------------------------------------------- cycle


def cmd_run(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_cycle

    with _app(args) as app:
        report = app.run(args.stages, force=args.force)
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

    run_worker(load_settings(args.config))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_status

    with _app(args) as app:
        snapshot = app.status()
    if args.json:
        print(json.dumps(snapshot, ensure_ascii=False, indent=2))
    else:
        print_status(snapshot, sys.stdout)
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_items

    with _app(args) as app:
        print_items(app.items(args.topic, args.limit), sys.stdout)
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_sources

    with _app(args) as app:
        print_sources(app.status(), sys.stdout)
    return 0


def cmd_leases(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_leases

    with _app(args) as app:
        if args.leases_command != "break":
            print_leases(app.leases(), sys.stdout)
            return 0
        entry = app.break_lease(args.name)
    who = f"{entry['host']} pid {entry['pid']}" if entry["host"] else entry["holder"]
    state = {
        "alive": "its process is alive on this machine",
        "dead": "its process no longer exists",
        "unknown": "on another machine or in another container, so not checked from here",
        "expired": "its lease had expired",
    }[entry["holder_state"]]
    print(f"Broke lease {entry['name']!r}, held by {who}: {state}.")
    if entry["holder_state"] in ("alive", "unknown"):
        print(
            f"syndicator: warning: {who} may still be working under this lease. It stops at "
            "its next checkpoint (before its next message, file, tag batch or source) with an "
            "error, but what it is doing at that moment still finishes, and another worker "
            "may take the lease meanwhile.",
            file=sys.stderr,
        )
    return 0


def cmd_sources_add(args: argparse.Namespace) -> int:
    from syndicator.config_edit import source_snippet

    with _app(args) as app:
        proposal = app.propose_source(
            args.url, source_id=args.id, pick=args.pick, dry_run=args.dry_run
        )
    for number, feed in enumerate(proposal.found, 1):
        print(f"[{number}] {feed.url}\n    {feed.kind}: {feed.title}")
        for title in feed.sample_titles:
            print(f"      - {title}")
    if not proposal.added:
        print("\nWould add to the configuration:\n" + source_snippet(proposal.entry))
    else:
        print(
            f"\nAdded source {proposal.entry['id']!r} to {proposal.config_file}; "
            "the next run fetches it."
        )
    return 0


def cmd_sources_enable(enabled: bool) -> Handler:
    def switch(args: argparse.Namespace) -> int:
        with _app(args) as app:
            app.set_source_enabled(args.source_id, enabled)
            where = app.config_file
        verb = "enabled" if enabled else "disabled (its items and history stay)"
        print(f"source {args.source_id!r} {verb} in {where}")
        return 0

    return switch


def cmd_sources_remove(args: argparse.Namespace) -> int:
    with _app(args) as app:
        forgotten = app.remove_source(args.source_id, forget=args.forget)
        where = app.config_file
    print(f"source {args.source_id!r} removed from {where}")
    if args.forget:
        print(f"{forgotten} stored item(s) of it deleted")
    else:
        print("its stored items stay (use --forget to delete them too)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Parse the configuration (exit 2 naming the key), then prove it can run here (exit 1)."""
    from syndicator.service.checks import run_checks

    settings = load_settings(args.config)
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


def cmd_tag(args: argparse.Namespace) -> int:
    from syndicator.jsonl import BadLine

    bad = 0
    stream = _open_text(args.jsonl)
    try:
        with _app(args) as app:
            for verdict in app.tag_records(stream, args.jsonl):
                if isinstance(verdict, BadLine):
                    print(verdict, file=sys.stderr)
                    bad += 1
                else:
                    print(json.dumps(verdict, ensure_ascii=False), flush=False)
    finally:
        if stream is not sys.stdin:
            stream.close()
    sys.stdout.flush()
    return 1 if bad else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_evaluation

    with _app(args) as app:
        print_evaluation(app.evaluate(Path(args.file)), sys.stdout)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from syndicator.service.report import print_explanation

    with _app(args) as app:
        explanation = app.explain(args.item)
    print_explanation(explanation.item, explanation.verdict, sys.stdout)
    return 0


def cmd_retag(args: argparse.Namespace) -> int:
    with _app(args) as app:
        stored = app.retag(args.item, args.add, args.remove)
    print(f"item {stored.id}: topics now {', '.join(stored.topics) or '(none)'}")
    print("The next `syndicator run` (or `syndicator publish`) republishes the feeds.")
    return 0


# ---------------------------------------------------------------------------- subscribers


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    with _app(args) as app:
        changed = app.unsubscribe(args.email, undo=args.undo)
    verb = "resubscribed" if args.undo else "unsubscribed"
    print(f"{args.email}: {verb}" if changed else f"{args.email}: no change")
    return 0


def cmd_subscribers_list(args: argparse.Namespace) -> int:
    with _app(args) as app:
        rows = app.subscribers()
    listed: list[dict[str, Any]] = [
        {
            "email": r.subscriber.email,
            "status": r.status,
            "managed_by": r.managed_by,
            "topics": list(r.subscriber.topics),
            "countries": list(r.subscriber.countries),
            "query": r.subscriber.query,
            "cadence": r.subscriber.cadence,
            "alerts": r.subscriber.alerts,
            "language": r.subscriber.language,
            "bounces": r.bounces,
        }
        for r in rows
    ]
    if args.json:
        json.dump(listed, sys.stdout, indent=2)
        print()
        return 0
    for row in listed:
        alerts = " +alerts" if row["alerts"] else ""
        bounces = f" {row['bounces']} bounce(s)" if row["bounces"] else ""
        print(
            f"{row['email']:<32} {row['status']:<12} {row['managed_by']:<8} "
            f"{row['cadence']}{alerts}{bounces}  {' '.join(row['topics'])}"
            + (f"  countries: {' '.join(row['countries'])}" if row["countries"] else "")
            + (f"  query: {row['query']}" if row["query"] else "")
            + (f"  language: {row['language']}" if row["language"] else "")
        )
    print(f"{len(listed)} subscriber(s)")
    return 0


def _listed(value: str | None) -> list[str]:
    """A comma- (or semicolon-) separated option as its items."""
    return [t.strip() for t in (value or "").replace(";", ",").split(",") if t.strip()]


def cmd_subscribers_add(args: argparse.Namespace) -> int:
    with _app(args) as app:
        outcome = app.add_subscriber(
            args.email,
            _listed(args.topics),
            cadence=args.cadence,
            timezone=args.timezone,
            alerts=args.alerts,
            name=args.name,
            countries=_listed(args.countries),
            query=args.query,
            language=args.language,
        )
    print(f"{args.email}: {outcome}")
    return 0


def cmd_subscribers_remove(args: argparse.Namespace) -> int:
    with _app(args) as app:
        changed = app.remove_subscriber(args.email, forget=args.forget)
    verb = "forgotten (address replaced by a keyed hash)" if args.forget else "removed"
    print(f"{args.email}: {verb}" if changed else f"{args.email}: no change")
    return 0


def cmd_subscribers_import(args: argparse.Namespace) -> int:
    with _app(args) as app:
        report = app.import_subscribers(Path(args.file))
    for line, email, outcome in report.accepted:
        print(f"line {line}: {email}: {outcome}")
    for rejected in report.rejected:
        print(f"line {rejected.line}: REJECTED {rejected.email or '(empty)'}: {rejected.reason}")
    print(f"{len(report.accepted)} accepted, {len(report.rejected)} rejected")
    return 1 if report.rejected else 0


def cmd_subscribers_export(args: argparse.Namespace) -> int:
    import csv

    with _app(args) as app:
        records = app.export_subscribers()
    if args.format == "json":
        json.dump(records, sys.stdout, indent=2)
        print()
        return 0
    fields = [k for k in (records[0] if records else {"email": None}) if k != "messages"]
    writer = csv.DictWriter(sys.stdout, [*fields, "messages"], lineterminator="\n")
    writer.writeheader()
    for record in records:
        flat: dict[str, Any] = {k: record[k] for k in fields}
        for key in ("topics", "countries"):
            if key in flat:
                flat[key] = " ".join(flat[key])
        writer.writerow(flat | {"messages": len(record["messages"])})
    return 0


def cmd_digest_preview(args: argparse.Namespace) -> int:
    from syndicator.service.report import write_preview

    with _app(args) as app:
        rendered = app.preview_digest(args.email)
    if rendered is None:
        print(f"{args.email}: nothing new for their next digest")
        return 0
    write_preview(rendered, Path(args.out) if args.out else None, sys.stdout)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    from syndicator.web import mounts, serve

    settings = load_settings(args.config)
    where = mounts(settings, preview=args.preview)
    local = f"http://{_url_host(args.host)}:{args.port}"
    folder = settings.publish.output_dir
    if args.preview:
        print(f"Previewing {folder} with links to {where.preview_of} rewritten to this address.")
        print(f"Open {local}{quote(where.site)}")
    else:
        print(f"Serving {folder} at {local}{quote(where.site)} (public: {settings.base_url_text})")
    print(f"One-click unsubscribe at {local}{quote(where.unsubscribe)}")
    sys.stdout.flush()
    serve(settings, host=args.host, port=args.port, preview=args.preview)
    return 0


def _url_host(host: str) -> str:
    """The host part of a URL to open: a wildcard address is reached through loopback."""
    if host in ("", "0.0.0.0"):  # noqa: S104 (recognised, not bound)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


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
    for action, enabled, text in [
        ("disable", False, "pause a source (kept in the configuration, history kept)"),
        ("enable", True, "resume a paused source"),
    ]:
        p = sources_sub.add_parser(action, help=text)
        p.add_argument("source_id", metavar="ID")
        p.set_defaults(handler=cmd_sources_enable(enabled))
    remove = sources_sub.add_parser("remove", help="take a source out of the configuration")
    remove.add_argument("source_id", metavar="ID")
    remove.add_argument(
        "--forget", action="store_true", help="also delete its stored items and fetch history"
    )
    remove.set_defaults(handler=cmd_sources_remove)

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
    _subscribers_parser(sub)
    digest = sub.add_parser("digest", help="look at digests without sending them")
    digest_sub = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    preview = digest_sub.add_parser(
        "preview", help="the next digest of an address as HTML and text; nothing is sent"
    )
    preview.add_argument("email")
    preview.add_argument(
        "--out", metavar="DIR", help="write digest.html and digest.txt there (default: print text)"
    )
    preview.set_defaults(handler=cmd_digest_preview)
    serve = sub.add_parser(
        "serve", help="serve the output folder and the one-click unsubscribe endpoint over HTTP"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (behind a proxy)")
    serve.add_argument("--port", type=int, default=8470)
    serve.add_argument(
        "--preview",
        action="store_true",
        help="serve the output at / with links to base_url rewritten to this address",
    )
    serve.set_defaults(handler=cmd_serve)
    return parser


def _subscribers_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    subs = sub.add_parser("subscribers", help="list, add, remove, import, export subscribers")
    action = subs.add_subparsers(dest="subscribers_command", metavar="ACTION", required=True)
    listing = action.add_parser("list", help="every subscriber: status, owner, topics, bounces")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_subscribers_list)
    add = action.add_parser("add", help="add or change a subscriber (active at once)")
    add.add_argument("email")
    add.add_argument("--topics", default="", help="comma-separated topic ids")
    add.add_argument(
        "--countries", default="", help="comma-separated ISO country codes, e.g. UA,MD"
    )
    add.add_argument("--query", help='a saved search, e.g. \'"money laundering" -football\'')
    add.add_argument("--cadence", default="daily", choices=["daily", "weekly", "none"])
    add.add_argument("--alerts", action="store_true", help="also an alert per new item")
    add.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Vienna")
    add.add_argument("--name")
    add.add_argument(
        "--language", help="of their messages: en, fr, es or ru (default: delivery.language)"
    )
    add.set_defaults(handler=cmd_subscribers_add)
    remove = action.add_parser("remove", help="stop mail to a subscriber, keeping history")
    remove.add_argument("email")
    remove.add_argument(
        "--forget",
        action="store_true",
        help="also erase the address (replaced by a keyed hash); the ledger is kept",
    )
    remove.set_defaults(handler=cmd_subscribers_remove)
    imp = action.add_parser("import", help="add or update subscribers from a CSV file")
    imp.add_argument("file", metavar="FILE.csv")
    imp.set_defaults(handler=cmd_subscribers_import)
    export = action.add_parser("export", help="everything stored about each subscriber")
    export.add_argument("--format", default="csv", choices=["csv", "json"])
    export.set_defaults(handler=cmd_subscribers_export)


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
