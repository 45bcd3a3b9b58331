"""Issue 14, defect 6: age-appropriate pupil passwords.

A school chooses a password style per band of grades (pictures for grades 1-2, a word and a number
for 3-4, random letters above or when the grade is not known); a pupil's password follows the
grade of their class when it is made: a new pupil, the roster import, a reset by a teacher, login
cards printed with passwords. What a pupil types or taps is normalised before the hash check
("サクラ４７" = "さくら 47" = "sakura47"; tapped pictures = their typed names). The student login's
rate limits hold for every style; the lockout of the weak styles is pinned here, translated, 429.
SECURITY.md states the guess spaces computed here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.test import Client

from classnote.accounts import actions, credentials, wordlists
from classnote.accounts.models import User
from classnote.roster import actions as roster_actions
from classnote.roster import reader
from classnote.tenancy.models import Membership, PasswordStyle, SchoolClass
from tests.conftest import Tenant, fresh_login, login_as

ROOT = Path(__file__).resolve().parents[1]
SCHOOL_IP = "203.0.113.10"
TOO_MANY_JA = "ログインに何度も失敗しました"


def graded_class(tenant: Tenant, grade: int | None, name: str = "") -> SchoolClass:
    return SchoolClass.objects.create(
        school=tenant.school, name=name or f"grade {grade}", school_year=2026, grade=grade
    )


def pupil_in(tenant: Tenant, school_class: SchoolClass, number: str) -> tuple[User, str]:
    user, password = actions.create_student(
        tenant.school_admin,
        tenant.school,
        display_name=f"Pupil {number}",
        student_number=number,
        grade=school_class.grade,
    )
    Membership.objects.create(school_class=school_class, user=user, role="student")
    return user, password


def log_in(tenant: Tenant, number: str, password: str, ip: str = SCHOOL_IP, language: str = "ja") -> Any:
    return Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language).post(
        "/login/student/",
        {"school_code": tenant.school.code, "student_number": number, "password": password},
    )


# --- Generation: the style per grade -----------------------------------------------------------


def test_the_default_styles_follow_the_grade(tenant_a: Tenant) -> None:
    school = tenant_a.school
    assert [school.password_style_for(grade) for grade in (1, 2, 3, 4, 5, 9, None)] == [
        PasswordStyle.PICTURES,
        PasswordStyle.PICTURES,
        PasswordStyle.WORD_NUMBER,
        PasswordStyle.WORD_NUMBER,
        PasswordStyle.RANDOM,
        PasswordStyle.RANDOM,
        PasswordStyle.RANDOM,
    ]


@pytest.mark.parametrize(
    ("grade", "style", "shape"),
    [
        (1, PasswordStyle.PICTURES, r"(?:(?:apple|sun|moon|star|fish|cat|tree|car|flower|house|umbrella|boat) ?){4}"),
        (3, PasswordStyle.WORD_NUMBER, r"[ぁ-ゖー]+ [1-9]\d"),
        (6, PasswordStyle.RANDOM, r"[a-hj-km-np-z2-9]{10}"),
        (None, PasswordStyle.RANDOM, r"[a-hj-km-np-z2-9]{10}"),
    ],
)
def test_a_new_pupil_gets_the_style_of_their_grade(tenant_a: Tenant, grade: int | None, style: str, shape: str) -> None:
    user, password = pupil_in(tenant_a, graded_class(tenant_a, grade), "g1")
    assert user.password_style == style
    assert re.fullmatch(shape, password), password
    assert log_in(tenant_a, "g1", password).status_code == 302


def test_the_school_chooses_the_styles_on_its_page(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.school_admin)
    response = client.post(
        f"/schools/{tenant_a.school.pk}/",
        {
            "form": "passwords",
            "passwords-password_style_grades_1_2": "word_number",
            "passwords-password_style_grades_3_4": "random",
            "passwords-password_style_older": "random",
        },
    )
    assert response.status_code == 302
    tenant_a.school.refresh_from_db()
    assert tenant_a.school.password_style_for(1) == PasswordStyle.WORD_NUMBER
    user, password = pupil_in(tenant_a, graded_class(tenant_a, 1), "g2")
    assert user.password_style == PasswordStyle.WORD_NUMBER
    # A wrong value is a translated form error, not a 500.
    refused = client.post(
        f"/schools/{tenant_a.school.pk}/", {"form": "passwords", "passwords-password_style_older": "<b>"}
    )
    assert refused.status_code == 400


def test_english_and_chinese_schools_get_words_of_their_language(tenant_a: Tenant) -> None:
    school_class = graded_class(tenant_a, 4)
    for language, words in (("en", wordlists.ENGLISH), ("zh-hant", wordlists.TRADITIONAL_CHINESE)):
        tenant_a.municipality.default_language = language
        tenant_a.municipality.save()
        tenant_a.school.refresh_from_db()
        _user, password = pupil_in(tenant_a, school_class, f"w-{language}")
        word, number = password.split(" ")
        assert word in words and 10 <= int(number) <= 99


def test_a_reset_by_the_teacher_uses_the_style_of_the_pupils_grade(tenant_a: Tenant) -> None:
    Membership.objects.create(school_class=graded_class(tenant_a, 2), user=tenant_a.student, role="student")
    target, password = actions.reset_password(tenant_a.teacher, tenant_a.student.pk)
    assert target.password_style == PasswordStyle.PICTURES
    assert len(password.split(" ")) == credentials.PICTURES_IN_PASSWORD
    assert log_in(tenant_a, tenant_a.student.student_number, password).status_code == 302
    # Staff keep random passwords of 14 characters.
    staff, staff_password = actions.reset_password(tenant_a.school_admin, tenant_a.teacher.pk)
    assert staff.password_style == "" and len(staff_password) == 14


def test_login_cards_printed_with_passwords_carry_the_pictures(tenant_a: Tenant) -> None:
    school_class = graded_class(tenant_a, 1)
    Membership.objects.create(school_class=school_class, user=tenant_a.teacher, role="teacher")
    pupil, _old = pupil_in(tenant_a, school_class, "c1")
    ((who, token, password),) = actions.issue_login_cards_with_passwords(tenant_a.teacher, school_class)
    assert who == pupil and token and len(password.split(" ")) == 4
    assert log_in(tenant_a, "c1", password).status_code == 302
    # The printed card shows each picture with its (translated) name, not the keys.
    client = fresh_login(Client(HTTP_ACCEPT_LANGUAGE="ja"), tenant_a.teacher)
    page = client.post(f"/classes/{school_class.pk}/login-cards/", {"new_passwords": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="picture-password-item"') == 4
    assert html.count("/static/classnote/pictures/") == 4
    # The names under the pictures (in Japanese) are the password: typed, they log in.
    names = re.findall(r'class="picture-password-item" aria-hidden="true"><img [^>]*><small>([^<]+)</small>', html)
    assert len(names) == 4 and not set(names) & set(credentials.PICTURE_KEYS)
    # Printed without the option, the cards keep the pupils' passwords.
    plain = client.post(f"/classes/{school_class.pk}/login-cards/").content.decode()
    assert "picture-password-item" not in plain
    assert log_in(tenant_a, "c1", " ".join(names)).status_code == 302


def test_the_roster_import_gives_each_pupil_the_style_of_their_class(tenant_a: Tenant) -> None:
    graded_class(tenant_a, 1, "1-1")
    graded_class(tenant_a, 3, "3-1")
    data = "学籍番号,氏名,学級\nr1,一年 花子,1-1\nr2,三年 太郎,3-1\n".encode()
    plan = reader.plan(tenant_a.school_admin, tenant_a.school, 2026, reader.read(data))
    imported = roster_actions.import_roster(tenant_a.school_admin, tenant_a.school, plan)
    styles = {user.student_number: user.password_style for user, _password, _class in imported.created}
    assert styles == {"r1": PasswordStyle.PICTURES, "r2": PasswordStyle.WORD_NUMBER}


# --- Normalisation and hashing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["さくら 47", "さくら47", "サクラ47", "ｻｸﾗ４７", "  さくら　４７ ", "sakura47", "SAKURA 47", "Sakura-47"],
)
def test_a_word_and_number_is_accepted_as_typed(typed: str) -> None:
    assert credentials.normalise(PasswordStyle.WORD_NUMBER, typed) == "さくら47"


def test_kunrei_romaji_is_accepted_too() -> None:
    assert credentials.normalise(PasswordStyle.WORD_NUMBER, "tukue 12") == "つくえ12"
    assert credentials.normalise(PasswordStyle.WORD_NUMBER, "hoshi 30") == credentials.normalise(
        PasswordStyle.WORD_NUMBER, "HOSI30"
    )
    assert credentials.normalise(PasswordStyle.WORD_NUMBER, "さくら 48") != "さくら47"


@pytest.mark.parametrize(
    "typed",
    [
        "apple cat sun boat",
        "りんご ねこ たいよう ふね",
        "リンゴ、ネコ、タイヨウ、フネ",
        "蘋果 貓 太陽 船",
        "Apple-Cat-Sun-Boat",
    ],
)
def test_pictures_are_accepted_tapped_or_named(typed: str) -> None:
    assert credentials.normalise(PasswordStyle.PICTURES, typed) == "apple-cat-sun-boat"


def test_a_random_password_accepts_full_width_and_capitals_but_a_chosen_one_is_exact() -> None:
    assert credentials.normalise(PasswordStyle.RANDOM, "ＡＢＣ２３ def") == "abc23def"
    assert credentials.normalise("", "Chosen Password") == "Chosen Password"


def test_every_style_is_stored_as_an_argon2_hash(tenant_a: Tenant) -> None:
    for grade in (1, 3, 6):
        user, password = pupil_in(tenant_a, graded_class(tenant_a, grade), f"h{grade}")
        # The configured hasher (Argon2 in production, tests/security/test_password_storage.py).
        assert identify_hasher(user.password).algorithm == get_hasher().algorithm
        assert password not in user.password
        assert credentials.normalise(user.password_style, password) not in user.password


def test_pictures_typed_by_name_log_in(tenant_a: Tenant) -> None:
    user, password = pupil_in(tenant_a, graded_class(tenant_a, 1), "n1")
    names = {"apple": "りんご", "sun": "たいよう", "moon": "つき", "star": "ほし", "fish": "さかな", "cat": "ねこ"}
    names |= {"tree": "き", "car": "くるま", "flower": "はな", "house": "いえ", "umbrella": "かさ", "boat": "ふね"}
    typed = "、".join(names[key] for key in password.split(" "))
    assert log_in(tenant_a, "n1", typed).status_code == 302


def test_a_password_chosen_by_its_holder_is_checked_as_typed(tenant_a: Tenant) -> None:
    user, _password = pupil_in(tenant_a, graded_class(tenant_a, 1), "p1")
    user.set_password("Own Secret 1")
    user.save()
    credentials._chosen_by_holder(sender=None, user=user)  # allauth's password_changed
    user.refresh_from_db()
    assert user.password_style == ""
    assert log_in(tenant_a, "p1", "Own Secret 1").status_code == 302
    assert log_in(tenant_a, "p1", "own secret 1").status_code == 400


# --- Throttling of the weak styles --------------------------------------------------------------


@pytest.mark.parametrize("grade", [1, 3])
def test_wrong_pictures_lock_the_account_with_a_translated_message(tenant_a: Tenant, grade: int) -> None:
    user, password = pupil_in(tenant_a, graded_class(tenant_a, grade), "t1")
    wrong = "cat cat cat cat" if grade == 1 else "さくら 10"
    if credentials.normalise(user.password_style, wrong) == credentials.normalise(user.password_style, password):
        wrong = "dog dog dog dog"
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        for _ in range(8):
            response = log_in(tenant_a, "t1", wrong)
            assert response.status_code == 400
            assert "学校コード、児童生徒ID、パスワードのいずれかが正しくありません。" in response.content.decode()
        refused = log_in(tenant_a, "t1", password)  # even the right pictures
        assert refused.status_code == 429
        assert TOO_MANY_JA in refused.content.decode()
        # A classmate behind the same address is not affected.
        _other, other_password = pupil_in(tenant_a, graded_class(tenant_a, grade, "other"), "t2")
        assert log_in(tenant_a, "t2", other_password).status_code == 302
        # The 15-minute window passes; the daily cap (30 failures) is not reached yet.
        clock.shift(16 * 60)
        assert log_in(tenant_a, "t1", password).status_code == 302


def test_a_day_caps_the_guesses_at_one_account(tenant_a: Tenant) -> None:
    _user, password = pupil_in(tenant_a, graded_class(tenant_a, 1), "d1")
    wrong = "boat boat boat boat" if password != "boat boat boat boat" else "cat cat cat cat"
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        failures = 0
        for _window in range(5):
            while log_in(tenant_a, "d1", wrong).status_code == 400:
                failures += 1
            clock.shift(16 * 60)
        assert failures == 30
        assert log_in(tenant_a, "d1", password).status_code == 429
        clock.shift(24 * 3600)
        assert log_in(tenant_a, "d1", password).status_code == 302


# --- The documented strength estimate ------------------------------------------------------------


def test_security_md_states_the_guess_spaces_computed_here() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert credentials.guess_space(PasswordStyle.PICTURES) == 12**4 == 20_736
    for number in (
        credentials.guess_space(PasswordStyle.PICTURES),
        credentials.guess_space(PasswordStyle.WORD_NUMBER, "ja"),
        credentials.guess_space(PasswordStyle.WORD_NUMBER, "en"),
        credentials.guess_space(PasswordStyle.WORD_NUMBER, "zh-hant"),
    ):
        assert f"{number:,}" in text, number
