"""The lesson's rules, through the same actions the web UI and the API call."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from classnote.base.errors import ActionError, NotFound
from classnote.cards import actions as cards
from classnote.cards.models import Card
from classnote.lessons import actions
from classnote.lessons.models import Submission
from classnote.realtime.models import Event
from tests.conftest import Tenant, fresh_login, login_as


def test_a_sent_card_is_a_copy_and_the_original_stays(tenant_a: Tenant) -> None:
    original = tenant_a.card
    copies = Card.objects.filter(origin=original)
    assert copies.count() == 2  # one per pupil of the class (tests/conftest.py)
    mine = copies.get(owner=tenant_a.student)
    cards.autosave(tenant_a.student, mine.pk, mine.version, {"text": "my answer"})
    original.refresh_from_db()
    assert original.text == "Secret task text aaa"
    assert original.owner == tenant_a.teacher


def test_sending_to_chosen_students_and_groups(tenant_a: Tenant) -> None:
    card = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Only for one")
    delivered = actions.send_cards(
        tenant_a.teacher, tenant_a.lesson.pk, [card.pk], to="students", student_ids=[tenant_a.classmate.pk]
    )
    assert list(delivered) == [tenant_a.classmate.pk]
    group = actions.create_group(tenant_a.teacher, tenant_a.school_class.pk, "Table 1", [tenant_a.student.pk])
    delivered = actions.send_cards(tenant_a.teacher, tenant_a.lesson.pk, [card.pk], to="group", group_id=group.pk)
    assert list(delivered) == [tenant_a.student.pk]
    with pytest.raises(ActionError):  # a pupil of another class is not a recipient of this lesson
        actions.send_cards(
            tenant_a.teacher,
            tenant_a.lesson.pk,
            [card.pk],
            to="students",
            student_ids=[tenant_a.other_class_student.pk],
        )


def test_the_event_is_stored_for_the_recipients_only(tenant_a: Tenant) -> None:
    card = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Hello")
    actions.send_cards(
        tenant_a.teacher, tenant_a.lesson.pk, [card.pk], to="students", student_ids=[tenant_a.student.pk]
    )
    event = Event.objects.filter(kind="cards.received").latest("seq")
    assert event.audience["users"] == sorted([tenant_a.student.pk, tenant_a.teacher.pk])
    assert list(event.per_user) == [str(tenant_a.student.pk)]


def test_students_cannot_send_to_each_other_until_the_teacher_allows_it(tenant_a: Tenant) -> None:
    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.student)
    with pytest.raises(ActionError):
        actions.peer_send(tenant_a.student, tenant_a.lesson.pk, mine.pk, [tenant_a.classmate.pk])
    actions.set_peer_sending(tenant_a.teacher, tenant_a.lesson.pk, True)
    delivered = actions.peer_send(tenant_a.student, tenant_a.lesson.pk, mine.pk, [tenant_a.classmate.pk])
    assert list(delivered) == [tenant_a.classmate.pk]
    actions.set_peer_sending(tenant_a.teacher, tenant_a.lesson.pk, False)
    with pytest.raises(ActionError):
        actions.peer_send(tenant_a.student, tenant_a.lesson.pk, mine.pk, [tenant_a.classmate.pk])


def test_resubmission_keeps_history_and_late_is_flagged(tenant_a: Tenant) -> None:
    box = actions.create_box(
        tenant_a.teacher, tenant_a.lesson.pk, "Homework", deadline=timezone.now() - timedelta(minutes=1)
    )
    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.student)
    first = actions.submit(tenant_a.student, box.pk, mine.pk)
    cards.autosave(tenant_a.student, mine.pk, Card.objects.get(pk=mine.pk).version, {"text": "better"})
    second = actions.submit(tenant_a.student, box.pk, mine.pk)
    first.refresh_from_db()
    assert (first.number, first.is_current, second.number, second.is_current) == (1, False, 2, True)
    assert second.is_late
    assert second.card.frozen and second.card.text == "better" and first.card.text != "better"
    with pytest.raises(NotFound):  # a submitted snapshot cannot be edited: it is not among one's editable cards
        cards.autosave(tenant_a.student, second.card.pk, second.card.version, {"text": "changed later"})


def test_a_closed_box_refuses_submissions(tenant_a: Tenant) -> None:
    actions.set_box_open(tenant_a.teacher, tenant_a.box.pk, False)
    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.classmate)
    with pytest.raises(ActionError):
        actions.submit(tenant_a.classmate, tenant_a.box.pk, mine.pk)


def test_returning_a_submission_tells_the_student(tenant_a: Tenant) -> None:
    actions.return_submission(tenant_a.teacher, tenant_a.submission.pk, "Good, now explain step 2.")
    event = Event.objects.filter(kind="submission.returned").latest("seq")
    assert event.audience == {"roles": ["teacher"], "users": [tenant_a.student.pk]}
    page = login_as(Client(), tenant_a.student).get(f"/lessons/{tenant_a.lesson.pk}/").content.decode()
    assert "Good, now explain step 2." in page


def test_shared_answers_are_visible_to_classmates_and_can_be_anonymous(tenant_a: Tenant) -> None:
    classmate = login_as(Client(), tenant_a.classmate)
    submitted_card = tenant_a.submission.card_id
    assert classmate.get(f"/cards/{submitted_card}/").status_code == 404
    actions.share_answers(tenant_a.teacher, tenant_a.box.pk, True, anonymous=True)
    page = classmate.get(f"/lessons/{tenant_a.lesson.pk}/").content.decode()
    assert f"/cards/{submitted_card}/" in page
    assert tenant_a.student.display_name not in page
    assert classmate.get(f"/cards/{submitted_card}/").status_code == 200
    # A pupil of another class of the same school does not see them.
    other = login_as(Client(), tenant_a.other_class_student)
    assert other.get(f"/cards/{submitted_card}/").status_code == 404
    actions.share_answers(tenant_a.teacher, tenant_a.box.pk, False)
    assert classmate.get(f"/cards/{submitted_card}/").status_code == 404


def test_autosave_refuses_a_stale_version_without_losing_anything(tenant_a: Tenant) -> None:
    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.classmate)
    client = login_as(Client(), tenant_a.classmate)
    url = f"/cards/{mine.pk}/autosave/"
    ok = client.post(
        url,
        json.dumps({"version": mine.version, "fields": {"text": "first"}}),
        content_type="application/json",
    )
    assert ok.status_code == 200
    stale = client.post(
        url,
        json.dumps({"version": mine.version, "fields": {"text": "from the old tab"}}),
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert stale.json()["fields"]["text"] == "first"
    assert Card.objects.get(pk=mine.pk).text == "first"


def test_drawing_strokes_are_validated(tenant_a: Tenant) -> None:
    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.classmate)
    for bad in ([{"c": "red", "p": [[1, 2]]}], "not a list", [{"c": "#000000", "p": [["x", 1]]}]):
        with pytest.raises(ActionError):
            cards.autosave(tenant_a.classmate, mine.pk, Card.objects.get(pk=mine.pk).version, {"strokes": bad})
    saved = cards.autosave(
        tenant_a.classmate,
        mine.pk,
        Card.objects.get(pk=mine.pk).version,
        {"strokes": [{"c": "#FF0000", "w": 999, "p": [[5000, -3], [10, 10]]}]},
    )
    assert saved.strokes == [{"c": "#ff0000", "w": 60, "e": False, "p": [[1000, 0], [10, 10]]}]


def test_materials_are_reusable_and_school_materials_stay_in_the_school(tenant_a: Tenant, tenant_b: Tenant) -> None:
    personal = cards.save_to_library(tenant_a.teacher, tenant_a.card.pk, "personal")
    shared = cards.save_to_library(tenant_a.teacher, tenant_a.card.pk, "school")
    page = login_as(Client(), tenant_a.school_admin).get("/materials/").content.decode()
    assert f"/cards/{shared.pk}/" in page and f"/cards/{personal.pk}/" not in page
    assert login_as(Client(), tenant_b.teacher).get(f"/cards/{shared.pk}/").status_code == 404
    with pytest.raises(ActionError):
        cards.save_to_library(tenant_a.student, tenant_a.submission.card_id, "personal")
    # Reused in a later lesson of the class: sending from the materials box.
    lesson = actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "Next year")
    assert len(actions.send_cards(tenant_a.teacher, lesson.pk, [personal.pk])) == 2


def test_a_linked_sequence_is_copied_and_presented_in_order(tenant_a: Tenant) -> None:
    lead = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Step 1")
    step2 = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Step 2")
    step3 = cards.create_card(tenant_a.teacher, kind="text", lesson_id=tenant_a.lesson.pk, title="Step 3")
    cards.link_sequence(tenant_a.teacher, lead.pk, [step3.pk, step2.pk])
    delivered = actions.send_cards(tenant_a.teacher, tenant_a.lesson.pk, [lead.pk])
    copy = delivered[tenant_a.student.pk][0]
    assert [c.title for c in copy.sequence_items.order_by("position")] == ["Step 3", "Step 2"]
    page = login_as(Client(), tenant_a.student).get(f"/cards/{copy.pk}/present/").content.decode()
    assert page.index("Step 1") < page.index("Step 3") < page.index("Step 2")


def test_the_submission_box_page_stays_cheap_at_300_entries(tenant_a: Tenant, django_assert_max_num_queries) -> None:
    from classnote.accounts.models import User, student_username
    from classnote.base.roles import Role
    from classnote.tenancy.models import Membership

    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.student)
    for n in range(300):
        pupil = User.objects.create_user(
            student_username(tenant_a.school, f"p{n}"),
            None,
            display_name=f"P{n}",
            role=Role.STUDENT,
            municipality=tenant_a.municipality,
            school=tenant_a.school,
            student_number=f"p{n}",
        )
        Membership.objects.create(school_class=tenant_a.school_class, user=pupil, role="student")
        snapshot = cards.copy_card(mine, owner=pupil, lesson=tenant_a.lesson, frozen=True)
        Submission.objects.create(box=tenant_a.box, student=pupil, card=snapshot)
    client = login_as(Client(), tenant_a.teacher)
    with django_assert_max_num_queries(40):
        page = client.get(f"/lessons/{tenant_a.lesson.pk}/")
    assert page.content.decode().count("data-submission=") >= 301


def test_portfolio_export_holds_every_submission(tenant_a: Tenant) -> None:
    mine = Card.objects.get(origin=tenant_a.card, owner=tenant_a.student)
    cards.autosave(
        tenant_a.student,
        mine.pk,
        mine.version,
        {"strokes": [{"c": "#000000", "w": 4, "p": [[1, 1], [50, 50]]}]},
    )
    box = actions.create_box(tenant_a.teacher, tenant_a.lesson.pk, "Drawing task")
    actions.submit(tenant_a.student, box.pk, mine.pk)
    response = login_as(Client(), tenant_a.student).get("/portfolio/export.zip")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    index = json.loads(archive.read("index.json"))
    assert {s["task"] for s in index["submissions"]} == {"Box aaa", "Drawing task"}
    assert any(name.endswith("drawing.png") for name in archive.namelist())
    assert "index.html" in archive.namelist()
    # The school can export it too (transfer, graduation); a teacher of another school cannot.
    school = fresh_login(Client(), tenant_a.school_admin).get(f"/users/{tenant_a.student.pk}/portfolio.zip")
    assert school.status_code == 200
