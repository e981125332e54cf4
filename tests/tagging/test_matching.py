"""Normalisation and the automaton: the ground the scores stand on."""

from __future__ import annotations

import pytest

from syndicator.errors import TaggingError
from syndicator.tagging.matcher import Matcher, compile_term
from syndicator.tagging.normalize import normalize


def _found(terms: list[str], text: str) -> list[str]:
    norm = normalize(text)
    return [norm[s:e] for _, s, e in Matcher(terms).scan(norm)]


def test_normalize_folds_case_accents_dashes_and_quotes() -> None:
    assert normalize("Tráfico—de «DROGAS» l’État") == 'trafico de "drogas" l\'etat'
    assert normalize("Anti-Corruption\nDay") == "anti corruption day"
    assert normalize("Ёлка и Йошкар-Ола, Її") == "елка и иошкар ола, іі"


def test_cyrillic_fast_path_agrees_with_full_path() -> None:
    text = "Торгівля людьми: її жертви — «ёлочный» ущерб Žáková"
    assert normalize(text, cyrillic=True) == normalize(text)


def test_terms_match_only_on_word_boundaries() -> None:
    assert _found(["drug"], "Drugstore chain; drug seized; drugs") == ["drug"]
    assert _found(["iran"], "Iranian officials met in Iran.") == ["iran"]


def test_star_matches_any_continuation() -> None:
    assert _found(["traffick*"], "traffickers trafficked trafficking traffic") == [
        "traffickers",
        "trafficked",
        "trafficking",
    ]


def test_tilde_matches_short_case_endings_on_each_word() -> None:
    found = _found(["торговл~ людьми"], "о торговле людьми и торговлей людьми, торговлишка людьми")
    assert found == ["торговле людьми", "торговлеи людьми"]  # й folds to и


def test_plus_needs_at_least_one_more_letter() -> None:
    assert _found(["дані+"], "дані Данії данією даних") == ["даніі", "данією"]  # ї folds to і


def test_overlapping_terms_are_all_reported() -> None:
    assert sorted(_found(["money laundering", "laundering"], "Money-laundering case")) == [
        "laundering",
        "money laundering",
    ]


@pytest.mark.parametrize("term", ["a", "x*", "mid*dle word"])
def test_bad_terms_are_rejected_with_a_clear_error(term: str) -> None:
    with pytest.raises(TaggingError):
        compile_term(term)
