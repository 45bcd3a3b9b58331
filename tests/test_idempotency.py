"""Idempotent writes (core/idempotency.py): a write retried with its Idempotency-Key after a lost
answer returns the first outcome and makes no duplicate; pages, the card editor's autosave and the
API alike."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.translation import override

from classnote.api.api import api
from classnote.cards.models import Card
from classnote.core import idempotency
from classnote.core.models import IdempotencyKey, expired
from classnote.core.tasks import purge_idempotency_keys
from classnote.lessons import actions as lesson_actions
from classnote.lessons.models import Submission
from classnote.realtime.models import Event
from classnote.rights import disclosure, erasure
from tests.api.conftest import english, send, session, with_token
from tests.conftest import Tenant, login_as, make_tenant

REPLAYED = "Idempotent-Replayed"


def new_key() -> str:
    return str(uuid.uuid4())


def keyed(key: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": key}


def own_card(tenant: Tenant) -> Card:
    card = Card.objects.filter(owner=tenant.student, frozen=False, lesson=tenant.lesson).first()
    assert card is not None
    return card


def submissions(tenant: Tenant) -> int:
    return Submission.objects.filter(box=tenant.box, student=tenant.student).count()


def client_of(user: Any) -> Client:
    return login_as(Client(raise_request_exception=False), user)


def assert_same(first: Any, again: Any) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.get("Location") == first.get("Location")
    assert again.get("Content-Type") == first.get("Content-Type")
    assert first.get(REPLAYED) is None
    assert again[REPLAYED] == "true"


# --- The page forms and the card editor -----------------------------------------------------------


def test_a_retried_submit_returns_the_first_outcome_and_makes_no_second_submission(tenant_a: Tenant) -> None:
    pupil = client_of(tenant_a.student)
    path, form, key = f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}, new_key()
    before, events = submissions(tenant_a), Event.objects.count()
    first = pupil.post(path, form, **keyed(key))
    assert first.status_code == 302 and first["Location"].endswith(f"/lessons/{tenant_a.lesson.pk}/")
    assert submissions(tenant_a) == before + 1
    events_after_first = Event.objects.count()
    assert events_after_first > events
    for _retry in range(2):
        again = pupil.post(path, form, **keyed(key))
        assert_same(first, again)
    assert submissions(tenant_a) == before + 1
    assert Event.objects.count() == events_after_first
    record = IdempotencyKey.objects.get(user=tenant_a.student, key=key)
    assert (record.method, record.path, record.status) == ("POST", path, 302)
    # A new key is a new submission (a pupil may resubmit on purpose).
    assert pupil.post(path, form, **keyed(new_key())).status_code == 302
    assert submissions(tenant_a) == before + 2


def test_a_form_without_javascript_may_send_the_key_as_a_hidden_field(tenant_a: Tenant) -> None:
    pupil = client_of(tenant_a.student)
    path, key = f"/boxes/{tenant_a.box.pk}/submit/", new_key()
    form = {"card": own_card(tenant_a).pk, idempotency.FIELD: key}

    def post(data: dict[str, Any]) -> Any:  # as a browser sends a form without files
        return pupil.post(path, urlencode(data), content_type="application/x-www-form-urlencoded")

    before = submissions(tenant_a)
    first = post(form)
    again = post(form)
    assert_same(first, again)
    assert submissions(tenant_a) == before + 1
    assert post(form | {idempotency.FIELD: "bad key!"}).status_code == 400


def test_a_form_sent_by_script_then_by_the_browser_is_one_write(tenant_a: Tenant) -> None:
    """app.js sends the form with the header; the browser then sends it again itself with the key in
    the hidden field (to show the page the write led to): the server replays."""
    teacher = client_of(tenant_a.teacher)
    path, key = f"/submissions/{tenant_a.submission.pk}/return/", new_key()
    by_script = urlencode([("csrfmiddlewaretoken", "t"), (idempotency.FIELD, key), ("comment", "Line one\r\ntwo")])
    by_browser = urlencode([("csrfmiddlewaretoken", "t"), ("comment", "Line one\ntwo"), (idempotency.FIELD, key)])
    form = "application/x-www-form-urlencoded"
    first = teacher.post(path, by_script, content_type=form, **keyed(key))
    events = Event.objects.count()
    assert_same(first, teacher.post(path, by_browser, content_type=form))
    assert Event.objects.count() == events
    changed = urlencode([("comment", "Another comment"), (idempotency.FIELD, key)])
    assert teacher.post(path, changed, content_type=form).status_code == 422


def test_without_a_key_nothing_changes(tenant_a: Tenant) -> None:
    pupil = client_of(tenant_a.student)
    path, form = f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}
    before = submissions(tenant_a)
    assert pupil.post(path, form).status_code == 302
    assert pupil.post(path, form).status_code == 302
    assert submissions(tenant_a) == before + 2
    assert not IdempotencyKey.objects.exists()
    # Signed out: the key is not looked at (not even refused when malformed).
    anonymous = Client(raise_request_exception=False)
    assert anonymous.post(path, form, **keyed("bad key!")).status_code != 400
    assert not IdempotencyKey.objects.exists()


def test_a_retried_autosave_returns_the_first_version(tenant_a: Tenant) -> None:
    card = own_card(tenant_a)
    pupil = client_of(tenant_a.student)
    path, key = f"/cards/{card.pk}/autosave/", new_key()
    body = json.dumps({"version": card.version, "fields": {"text": "my answer"}})
    first = pupil.post(path, body, content_type="application/json", **keyed(key))
    assert first.status_code == 200, first.content
    again = pupil.post(path, body, content_type="application/json", **keyed(key))
    # Without the key the retry would be a 409: the version moved on with the first save.
    assert_same(first, again)
    card.refresh_from_db()
    assert card.version == first.json()["version"] and card.text == "my answer"


def test_a_retried_send_makes_no_second_copies(tenant_a: Tenant) -> None:
    teacher = client_of(tenant_a.teacher)
    path, form, key = f"/lessons/{tenant_a.lesson.pk}/send/", {"cards": [tenant_a.card.pk]}, new_key()
    before = Card.objects.count()
    first = teacher.post(path, form, **keyed(key))
    assert first.status_code == 302
    copies = Card.objects.count()
    assert copies == before + 2  # the class's two pupils
    assert_same(first, teacher.post(path, form, **keyed(key)))
    assert Card.objects.count() == copies


def test_a_retried_return_returns_once(tenant_a: Tenant, django_capture_on_commit_callbacks: Any) -> None:
    teacher = client_of(tenant_a.teacher)
    path, form, key = f"/submissions/{tenant_a.submission.pk}/return/", {"comment": "Good."}, new_key()
    with django_capture_on_commit_callbacks() as published:
        first = teacher.post(path, form, **keyed(key))
    assert first.status_code == 302 and published  # the event goes out after the outer commit
    returned_at = Submission.objects.get(pk=tenant_a.submission.pk).returned_at
    events = Event.objects.count()
    with django_capture_on_commit_callbacks() as published_again:
        assert_same(first, teacher.post(path, form, **keyed(key)))
    assert published_again == []
    assert Event.objects.count() == events
    assert Submission.objects.get(pk=tenant_a.submission.pk).returned_at == returned_at


# --- Refusals -------------------------------------------------------------------------------------


def test_the_same_key_with_another_request_is_refused_in_the_users_language(tenant_a: Tenant) -> None:
    pupil = client_of(tenant_a.student)  # the tenant speaks Japanese
    key = new_key()
    card = own_card(tenant_a)
    assert pupil.post(f"/boxes/{tenant_a.box.pk}/submit/", {"card": card.pk}, **keyed(key)).status_code == 302
    before = submissions(tenant_a)
    with override("ja"):
        expected = idempotency.reused_key_message()
    assert expected != idempotency.reused_key_message()  # translated
    other_body = pupil.post(f"/boxes/{tenant_a.box.pk}/submit/", {"card": card.pk + 1}, **keyed(key))
    assert other_body.status_code == 422 and expected in other_body.content.decode()
    other_path = pupil.post(
        f"/cards/{card.pk}/autosave/", json.dumps({"version": 1, "fields": {}}), "application/json", **keyed(key)
    )
    assert other_path.status_code == 422 and other_path.json()["detail"] == expected
    assert submissions(tenant_a) == before


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space", "ключ-12345", "a/b/c/d/e/f", ""])
def test_a_malformed_key_is_refused(tenant_a: Tenant, key: str) -> None:
    pupil = client_of(tenant_a.student)
    before = submissions(tenant_a)
    page = pupil.post(f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}, **keyed(key))
    assert page.status_code == 400
    with override("ja"):
        assert idempotency.invalid_key_message() in page.content.decode()
    english(tenant_a.student)
    as_json = send(session(tenant_a.student), "POST", f"/api/boxes/{tenant_a.box.pk}/submissions", {}, **keyed(key))
    assert as_json.status_code == 400 and as_json.json() == {"detail": idempotency.invalid_key_message()}
    token = send(with_token(tenant_a.teacher), "POST", f"/api/lessons/{tenant_a.lesson.pk}/close", **keyed(key))
    assert token.status_code == 400
    assert submissions(tenant_a) == before
    assert not IdempotencyKey.objects.exists()


def test_two_people_may_use_the_same_key(tenant_a: Tenant) -> None:
    key = new_key()
    for pupil in (tenant_a.student, tenant_a.classmate):
        card = Card.objects.filter(owner=pupil, frozen=False, lesson=tenant_a.lesson).first()
        assert card is not None
        response = client_of(pupil).post(f"/boxes/{tenant_a.box.pk}/submit/", {"card": card.pk}, **keyed(key))
        assert response.status_code == 302 and REPLAYED not in response
    assert IdempotencyKey.objects.filter(key=key).count() == 2
    assert Submission.objects.filter(box=tenant_a.box, student=tenant_a.classmate).count() == 1


def test_a_failed_write_is_rolled_back_unrecorded_and_runs_again(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_submit = lesson_actions.submit

    def submit_then_fail(*args: Any) -> Any:
        real_submit(*args)
        raise RuntimeError("the connection dropped after the write")

    pupil = client_of(tenant_a.student)
    path, form, key = f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}, new_key()
    before = submissions(tenant_a)
    monkeypatch.setattr(lesson_actions, "submit", submit_then_fail)
    assert pupil.post(path, form, **keyed(key)).status_code == 500
    assert submissions(tenant_a) == before
    assert not IdempotencyKey.objects.exists()
    monkeypatch.setattr(lesson_actions, "submit", real_submit)
    retry = pupil.post(path, form, **keyed(key))
    assert retry.status_code == 302 and REPLAYED not in retry
    assert submissions(tenant_a) == before + 1


def test_a_refusal_is_not_recorded_so_the_retry_runs(tenant_a: Tenant) -> None:
    english(tenant_a.student)
    student = session(tenant_a.student)
    path, body, key = f"/api/boxes/{tenant_a.box.pk}/submissions", {"card_id": own_card(tenant_a).pk}, new_key()
    lesson_actions.set_box_open(tenant_a.teacher, tenant_a.box.pk, False)
    assert send(student, "POST", path, body, **keyed(key)).status_code == 400
    lesson_actions.set_box_open(tenant_a.teacher, tenant_a.box.pk, True)
    assert send(student, "POST", path, body, **keyed(key)).status_code == 201


def test_a_replay_is_not_counted_as_a_write(tenant_a: Tenant, settings: Any) -> None:
    settings.WRITE_RATE_PER_MINUTE = 2
    pupil = client_of(tenant_a.student)
    path, form, key = f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}, new_key()
    assert pupil.post(path, form, **keyed(key)).status_code == 302
    for _retry in range(5):
        assert pupil.post(path, form, **keyed(key))[REPLAYED] == "true"
    assert pupil.post(path, form, **keyed(new_key())).status_code == 302  # the second write of the minute
    assert pupil.post(path, form, **keyed(new_key())).status_code == 429


# --- The API --------------------------------------------------------------------------------------

API_WRITES: list[tuple[str, Callable[[Tenant], tuple[str, str, dict[str, Any]]], Callable[[Tenant], Any]]] = [
    (
        "student",
        lambda t: ("POST", f"/api/boxes/{t.box.pk}/submissions", {"card_id": own_card(t).pk}),
        lambda t: Submission.objects.count(),
    ),
    (
        "student",
        lambda t: ("POST", "/api/cards", {"kind": "text", "lesson_id": t.lesson.pk, "title": "A new card"}),
        lambda t: Card.objects.count(),
    ),
    (
        "student",
        lambda t: ("PATCH", f"/api/cards/{own_card(t).pk}", {"version": own_card(t).version, "fields": {"text": "x"}}),
        lambda t: Card.objects.get(pk=own_card(t).pk).version,
    ),
    (
        "teacher",
        lambda t: ("POST", f"/api/lessons/{t.lesson.pk}/send", {"card_ids": [t.card.pk]}),
        lambda t: Card.objects.count(),
    ),
    (
        "teacher",
        lambda t: ("POST", f"/api/submissions/{t.submission.pk}/return", {"comment": "Fine."}),
        lambda t: Event.objects.count(),
    ),
    (
        "teacher",
        lambda t: ("POST", f"/api/lessons/{t.lesson.pk}/boxes", {"title": "Another box"}),
        lambda t: t.lesson.boxes.count(),
    ),
]


@pytest.mark.parametrize("by", ["session", "token"])
@pytest.mark.parametrize("index", range(len(API_WRITES)))
def test_a_retried_api_write_returns_the_first_answer_once(tenant_a: Tenant, index: int, by: str) -> None:
    who, request, count = API_WRITES[index]
    user = tenant_a.student if who == "student" else tenant_a.teacher
    if by == "token" and who == "student":
        pytest.skip("API tokens are for staff")
    client = session(user) if by == "session" else with_token(user)
    method, path, body = request(tenant_a)
    key = new_key()
    first = send(client, method, path, body, **keyed(key))
    assert 200 <= first.status_code < 300, first.content
    after_first = count(tenant_a)
    again = send(client, method, path, body, **keyed(key))
    assert_same(first, again)
    assert count(tenant_a) == after_first
    assert IdempotencyKey.objects.filter(user=user, key=key).count() == 1


def test_every_api_write_documents_the_header() -> None:
    schema = api.get_openapi_schema()
    writes = 0
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            if method.upper() in idempotency.WRITES:
                writes += 1
                assert idempotency.HEADER in names, operation["operationId"]
            else:
                assert idempotency.HEADER not in names
    assert writes >= 15


def test_a_secret_shown_once_is_not_kept_in_the_ledger(tenant_a: Tenant) -> None:
    teacher = session(tenant_a.teacher, fresh=True)
    key = new_key()
    first = send(teacher, "POST", "/api/tokens", {"name": "script"}, **keyed(key))
    assert first.status_code == 201 and first.json()["token"]
    again = send(teacher, "POST", "/api/tokens", {"name": "script"}, **keyed(key))
    assert again.status_code == 201 and again.content == b""
    assert again[idempotency.BODY_OMITTED] == "true" and again[REPLAYED] == "true"
    assert IdempotencyKey.objects.get(key=key).body is None


def test_a_replay_needs_the_csrf_token_the_write_needed(tenant_a: Tenant) -> None:
    browser = login_as(Client(enforce_csrf_checks=True, raise_request_exception=False), tenant_a.student)
    helper = login_as(Client(raise_request_exception=False), tenant_a.student)
    path, form, key = f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}, new_key()
    assert helper.post(path, form, **keyed(key)).status_code == 302
    forged = browser.post(path, form, **keyed(key))
    assert forged.status_code == 403 and REPLAYED not in forged


# --- Fingerprints, retention ----------------------------------------------------------------------


def _multipart(boundary: str, content: bytes) -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nnotes\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_a_multipart_fingerprint_ignores_the_boundary_a_browser_draws_anew(settings: Any) -> None:
    settings.FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]  # no uploader here
    factory = RequestFactory()

    def digest(boundary: str, content: bytes) -> tuple[str, Any]:
        request = factory.generic(
            "POST", "/api/files", _multipart(boundary, content), f"multipart/form-data; boundary={boundary}"
        )
        return idempotency.body_sha256(request), request

    content = bytes(range(256)) * 700  # ~180 KiB
    one, request = digest("----boundaryONE" + "1" * 20, content)
    two, _request = digest("----boundaryTWO" + "2" * 20, content)
    three, _request = digest("----boundaryONE" + "1" * 20, content[:-1] + b"!")
    assert one == two != three
    # The view still reads the whole form afterwards.
    assert request.POST["name"] == "notes" and request.FILES["upload"].read() == content


def test_old_records_are_purged(tenant_a: Tenant, settings: Any) -> None:
    pupil = client_of(tenant_a.student)
    pupil.post(f"/boxes/{tenant_a.box.pk}/submit/", {"card": own_card(tenant_a).pk}, **keyed(new_key()))
    IdempotencyKey.objects.update(created_at=timezone.now() - timezone.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS))
    fresh = client_of(tenant_a.classmate)
    card = Card.objects.filter(owner=tenant_a.classmate, lesson=tenant_a.lesson, frozen=False).first()
    assert card is not None
    fresh.post(f"/boxes/{tenant_a.box.pk}/submit/", {"card": card.pk}, **keyed(new_key()))
    assert expired().count() == 1
    purge_idempotency_keys.call_local()
    assert list(IdempotencyKey.objects.values_list("user", flat=True)) == [tenant_a.classmate.pk]
    # The person's disclosure export holds their records; deleting the person deletes them.
    exported = disclosure.collect(tenant_a.classmate)["tables"]["core.IdempotencyKey"]
    assert [row["path"] for row in exported["rows"]] == [f"/boxes/{tenant_a.box.pk}/submit/"]
    erasure.erase(tenant_a.classmate, actor=tenant_a.municipal_admin, reason="test")
    assert not IdempotencyKey.objects.exists()


# --- Two retries at once (PostgreSQL: the loser waits for the winner's row, then replays) -------------


@pytest.fixture
def postgres_only() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the PostgreSQL leg: DATABASE_URL=postgres://...)")
    yield


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_make_one_submission(
    postgres_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant("ccc")
    real_submit = lesson_actions.submit
    both_inside = threading.Barrier(2, timeout=30)

    def submit_together(*args: Any) -> Any:
        both_inside.wait()  # both requests are in their transactions, neither has written
        return real_submit(*args)

    monkeypatch.setattr(lesson_actions, "submit", submit_together)
    path, form, key = f"/boxes/{tenant.box.pk}/submit/", {"card": own_card(tenant).pk}, new_key()
    before = submissions(tenant)
    answers: list[Any] = []

    def retry() -> None:
        try:
            answers.append(client_of(tenant.student).post(path, form, **keyed(key)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 2
    assert sorted(a.status_code for a in answers) == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert sorted(a.get(REPLAYED, "") for a in answers) == ["", "true"]
    assert submissions(tenant) == before + 1
    assert IdempotencyKey.objects.filter(key=key).count() == 1
