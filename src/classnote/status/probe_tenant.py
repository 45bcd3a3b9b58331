"""The status prober's synthetic tenant: one municipality flagged ``synthetic``, one school, one
class, and in it a teacher and a pupil for each prober, with the credentials they log in with.

The tenant is hidden from the adopters page, the statistics, the incident register's choice of
boards and the complaint form (``Municipality.synthetic``); nobody administers it, so it appears in
no administrator's listing either. It never asks for a second factor (``require_mfa_for_teachers``
stays off and no probe account is an administrator).

Credentials: every prober has its own teacher and pupil (``ensure_probe_accounts``), so setting
up one prober never breaks another's. ``reset_credentials`` (``classnote probe setup``, or the
embedded prober's first round) makes random passwords and an API token; the database keeps only
their hashes (Argon2 for the passwords, SHA-256 for the token, as for every account and token).
The clear values go to one file, ``STATUS_PROBE_CREDENTIALS`` (mode 0600, under CLASSNOTE_HOME by
default), which an operator copies to the machine that runs ``classnote probe --url``. They are
never logged or printed.

What a round leaves behind (its lesson, the cards sent in it, the uploaded picture) is deleted by
``purge`` after every round (the sessions end with the round's logout); ``purge`` keeps the last
few minutes, so a round still running on another prober is not pulled from under it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classnote.accounts import tokens
from classnote.accounts.models import ApiToken, User, student_username
from classnote.base.roles import Role
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.lessons.models import Lesson
from classnote.realtime.models import Channel
from classnote.tenancy.models import Country, Membership, Municipality, Region, School, SchoolClass

MUNICIPALITY_NAME = "classnote status probe"
SCHOOL_CODE = "status-probe"
TEACHER_PREFIX = "status-probe-"
EMBEDDED = "embedded"  # the scheduled prober's accounts; `classnote probe` names its own (--name)
TOKEN_NAME = "status prober"  # noqa: S105 - the token's label, not a secret
KEEP = timedelta(minutes=5)  # what purge leaves: a round of another prober may still be using it


@dataclass(frozen=True)
class Credentials:
    teacher_login: str
    teacher_password: str
    school_code: str
    pupil_number: str
    pupil_password: str
    api_token: str
    class_id: int

    def write(self, path: Path) -> None:
        """To PATH, readable by its owner only (created 0600 before anything is written)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(asdict(self), out)
        temporary.replace(path)

    @classmethod
    def read(cls, path: Path) -> Credentials:
        """From PATH; OSError when it cannot be read, ValueError when it is not a credentials file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        try:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError) as error:
            raise ValueError("not a probe credentials file") from error


def credentials_path() -> Path:
    return Path(settings.STATUS_PROBE_CREDENTIALS)


@dataclass(frozen=True)
class ProbeTenant:
    municipality: Municipality
    school: School
    school_class: SchoolClass


@dataclass(frozen=True)
class ProbeAccounts:
    tenant: ProbeTenant
    teacher: User
    pupil: User


def account_name(prober: str) -> str:
    """A prober's name as it goes into login IDs: lower-case letters, digits and hyphens, short."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", prober.lower()).strip("-")[:24]
    return cleaned or "probe"


@transaction.atomic
def ensure_probe_tenant() -> ProbeTenant:
    """The probe tenant (municipality, school, class), made on the first call; every later call
    finds the same rows."""
    municipality = Municipality.objects.filter(synthetic=True).order_by("pk").first()
    if municipality is None:
        country, _ = Country.objects.get_or_create(code="ZZ", defaults={"name": "Synthetic", "sort_order": 999})
        region, _ = Region.objects.get_or_create(country=country, name="Synthetic")
        municipality = Municipality.objects.create(
            region=region, name=MUNICIPALITY_NAME, synthetic=True, list_on_adopters_page=False
        )
    school = municipality.schools.order_by("pk").first()
    if school is None:
        school = School.objects.create(
            municipality=municipality, name="Status probe school", code=SCHOOL_CODE, list_on_adopters_page=False
        )
    school_class = school.classes.order_by("pk").first()
    if school_class is None:
        school_class = SchoolClass.objects.create(school=school, name="Probe", school_year=timezone.now().year)
    return ProbeTenant(municipality, school, school_class)


@transaction.atomic
def ensure_probe_accounts(prober: str) -> ProbeAccounts:
    """PROBER's own teacher and pupil in the probe class (each prober has its pair, so setting one up
    never changes another's credentials), made on the first call."""
    tenant = ensure_probe_tenant()
    name = account_name(prober)
    teacher_login = f"{TEACHER_PREFIX}{name}"
    teacher = User.objects.filter(username=teacher_login).first()
    if teacher is None:
        teacher = User.objects.create_user(
            teacher_login,
            None,
            display_name=f"Status probe {name}",
            role=Role.TEACHER,
            municipality=tenant.municipality,
            school=tenant.school,
        )
    pupil_login = student_username(tenant.school, name)
    pupil = User.objects.filter(username=pupil_login).first()
    if pupil is None:
        pupil = User.objects.create_user(
            pupil_login,
            None,
            display_name=f"Status probe pupil {name}",
            role=Role.STUDENT,
            municipality=tenant.municipality,
            school=tenant.school,
            student_number=name,
        )
    for user, role in ((teacher, Membership.Role.TEACHER), (pupil, Membership.Role.STUDENT)):
        if not tenant.school_class.memberships.filter(user=user).exists():
            Membership.objects.create(school_class=tenant.school_class, user=user, role=role)
    return ProbeAccounts(tenant, teacher, pupil)


def reset_credentials(prober: str) -> Credentials:
    """New random passwords for PROBER's two accounts and a new API token (its old ones revoked);
    returns them in the clear, once: the caller writes them to a credentials file."""
    accounts = ensure_probe_accounts(prober)
    teacher_password = secrets.token_urlsafe(24)
    pupil_password = secrets.token_urlsafe(24)
    with transaction.atomic():
        for user, password in ((accounts.teacher, teacher_password), (accounts.pupil, pupil_password)):
            user.set_password(password)
            user.password_style = ""  # checked exactly as typed
            user.is_active = True
            user.save(update_fields=["password", "password_style", "is_active"])
        ApiToken.objects.filter(user=accounts.teacher, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _token, api_token = tokens.issue(accounts.teacher, TOKEN_NAME)
    return Credentials(
        teacher_login=accounts.teacher.username,
        teacher_password=teacher_password,
        school_code=accounts.tenant.school.code,
        pupil_number=accounts.pupil.student_number,
        pupil_password=pupil_password,
        api_token=api_token,
        class_id=accounts.tenant.school_class.pk,
    )


def credentials_for_embedded() -> Credentials:
    """The embedded prober's credentials file's, made (accounts and file) when there is none yet."""
    path = credentials_path()
    try:
        return Credentials.read(path)
    except (OSError, ValueError):
        credentials = reset_credentials(EMBEDDED)
        credentials.write(path)
        return credentials


def purge(keep: timedelta = KEEP) -> int:
    """Delete what probe rounds made before the last KEEP: the probe class's lessons (their cards,
    boxes and activity go with them), the probe accounts' other cards and their uploads (the bytes
    follow once the deletion commits), and the lessons' event channels. Returns how many lessons went."""
    municipality = Municipality.objects.filter(synthetic=True).order_by("pk").first()
    if municipality is None:
        return 0
    cutoff = timezone.now() - keep
    people = list(municipality.users.all())  # the synthetic tenant's two accounts
    lessons = 0
    with transaction.atomic():
        for school in municipality.schools.all():
            for school_class in school.classes.all():
                old = school_class.lessons.filter(created_at__lt=cutoff)
                channels = [Lesson.channel_name(pk) for pk in old.values_list("pk", flat=True)]
                _count, by_model = old.delete()
                lessons += by_model.get("lessons.Lesson", 0)
                Channel.objects.filter(name__in=channels).delete()  # the lessons' events go with them
        Card.objects.filter(owner__in=people, created_at__lt=cutoff).delete()
        for stored in StoredFile.objects.filter(owner__in=people, created_at__lt=cutoff, cards__isnull=True):
            stored.delete()
    return lessons
