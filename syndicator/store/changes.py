"""When a stored item has changed in a way a reader cares about (pure: no database, no clock).

A reader cares about an item's title, its link and its text. Not about the
parts of a page that change on every request: the time it was generated
("Page generated at 16:03:22"), view and comment counters, relative times
("3 minutes ago"), tracking and cache-busting parameters in links
(``?utm_source=rss&t=1767225600``), nor the publisher's ``updated`` date, which
some feeds set to "now" on every request. :func:`content_hash` hashes what a
reader cares about with those volatile spans normalised away, so such an item
is unchanged from one poll to the next; :func:`decide` says what the store does
with a stored item given the hash of its fresh copy.

The hash is versioned (``"2:<sha256>"``): when the rule changes, a stored hash
of an older version is recomputed from the stored fields under the new rule
(:func:`content_hash` of what the store holds), so upgrading does not make
every stored item look updated (no republishing, no re-tagging), while an item
that really changed since is still seen as changed.

What normalisation cannot remove (a random token in the text, say) is capped:
after :data:`CHURN_CAP` polls in a row that each changed an item, a further
change is taken at most once per :data:`CHURN_COOLDOWN`; one poll without a
change ends the run.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HASH_VERSION = "2"
CHURN_CAP = 24
"""Polls in a row that each changed an item before further changes are rationed."""
CHURN_COOLDOWN = timedelta(days=1)
"""Past the cap, at most one change of an item is taken per this much time."""

_TRACKING_PREFIXES = ("utm_", "mc_", "at_", "pk_", "mtm_", "_hs", "hsa_", "ga_", "_ga", "_gl")
_TRACKING = frozenset(
    {
        # click and campaign ids
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "twclid", "ttclid", "li_fat_id", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
        "rb_clickid", "s_cid", "ref_src", "ncid", "cmpid", "spm",
        # sessions
        "sid", "sessionid", "session_id", "phpsessid", "jsessionid", "aspsessionid", "cfid",
        "cftoken",
        # cache busters
        "t", "ts", "_t", "_ts", "_", "timestamp", "time", "nocache", "cachebuster",
        "cache_buster", "cb", "rnd", "rand", "random", "nonce",
    }
)  # fmt: skip
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.I)
_URL = re.compile(r"https?://[^\s<>\"']+")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?"
_ZONE = (
    r"(?:\s?(?:utc|gmt|z|cet|cest|eet|eest|wet|bst|ist|msk|est|edt|cst|cdt|mst|mdt|pst|pdt"
    r"|jst|aest|aedt|[+-]\d{2}:?\d{2})(?![a-z\d]))?"
)
_UNIT = r"(?:sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|days?|weeks?|months?|years?)"
_NUMBER = r"\d[\d,.\u00a0\u202f']*"
_COUNTED = (
    r"views?|comments?|shares?|likes?|downloads?|repl(?:y|ies)|reactions?|retweets?|reposts?"
    r"|clicks?|visitors?|page ?views?"
)
# Every volatile span that holds a digit, in one pass (the scan jumps from digit to digit);
# which kind matched decides the placeholder, and some kinds also look at what precedes.
_DIGITS = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?" + _ZONE + r")?"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+\d{4}(?!\d)"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)|\d{4}[./]\d{1,2}[./]\d{1,2}(?!\d))"
    r"|(?P<timestamp>1\d{9}(?:\d{3})?(?!\d))"
    r"|(?P<time>\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?(?:\s?[ap]\.?m\.?)?"
    + _ZONE
    + r"|\d{1,2}h\d{2}(?![a-z\d]))"
    r"|(?P<ago>\d+\s+" + _UNIT + r"\s+ago(?![a-z]))"
    r"|(?P<counted>" + _NUMBER + r"\s*(?:" + _COUNTED + r")(?![a-z]))"
    r"|(?P<day_year>\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}(?!\d))"
    r"|(?P<times>" + _NUMBER + r"\s+times(?![a-z]))"
    r"|(?P<number>" + _NUMBER + r")"
)
_MONTH_BEFORE = re.compile(_MONTH + r"\s+$")
_TIMES_VERB = re.compile(r"(?:viewed|read|seen|downloaded|shared)\s+$")
_COUNTER_LABEL = re.compile(r"(?:" + _COUNTED + r"|reads?|visits?|hits?)\s*[:=]\s*$")
_NAMED_BEFORE = re.compile(r"(?:" + _WEEKDAY + r",?\s*)?(?:" + _MONTH + r"\s+)?$")
_RELATIVE = re.compile(r"\b(?:an?|one)\s+" + _UNIT + r"\s+ago\b|\bjust now\b|\bmoments? ago\b")
_DIGIT_RUN = re.compile(r"\d+")
_PLACEHOLDERS = {
    "date": "<date>",
    "day_year": "<date>",
    "timestamp": "<timestamp>",
    "time": "<time>",
    "ago": "<ago>",
    "counted": "<n> counted",
    "times": "<n> times",
    "number": "<n>",
}


def _volatile_at(text: str, start: int, floor: int) -> tuple[int, int, str] | None:
    """The volatile span that starts with the number at ``start``, as (start, end,
    placeholder), or None; a date takes the weekday and month names before it, down
    to ``floor`` at most."""
    match = _DIGITS.match(text, start)
    if match is None:
        return None
    kind = match.lastgroup or "number"
    before = text[max(floor, start - 24) : start]
    unlabelled = ":" not in before and "=" not in before
    if (
        (kind == "number" and (unlabelled or not _COUNTER_LABEL.search(before)))  # "views: 5"
        or (kind == "day_year" and not _MONTH_BEFORE.search(before))  # "March 3, 2024"
        or (kind == "times" and not _TIMES_VERB.search(before))  # "viewed 12 times"
    ):
        return None
    if kind in ("date", "day_year") and before:
        named = _NAMED_BEFORE.search(before)
        if named is not None:
            start -= len(before) - named.start()  # "Tuesday, March " of the same date
    return start, match.end(), _PLACEHOLDERS[kind]


def _steady_numbers(text: str) -> str:
    """Replace the volatile spans around numbers (times, dates, counters...).

    One ``_DIGITS.sub`` over the text would try its dozen alternatives at every
    position (0.6 ms for a 2 KB release); the few places where a number starts
    are found by a plain digit scan instead, and only there is it tried.
    """
    parts: list[str] = []
    at = 0
    for run in _DIGIT_RUN.finditer(text):
        begin = run.start()
        if begin < at or (begin and text[begin - 1].isalnum()):
            continue  # inside a span already replaced, a word or a longer token ("v2")
        found = _volatile_at(text, begin, at)
        if found is not None:
            start, end, token = found
            parts += (text[at:start], token)
            at = end
    if not parts:
        return text
    parts.append(text[at:])
    return "".join(parts)


def steady_link(link: str | None) -> str:
    """``link`` without tracking, session and cache-busting parameters, or fragment.

    Deliberately broader than the identity's canonical link
    (:func:`syndicator.collect.identity.canonical_link`), which must never
    change: a wider rule there would give stored items new identities.
    """
    if not link:
        return ""
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        return link.strip()
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key)
    ]
    path = _PATH_SESSION.sub("", parts.path)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


def _is_tracking(key: str) -> bool:
    name = key.lower()
    return name in _TRACKING or name.startswith(_TRACKING_PREFIXES)


def steady_text(text: str) -> str:
    """``text`` with its volatile spans replaced by placeholders (links made steady too).

    Lowercased first: the result is only ever hashed, and the patterns run
    several times faster without case folding (a 2 KB release takes about
    0.1 ms). So an edit that only changes letter case is not a change.
    """
    if not text:
        return ""
    text = text.lower()
    if "http" in text:
        text = _URL.sub(lambda m: steady_link(m.group()), text)
    text = _steady_numbers(text)
    if "ago" in text or "just now" in text:
        text = _RELATIVE.sub("<ago>", text)
    return text


def content_hash(title: str, link: str | None, summary: str, content: str) -> str:
    """The versioned hash of what a reader cares about in an item."""
    payload = {
        "title": title,
        "link": steady_link(link),
        "summary": steady_text(summary),
        "content": steady_text(content),
    }
    digest = hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    return f"{HASH_VERSION}:{digest}"


def is_current(stored_hash: str) -> bool:
    """Whether a stored hash was made by this version of :func:`content_hash`."""
    return stored_hash.startswith(f"{HASH_VERSION}:")


Verdict = Literal["unchanged", "updated", "churn"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a stored item given its fresh copy.

    ``verdict``: ``updated`` (store the fresh fields, count it, republish and
    re-tag), ``unchanged``, or ``churn`` (it changed, but too often: keep what
    is stored, count it as unchanged). ``content_hash`` is the hash to store
    (None: keep the stored one); ``changes`` the count of changes in a row.
    """

    verdict: Verdict
    content_hash: str | None
    changes: int


def decide(
    *,
    stored_hash: str,
    baseline: str,
    changes: int,
    last_changed_at: datetime,
    fresh_hash: str,
    now: datetime,
) -> Decision:
    """The rule for a stored item whose fresh copy hashes to ``fresh_hash``.

    ``baseline`` is the stored item's hash under the current version: the
    stored hash itself when it is current, else :func:`content_hash` of the
    stored fields (an upgrade only rewrites the hash). ``changes`` counts the
    polls in a row that changed the item.
    """
    keep_or_rehash = None if stored_hash == baseline else baseline
    if fresh_hash == baseline:
        return Decision("unchanged", keep_or_rehash, 0)
    if changes >= CHURN_CAP and now - last_changed_at < CHURN_COOLDOWN:
        return Decision("churn", keep_or_rehash, changes)
    return Decision("updated", fresh_hash, changes + 1)
