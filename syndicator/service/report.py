"""What the command line prints: cycle summaries, status, explanations.

Plain aligned text for a person at a terminal; the logs (stderr) carry the
machine-readable events.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from syndicator.config import Settings
from syndicator.deliver import DeliveryReport
from syndicator.deliver.due import next_digest_at, schedule_for
from syndicator.deliver.keys import KEY_USE_WINDOW, key_problems
from syndicator.deliver.outcomes import stopped_by_bounces
from syndicator.models import StoredItem, TagResult
from syndicator.service.holder import Holder, liveness, this_process
from syndicator.service.pipeline import CycleReport
from syndicator.store import LeaseRecord, Storage
from syndicator.text import one_line

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
                out.write(f"    warning: {one_line(warning)}\n")  # file names may hold controls
    if "tag" in report.stages:
        out.write(f"tag: {report.tagged} item(s) tagged\n")
    if report.publish is not None:
        out.write(
            f"publish: {len(report.publish.written)} file(s) written, "
            f"{len(report.publish.unchanged)} unchanged"
        )
        if report.publish.removed:
            out.write(f", {len(report.publish.removed)} stale temporary file(s) removed")
        out.write("\n")
    elif "publish" in report.stages:
        out.write("publish: skipped, another worker is publishing\n")
    if report.deliver is not None:
        print_delivery(report.deliver, out)
    elif "deliver" in report.stages:
        out.write("deliver: skipped, another worker is delivering\n")


FAILURE_LABELS = {
    "pending": "NOT SENT, retried next run",
    "unknown": "OUTCOME UNKNOWN, may have arrived; sent once more next run",
    "failed": "FAILED, not sent again",
}


def print_delivery(deliver: DeliveryReport, out: TextIO) -> None:
    """What a deliver run sent, what it could not, and, once, why it stopped early."""
    out.write(
        f"deliver: {len(deliver.sent)} message(s) sent, {len(deliver.failures)} not accepted\n"
    )
    for email, kind, count in deliver.sent:
        out.write(f"  {email}: {kind} with {count} item(s)\n")
    for failure in deliver.failures:
        label = FAILURE_LABELS.get(failure.state, failure.state)
        out.write(f"  {failure.email}: {failure.kind} {label} — {failure.error}\n")
    if deliver.stopped is not None:
        left = deliver.left
        out.write(
            f"deliver: stopped early — {deliver.stopped}; left for the next run: "
            f"{left.get('pending', 0)} pending, {left.get('unknown', 0)} outcome unknown, "
            f"{deliver.not_reached} subscriber(s) not reached\n"
        )


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
                "warnings": list(state.warnings),
            }
        sources.append(entry)
    counts = store.topic_counts()
    subscribers = []
    for reader in store.recipient_states():
        sub = reader.subscriber
        due = next_digest_at(
            schedule_for(sub, settings.delivery), reader.subscribed_at, reader.last_digest_at
        )
        stopped = stopped_by_bounces(reader.bounces, settings.delivery.max_bounces)
        subscribers.append(
            {
                "id": reader.id,
                "email": sub.email,
                "status": reader.status,
                "managed_by": reader.managed_by,
                "cadence": sub.cadence,
                "topics": list(sub.topics),
                "alerts": sub.alerts,
                "unsubscribed_at": _iso(reader.unsubscribed_at),
                "last_digest_at": _iso(reader.last_digest_at),
                "next_digest_at": _iso(due),
                "digest_due": reader.status == "active" and sub.cadence != "none" and due <= now,
                "bounces": reader.bounces,
                "bounced_at": _iso(reader.bounced_at),
                "stopped_by_bounces": stopped,
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
        "messages": _messages(store),
        "leases": [lease_entry(record, now) for record in store.leases()],
        "signing_keys": _signing_keys(store, now),
    }


def _messages(store: Storage) -> dict[str, Any]:
    """The ledger by state, and each message still to send with its last error."""
    counts = store.dispatch_counts()
    waiting = [
        {
            "email": d.email,
            "kind": d.kind,
            "state": d.state,
            "attempts": d.attempts,
            "created_at": _iso(d.created_at),
            "last_error": d.last_error,
        }
        for d in store.pending_dispatches()
    ]
    return {
        "sent": counts["sent"],
        "pending": counts["pending"],
        "unknown": counts["unknown"],
        "failed": counts["failed"],
        "in_flight": counts["sending"] + counts["resending"],
        "waiting": waiting,
    }


def _signing_keys(store: Storage, now: datetime) -> dict[str, Any]:
    """Which processes recently used which unsubscribe-link keys (fingerprints), and conflicts."""
    uses = store.key_uses(now - KEY_USE_WINDOW)
    return {
        "processes": [
            {
                "process": use.process,
                "role": use.role,
                "key": use.signs,
                "accepts": list(use.accepts),
                "source": use.source,
                "seen_at": _iso(use.seen_at),
            }
            for use in uses
        ],
        "problems": key_problems(uses),
    }


def lease_entry(record: LeaseRecord, now: datetime) -> dict[str, Any]:
    """One lease as ``syndicator leases`` and ``status --json`` show it.

    ``holder_state`` is judged from this machine: ``alive`` or ``dead`` for a
    process here, ``unknown`` for one elsewhere (or in another container), whose
    lease only its expiry ends; ``expired`` whatever the holder, once anyone may
    take it.
    """
    holder = Holder.parse(record.holder)
    expires_in = (record.expires_at - now).total_seconds()
    return {
        "name": record.name,
        "holder": record.holder,
        "host": holder.host if holder else None,
        "pid": holder.pid if holder else None,
        "since": _iso(holder.since) if holder else None,
        "expires_at": _iso(record.expires_at),
        "expires_in_seconds": round(expires_in, 1),
        "holder_state": "expired" if expires_in < 0 else liveness(record.holder, this_process(now)),
    }


_STATE_WORDS = {
    "alive": "alive on this machine",
    "dead": "dead: the next worker here takes it over at once",
    "unknown": "on another machine or in another container: ends when it expires",
    "expired": "expired: free to take",
}


def print_leases(leases: list[dict[str, Any]], out: TextIO) -> None:
    """Who holds which lease, since when, for how long yet, and whether they still live."""
    if not leases:
        out.write(
            "No leases held: no worker is collecting a source, tagging, publishing or "
            "delivering right now.\n"
        )
        return
    out.write(f"Leases ({len(leases)} held)\n")
    for lease in leases:
        who = f"{lease['host']} pid {lease['pid']}" if lease["host"] else lease["holder"]
        since = _clock(lease["since"])
        left = lease["expires_in_seconds"]
        expiry = f"expires in {left:.0f} s" if left >= 0 else f"expired {-left:.0f} s ago"
        out.write(
            f"  {lease['name']:<28} {who:<32} since {since:<13} {expiry:<20} "
            f"{_STATE_WORDS[lease['holder_state']]}\n"
        )


def _clock(text: str | None) -> str:
    return datetime.fromisoformat(text).strftime("%H:%M:%S UTC") if text else "-"


def print_sources(snapshot: dict[str, Any], out: TextIO) -> None:
    """Each configured source's health: last result, failures in a row, next fetch, and
    what its last collection warned about (such as files it refused to read)."""
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
        for warning in source["warnings"]:
            out.write(f"  {'':<28} warning: {one_line(warning)}\n")


def print_status(snapshot: dict[str, Any], out: TextIO) -> None:
    print_sources(snapshot, out)
    items = snapshot["items"]
    out.write(f"\nItems: {items['stored']} stored\n")
    for topic, count in items["by_topic"].items():
        out.write(f"  {topic:<28} {count:>6}\n")
    out.write(f"\nSubscribers ({len(snapshot['subscribers'])})\n")
    for sub in snapshot["subscribers"]:
        if sub["unsubscribed_at"]:
            when = f"unsubscribed {_when_iso(sub['unsubscribed_at'])}"
        elif sub["status"] != "active":
            when = sub["status"]
        elif sub["stopped_by_bounces"]:
            when = (
                f"STOPPED after {sub['bounces']} bounces in a row "
                f"(last {_when_iso(sub['bounced_at'])}; `syndicator unsubscribe --undo` resumes)"
            )
        elif sub["cadence"] == "none":
            when = "alerts only"
        elif sub["digest_due"]:
            when = "digest due now"
        else:
            when = f"next digest {_when_iso(sub['next_digest_at'])}"
        if sub["bounces"] and not sub["stopped_by_bounces"]:
            when += f", {sub['bounces']} bounce(s) in a row"
        out.write(
            f"  {sub['email']:<32} {sub['cadence']:<7} {sub['managed_by']:<8} "
            f"{', '.join(sub['topics'])} — {when}\n"
        )
    ledger = snapshot["messages"]
    out.write(
        f"\nMessages: {ledger['sent']} sent, {ledger['pending']} pending retry, "
        f"{ledger['unknown']} outcome unknown, {ledger['failed']} failed"
    )
    if ledger["in_flight"]:
        out.write(f", {ledger['in_flight']} in flight")
    out.write("\n")
    for waiting in ledger["waiting"]:
        out.write(
            f"  {waiting['email']:<32} {waiting['kind']:<7} {waiting['state']}, "
            f"{waiting['attempts']} attempt(s), since {_when_iso(waiting['created_at'])}"
            f" — {waiting['last_error'] or '-'}\n"
        )
    out.write("\n")
    print_leases(snapshot["leases"], out)
    keys = snapshot["signing_keys"]
    days = KEY_USE_WINDOW.days
    out.write(f"\nUnsubscribe-link keys ({len(keys['processes'])} processes, last {days} days)\n")
    for use in keys["processes"]:
        earlier = f", accepts {len(use['accepts']) - 1} earlier" if use["accepts"][1:] else ""
        out.write(
            f"  {use['role']:<7} {use['process']:<30} key {use['key']} ({use['source']}{earlier})"
            f" seen {_when_iso(use['seen_at'])}\n"
        )
    for problem in keys["problems"]:
        out.write(f"  ! {problem}\n")


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
