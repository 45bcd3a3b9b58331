"""The privacy policy page (/privacy/) is generated from the data inventory and the tenant's settings,
in English, Japanese and Traditional Chinese, and refers to no other host."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import translation

from classnote.privacy import hosts, inventory
from tests.conftest import Tenant, login_as
from tests.privacy.test_third_party_assets import UrlCollector, foreign

LANGUAGES = {"en": "en", "ja": "ja", "zh-hant": "zh-Hant-TW"}  # page language -> Accept-Language
SUBPROCESSORS = [
    {
        "name": "Example Cloud K.K.",
        "purpose": {
            "en": "storing uploaded files",
            "ja": "アップロードされたファイルの保管",
            "zh-hant": "儲存上傳的檔案",
        },
        "location": {"en": "Japan (Tokyo)", "ja": "日本（東京）", "zh-hant": "日本（東京）"},
        "hosts": ["files.cloud.example"],
    }
]


def visible_text(response: Any) -> str:
    """What a reader sees in the page's main part (tags and their attributes removed)."""
    page = response.content.decode()
    main = page[page.index("<main>") : page.index("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def policy_page(client: Client, language: str, query: str = "") -> Any:
    response = client.get(f"/privacy/{query}", HTTP_ACCEPT_LANGUAGE=LANGUAGES[language])
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response


def vocabulary() -> set[str]:
    """The inventory's English terms as the ledger writes them."""
    terms = {
        str(v) for enum in (inventory.Category, inventory.Purpose, inventory.Basis, inventory.Audience) for v in enum
    }
    return terms | {entry["retention"] for entry in inventory.entries()}


def test_every_inventory_term_has_a_label() -> None:
    for enum in (inventory.Category, inventory.Purpose, inventory.Basis, inventory.Audience):
        missing = [str(member) for member in enum if str(member) not in inventory.LABELS]
        assert not missing, f"add labels for these {enum.__name__} values to classnote/privacy/inventory.py: {missing}"
    with translation.override("en"):
        drifted = {value: str(text) for value, text in inventory.LABELS.items() if str(text) != value}
    assert not drifted, f"the English label must repeat the value it stands for: {drifted}"


@pytest.mark.parametrize("language", ["ja", "zh-hant"])
def test_every_term_of_the_ledger_is_translated(language: str) -> None:
    with translation.override(language):
        untranslated = sorted(term for term in vocabulary() if inventory.label(term) == term)
    assert not untranslated, (
        f"no {language} translation for these inventory terms: add the phrase to RETENTION_LABELS (or the "
        f"enum's labels) in classnote/privacy/inventory.py, then translate it: {untranslated}"
    )


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_page_lists_every_personal_field_with_its_category_and_purposes(
    client: Client, db: None, language: str
) -> None:
    response = policy_page(client, language)
    page = response.content.decode()
    text = visible_text(response)
    with translation.override(language):
        for entry in inventory.entries():
            # What the field is, in the reader's language; its technical name only for the operator, on hover.
            name = html.escape(inventory.field_name(entry["model"], entry["field"]))
            assert f'title="{entry["model"]}.{entry["field"]}">{name}</span>' in page
            assert f"{entry['model']}.{entry['field']}" not in text
            assert inventory.label(entry["category"])[1:] in text, entry["category"]
            for term in (*entry["purposes"], entry["legal_basis"], entry["retention"], *entry["audience"]):
                assert html.unescape(inventory.label(term)) in text, term
    if language != "en":
        leaked = sorted(term for term in vocabulary() if re.search(rf"\b{re.escape(term)}\b", text))
        assert not leaked, f"English inventory terms on the {language} page: {leaked}"


def test_a_signed_in_user_sees_their_own_boards_retention_settings(tenant_a: Tenant, tenant_b: Tenant) -> None:
    municipality = tenant_a.municipality
    municipality.graduate_retention_days = 412
    municipality.contract_end_retention_days = 123
    municipality.save()
    for person in (tenant_a.student, tenant_a.teacher, tenant_a.municipal_admin):
        text = visible_text(policy_page(login_as(Client(), person), "ja"))
        assert municipality.name in text
        assert "412" in text and "123" in text
        assert tenant_b.municipality.name not in text
    other = visible_text(policy_page(login_as(Client(), tenant_b.teacher), "zh-hant"))
    assert tenant_b.municipality.name in other and "412" not in other and municipality.name not in other


def test_the_public_can_choose_a_listed_board(client: Client, tenant_a: Tenant, tenant_b: Tenant) -> None:
    generic = policy_page(client, "en")
    assert "365 days" in visible_text(generic) and "90 days" in visible_text(generic)  # the defaults
    assert tenant_a.municipality.name not in generic.content.decode()  # not listed: not offered
    tenant_a.municipality.list_on_adopters_page = True
    tenant_a.municipality.graduate_retention_days = 30
    tenant_a.municipality.save()
    page = policy_page(client, "en")
    assert f'<option value="{tenant_a.municipality.pk}">' in page.content.decode()
    chosen = visible_text(policy_page(client, "en", f"?tenant={tenant_a.municipality.pk}"))
    assert tenant_a.municipality.name in chosen and "30 days after they graduate" in chosen
    # Unlisted, unknown or malformed: not found, whether or not it exists.
    for value in (tenant_b.municipality.pk, 999999, "99999999999999999999", "abc", "1;drop", "-1", "[]"):
        assert client.get("/privacy/", {"tenant": value}).status_code == 404
    assert client.post("/privacy/").status_code in {403, 405}


def test_the_optional_name_reading_is_shown_only_when_the_board_collects_it(tenant_a: Tenant) -> None:
    field = 'title="accounts.User.name_reading"'
    generic = policy_page(Client(), "en").content.decode()
    assert field in generic and "Only if your board of education chooses to" in generic
    teacher = login_as(Client(), tenant_a.teacher)
    assert field not in policy_page(teacher, "ja").content.decode()  # the board's language
    tenant_a.municipality.collect_name_reading = True
    tenant_a.municipality.save()
    for language in LANGUAGES:
        tenant_a.teacher.language = language
        tenant_a.teacher.save(update_fields=["language"])
        page = policy_page(teacher, language).content.decode()
        assert field in page
        with translation.override(language):
            assert translation.gettext("Collected because your board of education chose to") in page


def test_who_runs_the_service_and_where_the_data_lives(client: Client, db: None) -> None:
    with override_settings(
        CLASSNOTE_OPERATOR_NAME="Example Operator Ltd.",
        CLASSNOTE_PRIVACY_CONTACT="privacy@operator.example / 03-1234-5678",
        CLASSNOTE_DATA_LOCATION="Japan (Tokyo)",
    ):
        text = visible_text(policy_page(client, "ja"))
    assert "Example Operator Ltd." in text and "privacy@operator.example / 03-1234-5678" in text
    assert "Japan (Tokyo)" in text


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_no_sub_processor_by_default(client: Client, db: None, language: str) -> None:
    text = visible_text(policy_page(client, language))
    with translation.override(language):
        assert translation.gettext("None. No outside service processes personal information for this service.") in text


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_declared_sub_processors_are_published_in_the_readers_language(client: Client, db: None, language: str) -> None:
    with override_settings(CLASSNOTE_SUBPROCESSORS=hosts.parse_subprocessors(json.dumps(SUBPROCESSORS))):
        response = policy_page(client, language)
    text = visible_text(response)
    entry = SUBPROCESSORS[0]
    assert entry["name"] in text
    assert entry["purpose"][language] in text and entry["location"][language] in text  # type: ignore[index]
    assert "files.cloud.example" not in response.content.decode()  # hosts are configuration, not published
    with translation.override(language):
        assert (
            translation.gettext("None. No outside service processes personal information for this service.") not in text
        )


def test_rights_and_the_complaint_form_are_linked(client: Client, db: None) -> None:
    page = policy_page(client, "ja").content.decode()
    assert 'href="/complaints/new/"' in page
    assert client.get("/complaints/new/").status_code == 200


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_policy_page_refers_to_no_other_host(client: Client, db: None, language: str) -> None:
    with override_settings(
        CLASSNOTE_SUBPROCESSORS=hosts.parse_subprocessors(json.dumps(SUBPROCESSORS)),
        CLASSNOTE_PRIVACY_CONTACT="https://operator.example/contact",
    ):
        response = policy_page(client, language)
    collector = UrlCollector()
    collector.feed(response.content.decode())
    assert collector.urls and not foreign(collector.urls)


def test_every_page_links_the_policy(client: Client, tenant_a: Tenant) -> None:
    for path in ("/", "/login/student/", "/adopters/"):
        assert 'href="/privacy/"' in client.get(path).content.decode()
    assert 'href="/privacy/"' in login_as(Client(), tenant_a.teacher).get("/home/").content.decode()


@pytest.mark.parametrize("language", ["ja", "zh-hant"])
def test_every_personal_field_has_a_name_in_the_readers_language(language: str) -> None:
    """The page names a stored field by its model's and its own verbose name: both must be translated
    (a model or field without a translated verbose_name would show in English)."""
    entries = inventory.entries()
    with translation.override("en"):
        english = {(e["model"], e["field"]): inventory.field_name(e["model"], e["field"]) for e in entries}
    with translation.override(language):
        named = {key: inventory.field_name(*key) for key in english}
    allowed = {"API", "ID", "IP", "Web"}
    untranslated = sorted(
        f"{model}.{field}: {name}"
        for (model, field), name in named.items()
        if set(re.findall(r"[A-Za-z]+", name)) - allowed or name == english[(model, field)]
    )
    assert not untranslated, (
        f"give these a translated verbose_name (or a name in privacy/third_party.py NAMES): {untranslated}"
    )
    assert len(set(named.values())) == len(named), "two stored fields read alike"
