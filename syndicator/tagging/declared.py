"""Source-declared topics: the "Further information:" list at the foot of a release.

UNODC and OSCE releases end with links such as "UNODC on Corruption". That is the
publisher telling us the topic, the strongest evidence there is, so it is read
apart from the scored vocabulary: first the section is found in the raw text
(lines matter here, and normalisation joins them), then each label is mapped to
topics through their aliases (id, title, link path, ``declared`` phrases).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from syndicator.tagging.normalize import normalize

_MAX_LABELS = 15
_MAX_LABEL_CHARS = 160


def heading_pattern(headings: Sequence[str]) -> re.Pattern[str] | None:
    """A regex finding a heading line such as ``Further information:`` in raw text."""
    if not headings:
        return None
    ordered = sorted(headings, key=len, reverse=True)
    words = "|".join(r"\s+".join(re.escape(w) for w in h.split()) for h in ordered)
    return re.compile(rf"^[ \t#*]*(?:{words})[ \t]*:?[ \t*]*$", re.IGNORECASE | re.MULTILINE)


def section_labels(text: str, heading: re.Pattern[str]) -> list[str]:
    """The non-blank lines after the heading, up to a paragraph-long line, 15 labels or the end.

    Blank lines between the labels are skipped: publishers put them there as often as not.
    """
    found = heading.search(text)
    if found is None:
        return []
    labels: list[str] = []
    for line in text[found.end() :].splitlines():
        line = line.strip(" \t-*•·")
        if not line:
            continue
        if len(line) > _MAX_LABEL_CHARS or len(labels) >= _MAX_LABELS:
            break
        labels.append(line)
    return labels


def _contains(haystack: str, needle: str) -> bool:
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before = start == 0 or not haystack[start - 1].isalnum()
        after = end == len(haystack) or not haystack[end].isalnum()
        if before and after:
            return True
        start = haystack.find(needle, start + 1)
    return False


def map_labels(
    labels: Iterable[str], aliases: Sequence[Sequence[str]]
) -> dict[int, list[str]]:
    """Topic index → the labels (as written) that declare it."""
    out: dict[int, list[str]] = {}
    for label in labels:
        norm = normalize(label)
        for index, topic_aliases in enumerate(aliases):
            if any(_contains(norm, alias) for alias in topic_aliases):
                out.setdefault(index, [])
                if label not in out[index]:
                    out[index].append(label)
    return out
