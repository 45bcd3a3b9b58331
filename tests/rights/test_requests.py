"""Data-subject requests: deadlines, who may open and handle them, correction, cessation, and the
step-up before sensitive steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from classnote.accounts.actions import issue_login_card
from classnote.accounts.models import LoginCard, User
from classnote.audit.log import verify
from classnote.audit.models import AuditEntry
from classnote.base.errors import ActionError
from classnote.rights import workflow
from classnote.rights.models import DataSubjectRequest
from tests.conftest import Tenant, login_as
from tests.rights.conftest import admin_client


def _open(client: Client, subject_id: int, kind: str, requester: str = "guardian") -> DataSubjectRequest:
    response = client.post("/requests/new/", {"subject": subject_id, "kind": kind, "requester": requester})
    assert response.status_code == 302, response.content.decode()[:500]
    return DataSubjectRequest.objects.latest("opened_at")


def test_a_school_admin_opens_a_request_for_a_pupil_with_a_deadline(tenant_a: Tenant, settings: object) -> None:
    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "disclosure")
    assert request.subject == tenant_a.student and request.school_id == tenant_a.school.pk
    assert request.due_at - request.opened_at == timedelta(days=14)
    page = client.get("/requests/").content.decode()
    assert request.reference in page and request.due_at.strftime("%Y-%m-%d") in page
    assert AuditEntry.objects.filter(action="request.opened", subject=tenant_a.student).exists()


def test_an_overdue_request_is_flagged_for_the_admin_and_the_privacy_officer(tenant_a: Tenant) -> None:
    from classnote.accounts.models import User
    from classnote.base.roles import Role

    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "correction")
    DataSubjectRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(days=1))
    page = client.get("/requests/").content.decode()
    assert 'class="overdue"' in page and 'class="flag"' in page
    officer = User.objects.create_user("officer", "x-pass-12345", display_name="Officer", role=Role.PRIVACY_OFFICER)
    dashboard = login_as(Client(), officer).get("/privacy/officer/").content.decode()
    assert request.reference in dashboard and 'class="overdue"' in dashboard
    # The officer sees the deadline, not whom the request is about.
    assert tenant_a.student.display_name not in dashboard
    assert tenant_a.student.display_name not in login_as(Client(), officer).get("/requests/").content.decode()


def test_a_teacher_opens_a_request_only_about_themselves(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.teacher)
    request = _open(client, tenant_a.teacher.pk, "disclosure", requester="person")
    assert request.subject == tenant_a.teacher
    response = client.post(
        "/requests/new/", {"subject": tenant_a.student.pk, "kind": "deletion", "requester": "guardian"}
    )
    assert response.status_code == 400
    # They see their own request, but cannot carry it out (their school's admin does).
    assert client.get(f"/requests/{request.pk}/").status_code == 200
    assert client.post(f"/requests/{request.pk}/export/").status_code == 403
    exported = admin_client(tenant_a.school_admin).post(f"/requests/{request.pk}/export/")
    assert exported.status_code == 200 and exported["Content-Type"] == "application/zip"


def test_bad_input_is_a_translated_400(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a.school_admin)
    client.cookies["django_language"] = "ja"
    response = client.post(
        "/requests/new/", {"subject": "x", "kind": "nonsense", "requester": "guardian"}, HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()


def test_sensitive_steps_need_a_recent_login(tenant_a: Tenant) -> None:
    request = _open(admin_client(tenant_a.school_admin), tenant_a.student.pk, "disclosure")
    stale = login_as(Client(), tenant_a.school_admin)  # signed in, but no recent password entry
    response = stale.post(f"/requests/{request.pk}/export/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not AuditEntry.objects.filter(action="request.disclosed").exists()


def test_correction_changes_the_record_and_logs_which_fields(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "correction")
    response = client.post(f"/requests/{request.pk}/correct/", {"display_name": "Corrected Name"})
    assert response.status_code == 302
    tenant_a.student.refresh_from_db()
    assert tenant_a.student.display_name == "Corrected Name"
    entry = AuditEntry.objects.get(action="request.corrected")
    assert entry.details["fields"] == ["display_name"] and "Corrected" not in str(entry.details)
    # A student ID that another pupil of the school has is refused, and nothing changes.
    client.post(f"/requests/{request.pk}/correct/", {"display_name": "Corrected Name", "student_number": "aaa002"})
    tenant_a.student.refresh_from_db()
    assert tenant_a.student.student_number == "aaa001"
    response = client.post(f"/requests/{request.pk}/close/", {"status": "completed", "outcome": "Corrected."})
    request.refresh_from_db()
    assert request.status == "completed" and request.closed_by == tenant_a.school_admin


def test_cessation_deactivates_the_account_and_its_login_cards(tenant_a: Tenant) -> None:
    issue_login_card(tenant_a.student, issued_by=tenant_a.teacher)
    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "cessation")
    assert client.post(f"/requests/{request.pk}/cease/").status_code == 302
    tenant_a.student.refresh_from_db()
    assert not tenant_a.student.is_active
    assert not LoginCard.objects.filter(user=tenant_a.student, revoked_at__isnull=True).exists()
    request.refresh_from_db()
    assert request.status == "completed"
    assert verify() == []


def test_a_closed_request_cannot_be_handled_again(tenant_a: Tenant) -> None:
    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "disclosure")
    client.post(f"/requests/{request.pk}/close/", {"status": "refused", "outcome": "Not the right school."})
    response = client.post(f"/requests/{request.pk}/export/")
    assert response.status_code == 400 and "この請求は完了しています。" in response.content.decode()  # tenant: ja
    assert not AuditEntry.objects.filter(action="request.disclosed").exists()


HOSTILE_CORRECTIONS = [
    {"display_name": '=HYPERLINK("http://203.0.113.9/x","click")'},
    {"display_name": "Corrected Name", "student_number": "a b/c"},
    {"display_name": '=HYPERLINK("http://203.0.113.9/x","click")', "student_number": "a b/c"},
    {"display_name": "＋cmd|' /C calc'!A0"},  # a full-width plus starts a formula too
    {"display_name": "Corrected Name", "student_number": "../../etc"},
]


def test_a_correction_goes_through_the_same_checks_as_the_pupil_form(tenant_a: Tenant) -> None:
    """Finding 7 of issue 12: a correction stored display_name '=HYPERLINK(…)' and the student ID
    'a b/c' (login name 'school/a b/c') that the pupil form refuses."""
    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "correction")
    before = User.objects.values().get(pk=tenant_a.student.pk)
    for values in HOSTILE_CORRECTIONS:
        response = client.post(f"/requests/{request.pk}/correct/", values)
        assert response.status_code == 400, values
        assert User.objects.values().get(pk=tenant_a.student.pk) == before, values
    page = client.post(
        f"/requests/{request.pk}/correct/", HOSTILE_CORRECTIONS[2], HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "表計算" in page  # the formula refusal, in the admin's language
    assert not AuditEntry.objects.filter(action="request.corrected").exists()


def test_the_correction_step_itself_refuses_what_the_model_refuses(tenant_a: Tenant) -> None:
    """Below the form: a caller of the workflow (a job, a future API) gets the same refusals."""
    client = admin_client(tenant_a.school_admin)
    request = _open(client, tenant_a.student.pk, "correction")
    for values in HOSTILE_CORRECTIONS:
        with pytest.raises(ActionError):
            workflow.correct(tenant_a.school_admin, request.pk, values)
    tenant_a.student.refresh_from_db()
    assert tenant_a.student.display_name == "Pupil aaa001 aaa" and tenant_a.student.username.endswith("/aaa001")
