"""Demo tenants, taken from the adoption list of the security page; pupils get generated names."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from classnote.accounts.actions import generate_password
from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.complaints.demo import create_demo_cases
from classnote.incidents.demo import create_demo_incident
from classnote.rights import workflow
from classnote.rights.models import DataSubjectRequest
from classnote.tenancy.models import Country, Membership, Municipality, Region, School, SchoolClass

FAMILY = {
    "ja": ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"],
    "zh-hant": ["陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭"],
    "en": ["Garcia", "Smith", "Johnson", "Lee", "Brown", "Davis", "Martinez", "Wilson", "Clark", "Lopez"],
}
GIVEN = {
    "ja": ["陽翔", "蓮", "湊", "結菜", "陽葵", "芽依", "大和", "悠真", "さくら", "葵", "颯太", "凛"],
    "zh-hant": [
        "怡君",
        "志明",
        "雅婷",
        "家豪",
        "淑芬",
        "俊傑",
        "詩涵",
        "宇軒",
        "子晴",
        "冠廷",
        "思妤",
        "承恩",
    ],
    "en": [
        "Olivia",
        "Liam",
        "Emma",
        "Noah",
        "Ava",
        "Mateo",
        "Sophia",
        "Elijah",
        "Mia",
        "Lucas",
        "Amelia",
        "Ethan",
    ],
}


@dataclass
class DemoSchool:
    name: str
    code: str
    classes: list[str]
    students_per_class: int = 12


@dataclass
class DemoTenant:
    country: tuple[str, str, int]  # code, name, sort order
    region: str
    name: str
    kind: str
    language: str
    key: str  # short prefix for login IDs
    schools: list[DemoSchool] = field(default_factory=list)


# Demo tenants and their schools are named as the tenant names itself, in its own language; the staff
# accounts' display names follow: (board administrator, school office) per language.
ROLE_WORDS = {"ja": ("管理者", "事務室"), "zh-hant": ("管理員", "辦公室"), "en": ("admin", "office")}

TENANTS = [
    DemoTenant(
        ("JP", "Japan", 1),
        "神奈川県",
        "横浜市教育委員会",
        "board",
        "ja",
        "yokohama",
        [
            DemoSchool("港小学校", "yk-minato-es", ["5-1", "5-2"]),
            DemoSchool("青葉中学校", "yk-aoba-jhs", ["2-A"]),
        ],
    ),
    DemoTenant(
        ("JP", "Japan", 1),
        "宮城県",
        "仙台市教育委員会",
        "board",
        "ja",
        "sendai",
        [DemoSchool("広瀬小学校", "sd-hirose-es", ["4-1"])],
    ),
    DemoTenant(
        ("TW", "Taiwan", 2),
        "臺北市",
        "臺北市政府教育局",
        "board",
        "zh-hant",
        "taipei",
        [DemoSchool("臺北市立內湖高工", "tp-neihu-vhs", ["101"])],
    ),
    DemoTenant(
        ("HK", "Hong Kong", 3),
        "Hong Kong",
        "Hon Wah College",
        "private",
        "zh-hant",
        "honwah",
        [DemoSchool("Hon Wah College", "hk-honwah", ["S1A"])],
    ),
    DemoTenant(
        ("US", "United States", 4),
        "New York",
        "Rosalyn Yalow Charter School",
        "private",
        "en",
        "yalow",
        [DemoSchool("Rosalyn Yalow Charter School", "ny-yalow", ["Grade 4"])],
    ),
]


def logins_file() -> str:
    return str(settings.CLASSNOTE_HOME / "demo-logins.txt")


def demo_exists() -> bool:
    return School.objects.filter(code="yk-minato-es").exists()


@transaction.atomic
def create_demo(seed: int = 2026) -> list[tuple[str, str, str, str]]:
    """Creates the demo tenants; returns (tenant, role, login, password) for the printed login list."""
    rng = random.Random(seed)  # noqa: S311 - demo names only; passwords come from `secrets`
    logins: list[tuple[str, str, str, str]] = []
    password = generate_password(14)
    officer = User.objects.create_user(
        "privacy-officer", password, display_name="Privacy officer", role=Role.PRIVACY_OFFICER
    )
    logins.append(("classnote operator", "privacy officer", "privacy-officer", password))
    password = generate_password(14)
    User.objects.create_user("operator", password, display_name="Operator support", role=Role.OPERATOR)
    logins.append(("classnote operator", "operator", "operator", password))
    for tenant in TENANTS:
        country, _ = Country.objects.get_or_create(
            code=tenant.country[0], defaults={"name": tenant.country[1], "sort_order": tenant.country[2]}
        )
        region, _ = Region.objects.get_or_create(country=country, name=tenant.region)
        municipality = Municipality.objects.create(
            region=region,
            name=tenant.name,
            kind=tenant.kind,
            default_language=tenant.language,
            list_on_adopters_page=True,
        )
        password = generate_password(14)
        User.objects.create_user(
            f"{tenant.key}-admin",
            password,
            display_name=f"{tenant.name} {ROLE_WORDS[tenant.language][0]}",
            role=Role.MUNICIPAL_ADMIN,
            municipality=municipality,
        )
        logins.append((tenant.name, "municipal admin", f"{tenant.key}-admin", password))
        for s_index, spec in enumerate(tenant.schools):
            school = School.objects.create(
                municipality=municipality, name=spec.name, code=spec.code, list_on_adopters_page=True
            )
            if s_index == 0:
                password = generate_password(14)
                User.objects.create_user(
                    f"{tenant.key}-school-admin",
                    password,
                    display_name=f"{spec.name} {ROLE_WORDS[tenant.language][1]}",
                    role=Role.SCHOOL_ADMIN,
                    municipality=municipality,
                    school=school,
                )
                logins.append((spec.name, "school admin", f"{tenant.key}-school-admin", password))
            for c_index, class_name in enumerate(spec.classes):
                school_class = SchoolClass.objects.create(school=school, name=class_name, school_year=2026)
                teacher_login = f"{tenant.key}-teacher{s_index + 1}{c_index + 1}"
                password = generate_password(14)
                teacher = User.objects.create_user(
                    teacher_login,
                    password,
                    display_name=_name(rng, tenant.language, teacher=True),
                    role=Role.TEACHER,
                    municipality=municipality,
                    school=school,
                )
                Membership.objects.create(school_class=school_class, user=teacher, role="teacher")
                logins.append((spec.name, "teacher", teacher_login, password))
                for n in range(spec.students_per_class):
                    number = f"{c_index + 1}{n + 1:03d}"
                    password = generate_password(10)
                    student = User.objects.create_user(
                        student_username(school, number),
                        password,
                        display_name=_name(rng, tenant.language),
                        role=Role.STUDENT,
                        municipality=municipality,
                        school=school,
                        student_number=number,
                    )
                    Membership.objects.create(school_class=school_class, user=student, role="student")
                    logins.append((spec.name, "student", f"{spec.code} / {number}", password))
    _privacy_cases(officer)
    _data_requests()
    return logins


def _data_requests() -> None:
    """Two data-subject requests at the first school: one to answer, one overdue."""
    from datetime import timedelta

    from django.utils import timezone

    office = User.objects.filter(role=Role.SCHOOL_ADMIN).order_by("pk").first()
    if office is None:
        return
    pupils = User.objects.filter(role=Role.STUDENT, school_id=office.school_id or 0).order_by("pk")
    if pupils.count() < 2:
        return
    workflow.open_request(office, subject_id=pupils[0].pk, kind="disclosure", requester="guardian")
    late = workflow.open_request(office, subject_id=pupils[1].pk, kind="correction", requester="guardian")
    opened = timezone.now() - timedelta(days=20)
    DataSubjectRequest.objects.filter(pk=late.pk).update(opened_at=opened, due_at=workflow.due_date(opened))


def _privacy_cases(officer: User) -> None:
    """Complaints (one overdue) and an incident, so the privacy officer's dashboard is not empty."""

    first = Municipality.objects.filter(name=TENANTS[0].name).order_by("pk").last()
    create_demo_cases(officer, first)
    create_demo_incident(officer, [first] if first else [])


def _name(rng: random.Random, language: str, teacher: bool = False) -> str:
    family, given = rng.choice(FAMILY[language]), rng.choice(GIVEN[language])
    if language == "en":
        return f"{'Ms. ' if teacher else ''}{given} {family}" if teacher else f"{given} {family[0]}."
    if language == "ja":
        return f"{family}先生" if teacher else f"{family} {given}"
    return f"{family}老師" if teacher else f"{family}{given}"
