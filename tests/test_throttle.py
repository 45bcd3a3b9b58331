"""Writes per person (issue 12, limits per user): one account that floods changes is stopped with 429
and Retry-After, pages and API alike; other people, reads and logging out are not affected."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from classnote.accounts import tokens
from tests.conftest import Tenant, login_as

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limit(settings: pytest.FixtureRequest) -> None:
    settings.WRITE_RATE_PER_MINUTE = 5  # type: ignore[attr-defined]
    cache.clear()


def new_card(client: Client, n: int) -> int:
    return client.post("/cards/", {"kind": "text", "title": f"Flood {n}"}).status_code


def test_a_flood_of_writes_from_one_account_gets_429_with_retry_after(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    assert [new_card(pupil, n) for n in range(5)] == [302] * 5
    refused = pupil.post("/cards/", {"kind": "text", "title": "One too many"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 61
    assert "wait" in refused.content.decode().lower()
    assert pupil.get("/home/").status_code == 200  # reading goes on
    json = pupil.post("/cards/1/autosave/", {}, content_type="application/json")
    assert json.status_code == 429 and "detail" in json.json()
    # Someone else, even in the same class, is not affected; leaving always works.
    assert new_card(login_as(Client(), tenant_a.classmate), 0) == 302
    assert pupil.post("/accounts/logout/").status_code == 302


def test_api_tokens_count_the_same_writes(tenant_a: Tenant) -> None:
    _token, secret = tokens.issue(tenant_a.teacher, "flood")
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    made = [
        api.post("/api/cards", {"kind": "text", "title": f"T{n}"}, content_type="application/json") for n in range(6)
    ]
    assert [r.status_code for r in made[:5]] == [201] * 5, [r.content[:200] for r in made]
    assert made[5].status_code == 429
    assert int(made[5]["Retry-After"]) > 0
    assert api.get("/api/cards").status_code == 200
