"""The vocabulary file: its schema, and reading it into validated models.

The vocabulary is configuration, not code, so operators can correct the tagger
by editing YAML: per topic and language, terms with weights; exclusions that
cancel a topic's match they overlap; neutral phrases that cancel every topic
(``drug prices``, ``memory corruption``); document contexts that damp scores
(fiction, sport doping); the headings of "Further information" sections; and
the scoring knobs. Loading happens once, when a :class:`~syndicator.tagging.Tagger`
is built; tagging itself never touches the disk.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syndicator.errors import TaggingError

DEFAULT_VOCABULARY = "default_taxonomy.yaml"
COUNTRIES = "countries.yaml"
ANY_LANG = "*"

TermTable = dict[str, dict[str, float]]
"""language code (or ``*``) → term → weight."""
PhraseTable = dict[str, list[str]]
"""language code (or ``*``) → phrases."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldWeights(_Strict):
    """How much a hit counts by where it is: title, lead, body, or late in the body."""

    title: float = 2.0
    lead: float = 1.25
    body: float = 0.8
    late: float = 0.5


class AgendaRule(_Strict):
    """A sentence naming many topics at once (a mandate list) is weak evidence for each."""

    min_topics: Annotated[int, Field(ge=2)] = 3
    factor: Annotated[float, Field(ge=0, le=1)] = 0.35


class Scoring(_Strict):
    """The knobs of the score; see docs/tagging.md for the formula."""

    threshold: Annotated[float, Field(gt=0)] = 4.0
    relative: Annotated[float, Field(ge=0, le=1)] = 0.0
    """A topic also needs this fraction of the best topic's score (0 disables)."""
    fields: FieldWeights = FieldWeights()
    lead_chars: Annotated[int, Field(ge=0)] = 400
    late_chars: Annotated[int, Field(ge=0)] = 1500
    repeat_decay: Annotated[float, Field(ge=0, le=1)] = 0.5
    """Each repeat of the same term counts this fraction of the previous one."""
    agenda: AgendaRule = AgendaRule()
    declared_weight: Annotated[float, Field(gt=0)] = 10.0
    max_evidence: Annotated[int, Field(ge=1)] = 12


class Context(_Strict):
    """Words that, when enough of them occur, make the whole release weaker evidence."""

    factor: Annotated[float, Field(ge=0, le=1)]
    min_hits: Annotated[int, Field(ge=1)] = 2
    """Distinct context terms needed before the factor applies."""
    topics: tuple[str, ...] = ()
    """Topics the factor applies to; all when empty."""
    terms: PhraseTable


class NetworkRule(_Strict):
    """Words that only name a criminal group count fully when the group is acted on.

    "Criminal networks", "organised crime", "cartel" appear in passing in many
    drug-seizure and trafficking releases; annotators give organised crime only
    when a network is dismantled, arrested or prosecuted (or money is laundered).
    So a network term with an action word (``cues``) in its sentence counts
    ``support`` times its weight, and one without counts ``secondary`` times its
    weight when a topic in ``yield_to`` is chosen (the release is about that
    crime, and the group is its background).
    """

    terms: tuple[str, ...]
    """Terms of the topic (as written under ``terms``, any language) that only name a group."""
    cues: PhraseTable
    """Action words per language: dismantled, arrested, charged, sentenced..."""
    support: Annotated[float, Field(ge=1)] = 1.5
    secondary: Annotated[float, Field(ge=0, le=1)] = 0.5
    yield_to: tuple[str, ...] = ()


class VocabTopic(_Strict):
    """The built-in knowledge about one topic."""

    threshold: Annotated[float | None, Field(gt=0)] = None
    declared: tuple[str, ...] = ()
    terms: TermTable = Field(default_factory=dict)
    exclude: PhraseTable = Field(default_factory=dict)
    network: NetworkRule | None = None


class Vocabulary(_Strict):
    """A whole vocabulary file."""

    version: int = 1
    languages: tuple[str, ...] = ("en", "ru", "uk", "fr", "es", "de")
    scoring: Scoring = Scoring()
    further_information: tuple[str, ...] = ()
    """Headings of a source-declared topic list, in any language."""
    topics: dict[str, VocabTopic]
    neutral: PhraseTable = Field(default_factory=dict)
    contexts: dict[str, Context] = Field(default_factory=dict)


def _read_yaml(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaggingError(f"{origin}: not valid YAML: {exc}") from None


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """The vocabulary at ``path``, else the built-in one; errors name the file and key."""
    if path is None:
        origin = f"built-in {DEFAULT_VOCABULARY}"
        text = resources.files(__package__).joinpath(DEFAULT_VOCABULARY).read_text("utf-8")
    else:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaggingError(f"{origin}: cannot read vocabulary: {exc}") from None
    data = _read_yaml(text, origin)
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise TaggingError(f"{origin}: invalid vocabulary: {problems}") from None


@cache
def _places() -> dict[str, Any]:
    """The parsed countries file, read once per process (it is large and never changes)."""
    text = resources.files(__package__).joinpath(COUNTRIES).read_text("utf-8")
    try:
        # the C loader when built in: this file is large; both loaders are the safe ones
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise TaggingError(f"{COUNTRIES}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("countries"), dict):
        raise TaggingError(f"{COUNTRIES}: expected a 'countries' mapping")
    return data


def load_countries() -> dict[str, dict[str, list[str]]]:
    """Built-in country names: ISO alpha-2 code → language → names (do not modify)."""
    countries: dict[str, dict[str, list[str]]] = _places()["countries"]
    return countries


def load_demonyms() -> dict[str, dict[str, list[str]]]:
    """Built-in demonym patterns ("colombian~"): code → language → patterns (do not modify)."""
    demonyms: dict[str, dict[str, list[str]]] = _places().get("demonyms") or {}
    return demonyms
