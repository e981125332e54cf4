"""The shortcuts taken for speed give what the plain definitions give."""

from __future__ import annotations

import pytest

from syndicator.tagging.langdetect import latin_language
from syndicator.tagging.matcher import Matcher
from syndicator.tagging.normalize import _general, normalize
from syndicator.tagging.scoring import _STOPS, _Sentences


@pytest.mark.parametrize(
    "text",
    [
        "Plain ASCII (UNODC) / 'quoted' #tag - dash\tTab",
        "Łódź, Kraków i Gdańsk: ½ tony kokainy",  # a wide letter, then a sign the table lacks
        "Përmet ⅓ İstanbul ş ğ ı",  # a sign outside Latin-1 that no letter table folds
        "Zločin: řízení, ústí, šťáva, đak",
    ],
)
def test_normalize_shortcuts_agree_with_the_general_path(text: str) -> None:
    assert normalize(text) == _general(text, cyrillic=False)


def test_sentence_numbers_agree_with_searching_between_matches() -> None:
    text = "title . first sentence! second one? third. fourth: more.. end. x"
    starts = [i for i in range(len(text)) if text[i] != " " and (i == 0 or text[i - 1] == " ")]
    number = _Sentences(text, ()).number()
    for low in starts:
        for high in starts:
            if low <= high:
                found = any(text.find(mark, low, high) != -1 for mark in _STOPS)
                assert (number(low) != number(high)) == found, (low, high)


def test_sentences_index_action_words_by_sentence() -> None:
    text = "arrested the group. nothing here. charged and seized the network"
    cues = [(0, frozenset({1})), (34, frozenset({2})), (46, frozenset({3}))]
    sentences = _Sentences(text, cues)
    number = sentences.number()
    assert sentences.first_cue(number(5)) == 0
    assert sentences.first_cue(number(22)) == -1
    assert sentences.cue_topics(number(60)) == frozenset({2, 3})


def test_spans_report_literal_and_wildcard_terms_at_the_text_edges() -> None:
    matcher = Matcher(["cartel", "traffick*", "drug~", "cartel"])
    text = "traffickers drugs cartel"
    found = sorted((start, -neg_end, index) for start, neg_end, index in matcher.spans(text))
    assert found == [(0, 11, 1), (12, 17, 2), (18, 24, 0), (18, 24, 3)]
    assert matcher.spans("cartels") == []


def test_latin_language_takes_the_first_language_on_a_tie() -> None:
    assert latin_language("the of und der") == "en"
    assert latin_language("the") is None
