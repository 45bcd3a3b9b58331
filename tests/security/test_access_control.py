"""IPA checklist 10 — access control and authorisation (horizontal and vertical, web UI and API).

tests/test_isolation.py is the core: every route, with another municipality's ids, as every user
of a municipality; pupils refused every staff route. This module adds what it does not cover:
  * vertical, every role: each route and each API operation refuses every role it is not for
    (teachers the admin pages, admins the lesson, the privacy officer and the operator the
    tenants' pages...), with the caller's own tenant's ids and a valid CSRF token, so the refusal
    is the role check and not something else;
  * escalation: no form or API field makes anyone an administrator, moves them to another school
    or tenant, or changes an owner (mass assignment); a school admin cannot create a municipal
    admin, operator or privacy officer;
  * sibling schools: the admin, teachers and pupils of one school of a board reach nothing of
    another school of the same board (only the board's municipal admin does);
  * within a class: a pupil cannot open, change or delete a classmate's card, file or submission;
    a teacher cannot reach a class they do not teach; administrators manage rosters but do not read
    pupils' work;
  * the privacy objects (data-subject requests, complaints, incidents, support grants, provision
    records) are refused to everyone but their keepers;
  * the operator without a support grant, and the privacy officer, see nothing of a tenant's
    people or lessons.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.forms.models import model_to_dict
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from classnote.accounts import actions as account_actions
from classnote.accounts.models import User
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.lessons.models import Lesson, Submission, SubmissionBox
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from classnote.tenancy.models import Membership, School, SchoolClass
from tests.conftest import PASSWORD, Tenant, add_lesson, fresh_login, login_as, read_body
from tests.security.test_sql_injection import database_fingerprint
from tests.test_isolation import OK_REFUSALS, _call, _snapshot, _values, all_routes

ROLES = [Role.STUDENT, Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN, Role.PRIVACY_OFFICER, Role.OPERATOR]


def people(tenant: Tenant, officer: User, operator: User) -> dict[str, User]:
    return {
        Role.STUDENT: tenant.student,
        Role.TEACHER: tenant.teacher,
        Role.SCHOOL_ADMIN: tenant.school_admin,
        Role.MUNICIPAL_ADMIN: tenant.municipal_admin,
        Role.PRIVACY_OFFICER: officer,
        Role.OPERATOR: operator,
    }


def csrf_ready(user: User) -> tuple[Client, str]:
    """A client with CSRF checks on and a valid token: a refusal is then about who is asking."""
    client = login_as(Client(enforce_csrf_checks=True, raise_request_exception=False), user)
    token = client.get("/api/csrf").json()["csrf_token"]
    return client, token


# --- Vertical: every route and API operation refuses the roles it is not for ---------------------------


def test_every_page_refuses_every_role_it_is_not_for(tenant_a: Tenant, officer: User, operator: User) -> None:
    actors = people(tenant_a, officer, operator)
    routes = [
        (r, r.path(_values(r, tenant_a))) for r in all_routes() if r.audience and not r.template.startswith("api/")
    ]
    before, fingerprint = _snapshot(tenant_a), database_fingerprint()
    problems = []
    for route, path in routes:
        if route.audience & {PUBLIC, AUTHENTICATED}:
            continue
        for role, actor in actors.items():
            if role in route.audience:
                continue
            client, token = csrf_ready(actor)
            for method in ("GET", "POST"):
                data = {"csrfmiddlewaretoken": token, "name": "x", "form": "class", "role": "teacher", "active": "0"}
                response = client.get(path) if method == "GET" else client.post(path, data)
                read_body(response)
                if response.status_code not in OK_REFUSALS:
                    problems.append(f"{method} {path} as {role} -> {response.status_code}")
    assert not problems, "\n".join(problems)
    assert _snapshot(tenant_a) == before and database_fingerprint() == fingerprint


def api_operations(tenant: Tenant) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path, audience) of every API operation, paths filled with the tenant's own objects."""
    operations = []
    for route in all_routes():
        if not route.template.startswith("api/") or route.audience is None:
            continue
        path = route.path(_values(route, tenant))
        callback = resolve(path).func
        for cell in getattr(callback, "__closure__", None) or ():
            for operation in getattr(cell.cell_contents, "operations", []):
                audience = frozenset(getattr(operation.view_func, "classnote_audience", frozenset()))
                for method in operation.methods:
                    operations.append((method, path, audience))
    return operations


def test_every_api_operation_refuses_every_role_it_is_not_for(tenant_a: Tenant, officer: User, operator: User) -> None:
    actors = people(tenant_a, officer, operator)
    operations = api_operations(tenant_a)
    assert len(operations) > 30
    before, fingerprint = _snapshot(tenant_a), database_fingerprint()
    problems = []
    clients = {role: csrf_ready(actor) for role, actor in actors.items()}
    for method, path, audience in operations:
        if audience & {PUBLIC, AUTHENTICATED}:
            continue
        for role in ROLES:
            if role in audience:
                continue
            client, token = clients[role]
            body = json.dumps({"title": "x", "name": "x", "kind": "text", "card_ids": [1], "to": "class"})
            response = client.generic(method, path, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
            if response.status_code not in {403, 404}:
                problems.append(f"{method} {path} as {role} -> {response.status_code} {response.content[:80]!r}")
    assert not problems, "\n".join(problems)
    assert _snapshot(tenant_a) == before and database_fingerprint() == fingerprint


# --- Escalation and mass assignment ---------------------------------------------------------------------

ESCALATION_FIELDS = {
    "role": Role.MUNICIPAL_ADMIN,
    "is_staff": "on",
    "is_superuser": "on",
    "municipality": "999",
    "municipality_id": "999",
    "school": "999",
    "school_id": "999",
    "owner": "999",
    "owner_id": "999",
    "staff-role": Role.MUNICIPAL_ADMIN,
    "student-role": Role.SCHOOL_ADMIN,
}
# (There is no is_staff or is_superuser: classnote has no Django admin and no superuser.)
ACCOUNT_FIELDS = ("role", "municipality", "school", "username", "student_number")


def account(user: User) -> dict[str, Any]:
    user.refresh_from_db()
    return model_to_dict(user, fields=ACCOUNT_FIELDS)


def test_no_form_or_api_field_changes_anyones_role_or_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    actors = [tenant_a.student, tenant_a.teacher, tenant_a.school_admin, tenant_a.municipal_admin]
    accounts = {user.pk: account(user) for user in User.objects.all()}
    routes = [(r, r.path(_values(r, tenant_a))) for r in all_routes() if r.audience]
    for actor in actors:
        client, token = csrf_ready(actor)
        for route, path in routes:
            if route.streaming:
                continue
            if route.template.startswith("api/"):
                body = json.dumps(ESCALATION_FIELDS | {"kind": "text", "title": "x"})
                for method in ("POST", "PATCH"):
                    client.generic(method, path, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
            else:
                client.post(path, ESCALATION_FIELDS | {"csrfmiddlewaretoken": token, "form": "staff"})
    for user in User.objects.all():
        before = accounts.get(user.pk)
        if before is None:  # made by a form: never above the maker's power
            assert user.role in (Role.STUDENT, Role.TEACHER, Role.SCHOOL_ADMIN), (user.username, user.role)
            assert user.school_id == tenant_a.school.pk, user.username
            continue
        assert account(user) == before, f"{user.username} changed"
    assert not hasattr(User, "is_superuser") and not hasattr(User, "is_staff")
    # Cards made through the API belong to their maker and the maker's school, whatever was sent.
    for card in Card.objects.filter(title="x"):
        assert card.owner.school_id == card.school_id


def test_a_school_admin_cannot_create_a_more_powerful_account(tenant_a: Tenant) -> None:
    admin = fresh_login(Client(raise_request_exception=False), tenant_a.school_admin)
    for number, role in enumerate([Role.MUNICIPAL_ADMIN, Role.OPERATOR, Role.PRIVACY_OFFICER, "superuser", ""]):
        response = admin.post(
            f"/schools/{tenant_a.school.pk}/",
            {"form": "staff", "staff-display_name": "Boss", "staff-login_id": f"boss{number}", "staff-role": role},
        )
        assert response.status_code in {400, 403}, (role, response.status_code)
        assert not User.objects.filter(username=f"boss{number}").exists()
        try:
            account_actions.create_staff(
                tenant_a.school_admin, tenant_a.school, display_name="Boss", login_id=f"boss-x{number}", role=role
            )
        except ActionError:
            pass
        else:  # pragma: no cover - the failure message names the role
            raise AssertionError(f"create_staff made a {role!r}")
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    made = teacher.post(
        f"/schools/{tenant_a.school.pk}/",
        {"form": "staff", "staff-display_name": "Me too", "staff-login_id": "metoo", "staff-role": Role.SCHOOL_ADMIN},
    )
    assert made.status_code == 403 and not User.objects.filter(username="metoo").exists()


def test_class_membership_cannot_be_used_to_raise_a_role(tenant_a: Tenant) -> None:
    # A pupil cannot be added to a class as its teacher (and so reach its lessons as staff).
    admin = login_as(Client(raise_request_exception=False), tenant_a.school_admin)
    admin.post(f"/classes/{tenant_a.other_class.pk}/", {"user": tenant_a.student.pk, "role": "teacher"})
    assert not Membership.objects.filter(user=tenant_a.student, role="teacher").exists()
    # A teacher cannot add themselves to a class they do not teach.
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    response = teacher.post(f"/classes/{tenant_a.other_class.pk}/", {"user": tenant_a.teacher.pk, "role": "teacher"})
    assert response.status_code in {403, 404}
    assert not Membership.objects.filter(user=tenant_a.teacher, school_class=tenant_a.other_class).exists()


# --- Sibling schools of one board ---------------------------------------------------------------------------


def sibling_school(tenant: Tenant) -> Tenant:
    """A second school of the same board, with its own admin, teacher, pupils and lesson."""
    school = School.objects.create(municipality=tenant.municipality, name="Sibling School", code="sibling")
    klass = SchoolClass.objects.create(school=school, name="Sibling Class 1", school_year=2026)
    other = SchoolClass.objects.create(school=school, name="Sibling Class 2", school_year=2026)

    def person(login: str, role: str, number: str = "") -> User:
        return User.objects.create_user(
            f"sib-{login}",
            PASSWORD,
            display_name=f"Sibling {login}",
            role=role,
            municipality=tenant.municipality,
            school=school,
            student_number=number,
        )

    teacher = person("teacher", Role.TEACHER)
    Membership.objects.create(school_class=klass, user=teacher, role="teacher")
    pupils = [person(f"pupil{n}", Role.STUDENT, f"S{n}") for n in range(3)]
    for pupil, cls in zip(pupils, (klass, klass, other), strict=True):
        Membership.objects.create(school_class=cls, user=pupil, role="student")
    sibling = Tenant(
        municipality=tenant.municipality,
        school=school,
        school_class=klass,
        other_class=other,
        municipal_admin=tenant.municipal_admin,
        school_admin=person("office", Role.SCHOOL_ADMIN),
        teacher=teacher,
        student=pupils[0],
        classmate=pupils[1],
        other_class_student=pupils[2],
    )
    add_lesson(sibling, "sib")
    return sibling


def sibling_rows(school: School) -> list[dict[str, Any]]:
    rows: list[Any] = [school, *SchoolClass.objects.filter(school=school).order_by("pk")]
    rows += list(User.objects.filter(school=school).order_by("pk"))
    rows += list(Membership.objects.filter(school_class__school=school).order_by("pk"))
    rows += list(Card.objects.filter(school=school).order_by("pk"))
    rows += list(Lesson.objects.filter(school_class__school=school).order_by("pk"))
    rows += list(SubmissionBox.objects.filter(lesson__school_class__school=school).order_by("pk"))
    rows += list(Submission.objects.filter(box__lesson__school_class__school=school).order_by("pk"))
    rows += list(StoredFile.objects.filter(school=school).order_by("pk"))
    return [model_to_dict(row, exclude=["last_login"]) | {"_model": type(row).__name__} for row in rows]


def test_one_school_of_a_board_reaches_nothing_of_another(tenant_a: Tenant) -> None:
    sibling = sibling_school(tenant_a)
    routes = [(r, r.path(_values(r, sibling))) for r in all_routes() if r.audience is not None]
    before = sibling_rows(sibling.school)
    markers = [sibling.school.name, sibling.school_class.name, sibling.other_class.name, "Secret task text sib"]
    markers += [u.display_name for u in User.objects.filter(school=sibling.school)]
    problems = []
    for actor in (tenant_a.school_admin, tenant_a.teacher, tenant_a.student):
        for route, path in routes:
            for method in ("GET", "POST"):
                response = _call(login_as(Client(raise_request_exception=False), actor), method, path)
                body = read_body(response).decode("utf-8", "replace")
                where = f"{method} {path} as {actor.role} of the other school -> {response.status_code}"
                names_objects = any(p not in ("kind", "background") for p in route.parameters)
                if names_objects and response.status_code not in OK_REFUSALS:
                    problems.append(f"{where}: not refused")
                leaked = [m for m in markers if m in body]
                if leaked:
                    problems.append(f"{where}: shows {leaked}")
    assert not problems, "\n".join(problems)
    assert sibling_rows(sibling.school) == before
    # The board's municipal admin does manage both schools.
    board = login_as(Client(), tenant_a.municipal_admin)
    assert board.get(f"/schools/{sibling.school.pk}/").status_code == 200


# --- Within a class -----------------------------------------------------------------------------------


def test_a_pupil_cannot_open_change_or_delete_a_classmates_work(tenant_a: Tenant) -> None:
    theirs = Card.objects.filter(owner=tenant_a.classmate).first()
    assert theirs is not None
    file_id = tenant_a.file.pk  # the pupil's file; the classmate tries it
    before = model_to_dict(theirs)
    classmate, token = csrf_ready(tenant_a.classmate)
    pupil_card = Card.objects.filter(owner=tenant_a.student, frozen=False).first()
    assert pupil_card is not None
    attempts = [
        ("GET", f"/cards/{pupil_card.pk}/"),
        ("GET", f"/cards/{pupil_card.pk}/image/"),
        ("GET", f"/cards/{pupil_card.pk}/thumbnail/"),
        ("GET", f"/cards/{pupil_card.pk}/present/"),
        ("GET", f"/files/{file_id}/"),
        ("GET", f"/files/{file_id}/thumbnail/"),
        ("GET", f"/api/cards/{pupil_card.pk}"),
        ("GET", f"/api/files/{file_id}"),
        ("GET", f"/api/boxes/{tenant_a.box.pk}/submissions"),
        ("GET", f"/api/boxes/{tenant_a.box.pk}/shared"),
        ("POST", f"/cards/{pupil_card.pk}/autosave/"),
        ("POST", f"/cards/{pupil_card.pk}/delete/"),
        ("POST", f"/cards/{pupil_card.pk}/link/"),
        ("PATCH", f"/api/cards/{pupil_card.pk}"),
        ("DELETE", f"/api/cards/{pupil_card.pk}"),
        ("POST", f"/api/cards/{pupil_card.pk}/sequence"),
    ]
    original = model_to_dict(pupil_card)
    problems = []
    for method, path in attempts:
        if path.startswith("/api/"):
            body = json.dumps({"version": pupil_card.version, "fields": {"text": "overwritten"}, "card_ids": []})
            response = classmate.generic(method, path, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
        elif method == "POST":
            response = classmate.post(path, {"csrfmiddlewaretoken": token, "version": 1, "cards": []})
        else:
            response = classmate.get(path)
        read_body(response)
        if response.status_code not in {403, 404}:
            problems.append(f"{method} {path} by a classmate -> {response.status_code}")
    assert not problems, "\n".join(problems)
    pupil_card.refresh_from_db()
    assert model_to_dict(pupil_card) == original
    assert StoredFile.objects.filter(pk=file_id).exists()
    theirs.refresh_from_db()
    assert model_to_dict(theirs) == before


def test_a_teacher_reaches_only_the_classes_they_teach(tenant_a: Tenant) -> None:
    other_teacher = User.objects.create_user(
        "aaa-teacher2",
        PASSWORD,
        display_name="Teacher two",
        role=Role.TEACHER,
        municipality=tenant_a.municipality,
        school=tenant_a.school,
    )
    Membership.objects.create(school_class=tenant_a.other_class, user=other_teacher, role="teacher")
    from classnote.lessons import actions as lesson_actions

    lesson = lesson_actions.open_lesson(other_teacher, tenant_a.other_class.pk, "Other lesson")
    box = lesson_actions.create_box(other_teacher, lesson.pk, "Other box")
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    for path in (
        f"/lessons/{lesson.pk}/",
        f"/boxes/{box.pk}/compare/?s=1&s=2",
        f"/api/lessons/{lesson.pk}",
        f"/api/boxes/{box.pk}/submissions",
        f"/api/classes/{tenant_a.other_class.pk}/lessons",
        f"/users/{tenant_a.other_class_student.pk}/",
        f"/classes/{tenant_a.other_class.pk}/login-cards/",
    ):
        assert teacher.get(path).status_code in {403, 404}, path
    for path in (f"/lessons/{lesson.pk}/boxes/", f"/lessons/{lesson.pk}/send/", f"/boxes/{box.pk}/settings/"):
        assert teacher.post(path, {"title": "x", "is_open": "0"}).status_code in {403, 404}, path
    assert teacher.post(f"/api/lessons/{lesson.pk}/close", content_type="application/json").status_code == 404
    lesson.refresh_from_db()
    box.refresh_from_db()
    assert lesson.closed_at is None and box.is_open and lesson.boxes.count() == 1


def test_administrators_manage_rosters_but_do_not_read_pupils_work(tenant_a: Tenant) -> None:
    card = Card.objects.filter(owner=tenant_a.student, frozen=False).first()
    assert card is not None
    for admin in (tenant_a.school_admin, tenant_a.municipal_admin):
        client = login_as(Client(raise_request_exception=False), admin)
        for path in (
            f"/cards/{card.pk}/",
            f"/files/{tenant_a.file.pk}/",
            f"/api/cards/{card.pk}",
            f"/lessons/{tenant_a.lesson.pk}/",
        ):
            response = client.get(path)
            read_body(response)
            assert response.status_code in {403, 404}, (admin.role, path, response.status_code)
        assert client.get(f"/users/{tenant_a.student.pk}/").status_code == 200  # the roster they do manage


# --- Privacy objects -----------------------------------------------------------------------------------


def test_requests_are_refused_to_everyone_but_the_admins_who_handle_them(
    tenant_a: Tenant, officer: User, operator: User
) -> None:
    from classnote.rights import workflow

    request = workflow.open_request(
        tenant_a.school_admin, subject_id=tenant_a.student.pk, kind="disclosure", requester="guardian"
    )
    own = workflow.open_request(tenant_a.teacher, subject_id=tenant_a.teacher.pk, kind="disclosure", requester="person")
    colleague = User.objects.create_user(
        "aaa-colleague",
        PASSWORD,
        display_name="Colleague",
        role=Role.TEACHER,
        municipality=tenant_a.municipality,
        school=tenant_a.school,
    )
    refused = {
        tenant_a.teacher: [request],
        colleague: [request, own],
        tenant_a.student: [request, own],
        officer: [request, own],
        operator: [request, own],
    }
    for actor, requests in refused.items():
        client = login_as(Client(raise_request_exception=False), actor)
        for item in requests:
            for suffix in ("", "export/", "correct/", "cease/", "delete/", "close/"):
                for method in ("GET", "POST"):
                    response = (
                        client.get(f"/requests/{item.pk}/{suffix}")
                        if method == "GET"
                        else client.post(f"/requests/{item.pk}/{suffix}", {"confirmation": "x", "status": "done"})
                    )
                    read_body(response)
                    assert response.status_code in {403, 404, 405}, (
                        actor.role,
                        item.pk,
                        suffix,
                        method,
                        response.status_code,
                    )
    request.refresh_from_db()
    assert request.status == "open"
    assert login_as(Client(), tenant_a.teacher).get(f"/requests/{own.pk}/").status_code == 200


def test_complaints_are_the_privacy_officers_alone(tenant_a: Tenant, officer: User, operator: User) -> None:
    from classnote.complaints.models import Complaint

    complaint = Complaint.objects.create(
        reference="C-2026-ACCESS", kind="complaint", message="About pupil Hana", language="en"
    )
    for actor in [*tenant_a.users(), operator]:
        client = login_as(Client(raise_request_exception=False), actor)
        for path in ("/complaints/", f"/complaints/{complaint.pk}/"):
            response = client.get(path)
            assert response.status_code in {403, 404} and b"Hana" not in response.content, (actor.role, path)
        changed = client.post(
            f"/complaints/{complaint.pk}/", {"action": "update", "case-status": "closed", "case-outcome": "x"}
        )
        assert changed.status_code in {403, 404}
    complaint.refresh_from_db()
    assert complaint.status == "new"
    assert login_as(Client(), officer).get(f"/complaints/{complaint.pk}/").status_code == 200


def test_incidents_are_read_by_affected_boards_and_changed_by_the_officer_only(
    tenant_a: Tenant, tenant_b: Tenant, officer: User, operator: User
) -> None:
    from classnote.incidents import actions as incident_actions

    theirs = incident_actions.create_incident(
        officer, municipalities=[tenant_b.municipality], kind="leak", discovered_at=timezone.now(), summary="B only"
    )
    ours = incident_actions.create_incident(
        officer, municipalities=[tenant_a.municipality], kind="leak", discovered_at=timezone.now(), summary="A too"
    )
    board = login_as(Client(raise_request_exception=False), tenant_a.municipal_admin)
    assert board.get(f"/incidents/{theirs.pk}/").status_code == 404
    assert b"B only" not in board.get("/incidents/").content
    assert board.get(f"/incidents/{ours.pk}/").status_code == 200
    for path in (f"/incidents/{ours.pk}/", f"/incidents/{ours.pk}/reports/", "/incidents/new/"):
        assert board.post(path, {"summary": "changed", "kind": "loss", "report": "preliminary"}).status_code in {
            403,
            404,
            405,
        }
    for actor in (tenant_a.school_admin, tenant_a.teacher, tenant_a.student, operator):
        client = login_as(Client(raise_request_exception=False), actor)
        assert client.get(f"/incidents/{ours.pk}/").status_code in {403, 404}, actor.role
    ours.refresh_from_db()
    assert ours.summary == "A too" and ours.kind == "leak"


def test_support_grants_are_given_and_revoked_only_by_the_boards_municipal_admin(
    tenant_a: Tenant, tenant_b: Tenant, operator: User
) -> None:
    from classnote.privacy.models import SupportGrant

    grant = SupportGrant.objects.create(
        municipality=tenant_a.municipality,
        reference="ACCESS-1",
        reason="fault",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    for actor in (tenant_a.school_admin, tenant_a.teacher, tenant_a.student, operator, tenant_b.municipal_admin):
        client = fresh_login(Client(raise_request_exception=False), actor)
        if actor.role != Role.MUNICIPAL_ADMIN:  # (B's board may grant support for B, not for A)
            granted = client.post("/privacy/support/", {"reference": "X-1", "reason": "fault", "hours": "4"})
            assert granted.status_code in {403, 404, 405}, (actor.role, granted.status_code)
            assert not SupportGrant.objects.filter(reference="X-1").exists(), actor.role
        assert client.post(f"/privacy/support/{grant.pk}/revoke/").status_code in {403, 404}, actor.role
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_provision_records_are_seen_by_their_tenant_and_the_person_only(tenant_a: Tenant, tenant_b: Tenant) -> None:
    from classnote.privacy.models import ProvisionRecord

    record = ProvisionRecord.objects.create(
        subject=tenant_a.student,
        recipient="Receiving School Zeta",
        recipient_kind="school",
        basis="consent",
        reference="Consent 7",
        municipality=tenant_a.municipality,
        school=tenant_a.school,
    )
    sibling = sibling_school(tenant_a)
    outsiders = [
        tenant_b.municipal_admin,
        tenant_b.school_admin,
        sibling.school_admin,
        tenant_a.classmate,
        tenant_a.teacher,
    ]
    for actor in outsiders:
        client = login_as(Client(raise_request_exception=False), actor)
        for path in ("/privacy/provisions/", f"/privacy/users/{tenant_a.student.pk}/provisions/", "/privacy/views/"):
            response = client.get(path)
            assert b"Receiving School Zeta" not in response.content, (actor.username, path)
    for actor in (tenant_a.school_admin, tenant_a.municipal_admin):
        assert b"Receiving School Zeta" in login_as(Client(), actor).get("/privacy/provisions/").content
    assert record.pk


def test_the_operator_without_a_grant_and_the_privacy_officer_see_no_tenant_data(
    tenant_a: Tenant, officer: User, operator: User
) -> None:
    markers = [tenant_a.school_class.name, tenant_a.other_class.name, "Secret task text aaa", tenant_a.school.code]
    markers += [u.display_name for u in User.objects.filter(municipality=tenant_a.municipality)]
    markers += [u.username for u in User.objects.filter(municipality=tenant_a.municipality)]
    routes = [(r, r.path(_values(r, tenant_a))) for r in all_routes() if r.audience is not None]
    # The grant the walk's PARAMETERS made is revoked: the operator has none.
    from classnote.privacy.models import SupportGrant

    SupportGrant.objects.update(revoked_at=timezone.now())
    problems = []
    for actor in (operator, officer):
        for _route, path in routes:
            for method in ("GET", "POST"):
                response = _call(login_as(Client(raise_request_exception=False), actor), method, path)
                body = read_body(response).decode("utf-8", "replace")
                leaked = [m for m in markers if m in body]
                if leaked:
                    problems.append(f"{method} {path} as {actor.role} -> {response.status_code}: shows {leaked}")
                if actor is operator and response.status_code < 400 and "support/municipalities" in path:
                    problems.append(f"{method} {path}: the operator got in without a grant")
    assert not problems, "\n".join(problems)
