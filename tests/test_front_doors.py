"""One rule, two front doors: the server-rendered pages and the JSON API must decide alike.

Every test here puts the same user in the same situation twice, once through a web page (its view
and template context) and once through the API (/api/...), and asserts that both doors apply the
same rule. Where the doors disagree today, the docstring names the rule and says which door is
right; the reasoning is privacy first, and otherwise the stricter door wins.

Situations come from tests/conftest.py (tenant_a: a class with a teacher, two pupils, a lesson
with a card sent to the class, a submission box and the first pupil's submission).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import html5lib
import pytest
from django.contrib.messages import get_messages
from django.db.models import Model
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from classnote.accounts.models import Role, User, student_username
from classnote.cards import actions as card_actions
from classnote.cards.models import Card
from classnote.lessons import actions
from classnote.lessons.models import Group, Lesson, Submission, SubmissionBox
from classnote.tenancy.models import Membership
from tests.api.conftest import in_language, send, session
from tests.conftest import PASSWORD, Tenant, login_as
from tests.files import samples

# --- The two doors ----------------------------------------------------------------------------------


def page_client(user: User) -> Client:
    """A browser on the web pages, signed in as USER."""
    return login_as(Client(), user)


def api_client(user: User) -> Client:
    """An API client signed in as USER (session authentication, as tests/api do)."""
    return session(user)


def form_actions(response: Any) -> list[str]:
    """The action of every form of a page, read with an HTML5 parser."""
    document = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
    return [form.get("action", "") for form in document.iter("form")]


def page_messages(response: Any) -> list[str]:
    """The messages a web view queued for the next page (django.contrib.messages)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def language_of(user: User) -> str:
    return user.language or user.tenant_language() or "en"


def add_pupil(tenant: Tenant, number: str, *, active: bool = True) -> User:
    """Another pupil of the tenant's class (an inactive one with active=False)."""
    pupil = User.objects.create_user(
        student_username(tenant.school, number),
        PASSWORD,
        display_name=f"Pupil {number}",
        role=Role.STUDENT,
        municipality=tenant.municipality,
        school=tenant.school,
        student_number=number,
        is_active=active,
    )
    Membership.objects.create(school_class=tenant.school_class, user=pupil, role="student")
    return pupil


def add_teacher(tenant: Tenant, name: str) -> User:
    """A second teacher of the tenant's class."""
    teacher = User.objects.create_user(
        f"{tenant.school.code}-{name.lower().replace(' ', '-')}",
        PASSWORD,
        display_name=name,
        role=Role.TEACHER,
        municipality=tenant.municipality,
        school=tenant.school,
    )
    Membership.objects.create(school_class=tenant.school_class, user=teacher, role="teacher")
    return teacher


def own_copy(tenant: Tenant, pupil: User) -> Card:
    """The pupil's copy of the card the teacher sent to the class."""
    return Card.objects.get(origin=tenant.card, owner=pupil)


def lesson_page(tenant: Tenant, user: User) -> Any:
    response = page_client(user).get(reverse("lesson_detail", args=[tenant.lesson.pk]))
    assert response.status_code == 200
    return response


def walk(value: Any) -> Iterator[Any]:
    """Every value inside VALUE: dicts, lists and tuples are opened, other things are yielded."""
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item)
    else:
        yield value


# --- 1. Whom a pupil may send to ------------------------------------------------------------------


def test_a_pupil_is_offered_no_classmates_once_the_lesson_is_closed(tenant_a: Tenant) -> None:
    """Rule: a pupil may pick classmates only while the teacher allows peer sending AND the lesson is
    not closed (classnote.lessons.actions.peer_send refuses otherwise). The API applies both
    conditions; the pupil's lesson page checks only peer_sending and still offers the classmates
    and the peer-send form of a closed lesson. The API is right: the page offers a send that the
    action then refuses, and shows the classmates' names for nothing."""
    lesson = tenant_a.lesson
    actions.set_peer_sending(tenant_a.teacher, lesson.pk, True)
    actions.close_lesson(tenant_a.teacher, lesson.pk)

    api = api_client(tenant_a.student).get(f"/api/lessons/{lesson.pk}")
    assert api.status_code == 200
    assert api.json()["students"] == []

    page = lesson_page(tenant_a, tenant_a.student)
    assert [pupil["id"] for pupil in page.context["classmates"]] == []
    assert reverse("lesson_peer_send", args=[lesson.pk]) not in form_actions(page)


def test_a_pupil_is_offered_the_same_classmates_by_both_doors_while_the_lesson_is_open(tenant_a: Tenant) -> None:
    """Companion of the test above (passes today): in an open lesson with peer sending on, both doors
    offer the active pupils of the class except the pupil themself, in the same order (student
    number, then name); an inactive pupil and a pupil of another class are not offered."""
    first = add_pupil(tenant_a, "aaa000")  # sorts before the pupil and the classmate
    add_pupil(tenant_a, "aaa003", active=False)
    actions.set_peer_sending(tenant_a.teacher, tenant_a.lesson.pk, True)
    expected = [first.pk, tenant_a.classmate.pk]

    api = api_client(tenant_a.student).get(f"/api/lessons/{tenant_a.lesson.pk}")
    assert api.status_code == 200
    assert [s["id"] for s in api.json()["students"]] == expected

    page = lesson_page(tenant_a, tenant_a.student)
    assert [pupil["id"] for pupil in page.context["classmates"]] == expected
    assert reverse("lesson_peer_send", args=[tenant_a.lesson.pk]) in form_actions(page)


# --- 2. Shared answers, anonymised on the server -------------------------------------------------


def share_two_answers(tenant: Tenant, *, anonymous: bool) -> list[int]:
    """The classmate submits too; the pupil's submission is moved later, so the order by time
    (classmate, pupil) differs from the order of ids. Returns the ids in time order."""
    classmate_submission = actions.submit(tenant.classmate, tenant.box.pk, own_copy(tenant, tenant.classmate).pk)
    later = classmate_submission.submitted_at + timedelta(minutes=1)
    Submission.objects.filter(pk=tenant.submission.pk).update(submitted_at=later)
    actions.share_answers(tenant.teacher, tenant.box.pk, True, anonymous=anonymous)
    return [classmate_submission.pk, tenant.submission.pk]


def shared_on_page(page: Any, box: SubmissionBox) -> list[Any]:
    entries = page.context["boxes"]
    assert len(entries) == 1, "the lesson of tenant_a has one box"
    assert entries[0]["shared"] is not None, f"box {box.pk} is shared: the page must carry its answers"
    return list(entries[0]["shared"])


def test_anonymously_shared_answers_reach_the_page_without_names_as_the_api_gives_them(tenant_a: Tenant) -> None:
    """Rule: while a box's answers are shared anonymously, the server removes the names: what the
    pupil's page receives is what GET /api/boxes/{id}/shared gives (classnote.lessons.summaries
    .submission(anonymous=True)), a list of dicts in the same order with the same ids and with
    "student" and "student_id" None. Today the page's context carries the Submission objects
    with each classmate's User (name, student number) and only the template hides the name, so a
    template change, a debug page or a context processor away from leaking it. The API is right:
    anonymity is applied where the data leaves the server, not in the markup."""
    expected_ids = share_two_answers(tenant_a, anonymous=True)

    api = api_client(tenant_a.student).get(f"/api/boxes/{tenant_a.box.pk}/shared")
    assert api.status_code == 200
    answers = api.json()
    assert [a["id"] for a in answers] == expected_ids
    assert all(a["student"] is None and a["student_id"] is None for a in answers)

    page = lesson_page(tenant_a, tenant_a.student)
    shared = shared_on_page(page, tenant_a.box)
    kinds = [type(entry).__name__ for entry in shared]
    assert all(isinstance(entry, dict) for entry in shared), f"the page receives {kinds}, not the API's dicts"
    assert [entry["id"] for entry in shared] == [a["id"] for a in answers]
    assert all(entry["student"] is None and entry["student_id"] is None for entry in shared)
    classmate = tenant_a.classmate
    for value in walk(shared):
        assert not isinstance(value, User), "a User object in the anonymised answers"
        assert not (isinstance(value, Model) and getattr(value, "student_id", None) == classmate.pk)
        if isinstance(value, str):
            assert classmate.display_name not in value and classmate.student_number not in value
    html = page.content.decode()
    assert classmate.display_name not in html
    assert classmate.student_number not in html


def test_named_shared_answers_carry_the_same_ids_and_names_through_both_doors(tenant_a: Tenant) -> None:
    """Companion (passes today): with named sharing both doors show the same answers, in the same
    order, with the same author ids and names. Written to accept either shape of the page's
    entries (today's Submission objects or the API's dicts)."""
    expected_ids = share_two_answers(tenant_a, anonymous=False)

    api = api_client(tenant_a.student).get(f"/api/boxes/{tenant_a.box.pk}/shared")
    assert api.status_code == 200
    from_api = [(a["id"], a["student_id"], a["student"]) for a in api.json()]
    assert [row[0] for row in from_api] == expected_ids
    assert {row[1] for row in from_api} == {tenant_a.student.pk, tenant_a.classmate.pk}

    def named(entry: Any) -> tuple[int, int | None, str | None]:
        if isinstance(entry, dict):
            return entry["id"], entry["student_id"], entry["student"]
        return entry.pk, entry.student_id, entry.student.display_name

    page = lesson_page(tenant_a, tenant_a.student)
    assert [named(entry) for entry in shared_on_page(page, tenant_a.box)] == from_api
    assert tenant_a.classmate.display_name in page.content.decode()


# --- 3. Card creation ------------------------------------------------------------------------------


def new_card_on_the_page(user: User, fields: dict[str, Any]) -> tuple[Any, list[str]]:
    """POST the new-card form (multipart) as USER; the response and the messages it queued."""
    response = page_client(user).post(reverse("card_new"), fields)
    return response, page_messages(response)


def upload_through_the_api(client: Client, name: str, content: bytes) -> dict[str, Any]:
    uploaded = client.post("/api/files", {"file": samples.upload(name, content)})
    assert uploaded.status_code == 201, uploaded.content
    described: dict[str, Any] = uploaded.json()
    return described


@pytest.mark.parametrize(
    "kind, extra",
    [
        ("text", {}),
        ("link", {"link_url": "https://example.org/reading"}),
        ("drawing", {}),
    ],
)
def test_only_image_and_file_cards_have_a_file_through_both_doors(
    tenant_a: Tenant, kind: str, extra: dict[str, str]
) -> None:
    """Rule: only image and file cards have a file ("Only image and file cards have a file.").
    POST /api/cards refuses a text, link or drawing card with a file_id (400). The new-card form
    stores the upload and makes a text/link/drawing card that carries the file. The API is right:
    the card kinds that show no file must not hold (and hand out) one."""
    pupil = tenant_a.student
    expected = in_language(language_of(pupil), "Only image and file cards have a file.")
    before = Card.objects.filter(owner=pupil).count()

    api = api_client(pupil)
    stored = upload_through_the_api(api, "notes.pdf", samples.pdf())
    refused = send(
        api,
        "POST",
        "/api/cards",
        {"kind": kind, "title": "With a file", "lesson_id": tenant_a.lesson.pk, "file_id": stored["id"], **extra},
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["detail"] == expected
    assert Card.objects.filter(owner=pupil).count() == before

    fields = {
        "kind": kind,
        "title": "With a file",
        "lesson": tenant_a.lesson.pk,
        "upload": samples.upload("notes.pdf", samples.pdf()),
        "next": reverse("lesson_detail", args=[tenant_a.lesson.pk]),
        **extra,
    }
    response, messages = new_card_on_the_page(pupil, fields)
    made = list(Card.objects.filter(owner=pupil).order_by("pk")[before:].values_list("kind", "file_id"))
    assert made == [], f"the page made {made} (kind, file) from a {kind} card with an upload"
    assert response.status_code == 302
    assert expected in messages


def test_a_card_from_a_long_file_name_is_titled_with_its_first_120_characters_by_both_doors(
    tenant_a: Tenant,
) -> None:
    """Rule: a card made from a file without a title takes the file's name cut to 120 characters
    (the longest title a card has). classnote.files.services.store_upload keeps names up to 200
    characters (files.validation.clean_name), so a 150-character name is stored whole. The API
    cuts it (stored.name[:120]); the new-card form passes the whole name as the title and
    cards.actions.create_card refuses it ("The text is too long."): the pupil's upload is
    refused (and the stored file is left without a card). The API is right."""
    pupil = tenant_a.student
    name = "r" * 146 + ".pdf"
    assert len(name) == 150

    api = api_client(pupil)
    stored = upload_through_the_api(api, name, samples.pdf())
    assert stored["name"] == name  # not cut on upload: the divergence is the card's title
    made = send(api, "POST", "/api/cards", {"kind": "file", "lesson_id": tenant_a.lesson.pk, "file_id": stored["id"]})
    assert made.status_code == 201, made.content
    assert made.json()["title"] == name[:120]

    before = set(Card.objects.filter(owner=pupil).values_list("pk", flat=True))
    _response, messages = new_card_on_the_page(
        pupil,
        {"kind": "file", "lesson": tenant_a.lesson.pk, "upload": samples.upload(name, samples.pdf())},
    )
    new = list(Card.objects.filter(owner=pupil).exclude(pk__in=before))
    assert len(new) == 1, f"the page made no card; its messages: {messages}"
    file_name = new[0].file.name if new[0].file else None
    assert (new[0].kind, new[0].title, file_name) == ("file", name[:120], name)


@pytest.mark.parametrize(
    "kind, fields, message",
    [
        ("image", {}, "Choose a photo or file."),
        ("file", {}, "Choose a photo or file."),
        ("link", {}, "Enter the web link."),
    ],
)
def test_cards_that_lack_their_file_or_link_are_refused_alike(
    tenant_a: Tenant, kind: str, fields: dict[str, str], message: str
) -> None:
    """Companion (passes today): an image or file card needs a file, a link card needs a link, and
    both doors refuse with the same translated message."""
    pupil = tenant_a.student
    expected = in_language(language_of(pupil), message)
    before = Card.objects.filter(owner=pupil).count()
    refused = send(api_client(pupil), "POST", "/api/cards", {"kind": kind, "lesson_id": tenant_a.lesson.pk})
    assert refused.status_code == 400 and refused.json()["detail"] == expected
    _response, messages = new_card_on_the_page(pupil, {"kind": kind, "lesson": tenant_a.lesson.pk, **fields})
    assert expected in messages
    assert Card.objects.filter(owner=pupil).count() == before


def test_an_image_card_of_a_non_image_becomes_a_file_card_through_both_doors(tenant_a: Tenant) -> None:
    """Companion (passes today): an image card whose upload is not an image becomes a file card."""
    pupil = tenant_a.student
    api = api_client(pupil)
    stored = upload_through_the_api(api, "worksheet.pdf", samples.pdf())
    made = send(api, "POST", "/api/cards", {"kind": "image", "title": "Sheet", "file_id": stored["id"]})
    assert made.status_code == 201 and made.json()["kind"] == "file"

    response, messages = new_card_on_the_page(
        pupil, {"kind": "image", "title": "Sheet page", "upload": samples.upload("worksheet.pdf", samples.pdf())}
    )
    assert response.status_code == 302, messages
    assert Card.objects.get(owner=pupil, title="Sheet page").kind == "file"


# --- 4. Who sees whom in a class -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "school_admin", "municipal_admin", "student"])
def test_both_doors_list_the_same_members_of_a_class(tenant_a: Tenant, role: str) -> None:
    """Rule: one rule decides whom a user sees in a class's member list. Staff who may read the
    class (its teachers, the school's admins, the board's admins) see every member; a pupil of
    the class sees only its teachers. Both doors list the members in the same order: teachers
    first, then pupils by student number, then display name.

    Today the class page follows this rule; GET /api/classes/{id}/members refuses pupils (403)
    and lists staff the memberships in no stated order (in practice the order they were made).
    The page is right: a pupil may know who teaches them, and an API list needs a stable order."""
    assistant = add_teacher(tenant_a, "Staff assistant aaa")  # sorts before "Staff teacher aaa"
    first = add_pupil(tenant_a, "aaa000")  # made last, sorts first among the pupils
    teachers = [(assistant.pk, "teacher"), (tenant_a.teacher.pk, "teacher")]
    pupils = [(first.pk, "student"), (tenant_a.student.pk, "student"), (tenant_a.classmate.pk, "student")]
    viewer = getattr(tenant_a, role)
    expected = teachers if role == "student" else teachers + pupils
    class_id = tenant_a.school_class.pk

    page = page_client(viewer).get(reverse("class_detail", args=[class_id]))
    assert page.status_code == 200
    on_page = [(m.user_id, m.role) for m in page.context["members"]]
    assert on_page == expected

    api = api_client(viewer).get(f"/api/classes/{class_id}/members")
    assert api.status_code == 200, (api.status_code, api.content)
    from_api = [(m["user_id"], m["role"]) for m in api.json()]
    assert set(from_api) == set(on_page), "not the same members"
    assert from_api == on_page, "the same members in another order"


# --- Further divergences found by reading both doors ------------------------------------------------


def test_a_return_comment_over_the_limit_is_refused_by_both_doors(tenant_a: Tenant) -> None:
    """Divergence: returning a submission with a comment over 2,000 characters. The API refuses it
    (422) and the submission stays unreturned. The web view ignores the invalid ReturnForm and
    returns the submission with an empty comment, telling the teacher "The submission has been
    returned.": the teacher's comment is lost silently. A browser gets there despite the
    textarea's maxlength: maxlength counts a line break as one character, the form sends it as
    CRLF (two). The API is right (stricter, and the project's promise is that input is never
    lost): refuse, keep the submission unreturned, show the error."""
    submission = tenant_a.submission
    comment = "x" * 2001

    api = send(api_client(tenant_a.teacher), "POST", f"/api/submissions/{submission.pk}/return", {"comment": comment})
    assert api.status_code == 422
    submission.refresh_from_db()
    assert submission.returned_at is None

    page_client(tenant_a.teacher).post(reverse("submission_return", args=[submission.pk]), {"comment": comment})
    submission.refresh_from_db()
    returned = (submission.returned_at, submission.return_comment)
    assert submission.returned_at is None, f"the page returned it: {returned}"


@override_settings(TIME_ZONE="Asia/Tokyo")
def test_a_deadline_without_an_offset_means_the_same_moment_through_both_doors(tenant_a: Tenant) -> None:
    """Divergence: a deadline given without a time-zone offset ("2026-05-01T10:00", what the
    page's datetime-local input sends). The page's BoxForm reads it in the server's time zone
    (settings.TIME_ZONE, in which the pages also show deadlines); the API's BoxIn (Moment) reads
    it as UTC. On a server in Asia/Tokyo the same input makes deadlines nine hours apart, and the
    late flag of every submission in between differs by the door the teacher used. The page's
    reading is the one to keep (it is the zone the deadline is shown in, and a browser form
    cannot send an offset); the API must read a naive time the same way (or refuse it)."""
    wall_clock = "2026-05-01T10:00"
    meant = datetime(2026, 5, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

    page_client(tenant_a.teacher).post(
        reverse("box_create", args=[tenant_a.lesson.pk]), {"title": "Through the page", "deadline": wall_clock}
    )
    through_page = SubmissionBox.objects.get(lesson=tenant_a.lesson, title="Through the page")
    assert through_page.deadline == meant

    api = send(
        api_client(tenant_a.teacher),
        "POST",
        f"/api/lessons/{tenant_a.lesson.pk}/boxes",
        {"title": "Through the API", "deadline": wall_clock},
    )
    assert api.status_code == 201, api.content
    through_api = SubmissionBox.objects.get(pk=api.json()["id"])
    assert through_api.deadline == through_page.deadline


@pytest.mark.parametrize("deadline", ["1999-12-31T10:00", "3000-01-01T10:00"])
def test_a_deadline_outside_the_years_2000_to_2999_is_refused_by_both_doors(tenant_a: Tenant, deadline: str) -> None:
    """Divergence: the API refuses deadlines outside the years 2000-2999 (422, schemas.Moment);
    the page's BoxForm accepts any date and makes the box (a deadline in 1999 marks every
    submission late). The API is right (stricter): the page must refuse it too."""
    api = send(
        api_client(tenant_a.teacher),
        "POST",
        f"/api/lessons/{tenant_a.lesson.pk}/boxes",
        {"title": "Through the API", "deadline": deadline},
    )
    assert api.status_code == 422
    page_client(tenant_a.teacher).post(
        reverse("box_create", args=[tenant_a.lesson.pk]), {"title": "Through the page", "deadline": deadline}
    )
    made = list(SubmissionBox.objects.filter(lesson=tenant_a.lesson).values_list("title", "deadline"))
    assert not [row for row in made if row[0] == "Through the page"], f"the page made a box: {made}"


# What is made, its API path, its page's URL name and the field that names it.
NAMED: dict[str, tuple[type[Model], str, str, str]] = {
    "lesson": (Lesson, "/api/classes/{class_id}/lessons", "lesson_open", "title"),
    "box": (SubmissionBox, "/api/lessons/{lesson_id}/boxes", "box_create", "title"),
    "group": (Group, "/api/lessons/{lesson_id}/groups", "group_create", "name"),
}


@pytest.mark.parametrize("what", list(NAMED))
def test_a_blank_name_is_refused_by_both_doors(tenant_a: Tenant, what: str) -> None:
    """Divergence: a lesson, submission box or group named only with spaces. The pages' forms
    (OpenLessonForm, BoxForm, GroupForm) strip and refuse it; the API strips it and makes one with
    a default name ("Lesson", "Submissions", "Group"), which pupils cannot tell apart. The pages
    are right (stricter): both doors refuse a blank name."""
    model, api_path, page_url, field = NAMED[what]
    class_id, lesson_id = tenant_a.school_class.pk, tenant_a.lesson.pk
    before = model._default_manager.count()

    page_args = [class_id] if what == "lesson" else [lesson_id]
    page_client(tenant_a.teacher).post(
        reverse(page_url, args=page_args), {field: "   ", "students": [tenant_a.student.pk]}
    )
    assert model._default_manager.count() == before

    body: dict[str, Any] = {field: "   "} | ({"student_ids": [tenant_a.student.pk]} if what == "group" else {})
    api = send(api_client(tenant_a.teacher), "POST", api_path.format(class_id=class_id, lesson_id=lesson_id), body)
    assert api.status_code in {400, 422}, (api.status_code, api.content)
    assert model._default_manager.count() == before


def test_the_materials_lists_are_the_same_through_both_doors(tenant_a: Tenant) -> None:
    """Divergence (order): the materials page lists the cards of each materials box in the Card
    model's default order (position, then creation), GET /api/materials by title (its docstring
    says "as on the materials page"). The same cards appear; the order differs once titles and
    creation disagree. Neither is a privacy matter: both doors should use one order (the API's,
    by title, is the documented and stable one)."""
    teacher = tenant_a.teacher
    for title in ("Zebra crossing", "Apple fractions", "Mango maths"):
        card_actions.create_card(teacher, kind="text", library=Card.Library.PERSONAL, title=title)
        card_actions.create_card(teacher, kind="text", library=Card.Library.SCHOOL, title=f"School {title}")

    api = api_client(teacher).get("/api/materials")
    assert api.status_code == 200
    from_api = {box: [card["id"] for card in api.json()[box]] for box in ("personal", "school")}

    page = page_client(teacher).get(reverse("materials"))
    assert page.status_code == 200
    on_page = {box: [card.pk for card in page.context[box]] for box in ("personal", "school")}
    assert {box: set(ids) for box, ids in on_page.items()} == {box: set(ids) for box, ids in from_api.items()}
    assert on_page == from_api


def test_the_lessons_of_a_class_are_the_same_through_both_doors(tenant_a: Tenant) -> None:
    """Divergence: the class page lists at most 50 lessons (newest first, no further page), the API
    every lesson. From the 51st lesson on, the oldest lessons (with their returned work) can no
    longer be reached from the class page. Neither door shows more than the user may read; the
    two should list the same lessons (the page paginating, or both stopping at the same number)."""
    for number in range(50):
        actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, f"Lesson {number}")
    for user in (tenant_a.teacher, tenant_a.student):
        api = api_client(user).get(f"/api/classes/{tenant_a.school_class.pk}/lessons")
        assert api.status_code == 200
        from_api = [lesson["id"] for lesson in api.json()]
        page = page_client(user).get(reverse("class_detail", args=[tenant_a.school_class.pk]))
        assert page.status_code == 200
        on_page = [lesson.pk for lesson in page.context["lessons"]]
        assert len(on_page) == len(from_api), f"{user.role}: {len(on_page)} on the page, {len(from_api)} in the API"
        assert on_page == from_api


def test_shared_answers_of_a_closed_lesson_are_shown_alike(tenant_a: Tenant) -> None:
    """Companion (passes today): closing a lesson closes its boxes but does not stop sharing; both
    doors still show the shared answers, and neither lets the pupil submit."""
    share_two_answers(tenant_a, anonymous=False)
    actions.close_lesson(tenant_a.teacher, tenant_a.lesson.pk)
    api = api_client(tenant_a.student)
    assert api.get(f"/api/boxes/{tenant_a.box.pk}/shared").status_code == 200
    card_id = own_copy(tenant_a, tenant_a.student).pk
    submitted = send(api, "POST", f"/api/boxes/{tenant_a.box.pk}/submissions", {"card_id": card_id})
    assert submitted.status_code == 400
    page = lesson_page(tenant_a, tenant_a.student)
    assert len(shared_on_page(page, tenant_a.box)) == 2
    assert reverse("box_submit", args=[tenant_a.box.pk]) not in form_actions(page)


def test_the_late_flag_is_the_same_through_both_doors(tenant_a: Tenant) -> None:
    """Companion (passes today): a submission after the deadline is late on the pupil's page and in
    GET /api/submissions alike (the flag is set once, by lessons.actions.submit)."""
    box = actions.create_box(tenant_a.teacher, tenant_a.lesson.pk, "Homework", timezone.now() - timedelta(minutes=1))
    late = actions.submit(tenant_a.student, box.pk, own_copy(tenant_a, tenant_a.student).pk)
    api = api_client(tenant_a.student).get(f"/api/submissions?box_id={box.pk}")
    assert [(s["id"], s["late"]) for s in api.json()] == [(late.pk, True)]
    page = lesson_page(tenant_a, tenant_a.student)
    mine = next(entry["mine"] for entry in page.context["boxes"] if entry["box"].pk == box.pk)
    assert [(s.pk, s.is_late) for s in mine] == [(late.pk, True)]
