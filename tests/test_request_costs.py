"""The bell's hot paths stay cheap (issue 6): the signed-in user comes from the cache but changes act
at once; a send to a whole class costs the same few statements whatever its size; blank static forms
are rendered once per language; and none of it leaks between users."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from classnote.accounts import actions as account_actions
from classnote.accounts import usercache
from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.cards import actions as cards
from classnote.lessons import actions
from classnote.tenancy.models import Membership
from tests.conftest import Tenant, login_as


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def test_a_request_reads_the_user_from_the_cache(tenant_a: Tenant, django_assert_num_queries) -> None:
    client = login_as(Client(), tenant_a.student)
    client.get("/healthz")  # fills the cache
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_deactivation_logs_out_at_the_next_request_despite_the_cache(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)
    assert client.get("/home/").status_code == 200
    tenant_a.student.is_active = False
    tenant_a.student.save(update_fields=["is_active"])
    assert client.get("/home/").status_code == 302


def test_log_out_everywhere_acts_at_the_next_request_despite_the_cache(tenant_a: Tenant) -> None:
    """The one bulk update of users sends no signal: it drops the cached user itself."""
    client = login_as(Client(), tenant_a.teacher)
    assert client.get("/home/").status_code == 200
    account_actions.logout_everywhere(tenant_a.teacher)
    assert client.get("/home/").status_code == 302


def test_a_municipality_policy_change_acts_at_the_next_request(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.teacher)
    assert client.get("/home/").status_code == 200
    tenant_a.municipality.require_mfa_for_teachers = True
    tenant_a.municipality.save()
    response = client.get("/home/")
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_a_deleted_user_leaves_no_cached_copy(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.classmate)
    client.get("/home/")
    key_user = usercache._user_key(tenant_a.classmate.pk)
    assert cache.get(key_user) is not None
    tenant_a.classmate.delete()
    assert cache.get(key_user) is None


def test_the_cache_can_be_switched_off(tenant_a: Tenant, settings, django_assert_num_queries) -> None:
    settings.USER_CACHE_SECONDS = 0
    client = login_as(Client(), tenant_a.student)
    client.get("/healthz")
    with django_assert_num_queries(1):
        client.get("/healthz")


def _students(tenant: Tenant, count: int) -> None:
    for n in range(count):
        user = User.objects.create(
            username=student_username(tenant.school, f"9{n:03d}"),
            display_name=f"Extra {n}",
            role=Role.STUDENT,
            municipality=tenant.municipality,
            school=tenant.school,
            student_number=f"9{n:03d}",
        )
        Membership.objects.create(school_class=tenant.school_class, user=user, role="student")


def _send_statements(tenant: Tenant, lead_id: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        actions.send_cards(tenant.teacher, tenant.lesson.pk, [lead_id])
    return len(captured.captured_queries)


def test_a_send_costs_about_the_same_statements_for_a_small_and_a_big_class(tenant_a: Tenant) -> None:
    lead = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Step 1")
    step = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Step 2")
    cards.link_sequence(tenant_a.teacher, lead.pk, [step.pk])
    small = _send_statements(tenant_a, lead.pk)
    _students(tenant_a, 60)
    # Not one statement per pupil (that was 2 per pupil and card before); SQLite splits a bulk insert
    # into batches of at most 999 values (~50 cards), so the lead and the step insert may take two each.
    assert _send_statements(tenant_a, lead.pk) <= small + 2
    # Each of the 62 pupils got their own copy of the lead and of the step, linked to their lead.
    delivered = actions.send_cards(tenant_a.teacher, tenant_a.lesson.pk, [lead.pk])
    assert len(delivered) == 62
    for owner_id, (copy,) in delivered.items():
        assert copy.owner_id == owner_id and copy.origin_id == lead.pk and copy.sent_by_id == tenant_a.teacher.pk
        (item,) = copy.sequence_items.all()
        assert (item.owner_id, item.origin_id, item.position, item.title) == (owner_id, step.pk, 1, "Step 2")


def test_autosave_answers_the_stored_version_and_time(tenant_a: Tenant) -> None:
    lead = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Q")
    copy = actions.send_cards(tenant_a.teacher, tenant_a.lesson.pk, [lead.pk])[tenant_a.student.pk][0]
    client = login_as(Client(), tenant_a.student)
    answer = client.post(
        f"/cards/{copy.pk}/autosave/",
        json.dumps({"version": copy.version, "fields": {"text": "mine"}}),
        content_type="application/json",
    ).json()
    copy.refresh_from_db()
    assert (answer["version"], copy.version, copy.text) == (2, 2, "mine")
    assert answer["saved_at"] == copy.updated_at.isoformat()
    stale = client.post(
        f"/cards/{copy.pk}/autosave/",
        json.dumps({"version": 1, "fields": {"text": "old"}}),
        content_type="application/json",
    )
    assert stale.status_code == 409 and stale.json()["fields"]["text"] == "mine"


def test_blank_static_forms_are_reused_per_language_but_bound_forms_never(tenant_a: Tenant) -> None:
    from classnote.core.templatetags.classnote_forms import static_form
    from classnote.lessons.forms import BoxForm

    with translation.override("en"):
        english = static_form(BoxForm(), "form_fields.html")
    with translation.override("ja"):
        japanese = static_form(BoxForm(), "form_fields.html")
    assert "Task" in english and "Task" not in japanese
    bound = static_form(BoxForm({"title": ""}), "form_fields.html")
    assert "invalid" in bound and "invalid" not in english


def test_a_form_without_the_flag_is_rendered_every_time(tenant_a: Tenant) -> None:
    from django import forms

    from classnote.core.templatetags.classnote_forms import static_form

    class Dynamic(forms.Form):
        choice = forms.ChoiceField(choices=[])

        def __init__(self, options: list[str]) -> None:
            super().__init__()
            self.fields["choice"].choices = [(o, o) for o in options]

    assert "first-school" in static_form(Dynamic(["first-school"]), "form_fields.html")
    second = static_form(Dynamic(["second-school"]), "form_fields.html")
    assert "second-school" in second and "first-school" not in second
