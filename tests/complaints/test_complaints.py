"""Complaints and consultations: the public form (spam-resistant, rate-limited), the submitter's status
page, the privacy officer's queue and case page, the dashboard deadlines, retention."""

from __future__ import annotations

import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.utils import timezone

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.complaints import actions as complaint_actions
from classnote.complaints import retention, spam
from classnote.complaints.models import Complaint, ComplaintNote
from tests.conftest import PASSWORD, Tenant, login_as

MESSAGE = "My child's photo appeared on another class's screen. Secret detail 4711."


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()  # rate limits and code attempts live in the cache
    yield
    cache.clear()


@pytest.fixture
def officer(db: None) -> User:
    return User.objects.create_user("officer", PASSWORD, display_name="Privacy officer", role=Role.PRIVACY_OFFICER)


def token(seconds_ago: float = 10) -> str:
    """The signed timestamp of a form page loaded some seconds ago."""
    with time_machine.travel(timezone.now() - timedelta(seconds=seconds_ago), tick=False):
        return spam.form_token()


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {"kind": "complaint", "municipality": "", "message": MESSAGE, "name": "", "email": ""}
    data[spam.TOKEN_FIELD] = token()
    data.update(overrides)
    return data


def submit(client: Client, **overrides: Any) -> Any:
    return client.post("/complaints/new/", form_data(**overrides))


def reference_and_code(response: Any) -> tuple[str, str]:
    body = response.content.decode()
    reference = re.search(r"data-reference>([^<]+)<", body)
    code = re.search(r"data-access-code>([^<]+)<", body)
    assert reference and code, body
    return reference.group(1), code.group(1)


def check_status(client: Client, reference: str, code: str) -> Any:
    return client.post("/complaints/status/", {"reference": reference, "access_code": code})


# --- The public form, end to end ------------------------------------------------------------------


def test_the_form_is_public_and_carries_the_spam_traps(db: None) -> None:
    response = Client().get("/complaints/new/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'name="{spam.HONEYPOT_FIELD}"' in body and f'name="{spam.TOKEN_FIELD}"' in body


def test_a_case_is_opened_followed_and_answered(officer: User, tenant_a: Tenant) -> None:
    tenant_a.municipality.list_on_adopters_page = True
    tenant_a.municipality.save()
    public = Client()
    response = submit(public, municipality=str(tenant_a.municipality.pk), name="A parent")
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    reference, code = reference_and_code(response)
    assert re.fullmatch(r"C-\d{4}-[0-9A-HJKMNP-TV-Z]{6}", reference)
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.municipality == tenant_a.municipality and complaint.status == Complaint.Status.NEW
    assert code.replace("-", "") not in complaint.access_code_hash  # only the hash is stored

    # The status page: by POST with the code, never in the URL.
    status = check_status(public, reference, code)
    assert status.status_code == 200
    assert 'data-status="new"' in status.content.decode()
    assert check_status(public, reference, "AAAA-BBBB-CCCC-DDDD").status_code == 404
    assert check_status(public, "C-2026-ZZZZZZ", code).status_code == 404
    # A code in the URL opens nothing.
    assert (
        "data-status"
        not in public.get(f"/complaints/status/?reference={reference}&access_code={code}").content.decode()
    )

    # The officer works the case: a note, then the answer.
    client = login_as(Client(), officer)
    case = client.get(f"/complaints/{complaint.pk}/")
    assert case.status_code == 200 and "Secret detail 4711" in case.content.decode()
    response = client.post(f"/complaints/{complaint.pk}/", {"action": "note", "note-text": "Called the school."})
    assert response.status_code == 302
    assert ComplaintNote.objects.get(complaint=complaint).text == "Called the school."
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_PROGRESS
    # The note is internal.
    assert "Called the school" not in check_status(public, reference, code).content.decode()

    # Answering needs an outcome.
    refused = client.post(
        f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "answered", "case-outcome": ""}
    )
    assert refused.status_code == 409
    response = client.post(
        f"/complaints/{complaint.pk}/",
        {"action": "update", "case-status": "closed", "case-outcome": "The photo was removed; the teacher apologised."},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED and complaint.concluded_at is not None

    status = check_status(public, reference, code).content.decode()
    assert 'data-status="closed"' in status and "The photo was removed" in status
    assert "Called the school" not in status


def test_the_code_is_case_insensitive_and_ignores_dashes(db: None) -> None:
    reference, code = reference_and_code(submit(Client()))
    assert check_status(Client(), reference.lower(), code.replace("-", "").lower()).status_code == 200


def test_wrong_codes_are_throttled(db: None) -> None:
    reference, code = reference_and_code(submit(Client()))
    client = Client()
    statuses = [
        check_status(client, reference, f"WRONG-{n:04d}").status_code for n in range(spam.CODE_ATTEMPTS_PER_CASE)
    ]
    assert set(statuses) == {404}
    # The case is now locked for an hour, even with the right code and from another address.
    assert check_status(client, reference, code).status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.77")
    response = check_status(other, reference, code)
    assert response.status_code == 429
    assert "Too many wrong access codes" in response.content.decode()


# --- Spam resistance --------------------------------------------------------------------------------


def test_the_honeypot_refuses(db: None) -> None:
    response = submit(Client(), **{spam.HONEYPOT_FIELD: "http://spam.example"})
    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_form_sent_too_fast_is_refused(db: None) -> None:
    # The clock stands still: a first request that loads the whole site can take seconds on a busy machine.
    with time_machine.travel(timezone.now(), tick=False):
        response = submit(Client(), **{spam.TOKEN_FIELD: token(seconds_ago=0)})
    assert response.status_code == 400
    assert "too quickly" in response.content.decode()
    assert "Secret detail 4711" in response.content.decode()  # what the person wrote is kept
    assert not Complaint.objects.exists()


def test_a_form_older_than_a_day_is_refused(db: None) -> None:
    response = submit(Client(), **{spam.TOKEN_FIELD: token(seconds_ago=25 * 3600)})
    assert response.status_code == 400
    assert "more than a day" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_forged_or_missing_timestamp_is_refused(db: None) -> None:
    assert submit(Client(), **{spam.TOKEN_FIELD: "1700000000"}).status_code == 400
    assert submit(Client(), **{spam.TOKEN_FIELD: ""}).status_code == 400
    assert not Complaint.objects.exists()


def test_the_rate_limit_refuses_with_429(db: None, settings: Any) -> None:
    settings.PRIVACY_COMPLAINTS_PER_HOUR = 5
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert [submit(client).status_code for _ in range(5)] == [201] * 5
    response = submit(client)
    assert response.status_code == 429
    assert "Too many enquiries" in response.content.decode()
    assert Complaint.objects.count() == 5
    # Another address is not affected.
    assert submit(Client(REMOTE_ADDR="198.51.100.8")).status_code == 201


def test_the_rate_limit_ignores_a_forged_forwarded_for(db: None, settings: Any) -> None:
    settings.PRIVACY_COMPLAINTS_PER_HOUR = 2
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR="198.51.100.9")
    statuses = [
        client.post("/complaints/new/", form_data(), HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_counts(db: None, settings: Any) -> None:
    settings.PRIVACY_COMPLAINTS_PER_HOUR = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    assert proxy.post("/complaints/new/", form_data(), HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 201
    assert proxy.post("/complaints/new/", form_data(), HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 201
    assert proxy.post("/complaints/new/", form_data(), HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429


def test_spam_refusals_count_against_the_limit(db: None, settings: Any) -> None:
    settings.PRIVACY_COMPLAINTS_PER_HOUR = 3
    client = Client(REMOTE_ADDR="198.51.100.10")
    for _ in range(3):
        assert submit(client, **{spam.HONEYPOT_FIELD: "x"}).status_code == 400
    assert submit(client).status_code == 429


@pytest.mark.parametrize(
    "field,value",
    [
        ("message", ""),
        ("message", "x" * 5001),
        ("kind", "lawsuit"),
        ("municipality", "999999"),
        ("name", "Eve\r\nBcc: victim@example.org"),
    ],
)
def test_bad_input_is_a_4xx(db: None, field: str, value: str) -> None:
    response = submit(Client(), **{field: value})
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_an_unlisted_municipality_cannot_be_named(tenant_a: Tenant) -> None:
    # Not on the adopters page: not offered, and refused when sent anyway.
    assert tenant_a.municipality.name not in Client().get("/complaints/new/").content.decode()
    assert submit(Client(), municipality=str(tenant_a.municipality.pk)).status_code == 400


def test_the_refusals_are_translated(db: None) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    response = submit(client, **{spam.TOKEN_FIELD: token(seconds_ago=0)})
    assert response.status_code == 400
    assert "too quickly" not in response.content.decode()


# --- E-mail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "someone@example.org\r\nBcc: victim@example.org",
        "someone@example.org\nBcc: victim@example.org",
        "someone@example.org\r\n",
        "someone@example.org, victim@example.org",
        "Someone <someone@example.org>",
        "someone@example.org%0d%0aBcc:victim@example.org",
        "not-an-address",
    ],
)
def test_header_injection_in_the_address_is_refused_and_nothing_is_sent(db: None, address: str) -> None:
    response = submit(Client(), email=address)
    assert response.status_code == 400
    assert not Complaint.objects.exists()
    assert mail.outbox == []


def test_the_acknowledgement_has_the_reference_but_not_the_message(db: None) -> None:
    response = submit(Client(), email="parent@example.org", name="A parent")
    reference, code = reference_and_code(response)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["parent@example.org"]
    assert reference in sent.subject and reference in sent.body
    assert "/complaints/status/" in sent.body
    for secret in ("Secret detail 4711", MESSAGE, code, code.replace("-", "")):
        assert secret not in sent.body and secret not in sent.subject


def test_the_acknowledgement_is_in_the_language_of_the_form(db: None) -> None:
    submit(Client(HTTP_ACCEPT_LANGUAGE="ja"), email="parent@example.org")
    assert mail.outbox and "We have received" not in mail.outbox[0].subject


def test_the_outcome_is_mailed_when_the_case_is_answered(officer: User) -> None:
    reference, _code = reference_and_code(submit(Client(), email="parent@example.org"))
    complaint = Complaint.objects.get(reference=reference)
    client = login_as(Client(), officer)
    client.post(f"/complaints/{complaint.pk}/", {"action": "note", "note-text": "internal only"})
    assert len(mail.outbox) == 1  # notes send nothing
    client.post(
        f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "answered", "case-outcome": "We fixed it."}
    )
    assert len(mail.outbox) == 2
    outcome = mail.outbox[1]
    assert outcome.to == ["parent@example.org"] and reference in outcome.subject and "We fixed it." in outcome.body
    assert "internal only" not in outcome.body and "Secret detail 4711" not in outcome.body


def test_no_mail_without_an_address(officer: User) -> None:
    reference, _code = reference_and_code(submit(Client()))
    complaint = Complaint.objects.get(reference=reference)
    login_as(Client(), officer).post(
        f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "closed", "case-outcome": "Done."}
    )
    assert mail.outbox == []


# --- The officer's queue --------------------------------------------------------------------------


def test_only_the_privacy_officer_reaches_the_queue(officer: User, tenant_a: Tenant) -> None:
    reference, _code = reference_and_code(submit(Client()))
    complaint = Complaint.objects.get(reference=reference)
    for user in [*tenant_a.users(), tenant_a.classmate]:
        client = login_as(Client(), user)
        assert client.get("/complaints/").status_code == 403, user.role
        assert client.get(f"/complaints/{complaint.pk}/").status_code == 403, user.role
        assert client.post(f"/complaints/{complaint.pk}/", {"action": "note", "note-text": "x"}).status_code == 403
    assert Client().get("/complaints/").status_code == 302  # to the login page
    assert not ComplaintNote.objects.exists()
    client = login_as(Client(), officer)
    queue = client.get("/complaints/")
    assert queue.status_code == 200 and reference in queue.content.decode()
    assert client.get("/complaints/999999/").status_code == 404
    assert client.get("/complaints/99999999999999999999999/").status_code == 404


def test_the_queue_shows_deadlines_and_flags_the_overdue(officer: User, settings: Any) -> None:
    settings.PRIVACY_COMPLAINT_RESPONSE_DAYS = 14
    late_ref, _ = reference_and_code(submit(Client()))
    fresh_ref, _ = reference_and_code(submit(Client()))
    Complaint.objects.filter(reference=late_ref).update(received_at=timezone.now() - timedelta(days=15))
    body = login_as(Client(), officer).get("/complaints/").content.decode()
    rows = {ref: re.search(rf'<tr class="([^"]*)">\s*<td><a[^>]*>{ref}<', body) for ref in (late_ref, fresh_ref)}
    assert rows[late_ref] and rows[late_ref].group(1) == "overdue"
    assert rows[fresh_ref] and rows[fresh_ref].group(1) == ""


def test_deadlines_on_the_privacy_officers_dashboard(officer: User, settings: Any) -> None:
    settings.PRIVACY_COMPLAINT_RESPONSE_DAYS = 14
    late_ref, _ = reference_and_code(submit(Client()))
    fresh_ref, _ = reference_and_code(submit(Client()))
    closed_ref, _ = reference_and_code(submit(Client()))
    Complaint.objects.filter(reference=late_ref).update(received_at=timezone.now() - timedelta(days=20))
    Complaint.objects.filter(reference=closed_ref).update(
        status=Complaint.Status.CLOSED, received_at=timezone.now() - timedelta(days=30)
    )
    response = login_as(Client(), officer).get("/privacy/officer/")
    body = response.content.decode()
    assert late_ref in body and fresh_ref in body and closed_ref not in body
    late_row = body[: body.index(late_ref)].rsplit("<tr", 1)[1]
    fresh_row = body[: body.index(fresh_ref)].rsplit("<tr", 1)[1]
    assert "overdue" in late_row and "Overdue" in late_row
    assert "overdue" not in fresh_row
    assert 'href="/complaints/"' in body  # the queue is linked from the dashboard


def test_the_response_deadline_is_configurable(officer: User, settings: Any) -> None:
    reference, _ = reference_and_code(submit(Client()))
    complaint = Complaint.objects.get(reference=reference)
    settings.PRIVACY_COMPLAINT_RESPONSE_DAYS = 14
    assert complaint.respond_by == complaint.received_at + timedelta(days=14)
    settings.PRIVACY_COMPLAINT_RESPONSE_DAYS = 7
    assert complaint.respond_by == complaint.received_at + timedelta(days=7)


def test_officer_reads_and_changes_are_audited_with_ids_only(officer: User) -> None:
    reference, _ = reference_and_code(submit(Client(), email="parent@example.org", name="A parent"))
    complaint = Complaint.objects.get(reference=reference)
    client = login_as(Client(), officer)
    client.get(f"/complaints/{complaint.pk}/")
    client.post(f"/complaints/{complaint.pk}/", {"action": "note", "note-text": "Note text 123"})
    client.post(
        f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "answered", "case-outcome": "Answer 456"}
    )
    entries = AuditEntry.objects.filter(target_type="Complaint", target_id=str(complaint.pk))
    actions = list(entries.values_list("action", flat=True))
    assert actions.count("complaint.viewed") >= 1
    assert "complaint.note_added" in actions and "complaint.updated" in actions and "complaint.received" in actions
    assert all(e.actor_id == officer.pk for e in entries if e.action != "complaint.received")
    update = entries.get(action="complaint.updated")
    assert update.details["status_to"] == "answered"
    text = " ".join(str(e.details) for e in entries)
    for personal in ("parent@example.org", "A parent", "Note text 123", "Answer 456", "Secret detail"):
        assert personal not in text


def test_an_impossible_status_change_is_refused(officer: User) -> None:
    reference, _ = reference_and_code(submit(Client()))
    complaint = Complaint.objects.get(reference=reference)
    client = login_as(Client(), officer)
    client.post(f"/complaints/{complaint.pk}/", {"action": "note", "note-text": "looking into it"})  # in progress
    response = client.post(
        f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "new", "case-outcome": ""}
    )
    assert response.status_code == 409
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_PROGRESS
    assert client.post(f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "bogus"}).status_code == 400
    assert client.post(f"/complaints/{complaint.pk}/", {"action": "nonsense"}).status_code == 400


# --- Retention ------------------------------------------------------------------------------------


def test_retention_deletes_cases_three_years_after_they_concluded(officer: User, settings: Any) -> None:
    settings.PRIVACY_COMPLAINT_RETENTION_DAYS = 3 * 365
    refs = [reference_and_code(submit(Client()))[0] for _ in range(3)]
    now = timezone.now()
    old, recent, still_open = (Complaint.objects.get(reference=r) for r in refs)
    Complaint.objects.filter(pk=old.pk).update(status="closed", concluded_at=now - timedelta(days=3 * 365 + 1))
    Complaint.objects.filter(pk=recent.pk).update(status="answered", concluded_at=now - timedelta(days=300))
    Complaint.objects.filter(pk=still_open.pk).update(received_at=now - timedelta(days=5 * 365))
    ComplaintNote.objects.create(complaint=old, author=officer, text="n")

    assert list(retention.expired(now)) == [old]
    assert retention.purge(now, dry_run=True) == {"complaints.Complaint": 1, "complaints.ComplaintNote": 1}
    assert Complaint.objects.count() == 3
    assert retention.purge(now) == {"complaints.Complaint": 1, "complaints.ComplaintNote": 1}
    assert set(Complaint.objects.values_list("reference", flat=True)) == {refs[1], refs[2]}
    assert not ComplaintNote.objects.exists()


# --- Demo -----------------------------------------------------------------------------------------


def test_the_demo_fills_the_privacy_officers_dashboard(db: None) -> None:
    from classnote.demo.data import create_demo

    create_demo()
    officer = User.objects.get(username="privacy-officer")
    body = login_as(Client(), officer).get("/privacy/officer/").content.decode()
    open_cases = Complaint.objects.filter(status__in=Complaint.OPEN_STATUSES)
    assert open_cases.count() == 2 and all(case.reference in body for case in open_cases)
    assert any(case.overdue for case in open_cases) and "Overdue" in body
    assert "Preliminary report to the regulator" in body


# --- Nobody can make the form a mail cannon or outrun its limit -------------------------------------


def test_acknowledgements_to_one_address_are_limited_whoever_sends_the_form(db: None, settings: Any) -> None:
    """The form mails an acknowledgement to the address typed into it: from many networks, one
    could flood somebody else's mailbox. Each case is still opened; only the mail is left out."""
    settings.PRIVACY_COMPLAINTS_PER_HOUR = 100
    victim = "Parent@Example.org"
    for number in range(spam.ACKNOWLEDGEMENTS_PER_ADDRESS + 3):
        address = victim.lower() if number % 2 else victim
        assert submit(Client(REMOTE_ADDR=f"198.51.100.{number + 20}"), email=address).status_code == 201
    assert Complaint.objects.count() == spam.ACKNOWLEDGEMENTS_PER_ADDRESS + 3
    assert len(mail.outbox) == spam.ACKNOWLEDGEMENTS_PER_ADDRESS
    submit(Client(REMOTE_ADDR="198.51.100.99"), email="someone-else@example.org")
    assert mail.outbox[-1].to == ["someone-else@example.org"]


@pytest.mark.django_db(transaction=True)
def test_parallel_forms_from_one_address_open_no_more_cases_than_the_limit(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hourly limit is taken, atomically, before a case is opened: parallel forms all read
    "under the limit" first (the spy holds each until all have), and still no more get through."""
    settings.PRIVACY_COMPLAINTS_PER_HOUR = 3
    parallel = 8
    gate = threading.Barrier(parallel)
    original = spam.check_form

    def held(data: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait(timeout=5)
        return original(data)

    monkeypatch.setattr(spam, "check_form", held)
    # The in-memory test database takes one writer at a time (the race is before the write anyway).
    writing = threading.Lock()
    open_case = complaint_actions.open_case

    def one_at_a_time(**kwargs: Any) -> Any:
        with writing:
            return open_case(**kwargs)

    monkeypatch.setattr(complaint_actions, "open_case", one_at_a_time)
    forms = [form_data() for _ in range(parallel)]

    def send(data: dict[str, Any]) -> int:
        try:
            return int(Client(REMOTE_ADDR="198.51.100.50").post("/complaints/new/", data).status_code)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        statuses = sorted(pool.map(send, forms))
    assert statuses == [201] * 3 + [429] * (parallel - 3)
    assert Complaint.objects.count() == 3
