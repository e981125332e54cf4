"""Cheap language identification for the languages the vocabulary knows.

A general identifier (py3langid) costs milliseconds per release, more than the
whole tagging budget, and we only need to pick which vocabulary applies. Script
decides Cyrillic against Latin; letters only Ukrainian or only Russian use decide
between those two; function words decide among the Latin-script languages. When
nothing is conclusive the answer is ``None`` and every language's terms apply.
"""

from __future__ import annotations

_SAMPLE = 360
_UK_ONLY = "іїєґ"
_RU_ONLY = "ыэъё"
_CYRILLIC_COMMON = "оае"
_LATIN_COMMON = "eao"

_FUNCTION_WORDS = {
    "en": "the of and to in is was were for that with from has have are said by on at an be "
    "will this which their been it its",
    "fr": "le la les des du et est une un dans pour sur qui avec au aux par ont été ce cette ces "
    "sont pas plus leur il elle selon d'un d'une l'",
    "es": "el la los las del y que por con una un para fue ha al su sus más como es se según "
    "entre este esta",
    "de": "der die das und ist den dem mit von zu auf für im des bei nach wird wurde wurden sich "
    "nicht auch ein eine einer eines über",
    "it": "il della che di per sono gli nel alla delle",
    "pt": "os da do em não uma são pelo pela foi",
    "nl": "het een van niet zijn werd ook naar",
    "da": "og af til er det som på har blev ikke",
}
_LANG_BITS = {lang: 1 << (8 * i) for i, lang in enumerate(_FUNCTION_WORDS)}
_WORD_BITS: dict[str, int] = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _word in _words.split():
        _WORD_BITS[_word] = _WORD_BITS.get(_word, 0) + _LANG_BITS[_lang]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` among en, fr, es, de, ru, uk (and a few others), or None."""
    sample = text[:_SAMPLE].casefold()
    cyrillic = sum(sample.count(ch) for ch in _CYRILLIC_COMMON)
    latin = sum(sample.count(ch) for ch in _LATIN_COMMON)
    if cyrillic > latin:
        uk = sum(sample.count(ch) for ch in _UK_ONLY)
        ru = sum(sample.count(ch) for ch in _RU_ONLY)
        return "uk" if uk > ru else "ru"
    if latin == 0:
        return None
    # One packed counter: language i counts in bits 8i..8i+7 (a 500-character
    # sample has far fewer than 256 function words), so the loop does one add.
    packed = 0
    get = _WORD_BITS.get
    for word in sample.replace("'", "' ").split():
        packed += get(word, 0)
    best, best_count = None, 1
    for lang, bit in _LANG_BITS.items():
        count = (packed // bit) & 0xFF
        if count > best_count:
            best, best_count = lang, count
    return best
