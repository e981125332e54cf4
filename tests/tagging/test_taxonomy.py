"""Operators correct the tagger through configuration: vocabulary file, terms, exclusions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.config import TaxonomySettings
from syndicator.errors import TaggingError
from syndicator.tagging import Tagger

Factory = Callable[..., TaxonomySettings]

VOCABULARY = """
version: 1
languages: [en, de]
scoring: {threshold: 3.0}
further_information: [see also]
topics:
  organized-crime:
    terms:
      en: {ransomware gang~: 3.0, botnet~: 2.0}
      de: {erpressersoftware: 3.0}
  corruption:
    terms:
      en: {bribe~: 3.0}
"""


def test_config_terms_add_to_the_builtin_vocabulary(make_settings: Factory) -> None:
    text = "Investigators traced the payments of the phantom syndicate across three banks."
    plain = Tagger.from_settings(make_settings())
    extended = Tagger.from_settings(
        make_settings({"corruption": {"terms": {"en": {"phantom syndicate": 5.0}}}})
    )
    assert "corruption" not in plain.tag("Case", text).topics
    result = extended.tag("Case", text)
    assert "corruption" in result.topics
    assert any('"phantom syndicate"' in line for line in result.evidence["corruption"])
    assert plain.version != extended.version


def test_config_exclusion_cancels_overlapping_matches(make_settings: Factory) -> None:
    title, text = "Hackathon week", "The anti-corruption hackathon on data corruption recovery."
    plain = Tagger.from_settings(make_settings())
    excluding = Tagger.from_settings(
        make_settings({"corruption": {"exclude": ["anti corruption hackathon"]}})
    )
    assert "corruption" in plain.tag(title, text, "en").scores
    assert "corruption" not in excluding.tag(title, text, "en").scores


def test_thresholds_per_topic_and_global(make_settings: Factory) -> None:
    title, text = "Bribery", "An official took a bribe."
    assert "corruption" in Tagger.from_settings(make_settings()).tag(title, text).topics
    strict_topic = make_settings({"corruption": {"threshold": 50.0}})
    assert "corruption" not in Tagger.from_settings(strict_topic).tag(title, text).topics
    strict_all = make_settings(threshold=50.0)
    assert Tagger.from_settings(strict_all).tag(title, text).topics == ()


def test_vocabulary_file_replaces_the_builtin_one(make_settings: Factory, tmp_path: Path) -> None:
    path = tmp_path / "vocab.yaml"
    path.write_text(VOCABULARY, encoding="utf-8")
    tagger = Tagger.from_settings(make_settings(vocabulary=path))
    result = tagger.tag("Ransomware gangs extort hospitals", "Botnets spread the malware.", "en")
    assert result.topics == ("organized-crime",)
    assert tagger.tag("Cocaine seized", "Two tonnes of cocaine.", "en").topics == ()
    de = tagger.tag("Erpressersoftware", "Angriff auf Kliniken.", "de")
    assert de.topics == ("organized-crime",)
    declared = tagger.tag("Note", "Text.\n\nSee also:\n\nUNODC on Corruption\n", "en")
    assert declared.topics == ("corruption",)


def test_a_new_topic_needs_only_configuration(make_settings: Factory) -> None:
    settings = make_settings()
    extra = settings.topics[0].model_copy(
        update={
            "id": "cybercrime",
            "title": "Cybercrime",
            "link": None,
            "terms": {"en": {"ransomware": 3.0, "phishing": 2.0}},
        }
    )
    tagger = Tagger.from_settings(
        settings.model_copy(update={"topics": (*settings.topics, extra)})
    )
    assert "cybercrime" in tagger.topic_ids
    assert "cybercrime" in tagger.tag("Ransomware attack on city hall", "Phishing emails.").topics


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("topics: [", "not valid YAML"),
        ("topics: {x: {terms: {en: {drug: heavy}}}}", "invalid vocabulary"),
        ("topics: {}\nunknown: 1", "invalid vocabulary"),
        ("topics: {corruption: {terms: {en: {'b*x*': 1.0}}}}", "wildcard"),
    ],
)
def test_bad_vocabulary_files_raise_tagging_errors(
    make_settings: Factory, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "vocab.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TaggingError, match=message):
        Tagger.from_settings(make_settings(vocabulary=path))


def test_missing_vocabulary_file_is_a_tagging_error(make_settings: Factory, tmp_path: Path) -> None:
    with pytest.raises(TaggingError, match="cannot read vocabulary"):
        Tagger.from_settings(make_settings(vocabulary=tmp_path / "absent.yaml"))


def _two_language_vocabulary(first: str, second: str) -> str:
    weights = {"en": 1.0, "de": 3.0}
    blocks = "\n".join(f"      {lang}: {{korrupt: {weights[lang]}}}" for lang in (first, second))
    return f"""
languages: [en, de]
topics:
  corruption:
    terms:
{blocks}
"""


def test_every_language_release_takes_the_strongest_weight_whatever_the_file_order(
    make_settings: Factory, tmp_path: Path
) -> None:
    """A release in a language without vocabulary meets every language's terms; where two
    languages weigh the same term differently, the order of the file must not decide."""
    scores = []
    for order in (("en", "de"), ("de", "en")):
        path = tmp_path / f"vocab-{'-'.join(order)}.yaml"
        path.write_text(_two_language_vocabulary(*order), encoding="utf-8")
        tagger = Tagger.from_settings(make_settings(vocabulary=path))
        scores.append(tagger.tag("Korrupt", "", lang="xx").scores["corruption"])
        # a release in a language with vocabulary takes that language's own weight
        assert tagger.tag("Korrupt", "", lang="en").scores["corruption"] == 2.0
        assert tagger.tag("Korrupt", "", lang="de").scores["corruption"] == 6.0
    assert scores == [6.0, 6.0]
