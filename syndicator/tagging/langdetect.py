"""Cheap language identification for the languages the vocabulary knows.

A general identifier (py3langid) costs milliseconds per release, more than the
whole tagging budget, and we only need to pick which vocabulary applies. Two
steps, both on a prefix of the release only:

* script, on the raw text: an ASCII prefix is Latin at once; otherwise common
  Cyrillic letters against common Latin ones decide, and letters only Ukrainian
  (і ї є ґ) or only Russian (ы э ъ ё) use decide between those two; Polish,
  whose function words are short and shared, is recognised by its letters
  (ł with ą ę ś ż);
* function words, on the *normalised* prefix the tagger computes anyway
  (case-folded, accents stripped, apostrophes made spaces), so the words are
  listed here without accents ("mas", "fur", "nao"). Counting stays in C: a
  small Aho-Corasick automaton of " word " keys yields packed counters (each
  language owns sixteen bits of one integer) that ``sum`` adds, and the 16-bit
  lanes of the sum are the counts.

When nothing is conclusive the answer is ``None`` and every language's terms apply.
"""

from __future__ import annotations

import re
import sys
from operator import itemgetter

import ahocorasick

SAMPLE_CHARS = 300
"""How much of the start of a release is read: the title and about fifty words."""
_UK_ONLY = "іїєґІЇЄҐ"
_RU_ONLY = "ыэъёЫЭЪЁ"
_POLISH_ONLY = "łŁ"
_POLISH_MARKED = "łąęśżŁŚŻ"
_TURKISH_ONLY = "ığİĞ"
_ROMANIAN_ONLY = "șțăȘȚĂ"
_CZECH_ONLY = "řůěŘŮĚ"
_CARON = "čšžđČŠŽĐ"
"""Letters of Croatian (and Serbian, Bosnian, Slovene), shared with Czech and Slovak."""
_WEST_SLAVIC_ACUTE = "áéíóúýÁÉÍÓÚÝ"
"""Czech and Slovak use them, Croatian does not."""
_MARKED = re.compile(f"[{_TURKISH_ONLY}{_ROMANIAN_ONLY}{_CZECH_ONLY}{_CARON}]")
_CYRILLIC_COMMON = "оаеи"
_LATIN_COMMON = "eaoi"

# Frequent short words that are not also frequent in a neighbouring language
# (Spanish and Portuguese share "que", "por", "para", "como", "se": left out).
_FUNCTION_WORDS = {
    "en": "the of and to in is was were for that with from has have are said by on at an be "
    "will this which their been it its",
    "fr": "le les des du et est une dans pour sur qui avec au aux par ont ete ce cette ces "
    "sont pas plus leur elle selon d l qu",
    "es": "el los las del y una fue al su sus mas es segun han sobre tras tambien hasta "
    "donde",
    "de": "der die das und ist den dem mit von zu auf fur im des bei nach wird wurde wurden "
    "sich nicht auch ein eine einer eines uber",
    "it": "il della che di per sono gli nel alla delle dei degli anche dell nella stato "
    "stata questo questa nei dello ai dal dalla sul sulla loro essere",
    "pt": "os da do em nao uma sao pelo pela foi das dos ao na com tambem ate seu sua um ele "
    "ela seus suas pelos pelas nos nas apos",
    "nl": "het een van niet zijn werd ook naar voor met op bij door wordt worden deze dat",
    "pl": "w z sie nie ze jest przez od za po oraz jak ktore zostal zostali przy dla",
    "da": "og af til er det som pa har blev ikke",
    # languages without their own vocabulary: recognising them sends the release to
    # every language's terms instead of to a neighbour's
    "sv": "och att av till med inte om var vid eller sig ska efter detta",
    "ro": "cu pe care sunt fost din pentru unei acest aceasta sau prin dupa si unor unui "
    "potrivit intre iar ale catre fi",
    "cs": "pro jsou byl byla bylo ktery ktera ale jako podle",
    "hr": "su koji koja koje kao ili bio bila nakon prema iz",
    "tr": "bir bu ile icin olarak olan gibi daha cok sonra kadar ise ve veya ancak "
    "tarafindan uzere yapilan edildi",
    "hu": "az hogy nem egy meg volt mint pedig szerint utan csak ezt vagy",
}
_LANGS = tuple(_FUNCTION_WORDS)
_LANE_BITS = 16
"""Bits of one language's counter: more than the hits a sample can hold (see below)."""
_LANG_BITS = {lang: 1 << (_LANE_BITS * i) for i, lang in enumerate(_LANGS)}
_WORD_BITS: dict[str, int] = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _word in _words.split():
        _WORD_BITS[_word] = _WORD_BITS.get(_word, 0) + _LANG_BITS[_lang]
_WORDS = ahocorasick.Automaton()
for _word, _bits in _WORD_BITS.items():
    _WORDS.add_word(f" {_word} ", _bits)  # spaces: whole words only, no boundary checks
_WORDS.make_automaton()
_VALUE = itemgetter(1)
_COUNT_BYTES = len(_LANGS) * _LANE_BITS // 8


def script_language(sample: str) -> str | None:
    """``"ru"`` or ``"uk"`` when ``sample`` (raw text) is mostly Cyrillic, ``"pl"`` when
    it has Polish letters, ``"tr"``, ``"ro"``, ``"cs"`` or ``"hr"`` when it has theirs,
    else None (then :func:`latin_language` decides)."""
    if sample.isascii():
        return None
    count = sample.count  # counted in C: map and sum need no Python frame per letter
    cyrillic = sum(map(count, _CYRILLIC_COMMON))
    latin = sum(map(count, _LATIN_COMMON))
    if cyrillic <= latin:
        polish = any(map(sample.__contains__, _POLISH_ONLY))
        if polish and sum(map(count, _POLISH_MARKED)) >= 3:
            return "pl"
        return _marked_latin(sample)
    uk = sum(map(count, _UK_ONLY))
    ru = sum(map(count, _RU_ONLY))
    return "uk" if uk > ru else "ru"


def _marked_latin(sample: str) -> str | None:
    """Turkish, Romanian, Czech or Croatian when ``sample`` has enough of their own letters.

    These letters (ı ğ ş, ș ț ă, ř ů ě, č š ž đ) occur in none of the languages with a
    full vocabulary, whose function words would otherwise claim the release ("de", "za",
    "in" are everywhere) and hide its terms from the other languages' automaton. Three
    letters at least, so that a foreign name ("Erdoğan", "Dončić") in, say, an English
    release does not decide.
    """
    if _MARKED.search(sample) is None:  # the usual case: one pass in C
        return None
    count = sample.count
    if sum(map(count, _TURKISH_ONLY)) >= 3:
        return "tr"
    if sum(map(count, _ROMANIAN_ONLY)) >= 3:
        return "ro"
    czech = sum(map(count, _CZECH_ONLY))
    caron = sum(map(count, _CARON))
    if czech + caron >= 3:
        if czech:
            return "cs"
        if not any(map(sample.__contains__, _WEST_SLAVIC_ACUTE)):
            return "hr"
    return None


def latin_language(normalised: str) -> str | None:
    """The language whose function words are most frequent in ``normalised`` (two at least)."""
    # At most 2 × SAMPLE_CHARS are read, and a hit takes two characters at least
    # (" w w w " holds a hit every two): far fewer hits than a 16-bit lane holds, so no
    # count spills into its neighbour's.
    packed: int = sum(map(_VALUE, _WORDS.iter(f" {normalised[: 2 * SAMPLE_CHARS]} ")))
    if not packed:
        return None
    counts = memoryview(packed.to_bytes(_COUNT_BYTES, sys.byteorder)).cast("H").tolist()
    most = max(counts)
    # index() gives the first language on a tie
    return _LANGS[counts.index(most)] if most > 1 else None
