"""Shared fixtures. Every test world has an outsider: a second municipality (B) whose data
users of municipality A must never see, and a student of another class in A's school."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client

from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.tenancy.models import Country, Membership, Municipality, Region, School, SchoolClass

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True, scope="session")
def egress_guard() -> None:
    """For the whole session: a test that reaches for a host outside the declared list (loopback,
    configured backends, OPERATOR_HOSTS, SUBPROCESSORS) fails with EgressRefused."""
    from classnote.privacy import egress

    egress.install()


def service_available(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip with a clear reason on a laptop without the service; fail in CI (CI=true)."""
    if service_available(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(f"{message}; start it to run this test")


@dataclass
class Tenant:
    municipality: Municipality
    school: School
    school_class: SchoolClass
    other_class: SchoolClass
    municipal_admin: User
    school_admin: User
    teacher: User
    student: User
    classmate: User
    other_class_student: User

    lesson: Any = None
    card: Any = None
    box: Any = None
    submission: Any = None
    file: Any = None

    def users(self) -> list[User]:
        return [self.municipal_admin, self.school_admin, self.teacher, self.student]


def make_tenant(key: str, country_code: str = "JP", language: str = "ja") -> Tenant:
    country, _ = Country.objects.get_or_create(code=country_code, defaults={"name": f"Country {country_code}"})
    region, _ = Region.objects.get_or_create(country=country, name=f"Region {key}")
    municipality = Municipality.objects.create(region=region, name=f"Municipality {key}", default_language=language)
    school = School.objects.create(municipality=municipality, name=f"School {key}", code=f"school-{key}")
    school_class = SchoolClass.objects.create(school=school, name=f"Class {key}-1", school_year=2026)
    other_class = SchoolClass.objects.create(school=school, name=f"Class {key}-2", school_year=2026)

    def staff(login: str, role: str, with_school: bool = True) -> User:
        return User.objects.create_user(
            f"{key}-{login}",
            PASSWORD,
            display_name=f"Staff {login} {key}",
            role=role,
            municipality=municipality,
            school=school if with_school else None,
        )

    def student(number: str, klass: SchoolClass) -> User:
        user = User.objects.create_user(
            student_username(school, number),
            PASSWORD,
            display_name=f"Pupil {number} {key}",
            role=Role.STUDENT,
            municipality=municipality,
            school=school,
            student_number=number,
        )
        Membership.objects.create(school_class=klass, user=user, role="student")
        return user

    teacher = staff("teacher", Role.TEACHER)
    Membership.objects.create(school_class=school_class, user=teacher, role="teacher")
    tenant = Tenant(
        municipality=municipality,
        school=school,
        school_class=school_class,
        other_class=other_class,
        municipal_admin=staff("muni", Role.MUNICIPAL_ADMIN, with_school=False),
        school_admin=staff("office", Role.SCHOOL_ADMIN),
        teacher=teacher,
        student=student(f"{key}001", school_class),
        classmate=student(f"{key}002", school_class),
        other_class_student=student(f"{key}901", other_class),
    )
    add_lesson(tenant, key)
    return tenant


def add_lesson(tenant: Tenant, key: str) -> None:
    """A lesson in progress: a card sent to the class, a submission box, one submission, a file."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from classnote.cards.actions import create_card
    from classnote.files.models import StoredFile
    from classnote.lessons import actions as lesson_actions

    lesson = lesson_actions.open_lesson(tenant.teacher, tenant.school_class.pk, f"Lesson {key}")
    card = create_card(
        tenant.teacher,
        kind="text",
        lesson_id=lesson.pk,
        title=f"Task card {key}",
        text=f"Secret task text {key}",
    )
    delivered = lesson_actions.send_cards(tenant.teacher, lesson.pk, [card.pk])
    box = lesson_actions.create_box(tenant.teacher, lesson.pk, f"Box {key}")
    student_copy = delivered[tenant.student.pk][0]
    submission = lesson_actions.submit(tenant.student, box.pk, student_copy.pk)
    storage_key = default_storage.save(f"files/test/{key}.txt", ContentFile(f"file of {key}".encode()))
    stored = StoredFile.objects.create(
        school=tenant.school,
        owner=tenant.student,
        kind="text",
        name=f"notes-{key}.txt",
        content_type="text/plain",
        size=10,
        sha256="0" * 64,
        storage_key=storage_key,
    )
    student_copy.file = stored
    student_copy.save(update_fields=["file"])
    tenant.lesson, tenant.card, tenant.box, tenant.submission, tenant.file = (
        lesson,
        card,
        box,
        submission,
        stored,
    )


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("aaa", "JP", "ja")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    """The outsider: another municipality, in another country."""
    return make_tenant("bbb", "TW", "zh-hant")


def mfa_passed(client: Client) -> None:
    """Mark the session as having passed the MFA-enrolment check (tests of other things)."""
    session = client.session
    session["classnote_mfa_enrolled"] = True
    session.save()


def login_as(client: Client, user: User) -> Client:
    user.refresh_from_db()  # a request may have raised session_epoch ("log out everywhere")
    client.force_login(user, backend="classnote.accounts.backends.StaffBackend")
    if user.requires_mfa():
        mfa_passed(client)
    return client


def recently_authenticated(client: Client, user: User) -> Client:
    """Record a password entry just now in the session, as allauth does at login and when the user
    confirms their password, so step-up for sensitive actions (classnote.accounts.stepup) passes.
    A client from login_as alone is signed in but has not entered a password recently."""
    import time

    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session.save()
    return client


def fresh_login(client: Client, user: User) -> Client:
    """Signed in and freshly authenticated (as right after entering the password)."""
    return recently_authenticated(login_as(client, user), user)


def read_body(response: Any) -> bytes:
    """The body of a response; an event stream never ends, so it is closed unread."""
    if response.get("Content-Type", "").startswith("text/event-stream"):
        response.close()
        return b""
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> None:
    """Each test starts with an empty process-local cache. Ids are reused after a test's rollback, so
    counters kept per user id (writes per minute, core.throttle) or per address would otherwise carry
    one test's requests into the next. Only the in-process cache: a shared Redis is never flushed."""
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _closed_storage_circuit() -> None:
    """Each test starts with the storage guard closed and idle (classnote.files.guard): a test that
    makes the storage fail would otherwise refuse the next test's files."""
    from classnote.files.guard import guard

    guard.reset()
