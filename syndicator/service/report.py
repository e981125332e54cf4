"""What the command line prints: cycle summaries, status, explanations.

Plain aligned text for a person at a terminal; the logs (stderr) carry the
machine-readable events.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from syndicator.config import Settings
from syndicator.deliver.due import next_digest_at, schedule_for
from syndicator.models import StoredItem, TagResult
from syndicator.service.pipeline import CycleReport
from syndicator.store import Storage

if TYPE_CHECKING:
    from syndicator.deliver.render import Rendered
    from syndicator.tagging.evaluate import EvalReport


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _when_iso(text: str | None) -> str:
    return _when(datetime.fromisoformat(text) if text else None)


def print_cycle(report: CycleReport, out: TextIO) -> None:
    if report.collect is not None:
        collect = report.collect
        ok = len(collect.sources) - len(collect.failed)
        out.write(
            f"collect: {len(collect.sources)} source(s) fetched, {ok} ok, "
            f"{len(collect.failed)} failed, {collect.skipped_not_due} not due"
        )
        if collect.claimed_elsewhere:
            out.write(f", {collect.claimed_elsewhere} taken by another worker")
        out.write("\n")
        for source in collect.sources:
            line = f"  {source.source_id}: {source.status}"
            if source.status == "error":
                line += f" — {(source.error or '').removeprefix(f'{source.source_id}: ')}"
            else:
                line += f", {source.new} new, {source.updated} updated"
            if source.warnings:
                line += f", {len(source.warnings)} warning(s)"
            out.write(line + "\n")
            for warning in source.warnings[:10]:
                out.write(f"    warning: {warning}\n")
    if "tag" in report.stages:
        out.write(f"tag: {report.tagged} item(s) tagged\n")
    if report.publish is not None:
        out.write(
            f"publish: {len(report.publish.written)} file(s) written, "
            f"{len(report.publish.unchanged)} unchanged\n"
        )
    elif "publish" in report.stages:
        out.write("publish: skipped, another worker is publishing\n")
    if report.deliver is not None:
        out.write(
            f"deliver: {len(report.deliver.sent)} message(s) sent, "
            f"{len(report.deliver.failures)} failed\n"
        )
        for email, kind, count in report.deliver.sent:
            out.write(f"  {email}: {kind} with {count} item(s)\n")
        for email, message in report.deliver.failures:
            out.write(f"  {email}: FAILED — {message}\n")
    elif "deliver" in report.stages:
        out.write("deliver: skipped, another worker is delivering\n")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def status_snapshot(store: Storage, settings: Settings, now: datetime) -> dict[str, Any]:
    """Everything ``syndicator status`` shows, as plain data (also its ``--json`` output,
    so monitoring reads the same facts an operator sees)."""
    states = store.source_states()
    sources = []
    for source in settings.sources:
        state = states.get(source.id)
        entry: dict[str, Any] = {"id": source.id, "type": source.type, "enabled": source.enabled}
        if state is not None:
            entry |= {
                "status": state.status,
                "error_class": state.error_class,
                "error": state.error_message,
                "consecutive_failures": state.consecutive_failures,
                "last_fetch_at": _iso(state.last_fetch_at),
                "last_success_at": _iso(state.last_success_at),
                "next_fetch_at": _iso(state.next_fetch_at),
            }
        sources.append(entry)
    counts = store.topic_counts()
    subscribers = []
    for reader in store.subscriber_states():
        sub = reader.subscriber
        due = next_digest_at(
            schedule_for(sub, settings.delivery), reader.subscribed_at, reader.last_digest_at
        )
        subscribers.append(
            {
                "email": sub.email,
                "cadence": sub.cadence,
                "topics": list(sub.topics),
                "alerts": sub.alerts,
                "unsubscribed_at": _iso(reader.unsubscribed_at),
                "last_digest_at": _iso(reader.last_digest_at),
                "next_digest_at": _iso(due),
                "digest_due": reader.unsubscribed_at is None and due <= now,
            }
        )
    return {
        "now": _iso(now),
        "sources": sources,
        "items": {
            "stored": store.item_count(),
            "by_topic": {t.id: counts.get(t.id, 0) for t in settings.taxonomy.topics},
        },
        "subscribers": subscribers,
        "messages": store.dispatch_counts(),
    }


def print_sources(snapshot: dict[str, Any], out: TextIO) -> None:
    """Each configured source's health: last result, failures in a row, next fetch."""
    out.write(f"Sources ({len(snapshot['sources'])} configured)\n")
    for source in snapshot["sources"]:
        name = source["id"]
        if not source["enabled"]:
            out.write(f"  {name:<28} disabled\n")
            continue
        if "status" not in source:
            out.write(f"  {name:<28} never fetched\n")
            continue
        status = source["status"] or "-"
        failed = source["status"] == "error"
        if failed:
            status += f" ({source['error_class']}, {source['consecutive_failures']} in a row)"
        out.write(
            f"  {name:<28} {status:<34} last {_when_iso(source['last_fetch_at'])}, "
            f"next {_when_iso(source['next_fetch_at'])}\n"
        )
        if failed and source["error"]:
            out.write(f"  {'':<28} {source['error']}\n")
        if failed and source["last_success_at"]:
            out.write(f"  {'':<28} last success {_when_iso(source['last_success_at'])}\n")


def print_status(snapshot: dict[str, Any], out: TextIO) -> None:
    print_sources(snapshot, out)
    items = snapshot["items"]
    out.write(f"\nItems: {items['stored']} stored\n")
    for topic, count in items["by_topic"].items():
        out.write(f"  {topic:<28} {count:>6}\n")
    out.write(f"\nSubscribers ({len(snapshot['subscribers'])} configured)\n")
    for sub in snapshot["subscribers"]:
        if sub["unsubscribed_at"]:
            when = f"unsubscribed {_when_iso(sub['unsubscribed_at'])}"
        elif sub["digest_due"]:
            when = "digest due now"
        else:
            when = f"next digest {_when_iso(sub['next_digest_at'])}"
        out.write(f"  {sub['email']:<32} {sub['cadence']:<7} {', '.join(sub['topics'])} — {when}\n")
    ledger = snapshot["messages"]
    out.write(f"\nMessages: {ledger['sent']} sent, {ledger['pending']} pending retry\n")


def print_items(items: list[StoredItem], out: TextIO) -> None:
    for stored in items:
        date = stored.sort_date.strftime("%Y-%m-%d")
        out.write(
            f"{stored.id:>6}  {date}  {stored.item.title[:70]:<70}  {', '.join(stored.topics)}\n"
        )
    if not items:
        out.write("(no tagged items)\n")


def print_explanation(stored: StoredItem, verdict: TagResult | None, out: TextIO) -> None:
    item = stored.item
    out.write(f"Item {stored.id}: {item.title}\n")
    out.write(f"  source {item.source_id}, link {item.link or '-'}\n")
    out.write(f"  published {_when(item.published_at)}, first seen {_when(stored.first_seen_at)}\n")
    if stored.countries:
        out.write(f"  countries: {', '.join(stored.countries)}\n")
    out.write("Topics:\n")
    for tagging in stored.taggings:
        out.write(f"  {tagging.topic} (score {tagging.score:.2f}, {tagging.origin})\n")
    if not stored.taggings:
        out.write("  (none)\n")
    if verdict is None:
        out.write("Not tagged yet.\n")
        return
    out.write(f"Tagger's scores (language {verdict.lang or '?'}):\n")
    for topic, score in sorted(verdict.scores.items(), key=lambda kv: -kv[1]):
        chosen = "chosen" if topic in verdict.topics else "below threshold"
        out.write(f"  {topic}: {score:.2f} ({chosen})\n")
        for evidence in verdict.evidence.get(topic, []):
            out.write(f"    - {evidence}\n")


def write_preview(rendered: Rendered, folder: Path | None, out: TextIO) -> None:
    """A previewed digest, readable: its text part on ``out``, or both parts as files.

    The parts are decoded from the message, so what is shown is exactly what a
    mail client would display, without the transfer encoding's noise.
    """
    message = rendered.message
    parts = {
        part.get_content_subtype(): str(part.get_content())
        for part in message.walk()
        if part.get_content_maintype() == "text"
    }
    header = f"To: {message['To']}\nSubject: {message['Subject']}\n"
    if folder is None:
        out.write(header + "\n" + parts.get("plain", "") + "\n")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for subtype, name in (("html", "digest.html"), ("plain", "digest.txt")):
        if subtype in parts:
            (folder / name).write_text(parts[subtype], encoding="utf-8")
    out.write(header + f"written: {folder / 'digest.html'}, {folder / 'digest.txt'}\n")


def print_evaluation(report: EvalReport, out: TextIO) -> None:
    """``syndicator eval``'s tables: the tagger's own report format."""
    from syndicator.tagging.evaluate import format_report

    out.write(format_report(report) + "\n")
