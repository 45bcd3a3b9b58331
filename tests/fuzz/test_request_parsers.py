"""Values read from requests by the pages (not the API: schemathesis covers that) under any text.

Ids in form fields and query strings (sending cards, linking a sequence, submitting, comparing),
dates (a pupil's leaving day), a return address after a form ("next"), a tenant chosen on the
privacy page, page numbers: every answer is a page, a redirect to this site or a 4xx — never a
server error — and no redirect leaves the site or carries a line break. Ids like "²" (isdigit()
but not int()), 5,000 digits or beyond 64 bits were server errors before classnote.base.ids.
"""

from __future__ import annotations

from django.test import Client
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import Tenant, fresh_login, login_as
from tests.fuzz import FUZZ, seen

values = st.one_of(
    st.text(max_size=30).filter(lambda v: "\x00" not in v),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        ["²", "١٢", "9" * 5000, "9" * 30, "0", "-1", "1e3", " 1", "2027-02-30", "2027-03-31", "+002027-03-31"]
    ),
)
id_lists = st.lists(values, max_size=4)
OK = {200, 302, 400, 403, 404, 405, 409}


def local_redirect(response: object) -> None:
    location = response["Location"] if response.status_code == 302 else ""  # type: ignore[index, attr-defined]
    assert "\r" not in location and "\n" not in location
    assert not location or (location.startswith("/") and not location.startswith("//")), location


@settings(FUZZ, max_examples=40)
@given(id_lists, id_lists, values, values, values)
@example(["²"], ["9" * 5000], "9" * 30, "²", "//evil.example/")
def test_teacher_and_pupil_forms_answer_any_ids(
    tenant_a: Tenant, cards: list[str], students: list[str], group: str, card: str, target: str
) -> None:
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    pupil = login_as(Client(raise_request_exception=False), tenant_a.student)
    lesson, box = tenant_a.lesson.pk, tenant_a.box.pk
    answers = [
        teacher.post(f"/lessons/{lesson}/send/", {"cards": cards, "students": students, "group": group, "to": "group"}),
        teacher.post(f"/cards/{tenant_a.card.pk}/link/", {"cards": cards}),
        teacher.get(f"/boxes/{box}/compare/", {"s": students}),
        teacher.post(f"/cards/{tenant_a.card.pk}/to-library/", {"library": card, "next": target}),
        pupil.post(f"/boxes/{box}/submit/", {"card": card}),
        pupil.post(f"/lessons/{lesson}/peer-send/", {"card": card, "students": students}),
        pupil.post("/settings/language/", {"language": group, "next": target}),
    ]
    for response in answers:
        seen(f"status {response.status_code}")
        assert response.status_code in OK, response.status_code
        local_redirect(response)


@settings(FUZZ, max_examples=40)
@given(values, values)
def test_admin_pages_answer_any_date_page_or_tenant(tenant_a: Tenant, day: str, page: str) -> None:
    admin = fresh_login(Client(raise_request_exception=False), tenant_a.school_admin)
    answers = [
        admin.post(f"/users/{tenant_a.student.pk}/left/", {"left_on": day}),
        admin.get("/audit/", {"page": page}),
        admin.get("/privacy/views/", {"page": page}),
        Client(raise_request_exception=False).get("/privacy/", {"tenant": page}),
    ]
    for response in answers:
        seen(f"status {response.status_code}")
        assert response.status_code in OK, response.status_code
        local_redirect(response)
