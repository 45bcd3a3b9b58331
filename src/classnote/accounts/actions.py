"""Writes about accounts. Each takes the acting user, checks access and runs in one transaction."""

from __future__ import annotations

import datetime
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts import access as account_access
from classnote.accounts import credentials, sessions, usercache
from classnote.accounts.models import LoginCard, User, student_username
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.base.validators import describe
from classnote.realtime.events import access_changed
from classnote.tenancy import access
from classnote.tenancy.models import Membership, School, SchoolClass


def _taken_username(error: ValidationError) -> bool:
    """Whether model validation failed because the login ID (username) is already in use."""
    errors = getattr(error, "error_dict", {}).get("username", [])
    return any(e.code == "unique" for e in errors)


def generate_password(length: int = 10) -> str:
    return "".join(secrets.choice(credentials.RANDOM_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class PupilPassword:
    """A new pupil password: its style, the form printed for the pupil, and the hash to store."""

    style: str
    password: str

    def hashed(self) -> str:
        return make_password(credentials.normalise(self.style, self.password))


def new_pupil_password(school: School, grade: int | None) -> PupilPassword:
    """A password in the style the school chose for pupils of GRADE, in the tenant's language."""
    style = school.password_style_for(grade)
    return PupilPassword(style, credentials.generate(style, school.municipality.default_language))


def pupil_grade(pupil: User) -> int | None:
    """The grade of the pupil's current class: the newest school year's class that has a grade."""
    return (
        Membership.objects.filter(
            user=pupil,
            role=Membership.Role.STUDENT,
            school_class__archived=False,
            school_class__grade__isnull=False,
        )
        .order_by("-school_class__school_year", "-school_class__grade")
        .values_list("school_class__grade", flat=True)
        .first()
    )


def _check_reading(school: School, name_reading: str) -> None:
    if name_reading and not school.municipality.collect_name_reading:
        # Minimum acquisition: optional data only where the tenant chose to record it.
        raise ActionError(_("This board of education does not record the reading of names."))


def _student_taken() -> ActionError:
    return ActionError(_("A student with this student ID already exists in this school."))


def create_student(
    actor: User,
    school: School,
    *,
    display_name: str,
    student_number: str,
    name_reading: str = "",
    grade: int | None = None,
) -> tuple[User, str]:
    """A new pupil with a first password in the school's style for GRADE (None: not known)."""
    school = access.get_school_for(actor, school.pk, manage=True)
    _check_reading(school, name_reading)
    new = new_pupil_password(school, grade)
    try:
        with transaction.atomic():
            user = User(
                username=student_username(school, student_number),
                password=new.hashed(),
                password_style=new.style,
                display_name=display_name,
                role=Role.STUDENT,
                municipality_id=school.municipality_id,
                school=school,
                student_number=student_number,
                name_reading=name_reading.strip()[:80],
            )
            user.full_clean(exclude=["password"])
            user.save()
    except (IntegrityError, ValidationError) as error:
        # create_user() validates the model first, so a taken ID usually arrives as a ValidationError
        # of the unique login ID; a concurrent duplicate as an IntegrityError.
        if isinstance(error, ValidationError) and not _taken_username(error):
            raise ActionError(describe(error, User)) from None  # the model's validators (base.validators)
        raise _student_taken() from None
    record(actor, "account.created", target=user, school_id=school.pk, role=user.role)
    return user, new.password


@dataclass(frozen=True)
class NewStudent:
    display_name: str
    student_number: str
    name_reading: str = ""
    grade: int | None = None  # of the class they join: chooses the style of their password


def hash_passwords(passwords: Sequence[str]) -> list[str]:
    """Hashes of many passwords, on up to two threads: Argon2 (~30 ms each, see accounts/hashers.py)
    releases the GIL, so a roster of 1,000 pupils takes ~15 s on two cores instead of ~30 s."""
    if len(passwords) < 8:
        return [make_password(password) for password in passwords]
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        return list(pool.map(make_password, passwords))


def create_students(actor: User, school: School, students: Sequence[NewStudent]) -> list[tuple[User, str]]:
    """Many pupils at once (the roster import, classnote.roster): the same checks as create_student,
    in one transaction (all or none). Each first password is returned once. No audit entry per
    pupil: the caller records one with the counts."""
    school = access.get_school_for(actor, school.pk, manage=True)
    for student in students:
        _check_reading(school, student.name_reading)
    passwords = [new_pupil_password(school, student.grade) for student in students]
    hashes = hash_passwords([credentials.normalise(new.style, new.password) for new in passwords])
    created = []
    try:
        with transaction.atomic():
            for student, new, hashed in zip(students, passwords, hashes, strict=True):
                user = User(
                    username=student_username(school, student.student_number),
                    password=hashed,
                    password_style=new.style,
                    display_name=student.display_name,
                    role=Role.STUDENT,
                    municipality_id=school.municipality_id,
                    school=school,
                    student_number=student.student_number,
                    name_reading=student.name_reading.strip()[:80],
                )
                user.full_clean(exclude=["password"])
                user.save()
                created.append((user, new.password))
    except (IntegrityError, ValidationError) as error:
        if isinstance(error, ValidationError) and not _taken_username(error):
            raise ActionError(describe(error, User)) from None  # the model's validators (base.validators)
        raise _student_taken() from None
    return created


def create_staff(actor: User, school: School, *, display_name: str, login_id: str, role: str) -> tuple[User, str]:
    school = access.get_school_for(actor, school.pk, manage=True)
    allowed = {Role.TEACHER, Role.SCHOOL_ADMIN}
    if role not in allowed:
        raise ActionError(_("That role cannot be given here."))
    password = generate_password(14)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                login_id,
                password,
                display_name=display_name,
                role=role,
                municipality_id=school.municipality_id,
                school=school,
            )
    except (IntegrityError, ValidationError) as error:
        if isinstance(error, ValidationError) and not _taken_username(error):
            raise ActionError(describe(error, User)) from None  # the model's validators (base.validators)
        raise ActionError(_("This login ID is already taken.")) from None
    record(actor, "account.created", target=user, school_id=school.pk, role=user.role)
    return user, password


def reset_password(actor: User, target_id: int) -> tuple[User, str]:
    """A new password for TARGET; a pupil's in the school's style for their grade."""
    target = account_access.get_user_for(actor, target_id, manage=True)
    with transaction.atomic():
        password = _new_password(target)  # also ends the target's sessions (see User.get_session_auth_hash)
        target.session_epoch += 1  # and their API tokens
        target.save(update_fields=["password", "password_style", "session_epoch"])
        record(actor, "account.password_reset", target=target, school_id=target.school_id)
    return target, password


def _new_password(target: User) -> str:
    """Give TARGET a new password (not saved yet) and return it."""
    if target.role == Role.STUDENT and target.school is not None:
        new = new_pupil_password(target.school, pupil_grade(target))
        target.password, target.password_style = new.hashed(), new.style
        return new.password
    password = generate_password(14)
    target.set_password(password)
    target.password_style = ""
    return password


def set_active(actor: User, target_id: int, active: bool) -> User:
    target = account_access.get_user_for(actor, target_id, manage=True)
    if target.pk == actor.pk:
        raise ActionError(_("You cannot deactivate your own account."))
    target.is_active = active
    target.session_epoch += 1
    target.save(update_fields=["is_active", "session_epoch"])
    record(actor, "account.activated" if active else "account.deactivated", target=target, school_id=target.school_id)
    return target


def issue_login_cards(actor: User, school_class: SchoolClass) -> list[tuple[User, str]]:
    """New QR login cards for every student of the class; earlier cards stop working."""
    return [(student, token) for student, token, _password in _issue_login_cards(actor, school_class, False)]


def issue_login_cards_with_passwords(actor: User, school_class: SchoolClass) -> list[tuple[User, str, str]]:
    """New QR login cards, and new passwords in the school's style for the class's grade, for every
    student of the class, to be printed together; earlier cards and passwords stop working, and the
    pupils' sessions end. Returns (pupil, card secret, password)."""
    return _issue_login_cards(actor, school_class, True)


def _issue_login_cards(actor: User, school_class: SchoolClass, new_passwords: bool) -> list[tuple[User, str, str]]:
    school_class = access.get_class_for(actor, school_class.pk)
    students = list(
        account_access.manageable_users(actor)
        .filter(
            memberships__school_class=school_class,
            memberships__role="student",
            is_active=True,
            role=Role.STUDENT,
        )
        .order_by("student_number")
    )
    issued = []
    passwords = {}
    if new_passwords:
        school, grade = school_class.school, school_class.grade
        made = {student.pk: new_pupil_password(school, grade) for student in students}
        hashes = hash_passwords([credentials.normalise(new.style, new.password) for new in made.values()])
        passwords = dict(zip(made, zip(made.values(), hashes, strict=True), strict=True))
    with transaction.atomic():
        for student in students:
            password = ""
            if student.pk in passwords:
                new, hashed = passwords[student.pk]
                student.password, student.password_style, password = hashed, new.style, new.password
                student.session_epoch += 1
                student.save(update_fields=["password", "password_style", "session_epoch"])
            issued.append((student, issue_login_card(student, issued_by=actor), password))
        record(
            actor,
            "login_cards.issued",
            target=school_class,
            school_id=school_class.school_id,
            count=len(issued),
            new_passwords=bool(passwords),
        )
    return issued


def issue_login_card(user: User, *, issued_by: User) -> str:
    """Revoke the user's earlier cards and make a new one; returns its secret (only its hash is kept).
    Trusted: the caller has checked that ISSUED_BY may (issue_login_cards)."""
    token = secrets.token_urlsafe(24)
    _revoke_cards(user)
    LoginCard.objects.create(user=user, token_hash=LoginCard.hash_token(token), issued_by=issued_by)
    return token


def _revoke_cards(user: User) -> None:
    """Revoke the user's cards; the sessions they opened end (accounts.sessions.card_revoked)."""
    cards = list(LoginCard.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True))
    LoginCard.objects.filter(pk__in=cards).update(revoked_at=timezone.now())
    sessions.cards_revoked(user.pk, cards)


def end_access(person: User) -> None:
    """Shut every way in of PERSON: the account is deactivated, its sessions end (session epoch),
    its QR login cards and API tokens are revoked. For callers that have checked access and write
    their own audit entry (cessation of use, classnote.rights.workflow)."""
    person.is_active = False
    person.session_epoch += 1
    person.save(update_fields=["is_active", "session_epoch"])
    _revoke_cards(person)
    person.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_login_cards(actor: User, target_id: int) -> User:
    target = account_access.get_user_for(actor, target_id, manage=True)
    _revoke_cards(target)
    record(actor, "login_card.revoked", target=target, school_id=target.school_id)
    return target


def set_left_on(actor: User, target_id: int, left_on: datetime.date | None) -> User:
    """Record the day a pupil graduated or left (or clear it): their data is deleted the tenant's
    retention period after it (classnote.rights.retention). The account is deactivated with it."""
    if actor.role not in (Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN):
        raise ActionError(_("Only school and municipal administrators record graduation."))
    target = account_access.get_user_for(actor, target_id, manage=True)
    if target.role != Role.STUDENT:
        raise ActionError(_("Only pupils graduate."))
    if left_on is not None and left_on > timezone.localdate() + datetime.timedelta(days=366):
        raise ActionError(_("The date is too far in the future."))
    with transaction.atomic():
        target.left_on = left_on
        fields = ["left_on"]
        if left_on is not None and left_on <= timezone.localdate() and target.is_active:
            target.is_active, target.session_epoch = False, target.session_epoch + 1
            fields += ["is_active", "session_epoch"]
        target.save(update_fields=fields)
        record(actor, "account.left_on_set", target=target, school_id=target.school_id, cleared=left_on is None)
    return target


def logout_everywhere(user: User) -> None:
    """End every session and revoke every API token of USER."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_epoch=user.session_epoch + 1)
        user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        access_changed([user.pk])  # an update() sends no signal: the open streams are told here
    user.session_epoch += 1
    usercache.forget(user.pk)  # (nor does the cache hear of it)


def set_language(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])
