"""Threat-topic tagging: taxonomy, normalisation, matching, scores and evidence.

Pure: the vocabulary is read when a :class:`Tagger` is built, never while tagging.
See docs/tagging.md for how scores are computed and how to extend the taxonomy.
"""

from syndicator.tagging.tagger import TAGGER_VERSION_PREFIX, Tagger

__all__ = ["TAGGER_VERSION_PREFIX", "Tagger"]
