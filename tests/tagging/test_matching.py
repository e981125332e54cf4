"""Normalisation and the automaton: the ground the scores stand on."""

from __future__ import annotations

import unicodedata

import pytest

from syndicator.errors import TaggingError
from syndicator.tagging.langdetect import latin_language, script_language
from syndicator.tagging.matcher import Matcher, compile_term
from syndicator.tagging.normalize import _general, normalize


def _found(terms: list[str], text: str) -> list[str]:
    norm = normalize(text)
    return [norm[s:e] for _, s, e in Matcher(terms).scan(norm)]


def test_normalize_folds_case_accents_dashes_and_quotes() -> None:
    # quotes and apostrophes become spaces, one for one, so offsets are kept
    assert normalize("Tráfico—de «DROGAS» l’État") == "trafico de  drogas  l etat"
    assert normalize("(UNODC) 'drug' /cartel/") == " unodc   drug   cartel "
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


@pytest.mark.parametrize(
    "text",
    [
        "".join(chr(c) for c in range(32, 256)),  # every printable Latin-1 character
        "Straße, MÜNCHEN – «Kokain» für 5 µg; ½ Tonne…\r\nzweite  Zeile \n dritte",
        "Tráfico de drogas: “operación” — 12 detenidos en A Coruña… ¿Quién? ¡Ya!",
        "Žáková und Łódź: Przemyt narkotyków, ‘ćwiczenia’",
        "Торгівля людьми: її жертви — «ёлочный» ущерб",
    ],
)
def test_fast_paths_agree_with_the_general_path(text: str) -> None:
    assert normalize(text) == _general(normalize_breaks(text), cyrillic=False)
    assert normalize(text, cyrillic=True) == _general(normalize_breaks(text), cyrillic=True)


def normalize_breaks(text: str) -> str:
    """What ``normalize`` does to line breaks before folding (both paths share it)."""
    from syndicator.tagging.normalize import _join_wrapped_lines

    return _join_wrapped_lines(text) if "\n" in text else text


def test_every_word_follows_a_space_after_normalisation() -> None:
    assert normalize("(UNODC)/«drugs» 'cartel' #terror") == " unodc   drugs   cartel   terror"


@pytest.mark.parametrize(
    "text",
    ["Tráfico de drogas en Málaga", "Торгівля людьми: її жертви, йод", "Straße İstanbul Ærø"],
)
def test_decomposed_text_normalises_like_composed_text(text: str) -> None:
    """Publishers send NFD text too (a letter, then its accent): the marks must vanish."""
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    for cyrillic in (False, True):
        assert normalize(decomposed, cyrillic) == normalize(text, cyrillic)


def test_function_word_counts_do_not_spill_into_another_language() -> None:
    # 256 hits of the one-letter Polish "w" would overflow an 8-bit counter
    assert latin_language(" w" * 256) == "pl"
    assert latin_language("") is None
    assert latin_language("the") is None  # one hit is not enough


def test_polish_letters_are_recognised_in_capitals_too() -> None:
    assert script_language("ŁÓDŹ: ŚLĄSKA POLICJA ZATRZYMAŁA GANG") == "pl"
    assert script_language("Łódź: śląska policja zatrzymała gang") == "pl"
    assert script_language("Málaga: la policía detuvo a la banda") is None
