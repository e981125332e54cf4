"""Teasers: the first real sentences of an item, never its dateline (issue 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.collect.items import make_item
from syndicator.collect.releases import read_release
from syndicator.teaser import first_sentences, strip_dateline, teaser
from syndicator.written_dates import find_date

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "releases"


def sample_teasers() -> dict[str, str]:
    """Each sample file's teaser, from its summary and content as collection stores them."""
    out = {}
    for path in sorted(SAMPLES.iterdir()):
        release = read_release(path.name, path.read_bytes())
        item = make_item(
            source_id="samples", identity=path.name, title=release.title,
            paragraphs=release.paragraphs,
        )
        out[path.name] = teaser(item.summary, item.content)
    return out


def test_no_sample_teaser_is_or_opens_with_a_dateline() -> None:
    teasers = sample_teasers()
    assert len(teasers) == 18
    for name, text in teasers.items():
        assert len(text) > 200, name  # real sentences, not "24 February 2026"
        assert find_date(text[:40]) is None, (name, text[:60])
        assert text.endswith("."), (name, text[-40:])  # whole sentences


@pytest.mark.parametrize(
    ("name", "opening"),
    [
        # a dateline paragraph of its own, then the place in the next paragraph
        ("2026-02-24-countering-terrorist-financing-virtual-assets-workshop.md",
         "Analysts from the financial intelligence units"),
        ("2024-12-09-anti-corruption-day-youth-integrity-tirana.md",
         "On International Anti-Corruption Day"),
        # a date and a place as a paragraph of its own, in Spanish and in English
        ("2025-10-08-incautacion-cocaina-precursores-callao.html",
         "La unidad de control portuario del Callao"),
        ("2024-06-26-container-control-cocaine-seizure-guayaquil.html",
         "A joint port control unit"),
        # a label, a date and a place on one short line
        ("2025-11-13-osce-media-freedom-journalist-safety-statement.html",
         "The OSCE Representative on Freedom of the Media"),
        # place, date, dash, text (French); date, dash, place, dash, text
        ("2025-06-04-formation-enqueteurs-traite-des-personnes-abidjan.md",
         "Trente-deux officiers de police judiciaire"),
        ("2025-04-15-scam-compounds-trafficking-forced-criminality.eml",
         "Police, prosecutors, labour ministries"),
        ("2024-03-12-osce-unodc-border-officers-synthetic-drugs.txt",
         "Twenty-four border guards"),
        ("undated-osce-criminal-intelligence-analysis-course.txt", "Crime analysts"),
    ],
)
def test_sample_teaser_opens_with_the_first_real_sentence(name: str, opening: str) -> None:
    assert sample_teasers()[name].startswith(opening)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("VIENNA, 3 March (UNODC) – The Office said so.", "The Office said so."),
        ("Lima, 8 de octubre de 2025.- La policía incautó cocaína.", "La policía incautó cocaína."),
        ("Wien, 3. März 2026 – Die Polizei hat ermittelt.", "Die Polizei hat ermittelt."),
        ("16 ноября 2018 года – Полиция задержала.", "Полиция задержала."),
        ("November 16, 2018 — Police arrested two men.", "Police arrested two men."),
        ("2024-03-12 | Police arrested two men.", "Police arrested two men."),
        ("Port-au-Prince, 3 March 2026 – Police arrested.", "Police arrested."),
        ("24 February 2026, Vienna – The OSCE met.", "The OSCE met."),
        ("Monday, 12 March 2024 – Police arrested.", "Police arrested."),
        # a date that opens a sentence is no dateline
        ("12 March 2024 was a day of arrests.", "12 March 2024 was a day of arrests."),
        ("On 12 March 2024, police arrested three men.",
         "On 12 March 2024, police arrested three men."),
        # "The OSCE - which …" is not a place: the dash is followed by no new sentence
        ("12 May 2024 - The OSCE - which is large - met.", "The OSCE - which is large - met."),
        ("9 December 2024\n\nThe OSCE – which is large – met.", "The OSCE – which is large – met."),
        # nothing but a dateline: nothing to show
        ("24 February 2026", ""),
        ("8 de octubre de 2025 – Lima, Perú", ""),
    ],
)
def test_odd_datelines(text: str, expected: str) -> None:
    assert teaser(text) == expected


def test_a_dateline_summary_gives_way_to_the_content() -> None:
    content = "24 February 2026\n\nBishkek – Analysts met in Bishkek."
    assert teaser("24 February 2026", content) == "Analysts met in Bishkek."
    assert teaser("A real summary.", content) == "A real summary."
    assert teaser("", "") == ""


def test_strip_dateline_keeps_the_other_paragraphs() -> None:
    parts = ("26 June 2024 – Guayaquil, Ecuador", "A unit seized cocaine.", "More.")
    assert strip_dateline(parts) == ("A unit seized cocaine.", "More.")
    assert strip_dateline(("Plain text.",)) == ("Plain text.",)
    assert strip_dateline(()) == ()


def test_first_sentences_cut_at_a_sentence_end_not_an_abbreviation() -> None:
    text = "Mr. Smith met Dr. Jones in the U.S. on Monday. " * 12
    cut = first_sentences(text, 200)
    assert cut.endswith("on Monday.")
    assert len(cut) <= 200
    assert first_sentences("Short.", 200) == "Short."
    # One sentence longer than the limit: cut at a word, with an ellipsis.
    long = first_sentences("word " * 100, 50)
    assert long.endswith("…")
    assert len(long) <= 50
