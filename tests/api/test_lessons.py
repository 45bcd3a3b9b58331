"""The lesson through the API: open, send, peer sending, close, groups, submission boxes,
submitting, returning, shared answers (anonymised when asked) and the portfolio."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from classnote.cards.models import Card
from classnote.lessons.models import Submission, SubmissionBox
from tests.api.conftest import send, session, with_token
from tests.conftest import Tenant


def teacher_and_student(tenant: Tenant) -> tuple[Any, Any]:
    return session(tenant.teacher), session(tenant.student)


def test_lessons_of_a_class_are_listed_opened_and_read(tenant_a: Tenant) -> None:
    teacher, student = teacher_and_student(tenant_a)
    class_path = f"/api/classes/{tenant_a.school_class.pk}/lessons"
    opened = send(teacher, "POST", class_path, {"title": "  Fractions  "})
    assert opened.status_code == 201, opened.content
    lesson = opened.json()
    assert lesson["title"] == "Fractions" and lesson["teaching"] is True and lesson["closed_at"] is None

    listed = student.get(class_path).json()
    assert [entry["id"] for entry in listed] == [lesson["id"], tenant_a.lesson.pk]
    assert not any(entry["teaching"] for entry in listed)
    assert send(student, "POST", class_path, {"title": "Mine"}).status_code == 403

    detail = teacher.get(f"/api/lessons/{tenant_a.lesson.pk}").json()
    assert [b["title"] for b in detail["boxes"]] == ["Box aaa"]
    assert {s["id"] for s in detail["students"]} == {tenant_a.student.pk, tenant_a.classmate.pk}
    assert all(s["student_number"] for s in detail["students"])
    # Students see their classmates only while they may send to them.
    assert student.get(f"/api/lessons/{tenant_a.lesson.pk}").json()["students"] == []


def test_lessons_of_other_classes_are_not_found(tenant_a: Tenant, tenant_b: Tenant) -> None:
    outsider = with_token(tenant_b.teacher)
    other_class = session(tenant_a.other_class_student)
    for client in (outsider, other_class):
        assert client.get(f"/api/lessons/{tenant_a.lesson.pk}").status_code == 404
        assert client.get(f"/api/classes/{tenant_a.school_class.pk}/lessons").status_code == 404
    assert send(outsider, "POST", f"/api/lessons/{tenant_a.lesson.pk}/send", {"card_ids": [1]}).status_code == 404
    assert send(outsider, "POST", f"/api/lessons/{tenant_a.lesson.pk}/close").status_code == 404
    tenant_a.lesson.refresh_from_db()
    assert tenant_a.lesson.closed_at is None


def test_a_teacher_sends_to_the_class_a_group_or_chosen_students(tenant_a: Tenant) -> None:
    teacher, _student = teacher_and_student(tenant_a)
    lesson = tenant_a.lesson.pk
    path = f"/api/lessons/{lesson}/send"
    to_class = send(teacher, "POST", path, {"card_ids": [tenant_a.card.pk]})
    assert to_class.status_code == 200, to_class.content
    assert to_class.json() == {"recipients": 2, "copies": 2}

    chosen = send(
        teacher,
        "POST",
        path,
        {"card_ids": [tenant_a.card.pk], "to": "students", "student_ids": [tenant_a.classmate.pk]},
    )
    assert chosen.json() == {"recipients": 1, "copies": 1}
    # Only students of this class.
    stranger = send(
        teacher,
        "POST",
        path,
        {"card_ids": [tenant_a.card.pk], "to": "students", "student_ids": [tenant_a.other_class_student.pk]},
    )
    assert stranger.status_code == 400 and stranger.json()["detail"]

    group = send(
        teacher,
        "POST",
        f"/api/lessons/{lesson}/groups",
        {"name": "Table 1", "student_ids": [tenant_a.student.pk, tenant_a.other_class_student.pk]},
    )
    assert group.status_code == 201, group.content
    assert group.json()["member_ids"] == [tenant_a.student.pk]
    to_group = send(
        teacher, "POST", path, {"card_ids": [tenant_a.card.pk], "to": "group", "group_id": group.json()["id"]}
    )
    assert to_group.json() == {"recipients": 1, "copies": 1}
    assert teacher.get(f"/api/lessons/{lesson}").json()["groups"][0]["name"] == "Table 1"
    # Cards to send must be ones the teacher may read.
    unknown = send(teacher, "POST", path, {"card_ids": [999999]})
    assert unknown.status_code == 400


def test_students_cannot_send_cards_to_the_class(tenant_a: Tenant) -> None:
    student = session(tenant_a.student)
    own = Card.objects.filter(owner=tenant_a.student, frozen=False).first()
    assert own is not None
    for path, body in (
        (f"/api/lessons/{tenant_a.lesson.pk}/send", {"card_ids": [own.pk]}),
        (f"/api/lessons/{tenant_a.lesson.pk}/peer-sending", {"allowed": True}),
        (f"/api/lessons/{tenant_a.lesson.pk}/close", None),
        (f"/api/lessons/{tenant_a.lesson.pk}/boxes", {"title": "x"}),
        (f"/api/lessons/{tenant_a.lesson.pk}/groups", {"name": "x"}),
        (f"/api/boxes/{tenant_a.box.pk}/sharing", {"sharing": True}),
        (f"/api/boxes/{tenant_a.box.pk}/close", None),
        (f"/api/submissions/{tenant_a.submission.pk}/return", {"comment": "x"}),
    ):
        response = send(student, "POST", path, body)
        assert response.status_code == 403, path
        assert response.json()["detail"]
    assert student.get(f"/api/boxes/{tenant_a.box.pk}/submissions").status_code == 403
    assert Card.objects.filter(owner=tenant_a.classmate).count() == 1


def test_peer_sending_only_while_allowed(tenant_a: Tenant) -> None:
    teacher, student = teacher_and_student(tenant_a)
    lesson = tenant_a.lesson.pk
    own = Card.objects.filter(owner=tenant_a.student, frozen=False).first()
    assert own is not None
    body = {"card_id": own.pk, "student_ids": [tenant_a.classmate.pk]}
    refused = send(student, "POST", f"/api/lessons/{lesson}/peer-send", body)
    assert refused.status_code == 400 and refused.json()["detail"]

    allowed = send(teacher, "POST", f"/api/lessons/{lesson}/peer-sending", {"allowed": True})
    assert allowed.status_code == 200 and allowed.json()["peer_sending"] is True
    classmates = student.get(f"/api/lessons/{lesson}").json()["students"]
    assert classmates == [
        {"id": tenant_a.classmate.pk, "display_name": tenant_a.classmate.display_name, "student_number": ""}
    ]
    sent = send(student, "POST", f"/api/lessons/{lesson}/peer-send", body)
    assert sent.status_code == 200 and sent.json() == {"recipients": 1, "copies": 1}
    # Teachers do not peer-send; the route is the students'.
    assert send(teacher, "POST", f"/api/lessons/{lesson}/peer-send", body).status_code == 403


def test_closing_a_lesson_closes_its_boxes_and_stops_sending(tenant_a: Tenant) -> None:
    teacher, student = teacher_and_student(tenant_a)
    closed = send(teacher, "POST", f"/api/lessons/{tenant_a.lesson.pk}/close")
    assert closed.status_code == 200 and closed.json()["closed_at"]
    assert SubmissionBox.objects.get(pk=tenant_a.box.pk).is_open is False
    again = send(teacher, "POST", f"/api/lessons/{tenant_a.lesson.pk}/send", {"card_ids": [tenant_a.card.pk]})
    assert again.status_code == 400


def test_boxes_submissions_history_and_returning(tenant_a: Tenant) -> None:
    teacher, student = teacher_and_student(tenant_a)
    made = send(
        teacher,
        "POST",
        f"/api/lessons/{tenant_a.lesson.pk}/boxes",
        {"title": "Exit ticket", "deadline": "2030-01-01T10:00:00+09:00"},
    )
    assert made.status_code == 201, made.content
    box = made.json()
    assert box["is_open"]
    assert datetime.fromisoformat(box["deadline"]) == datetime(2030, 1, 1, 1, tzinfo=UTC)
    bad_deadline = send(
        teacher,
        "POST",
        f"/api/lessons/{tenant_a.lesson.pk}/boxes",
        {"title": "x", "deadline": "0001-01-01T00:00:00+14:00"},
    )
    assert bad_deadline.status_code == 422

    own = Card.objects.filter(owner=tenant_a.student, frozen=False, lesson=tenant_a.lesson).first()
    assert own is not None
    assert send(teacher, "POST", f"/api/boxes/{box['id']}/close").json()["is_open"] is False
    refused = send(student, "POST", f"/api/boxes/{box['id']}/submissions", {"card_id": own.pk})
    assert refused.status_code == 400 and refused.json()["detail"]
    assert send(teacher, "POST", f"/api/boxes/{box['id']}/open").json()["is_open"] is True

    first = send(student, "POST", f"/api/boxes/{box['id']}/submissions", {"card_id": own.pk})
    assert first.status_code == 201, first.content
    second = send(student, "POST", f"/api/boxes/{box['id']}/submissions", {"card_id": own.pk})
    assert second.json()["number"] == 2 and second.json()["is_current"]
    # Only one's own cards are submitted.
    foreign = send(student, "POST", f"/api/boxes/{box['id']}/submissions", {"card_id": tenant_a.card.pk})
    assert foreign.status_code == 404

    history = student.get(f"/api/submissions?box_id={box['id']}").json()
    assert [(s["number"], s["is_current"]) for s in history] == [(2, True), (1, False)]
    assert len(student.get("/api/submissions").json()) == 3  # the conftest's submission too

    current = teacher.get(f"/api/boxes/{box['id']}/submissions").json()
    assert [(s["student_id"], s["number"]) for s in current] == [(tenant_a.student.pk, 2)]
    returned = send(teacher, "POST", f"/api/submissions/{current[0]['id']}/return", {"comment": "Well reasoned."})
    assert returned.status_code == 200 and returned.json()["returned_at"]
    mine = student.get(f"/api/submissions?box_id={box['id']}").json()[0]
    assert mine["return_comment"] == "Well reasoned."

    portfolio = student.get("/api/portfolio").json()
    assert {entry["task"] for entry in portfolio} == {"Exit ticket", "Box aaa"}
    assert next(e for e in portfolio if e["task"] == "Exit ticket")["teacher_comment"] == "Well reasoned."
    assert teacher.get("/api/portfolio").status_code == 403
    assert teacher.get("/api/submissions").status_code == 403


def test_submissions_of_other_classes_cannot_be_returned_or_listed(tenant_a: Tenant, tenant_b: Tenant) -> None:
    outsider = with_token(tenant_b.teacher)
    assert (
        send(outsider, "POST", f"/api/submissions/{tenant_a.submission.pk}/return", {"comment": "x"}).status_code == 404
    )
    assert outsider.get(f"/api/boxes/{tenant_a.box.pk}/submissions").status_code == 404
    assert send(outsider, "POST", f"/api/boxes/{tenant_a.box.pk}/sharing", {"sharing": True}).status_code == 404
    other_student = session(tenant_a.other_class_student)
    assert other_student.get(f"/api/boxes/{tenant_a.box.pk}/shared").status_code == 404
    assert send(other_student, "POST", f"/api/boxes/{tenant_a.box.pk}/submissions", {"card_id": 1}).status_code == 404
    tenant_a.submission.refresh_from_db()
    assert tenant_a.submission.returned_at is None


def test_shared_answers_only_while_shared_and_anonymised_when_asked(tenant_a: Tenant) -> None:
    teacher, student = teacher_and_student(tenant_a)
    classmate = session(tenant_a.classmate)
    shared_path = f"/api/boxes/{tenant_a.box.pk}/shared"
    not_shared = classmate.get(shared_path)
    assert not_shared.status_code == 403 and not_shared.json()["detail"]

    # Named sharing: classmates see who answered.
    send(teacher, "POST", f"/api/boxes/{tenant_a.box.pk}/sharing", {"sharing": True})
    named = classmate.get(shared_path)
    assert named.status_code == 200
    assert named.json()[0]["student_id"] == tenant_a.student.pk
    assert named.json()[0]["student"] == tenant_a.student.display_name

    # Anonymous sharing: no id or name of any pupil anywhere in the answer, nor in the shared card.
    box = send(teacher, "POST", f"/api/boxes/{tenant_a.box.pk}/sharing", {"sharing": True, "anonymous": True})
    assert box.json()["anonymous"] is True
    anonymous = classmate.get(shared_path)
    assert anonymous.status_code == 200
    entries = anonymous.json()
    assert len(entries) == 1
    assert all(entry["student_id"] is None and entry["student"] is None for entry in entries)
    card = classmate.get(f"/api/cards/{entries[0]['card']['id']}")
    assert card.status_code == 200 and card.json()["mine"] is False
    pupils = [tenant_a.student, tenant_a.classmate]
    for body in (anonymous.content.decode(), card.content.decode()):
        for pupil in pupils:
            assert pupil.display_name not in body
            assert pupil.username not in body
            assert pupil.student_number not in body
    assert set(entries[0]) == {"id", "number", "late", "student_id", "student", "card", "submitted_at"}

    # Stopping the sharing ends it; the teacher reads submissions through the box, not here.
    send(teacher, "POST", f"/api/boxes/{tenant_a.box.pk}/sharing", {"sharing": False})
    assert classmate.get(shared_path).status_code == 403
    assert classmate.get(f"/api/cards/{entries[0]['card']['id']}").status_code == 404
    assert teacher.get(shared_path).status_code == 403
    assert Submission.objects.filter(box=tenant_a.box).count() == 1
