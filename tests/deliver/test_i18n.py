"""Digests, alerts and the unsubscribe page in the reader's language; the catalogues kept whole."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from syndicator import i18n
from syndicator.deliver.render import Renderer
from syndicator.deliver.tokens import TokenSigner
from syndicator.models import Item, StoredItem, Subscriber, Tagging
from syndicator.store import open_store
from syndicator.web.unsubscribe import make_unsubscribe_app

from .conftest import SIGNING_KEY, MakeSettings

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 4, 6, 30, tzinfo=UTC)
ANN = Subscriber("ann@example.org", ("corruption", "terrorism"), timezone="Europe/Paris")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "Nn_": (1, 2)}


def item(id: int, topics: dict[str, float], published_at: datetime | None = None) -> StoredItem:
    return StoredItem(
        id=id,
        item=Item(
            source_id="osce",
            identity=f"i{id}",
            title=f"Release {id}",
            link=f"https://example.org/{id}",
            summary="A summary.",
            published_at=published_at,
        ),
        first_seen_at=NOW,
        last_changed_at=NOW,
        taggings=tuple(Tagging(t, s, ("evidence",)) for t, s in topics.items()),
    )


ITEMS = [
    item(1, {"corruption": 3.0, "terrorism": 2.0}, datetime(2026, 12, 3, tzinfo=UTC)),
    item(2, {"corruption": 2.0}, datetime(2026, 12, 3, 13, 5, tzinfo=UTC)),
]


def bodies(renderer: Renderer, kind: str, sub: Subscriber) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one message, decoded."""
    items = ITEMS if kind == "digest" else ITEMS[:1]
    message = renderer.render(kind, sub, items, "<m@example.org>", NOW).message  # type: ignore[arg-type]
    plain, page = (message.get_body((subtype,)) for subtype in ("plain", "html"))
    assert plain is not None
    assert page is not None
    return str(message["Subject"]), plain.get_content(), page.get_content()


# Per language: fixed text of the digest (subject, heading, intro, footer, item date with
# and without a time), then of the alert (its label and footer).
EXPECTED = {
    "fr": (
        "Syndicator, résumé quotidien du 4 déc. 2026 : 2 nouveaux éléments",
        "Votre résumé quotidien du 4 décembre 2026",
        "2 nouveaux éléments sur vos thèmes depuis votre dernier résumé.",
        "Vous recevez ce message (résumé quotidien) car l’adresse ann@example.org",
        "3 déc. 2026 14:05 CET",
        "aussi : Terrorism",
        "Nouveau : Corruption, Terrorism",
        "Les alertes partent dès qu’un élément est classé ; votre résumé quotidien",
    ),
    "es": (
        "Syndicator, resumen diario del 4 dic 2026: 2 elementos nuevos",
        "Su resumen diario del 4 de diciembre de 2026",
        "2 elementos nuevos sobre sus temas desde su último resumen.",
        "Recibe este mensaje (resumen diario) porque la dirección ann@example.org",
        "3 dic 2026 14:05 CET",
        "también: Terrorism",
        "Nuevo: Corruption, Terrorism",
        "Las alertas se envían en cuanto se clasifica un elemento; su resumen diario",
    ),
    "ru": (
        "Syndicator: ежедневная сводка за 4 дек. 2026 г., 2 новых материала",
        "Ваша ежедневная сводка за 4 декабря 2026\u202fг.",  # CLDR: a narrow no-break space
        "2 новых материала по вашим темам с момента прошлой сводки.",
        "Вы получаете это сообщение (ежедневная сводка), потому что адрес ann@example.org",
        "3 дек. 2026\u202fг. 14:05 CET",
        "также: Terrorism",
        "Новое: Corruption, Terrorism",
        "Оповещения приходят сразу после классификации материала; он также войдёт",
    ),
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_digest_and_alert_read_in_the_subscribers_language(
    make_settings: MakeSettings, language: str
) -> None:
    renderer = Renderer(make_settings(), TokenSigner("k"))
    sub = dataclasses.replace(ANN, language=language)
    subject, heading, intro, footer, when, also, new, alert_footer = EXPECTED[language]
    got_subject, plain, page = bodies(renderer, "digest", sub)
    assert got_subject == subject
    for body in (plain, page):
        assert heading in body
        assert intro in body
        assert footer in body
        assert when in body
        assert also in body
        assert "Your daily digest" not in body
        assert "You receive this" not in body
    assert f'<html lang="{language}">' in page
    _, plain, page = bodies(renderer, "alert", sub)
    for body in (plain, page):
        assert new in body
    assert alert_footer in page


def test_a_date_without_time_keeps_its_day_in_every_language(make_settings: MakeSettings) -> None:
    """Midnight UTC is "a date": it is not moved into the reader's zone, whatever the language."""
    renderer = Renderer(make_settings(), TokenSigner("k"))
    west = dataclasses.replace(ANN, timezone="America/New_York", language="fr")
    _, plain, _ = bodies(renderer, "digest", west)
    assert "OSCE | 3 déc. 2026 | aussi : Terrorism\n" in plain
    assert "2 déc." not in plain


def test_plural_forms_follow_the_language(make_settings: MakeSettings) -> None:
    renderer = Renderer(make_settings(), TokenSigner("k"))
    ru = dataclasses.replace(ANN, language="ru")
    one = renderer.render("digest", ru, ITEMS[:1], "<m@example.org>", NOW).message
    assert str(one["Subject"]).endswith("1 новый материал")
    fr = dataclasses.replace(ANN, language="fr")
    one = renderer.render("digest", fr, ITEMS[:1], "<m@example.org>", NOW).message
    assert str(one["Subject"]).endswith(": 1 nouvel élément")


def test_english_default_other_default_and_unknown_languages(make_settings: MakeSettings) -> None:
    """No language, or one we do not ship, reads in ``delivery.language``, else English."""
    english = Renderer(make_settings(), TokenSigner("k"))
    subject, plain, page = bodies(english, "digest", ANN)
    assert subject == "Syndicator daily digest, 4 Dec 2026: 2 new items"
    assert "Your daily digest, 4 December 2026" in plain
    assert '<html lang="en">' in page
    assert bodies(english, "digest", dataclasses.replace(ANN, language="de")) == (
        subject,
        plain,
        page,
    )
    french = Renderer(make_settings(delivery={"language": "fr"}), TokenSigner("k"))
    assert "Votre résumé quotidien" in bodies(french, "digest", ANN)[1]
    assert (
        "Votre résumé quotidien"
        in bodies(french, "digest", dataclasses.replace(ANN, language="xx"))[1]
    )
    assert (
        "Su resumen diario" in bodies(french, "digest", dataclasses.replace(ANN, language="es"))[1]
    )


def test_text_put_into_a_translation_is_still_escaped(make_settings: MakeSettings) -> None:
    """The translated sentence is ours; what is put into it (here a topic the taxonomy no
    longer names, shown by its stored id) is escaped like any other value."""
    renderer = Renderer(make_settings(), TokenSigner("k"))
    sub = dataclasses.replace(ANN, topics=("corruption", "<b>x</b>"), language="fr")
    _, _, page = bodies(renderer, "digest", sub)
    assert "abonnée aux thèmes : Corruption, &lt;b&gt;x&lt;/b&gt;." in page
    assert "<b>x</b>" not in page


# --------------------------------------------------------------------------- catalogues


def template_messages() -> set[str]:
    """Every msgid the code and templates use, found as ``pybabel extract -F babel.cfg`` would."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    # Folders starting with "." or "_" (.venv) are skipped, as pybabel does.
    for _, _, message, _, _ in extract_from_dir(
        str(REPO), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalogue(language: str) -> Catalog:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


SHIPPED = [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE]


def test_the_extraction_sees_templates_and_code() -> None:
    found = template_messages()
    assert "Unsubscribe: %(url)s" in found  # templates/email/base.txt
    assert "Your daily digest, %(date)s" in found  # syndicator/deliver/render.py
    assert "Link not valid" in found  # syndicator/web/unsubscribe.py


@pytest.mark.parametrize("language", SHIPPED)
def test_every_catalogue_translates_every_message(language: str) -> None:
    cat = catalogue(language)
    wanted = template_messages()
    have = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in cat if m.id}
    assert sorted(wanted - set(have)) == [], f"{language}: missing (run pybabel update)"
    assert sorted(set(have) - wanted) == [], f"{language}: obsolete"
    for key, message in have.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: {key!r} untranslated"
        assert not message.fuzzy, f"{language}: {key!r} is fuzzy"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in cat.check()]
    assert problems == []  # e.g. a %(name)s placeholder lost or misspelt


@pytest.mark.parametrize("language", SHIPPED)
def test_compiled_catalogue_is_up_to_date(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(language))
    shipped = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    assert shipped.read_bytes() == compiled.getvalue(), (
        f"{shipped} is stale: pybabel compile -d syndicator/locale -D syndicator"
    )


def test_shipped_languages_are_those_with_catalogues() -> None:
    folders = {p.name for p in i18n.LOCALE_DIR.iterdir() if p.is_dir()}
    assert folders == set(SHIPPED)


# --------------------------------------------------------------------------- unsubscribe page


async def test_unsubscribe_page_reads_in_the_recipients_language(
    store_url: str, make_settings: MakeSettings
) -> None:
    store = open_store(store_url)
    store.sync_config_recipients(
        [dataclasses.replace(ANN, language="ru"), Subscriber("bob@example.org", ("corruption",))],
        NOW,
    )
    assert store.find_recipient("ann@example.org").subscriber.language == "ru"  # type: ignore[union-attr]
    store.close()
    settings = make_settings(delivery={"language": "es"})
    app = make_unsubscribe_app(lambda: open_store(store_url), settings, clock=lambda: NOW)
    signer = TokenSigner(SIGNING_KEY)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        ann = await client.get("/unsubscribe", params={"token": signer.sign("ann@example.org")})
        page = await ann.text()
        assert '<html lang="ru">' in page
        assert "<h1>Отписаться</h1>" in page
        assert "на адрес <strong>ann@example.org</strong>?" in page
        done = await client.post("/unsubscribe", params={"token": signer.sign("ann@example.org")})
        assert "На адрес <strong>ann@example.org</strong> больше не будут" in await done.text()
        bob = await client.get("/unsubscribe", params={"token": signer.sign("bob@example.org")})
        assert "<h1>Darse de baja</h1>" in await bob.text()  # no language: the default
        bad = await client.get("/unsubscribe", params={"token": "nonsense"})
        assert "Enlace no válido" in await bad.text()
