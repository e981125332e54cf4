"""The tagger's verdicts on short hand-written releases that pin the hard cases.

Every text here is written for the test (none is copied from ../shared), one or
two sentences in the style of a press release, in each supported language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from syndicator.config import TaxonomySettings
from syndicator.tagging import TAGGER_VERSION_PREFIX, Tagger
from syndicator.tagging.normalize import normalize

OC, TIP, DRUG, CORR, TERR = (
    "organized-crime",
    "trafficking-in-persons",
    "drug-trafficking",
    "corruption",
    "terrorism",
)

CASES = [
    # (id, lang, title, text, expected topics)
    ("en-laundering", "en", "Police dismantle money laundering network",
     "Investigators arrested 14 members of an organised crime group that laundered EUR 40 million "
     "through shell companies.", {OC}),
    ("en-wildlife", "en", "Wildlife trafficking networks hit in global operation",
     "Customs seized ivory and pangolin scales; wildlife traffickers were arrested in 20 countries.",
     {OC}),
    ("en-migrant-smuggling", "en", "Migrant smuggling ring broken up",
     "The people smugglers charged each migrant EUR 5,000 to cross the border.", {OC}),
    ("en-counterfeit-medicines", "en", "Operation targets fake online pharmacies",
     "Police seized counterfeit medicines and shut down illegal online pharmacies.", {OC}),
    ("en-fatf", "en", "FATF revises grey list of jurisdictions",
     "The Financial Action Task Force reviewed anti-money laundering and counter-terrorist "
     "financing regimes of several jurisdictions.", {OC, TERR}),
    ("en-seizure", "en", "Customs seize two tonnes of cocaine at the port",
     "The cocaine was hidden in a container of bananas, officials said.", {DRUG}),
    ("en-tip", "en", "Report on trafficking in persons released",
     "Victims of human trafficking are increasingly exploited in forced labour.", {TIP}),
    ("en-bribery", "en", "Company pays USD 30 million over foreign bribery",
     "The firm admitted paying bribes to officials to win contracts.", {CORR}),
    ("en-terror", "en", "Court convicts man of planning terrorist attack",
     "The defendant had pledged allegiance to ISIS and sought explosives.", {TERR}),
    ("en-drug-prices", "en", "Prescription drug prices rise again",
     "Drugmakers raised list prices; insurers warn about the cost of prescription drugs.", set()),
    ("en-memory-corruption", "en", "Vendor patches memory corruption flaw",
     "The vulnerability allows memory corruption and remote code execution; apply the patch.",
     set()),
    ("en-road-traffic", "en", "Road safety week urges drivers to slow down",
     "Police will check road traffic speeds near schools.", set()),
    ("en-horror", "en", "Review: the haunted house film that brings back terror",
     "The horror film builds terror slowly; a fine sequel to the franchise.", set()),
    ("en-fiction", "en", "Netflix releases first look at season 2 of its cartel drama",
     "The series follows drug traffickers and corrupt police in a fictional cartel; the trailer "
     "premieres next week, starring a new cast.", set()),
    ("en-opec", "en", "OPEC agrees output cut",
     "The oil cartel agreed to cut output by one million barrels a day to support crude prices.",
     set()),
    ("en-election", "en", "Observers present preliminary findings on parliamentary elections",
     "The mission noted respect for fundamental freedoms and media freedom.", set()),
    ("en-agenda", "en", "Security sector reform workshop held in Vienna",
     "Participants discussed institutional reform and oversight. The agenda also covered "
     "organized crime, trafficking in persons, illicit drugs, corruption and terrorism.", set()),
    ("en-title-vs-late", "en", "Regional conference on border management",
     "Officials discussed customs cooperation, training and equipment for border posts across the "
     "region, with sessions on risk analysis and data exchange. " * 12
     + "Corruption was mentioned once.", set()),
    ("en-cocaine-network", "en", "Eleven arrested as cocaine network is taken down",
     "Police in two countries dismantled the group, which imported cocaine in fruit containers.",
     {OC, DRUG}),
    ("ru-tip", "ru", "В ОБСЕ обсудили противодействие торговле людьми",
     "Эксперты отметили рост числа жертв торговли людьми и принудительного труда.", {TIP}),
    ("ru-drugs", "ru", "Изъято 150 кг героина",
     "Полиция пресекла канал незаконного оборота наркотиков, изъят героин.", {DRUG}),
    ("ru-election", "ru", "Наблюдатели оценили ход выборов",
     "Миссия представила предварительные выводы о парламентских выборах.", set()),
    ("uk-corruption", "uk", "НАБУ викрило схему корупції",
     "Детективи НАБУ повідомили про підозру посадовцям у отриманні хабара.", {CORR}),
    ("uk-terror", "uk", "СБУ запобігла теракту",
     "Затримано агента, який готував теракт; відкрито провадження за статтею про тероризм.",
     {TERR}),
    ("fr-tip", "fr", "Lutte contre la traite des êtres humains",
     "Les victimes de la traite sont soumises au travail forcé et à l'exploitation sexuelle.",
     {TIP}),
    ("fr-laundering", "fr", "Démantèlement d'un réseau criminel de blanchiment",
     "Le groupe criminel blanchissait l'argent de la drogue ; huit personnes ont été interpellées.",
     {OC}),
    ("es-drugs", "es", "Incautadas tres toneladas de cocaína",
     "La operación contra el narcotráfico terminó con la incautación de cocaína en el puerto.",
     {DRUG}),
    ("es-se-trata", "es", "Se trata de una nueva película de terror",
     "Se trata de la cinta más esperada del festival de cine fantástico.", set()),
    ("de-tip", "de", "Bundeslagebild Menschenhandel vorgestellt",
     "Die Zahl der Verfahren wegen Menschenhandels und Zwangsprostitution ist gestiegen.", {TIP}),
    ("de-drogerie", "de", "Drogeriemarkt steigert Umsatz",
     "Die Drogeriemarktkette wächst im Ausland und baut den Onlinehandel aus.", set()),
    # organised crime named in passing in a drug or trafficking release: not OC ...
    ("en-network-passing", "en", "Record heroin seizure at the border crossing",
     "Border guards found 300 kilograms of heroin in a lorry. Officials said criminal networks "
     "keep changing routes to move drugs into the region.", {DRUG}),
    # ... but OC when the network is acted on in the same sentence
    ("en-network-acted-on", "en", "Cocaine seized as smuggling route is exposed",
     "Police dismantled the criminal network behind the shipment and arrested nine members in "
     "two countries after seizing 500 kilograms of cocaine.", {DRUG, OC}),
    ("it-tip", "it", "Tratta di esseri umani, arrestati tre sfruttatori",
     "Le vittime erano costrette a lavorare nei campi in condizioni di sfruttamento lavorativo.",
     {TIP}),
    ("it-si-tratta", "it", "Nuovo ponte sul fiume",
     "Si tratta di un'opera attesa da anni per il traffico dei pendolari.", set()),
    ("pt-corruption", "pt", "Prefeito é preso por corrupção",
     "O prefeito é acusado de receber propina de empresas contratadas pela prefeitura.", {CORR}),
    ("pl-drugs", "pl", "Przemyt narkotyków udaremniony",
     "Funkcjonariusze przechwycili 40 kilogramów kokainy ukrytej w kontenerze z owocami.",
     {DRUG}),
    ("nl-terror", "nl", "Verdachte van terrorisme aangehouden",
     "De man zou een aanslag hebben voorbereid op een evenement in de stad.", {TERR}),
    ("en-homicide-study", "en", "Homicide study finds killings concentrated in cities",
     "The report on intentional homicide notes that organized crime accounts for a share of "
     "killings in some regions.", set()),
]


@pytest.mark.parametrize(
    ("lang", "title", "text", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hard_cases(
    tagger: Tagger, lang: str, title: str, text: str, expected: set[str]
) -> None:
    result = tagger.tag(title, text, lang=lang)
    assert set(result.topics) == expected, result.evidence


LONG_ENOUGH = [c for c in CASES if len(c[2]) + len(c[3]) >= 120]


@pytest.mark.parametrize(
    ("lang", "title", "text"), [c[1:4] for c in LONG_ENOUGH], ids=[c[0] for c in LONG_ENOUGH]
)
def test_language_is_detected_when_not_given(
    tagger: Tagger, lang: str, title: str, text: str
) -> None:
    assert tagger.tag(title, text).lang == lang


def test_every_chosen_topic_has_score_and_evidence(tagger: Tagger) -> None:
    result = tagger.tag(
        "Money laundering network dismantled",
        "Police arrested members of a criminal network that laundered drug money.",
    )
    assert "organized-crime" in result.topics
    for topic in result.topics:
        assert result.scores[topic] >= 4.0
        assert result.evidence[topic]
    assert any(line.startswith('title:"money laundering"') for line in result.evidence[OC])
    assert set(result.scores) >= set(result.topics)


def test_title_counts_more_than_late_body(tagger: Tagger) -> None:
    filler = "Delegates discussed training, equipment and cooperation. " * 40
    in_title = tagger.tag("Corruption in procurement", filler)
    late = tagger.tag("Regional meeting", filler + "Corruption in procurement.")
    assert in_title.scores[CORR] > 3 * late.scores[CORR]


def test_agenda_sentence_is_damped(tagger: Tagger) -> None:
    listed = tagger.tag(
        "Workshop", "The workshop covered terrorism, corruption, drug trafficking and human trafficking."
    )
    alone = tagger.tag("Workshop", "The workshop covered terrorism.")
    assert listed.scores[TERR] < alone.scores[TERR]
    assert any("agenda" in line for line in listed.evidence[TERR])


def test_wildlife_trafficking_is_not_trafficking_in_persons(tagger: Tagger) -> None:
    result = tagger.tag("Wildlife trafficking", "Wildlife trafficking and trafficking of wildlife.")
    assert TIP not in result.scores


def test_declared_topics_are_mapped_and_decisive(tagger: Tagger) -> None:
    result = tagger.tag(
        "Meeting in Minsk",
        "Experts met.",
        declared_topics=["UNODC on Corruption", "UNODC on Trafficking in Persons", "Unrelated"],
    )
    assert set(result.topics) == {CORR, TIP}
    assert result.evidence[CORR][0] == 'further-information:"UNODC on Corruption"'


def test_further_information_section_in_text(tagger: Tagger) -> None:
    text = (
        "Experts met in Vienna to exchange views.\n\nFurther information:\n\n"
        "UNODC on Organized Crime\n\nUNODC on Terrorism Prevention\n"
        "https://www.unodc.org/unodc/en/drug-trafficking/index.html\n"
    )
    result = tagger.tag("Expert meeting", text)
    assert set(result.topics) == {OC, TERR, DRUG}


def test_countries_in_several_languages(tagger: Tagger) -> None:
    ru = tagger.tag("Встреча в Минске", "Эксперты из Беларуси, Молдовы и Украины встретились.", "ru")
    assert set(ru.countries) == {"BY", "MD", "UA"}
    es = tagger.tag("Operación en Colombia", "Detenidos en España y México.", "es")
    assert es.countries[0] == "CO"
    assert set(es.countries) == {"CO", "ES", "MX"}
    de = tagger.tag("Zoll", "Kokain aus Ecuador im Hamburger Hafen, Ziel Deutschlands Süden.", "de")
    assert set(de.countries) == {"EC", "DE"}


def test_demonyms_name_countries_in_every_language(tagger: Tagger) -> None:
    en = tagger.tag("Colombian police seize cocaine", "Two Mexicans were arrested.", "en")
    assert set(en.countries) == {"CO", "MX"}
    es = tagger.tag("La policía colombiana", "Agentes de la Guardia Civil española.", "es")
    assert set(es.countries) == {"CO", "ES"}
    ru = tagger.tag("Задержание", "Колумбийские и российские полицейские.", "ru")
    assert set(ru.countries) == {"CO", "RU"}
    pl = tagger.tag("Zatrzymanie", "Obywatel Kolumbii zatrzymany w Hiszpanii.", "pl")
    assert set(pl.countries) == {"CO", "ES"}


def test_ambiguous_demonyms_are_not_countries(tagger: Tagger) -> None:
    assert tagger.tag("Latin American summit", "American officials attended.", "en").countries == ()
    assert tagger.tag("Sommet", "Un forum latino-américain.", "fr").countries == ()
    assert tagger.tag("Shoes", "They polished the shoes.", "en").countries == ()


def test_country_stems_do_not_fire_on_ordinary_words(tagger: Tagger) -> None:
    text = "Шахраї виманювали дані банківських карток у громадян Данії та Індії."
    assert set(tagger.tag("Кіберполіція", text, "uk").countries) == {"DK", "IN"}
    assert tagger.tag("Кіберполіція", "Шахраї виманювали дані карток.", "uk").countries == ()


def test_version_changes_with_configuration(
    make_settings: Callable[..., TaxonomySettings],
) -> None:
    base = Tagger.from_settings(make_settings())
    same = Tagger.from_settings(make_settings())
    changed = Tagger.from_settings(make_settings(threshold=5.0))
    assert base.version == same.version
    assert base.version != changed.version
    assert base.version.startswith(TAGGER_VERSION_PREFIX)


def test_tagging_is_repeatable_and_topic_ids_follow_settings(tagger: Tagger) -> None:
    assert tagger.topic_ids == (OC, TIP, DRUG, CORR, TERR)
    first = tagger.tag("Money laundering", "A criminal network laundered money.")
    assert tagger.tag("Money laundering", "A criminal network laundered money.") == first


OTHER_LANGUAGES = [
    ("ro", "Procurorii au destructurat un grup infracțional organizat",
     "Au fost reținute 12 persoane cercetate pentru trafic de droguri și spălarea banilor, "
     "care sunt acuzate că au adus cocaină din America de Sud.", {OC, DRUG}),
    ("sv", "Polisen slog till mot kriminellt nätverk",
     "Tio personer har gripits och misstänks för människohandel och tvångsarbete, och det är "
     "en av de största utredningarna under året enligt åklagaren.", {OC, TIP}),
    ("tr", "Yolsuzluk soruşturmasında gözaltı",
     "Belediye çalışanı olan iki kişi rüşvet aldıkları iddiasıyla gözaltına alındı ve bu "
     "yolsuzluk soruşturması daha sonra genişletildi.", {CORR}),
]


@pytest.mark.parametrize(
    ("lang", "title", "text", "expected"),
    OTHER_LANGUAGES,
    ids=[case[0] for case in OTHER_LANGUAGES],
)
def test_languages_without_vocabulary_use_every_language(
    tagger: Tagger, lang: str, title: str, text: str, expected: set[str]
) -> None:
    """Recognised but without its own vocabulary: all terms apply (including a few of its own)."""
    result = tagger.tag(title, text)
    assert result.lang == lang
    assert set(result.topics) == expected, result.evidence


EVIDENCE_QUOTE = re.compile(r'^(?:title|lead|body|late):"([^"]+)"')


def test_evidence_quotes_text_that_is_in_the_release(tagger: Tagger) -> None:
    """Every term line quotes what the scan matched, in the release's normalised text."""
    checked = 0
    for _, lang, title, text, _ in CASES:
        result = tagger.tag(title, text, lang=lang)
        haystack = f"{normalize(title)} . {normalize(text)}"
        for lines in result.evidence.values():
            for line in lines:
                quoted = EVIDENCE_QUOTE.match(line)
                if quoted is not None:
                    assert quoted.group(1) in haystack, line
                    checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    ("title", "text"), [("", ""), ("", "   "), ("Hi", ""), ("", "ok."), ("\n", "\r\n")]
)
def test_empty_and_tiny_releases_get_no_language_and_no_topics(
    tagger: Tagger, title: str, text: str
) -> None:
    result = tagger.tag(title, text)
    assert result.lang is None
    assert result.topics == ()
    assert result.scores == {}


def test_a_given_language_code_is_normalised(tagger: Tagger) -> None:
    assert tagger.tag("Corruption case", "Bribes were paid.", lang="EN").lang == "en"
    assert tagger.tag("Corruption case", "Bribes were paid.", lang="pt-BR").lang == "pt"


def test_one_tagger_shared_by_threads_gives_the_serial_answers(tagger: Tagger) -> None:
    """The worker tags in a thread: concurrent calls must not disturb each other."""
    jobs = [(title, text) for _, _, title, text, _ in CASES] * 8
    serial = [tagger.tag(title, text) for title, text in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda job: tagger.tag(*job), jobs))
    assert concurrent == serial


def test_case_sentence_naming_three_topics_is_not_an_agenda_list(tagger: Tagger) -> None:
    """An action word before the topic terms makes the sentence a case, not a mandate list."""
    text = (
        "The federal police launched an operation to dismantle a scheme of corruption in "
        "which officers took payments from a criminal organization linked to drug trafficking. "
        + "The investigation continues. " * 3
    )
    result = tagger.tag("Police officers arrested", text, lang="en")
    lines = [line for lines in result.evidence.values() for line in lines]
    assert not any("agenda" in line for line in lines)
    mandate = (
        "The office helps states against organized crime, corruption and drug trafficking. "
        + "The meeting ended. " * 3
    )
    result = tagger.tag("Annual meeting", mandate, lang="en")
    lines = [line for lines in result.evidence.values() for line in lines]
    assert any("agenda" in line for line in lines)


def test_migrant_smuggling_called_human_trafficking_is_organized_crime(tagger: Tagger) -> None:
    text = (
        "Police arrested twelve members of a network that moved migrants across the sea in "
        "inflatable boats, charging EUR 2 000 per person. They face charges of facilitating "
        "illegal immigration. Officials called it a blow against human trafficking."
    )
    result = tagger.tag("Human trafficking network dismantled", text, lang="en")
    assert result.topics == ("organized-crime",)
    assert any("context:smuggling" in line for line in result.evidence["trafficking-in-persons"])


@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        ("tr", "Limanda kokain ele geçirildi", "Gümrük ekipleri bir konteynerde 300 kilogram "
         "kokain ele geçirdi. Şüpheli konteyner X-ray cihazıyla tarandı ve soruşturma başlatıldı."),
        ("ro", "Droguri confiscate în port", "Polițiștii de frontieră au descoperit 200 de "
         "kilograme de cocaină într-un container. Procurorii au început urmărirea penală."),
        ("hr", "Zaplijenjen kokain u luci", "Policija je u luci pronašla 200 kilograma kokaina u "
         "kontejneru. Osumnjičeni vozač uhićen je i predan pritvorskom nadzorniku."),
        ("cs", "Celníci zadrželi kokain", "Celníci při kontrole kamionu našli 50 kilogramů "
         "kokainu ukrytého v nákladu ovoce. Řidič byl zadržen a věc převzala policie."),
    ],
)
def test_marked_latin_languages_are_detected(
    tagger: Tagger, lang: str, title: str, text: str
) -> None:
    """Their own letters keep them from a full-vocabulary neighbour's automaton."""
    result = tagger.tag(title, text)
    assert result.lang == lang
    assert "drug-trafficking" in result.topics


def test_foreign_name_does_not_decide_language(tagger: Tagger) -> None:
    text = "President Erdoğan met the minister to discuss the trade agreement and the economy."
    assert tagger.tag("Talks in Ankara", text).lang == "en"
