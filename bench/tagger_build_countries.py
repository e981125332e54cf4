"""Regenerate ``syndicator/tagging/countries.yaml`` from pycountry's ISO 3166 names.

Run by hand (``.venv/bin/python bench/tagger_build_countries.py``) when the set of
languages changes; the tagger itself never imports pycountry, it reads the YAML
file this script writes. Names with a comma ("Moldova, Republic of") keep their
head; a short hand list adds the everyday names ISO omits (Russia, Britain, ...).
Names that two countries share (e.g. "Korea") are dropped as ambiguous.
"""

from __future__ import annotations

import gettext
from collections import defaultdict
from pathlib import Path

import pycountry
import yaml

LANGS = ("en", "ru", "uk", "fr", "es", "de", "it", "pt", "pl", "nl")
OUT = Path(__file__).resolve().parents[1] / "syndicator" / "tagging" / "countries.yaml"

EXTRA: dict[str, dict[str, list[str]]] = {
    "RU": {
        "en": ["Russia"],
        "ru": ["Россия", "РФ"],
        "uk": ["Росія", "РФ"],
        "fr": ["Russie"],
        "es": ["Rusia"],
        "de": ["Russland"],
    },
    "GB": {
        "en": ["UK", "Britain", "Great Britain", "England", "Scotland", "Wales"],
        "ru": ["Великобритания", "Британия"],
        "uk": ["Британія"],
        "fr": ["Grande-Bretagne", "Angleterre"],
        "es": ["Gran Bretaña", "Inglaterra"],
        "de": ["Großbritannien", "England"],
    },
    "US": {
        "en": ["USA", "United States of America", "U.S."],
        "ru": ["США", "Соединённые Штаты"],
        "fr": ["USA"],
        "es": ["EE. UU.", "EEUU", "EE.UU."],
        "de": ["USA"],
    },
    "MD": {
        "en": ["Moldova"],
        "ru": ["Молдова", "Молдавия"],
        "uk": ["Молдова"],
        "fr": ["Moldova", "Moldavie"],
        "es": ["Moldavia"],
        "de": ["Moldau", "Moldawien"],
    },
    "BY": {
        "en": ["Belarus"],
        "ru": ["Белоруссия", "Беларусь"],
        "uk": ["Білорусь"],
        "fr": ["Biélorussie"],
        "de": ["Weißrussland"],
    },
    "KR": {"en": ["South Korea", "Republic of Korea"]},
    "KP": {"en": ["North Korea", "DPRK"], "ru": ["КНДР", "Северная Корея"]},
    "IR": {"en": ["Iran"]},
    "SY": {"en": ["Syria"], "ru": ["Сирия"], "fr": ["Syrie"], "es": ["Siria"], "de": ["Syrien"]},
    "VE": {"en": ["Venezuela"]},
    "BO": {"en": ["Bolivia"]},
    "TZ": {"en": ["Tanzania"]},
    "VN": {"en": ["Vietnam"]},
    "LA": {"en": ["Laos"]},
    "CZ": {"en": ["Czech Republic", "Czechia"]},
    "TR": {"en": ["Turkey", "Türkiye"], "de": ["Türkiye"], "fr": ["Türkiye"], "es": ["Türkiye"]},
    "NL": {
        "en": ["the Netherlands", "Holland"],
        "fr": ["Pays-Bas"],
        "es": ["Países Bajos"],
        "de": ["Niederlande"],
    },
    "XK": {
        "en": ["Kosovo"],
        "ru": ["Косово"],
        "uk": ["Косово"],
        "fr": ["Kosovo"],
        "es": ["Kosovo"],
        "de": ["Kosovo"],
    },
    "PS": {"en": ["Palestine", "Gaza", "West Bank"]},
    "CD": {"en": ["DR Congo", "Democratic Republic of the Congo", "DRC"]},
    "AF": {"en": ["Afghanistan"]},
    "MK": {"en": ["North Macedonia"]},
    "CI": {"en": ["Ivory Coast", "Côte d'Ivoire"]},
}


# Demonyms ("Colombian police" → CO), as patterns: "~" allows the plural and case
# endings (colombianos, kolumbijskiej). Ambiguous ones are left out on purpose:
# American (Latin American), Indian (Indian Ocean), Congolese, Korean, Guinean.
# Adjectives in -ish, -ese, -ch and -ss take no "~" ("polish~" would match "polished").
_EN_DEMONYMS = {
    "AF": "afghan~",
    "AL": "albanian~",
    "DZ": "algerian~",
    "AR": "argentin~",
    "AM": "armenian~",
    "AU": "australian~",
    "AT": "austrian~",
    "AZ": "azerbaijani~",
    "BD": "bangladeshi~",
    "BY": "belarusian~",
    "BE": "belgian~",
    "BO": "bolivian~",
    "BA": "bosnian~",
    "BR": "brazilian~",
    "GB": "british",
    "BG": "bulgarian~",
    "MM": "burmese",
    "KH": "cambodian~",
    "CM": "cameroonian~",
    "CA": "canadian~",
    "CL": "chilean~",
    "CN": "chinese",
    "CO": "colombian~",
    "CR": "costa rican~",
    "HR": "croatian~",
    "CU": "cuban~",
    "CZ": "czech",
    "DK": "danish",
    "DO": "dominican~",
    "NL": "dutch",
    "EC": "ecuadorian~",
    "EG": "egyptian~",
    "AE": "emirati~",
    "ER": "eritrean~",
    "EE": "estonian~",
    "ET": "ethiopian~",
    "PH": "filipino~",
    "FI": "finnish",
    "FR": "french",
    "GE": "georgian~",
    "DE": "german~",
    "GH": "ghanaian~",
    "GR": "greek~",
    "GT": "guatemalan~",
    "HT": "haitian~",
    "HN": "honduran~",
    "HU": "hungarian~",
    "ID": "indonesian~",
    "IR": "iranian~",
    "IQ": "iraqi~",
    "IE": "irish",
    "IL": "israeli~",
    "IT": "italian~",
    "JM": "jamaican~",
    "JP": "japanese",
    "JO": "jordanian~",
    "KZ": "kazakh~",
    "KE": "kenyan~",
    "XK": "kosovar~",
    "KG": "kyrgyz",
    "LV": "latvian~",
    "LB": "lebanese",
    "LY": "libyan~",
    "LT": "lithuanian~",
    "MY": "malaysian~",
    "ML": "malian~",
    "MX": "mexican~",
    "MD": "moldovan~",
    "MN": "mongolian~",
    "ME": "montenegrin~",
    "MA": "moroccan~",
    "MZ": "mozambican~",
    "NP": "nepalese",
    "NI": "nicaraguan~",
    "NG": "nigerian~",
    "NE": "nigerien~",
    "NO": "norwegian~",
    "PK": "pakistani~",
    "PS": "palestinian~",
    "PA": "panamanian~",
    "PY": "paraguayan~",
    "PE": "peruvian~",
    "PL": "polish",
    "PT": "portuguese",
    "RO": "romanian~",
    "RU": "russian~",
    "SV": "salvadoran~",
    "SA": "saudi~",
    "SN": "senegalese",
    "RS": "serbian~",
    "SK": "slovak~",
    "SI": "slovenian~",
    "SO": "somali~",
    "ZA": "south african~",
    "ES": "spanish",
    "LK": "sri lankan~",
    "SD": "sudanese",
    "SS": "south sudanese",
    "SE": "swedish",
    "CH": "swiss",
    "SY": "syrian~",
    "TJ": "tajik~",
    "TZ": "tanzanian~",
    "TH": "thai",
    "TN": "tunisian~",
    "TR": "turkish",
    "TM": "turkmen~",
    "UG": "ugandan~",
    "UA": "ukrainian~",
    "UY": "uruguayan~",
    "UZ": "uzbek~",
    "VE": "venezuelan~",
    "VN": "vietnamese",
    "YE": "yemeni~",
    "ZW": "zimbabwean~",
}
# The countries most named in releases, in the other languages (adjective stems).
_DEMONYMS: dict[str, dict[str, list[str]]] = {
    "CO": {
        "es": ["colombian~"],
        "fr": ["colombien~"],
        "de": ["kolumbianisch~", "kolumbianer~"],
        "it": ["colombian~"],
        "pt": ["colombian~"],
        "pl": ["kolumbijsk~"],
        "nl": ["colombiaans~"],
        "ru": ["колумбийск~"],
        "uk": ["колумбійськ~"],
    },
    "MX": {
        "es": ["mexican~"],
        "fr": ["mexicain~"],
        "de": ["mexikanisch~"],
        "it": ["messican~"],
        "pt": ["mexican~"],
        "pl": ["meksykańsk~"],
        "nl": ["mexicaans~"],
        "ru": ["мексиканск~"],
        "uk": ["мексиканськ~"],
    },
    "BR": {
        "es": ["brasileñ~"],
        "fr": ["brésilien~"],
        "de": ["brasilianisch~"],
        "it": ["brasilian~"],
        "pt": ["brasileir~"],
        "pl": ["brazylijsk~"],
        "nl": ["braziliaans~"],
        "ru": ["бразильск~"],
        "uk": ["бразильськ~"],
    },
    "PE": {
        "es": ["peruan~"],
        "fr": ["péruvien~"],
        "de": ["peruanisch~"],
        "it": ["peruvian~"],
        "pt": ["peruan~"],
        "pl": ["peruwiańsk~"],
        "nl": ["peruaans~"],
    },
    "EC": {
        "es": ["ecuatorian~"],
        "fr": ["équatorien~"],
        "de": ["ecuadorianisch~"],
        "it": ["ecuadorian~"],
        "pt": ["equatorian~"],
        "nl": ["ecuadoraans~"],
    },
    "VE": {
        "es": ["venezolan~"],
        "fr": ["vénézuélien~"],
        "de": ["venezolanisch~"],
        "it": ["venezuelan~"],
        "pt": ["venezuelan~"],
        "nl": ["venezolaans~"],
    },
    "BO": {
        "es": ["bolivian~"],
        "fr": ["bolivien~"],
        "de": ["bolivianisch~"],
        "it": ["bolivian~"],
        "pt": ["bolivian~"],
    },
    "AR": {
        "es": ["argentin~"],
        "fr": ["argentin~"],
        "de": ["argentinisch~"],
        "it": ["argentin~"],
        "pt": ["argentin~"],
        "pl": ["argentyńsk~"],
    },
    "ES": {
        "es": ["español~", "española~"],
        "fr": ["espagnol~"],
        "de": ["spanisch~"],
        "it": ["spagnol~"],
        "pt": ["espanhol~"],
        "pl": ["hiszpańsk~"],
        "nl": ["spaans~"],
        "ru": ["испанск~"],
        "uk": ["іспанськ~"],
    },
    "FR": {
        "es": ["frances~"],
        "fr": ["français~", "française~"],
        "de": ["französisch~"],
        "it": ["francese", "francesi"],
        "pt": ["frances~"],
        "pl": ["francusk~"],
        "nl": ["frans~"],
        "ru": ["французск~"],
        "uk": ["французьк~"],
    },
    "DE": {
        "es": ["alemán", "aleman~"],
        "fr": ["allemand~"],
        "de": ["deutsch~"],
        "it": ["tedesc~"],
        "pt": ["alemã", "alemão", "alemães"],
        "pl": ["niemieck~"],
        "nl": ["duits~"],
        "ru": ["германск~", "немецк~"],
        "uk": ["німецьк~"],
    },
    "IT": {
        "es": ["italian~"],
        "fr": ["italien~"],
        "de": ["italienisch~"],
        "it": ["italian~"],
        "pt": ["italian~"],
        "pl": ["włosk~"],
        "nl": ["italiaans~"],
        "ru": ["итальянск~"],
        "uk": ["італійськ~"],
    },
    "NL": {
        "es": ["neerlandes~", "holandes~"],
        "fr": ["néerlandais~"],
        "de": ["niederländisch~"],
        "it": ["olandes~"],
        "pt": ["holandes~"],
        "pl": ["holendersk~"],
        "nl": ["nederlands~"],
        "ru": ["нидерландск~"],
        "uk": ["нідерландськ~"],
    },
    "BE": {
        "es": ["belga~"],
        "fr": ["belge~"],
        "de": ["belgisch~"],
        "it": ["belga", "belgi"],
        "pt": ["belga~"],
        "pl": ["belgijsk~"],
        "nl": ["belgisch~"],
    },
    "PT": {
        "es": ["portugues~"],
        "fr": ["portugais~"],
        "de": ["portugiesisch~"],
        "it": ["portoghes~"],
        "pt": ["portugues~"],
        "pl": ["portugalsk~"],
        "nl": ["portugees~"],
    },
    "PL": {
        "es": ["polac~"],
        "fr": ["polonais~"],
        "de": ["polnisch~"],
        "it": ["polacc~"],
        "pt": ["polonês", "polonesa~"],
        "pl": ["polsk~"],
        "nl": ["pools~"],
        "ru": ["польск~"],
        "uk": ["польськ~"],
    },
    "UA": {
        "es": ["ucranian~"],
        "fr": ["ukrainien~"],
        "de": ["ukrainisch~"],
        "it": ["ucrain~"],
        "pt": ["ucranian~"],
        "pl": ["ukraińsk~"],
        "nl": ["oekraïens~"],
        "ru": ["украинск~"],
        "uk": ["українськ~"],
    },
    "RU": {
        "es": ["rus~"],
        "fr": ["russe~"],
        "de": ["russisch~"],
        "it": ["russ~"],
        "pt": ["russ~"],
        "pl": ["rosyjsk~"],
        "nl": ["russisch~"],
        "ru": ["российск~"],
        "uk": ["російськ~"],
    },
    "BY": {"ru": ["белорусск~"], "uk": ["білоруськ~"], "pl": ["białorusk~"]},
    "MD": {"ru": ["молдавск~", "молдовск~"], "uk": ["молдовськ~"], "fr": ["moldave~"]},
    "GB": {
        "es": ["británic~"],
        "fr": ["britannique~"],
        "de": ["britisch~"],
        "it": ["britannic~"],
        "pt": ["britânic~"],
        "pl": ["brytyjsk~"],
        "nl": ["brits~"],
        "ru": ["британск~"],
        "uk": ["британськ~"],
    },
    "CN": {
        "es": ["chin~"],
        "fr": ["chinois~"],
        "de": ["chinesisch~"],
        "it": ["cines~"],
        "pt": ["chines~"],
        "pl": ["chińsk~"],
        "nl": ["chinees", "chinese"],
        "ru": ["китайск~"],
        "uk": ["китайськ~"],
    },
    "TR": {
        "es": ["turc~"],
        "fr": ["turc", "turque~", "turcs"],
        "de": ["türkisch~"],
        "it": ["turc~"],
        "pt": ["turc~"],
        "pl": ["tureck~"],
        "nl": ["turks~"],
        "ru": ["турецк~"],
        "uk": ["турецьк~"],
    },
    "MA": {
        "es": ["marroqu~"],
        "fr": ["marocain~"],
        "de": ["marokkanisch~"],
        "it": ["marocchin~"],
        "pt": ["marroquin~"],
        "nl": ["marokkaans~"],
    },
    "AL": {
        "es": ["albanes~"],
        "fr": ["albanais~"],
        "de": ["albanisch~"],
        "it": ["albanes~"],
        "pt": ["albanes~"],
        "pl": ["albańsk~"],
        "nl": ["albanees", "albanese"],
    },
    "NG": {
        "es": ["nigerian~"],
        "fr": ["nigérian~"],
        "de": ["nigerianisch~"],
        "it": ["nigerian~"],
        "pt": ["nigerian~"],
        "nl": ["nigeriaans~"],
    },
    "AF": {
        "es": ["afgan~"],
        "fr": ["afghan~"],
        "de": ["afghanisch~"],
        "it": ["afghan~"],
        "pt": ["afegã~", "afegão", "afegãos"],
        "ru": ["афганск~"],
        "uk": ["афганськ~"],
    },
    "SY": {
        "es": ["siri~"],
        "fr": ["syrien~"],
        "de": ["syrisch~"],
        "it": ["sirian~"],
        "pt": ["síri~"],
        "ru": ["сирийск~"],
        "uk": ["сирійськ~"],
    },
    "KZ": {"ru": ["казахстанск~"], "uk": ["казахстанськ~"]},
    # not fr "américain" nor nl "Amerikaans": "latino-américain" is two words once normalised
    "US": {
        "es": ["estadounidense~"],
        "de": ["amerikanisch~", "us"],
        "it": ["statunitens~"],
        "pt": ["norte americano~", "estadunidense~"],
        "pl": ["amerykańsk~"],
        "ru": ["американск~"],
        "uk": ["американськ~"],
    },
}


def demonyms() -> dict[str, dict[str, list[str]]]:
    """Demonym patterns by country code and language."""
    out: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for code, stem in _EN_DEMONYMS.items():
        out[code]["en"] = [stem]
    for code, per_lang in _DEMONYMS.items():
        out[code].update(per_lang)
    return {code: out[code] for code in sorted(out)}


def _heads(name: str) -> list[str]:
    head = name.split(",")[0].strip()
    return [head] if head else []


def build() -> dict[str, dict[str, list[str]]]:
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for lang in LANGS:
        tr = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True
        )
        for country in pycountry.countries:
            for attr in ("name", "common_name"):
                value = getattr(country, attr, None)
                if value:
                    for head in _heads(tr.gettext(value) if lang != "en" else value):
                        names[country.alpha_2][lang].add(head)
    for code, per_lang in EXTRA.items():
        for lang, extra in per_lang.items():
            names[code][lang].update(extra)
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for code, per_lang in names.items():
        for lang, values in per_lang.items():
            for value in values:
                owners[(lang, value.casefold())].add(code)
    out: dict[str, dict[str, list[str]]] = {}
    for code in sorted(names):
        out[code] = {
            lang: sorted(v for v in names[code][lang] if len(owners[(lang, v.casefold())]) == 1)
            for lang in LANGS
            if names[code][lang]
        }
    return out


def main() -> None:
    header = (
        "# Country names per language, by ISO 3166-1 alpha-2 code.\n"
        "# Generated by bench/tagger_build_countries.py from pycountry;\n"
        "# edit EXTRA there, not here.\n"
        "# Russian, Ukrainian and Polish names are matched with their case endings\n"
        '# (see docs/tagging.md). Demonyms are patterns ("~": endings), matched as written.\n'
    )
    body = yaml.safe_dump(
        {"countries": build(), "demonyms": demonyms()},
        allow_unicode=True,
        sort_keys=False,
        width=200,
    )
    OUT.write_text(header + body, encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
