"""Plain-text releases in the seed format (see the module docstring of ``common``)."""

from __future__ import annotations

from syndicator.collect.releases.common import Release, ReleaseError, decode_text, structure


def read_text(data: bytes) -> Release:
    text = decode_text(data)
    title, body, published, topics = structure(text)
    if not title:
        raise ReleaseError("empty file")
    return Release(title=title, paragraphs=body, published_at=published, declared_topics=topics)
