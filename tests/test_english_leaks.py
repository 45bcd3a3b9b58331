"""No English or internal codes on the Japanese and Traditional Chinese pages (issue 14, defect 7):
the privacy policy (public and signed in) and the audit log (school and board administrators) show
what things are in the reader's language — not model paths, setting names or action codes."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from classnote.audit.log import record
from tests.conftest import Tenant, login_as
from tests.privacy.test_policy import visible_text

# Words a Japanese or Chinese page writes in Latin letters anyway: acronyms, the product's name.
ALLOWED = {"API", "Cookie", "HTTPS", "ID", "IP", "JIS", "Q", "Web", "classnote"}
ACCEPT_LANGUAGE = {"ja": "ja", "zh-hant": "zh-Hant-TW"}


def english_words(text: str, data: list[str]) -> list[str]:
    """Latin words of a page's visible text, once the names the test data gives (people, schools) are removed."""
    for name in sorted(data, key=len, reverse=True):
        text = text.replace(name, " ")
    return sorted({word for word in re.findall(r"[A-Za-z][A-Za-z_.]*", text) if word not in ALLOWED})


@pytest.mark.parametrize("language", list(ACCEPT_LANGUAGE))
def test_privacy_and_audit_pages_have_no_english(tenant_a: Tenant, language: str) -> None:
    record(tenant_a.school_admin, "account.password_reset", target=tenant_a.teacher)
    record(tenant_a.school_admin, "policy.changed", target=tenant_a.school)
    record(tenant_a.municipal_admin, "school.created", target=tenant_a.school)
    data = [
        *(person.display_name for person in (tenant_a.teacher, tenant_a.school_admin, tenant_a.municipal_admin)),
        tenant_a.school.name,
        tenant_a.municipality.name,
    ]
    pages = [
        (None, "/privacy/"),
        (tenant_a.teacher, "/privacy/"),
        (tenant_a.school_admin, "/audit/"),
        (tenant_a.municipal_admin, "/audit/"),
    ]
    for person, path in pages:
        client = login_as(Client(), person) if person else Client()
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=ACCEPT_LANGUAGE[language])
        assert response.status_code == 200, path
        assert english_words(visible_text(response), data) == [], (language, path)


@pytest.mark.parametrize("language", list(ACCEPT_LANGUAGE))
def test_adopters_page_names_countries_in_the_readers_language(tenant_a: Tenant, language: str) -> None:
    """The country headings of the adopters page come from CLDR in the reader's language ("日本"), not
    from the operator's stored spelling ("Japan"), which stays the fallback for an unknown code."""
    country = tenant_a.municipality.region.country
    country.code, country.name = "JP", "Japan"
    country.save()
    tenant_a.municipality.list_on_adopters_page = True
    tenant_a.municipality.save()
    response = Client().get("/adopters/", HTTP_ACCEPT_LANGUAGE=ACCEPT_LANGUAGE[language])
    assert response.status_code == 200
    data = [tenant_a.municipality.name, tenant_a.municipality.region.name, tenant_a.school.name]
    assert english_words(visible_text(response), data) == [], language
    assert "日本" in visible_text(response)
