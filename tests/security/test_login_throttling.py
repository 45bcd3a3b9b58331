"""Site-wide — login throttling (brute force and password spraying).

A whole school shares one public address, so limits are strict per account and generous per
address (settings.ACCOUNT_RATE_LIMITS). Promise:
  * staff: after 5 failures in 15 minutes an account refuses even the right password; colleagues
    behind the same address are not affected; after the window the account works again;
  * per address: after 120 failed staff logins in 5 minutes (password spraying over many login
    IDs) the address is refused, another address is not;
  * pupils: after 8 failures a school code + student ID is locked; the same student ID at another
    school and classmates are not; 300 failures in 5 minutes lock the address;
  * QR login cards: after 60 failures in 5 minutes the address is refused, even with a valid card;
  * refusals are 429 (or the form with the "too many attempts" message) and are logged
    (tests/security/test_security_logging.py).
"""

from __future__ import annotations

import re
from typing import Any

import time_machine
from django.conf import settings
from django.test import Client

from classnote.accounts import actions
from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from tests.conftest import PASSWORD, Tenant

SCHOOL_IP = "203.0.113.10"
OTHER_IP = "198.51.100.20"


def staff(login: str, password: str, ip: str = SCHOOL_IP) -> Any:
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"login": login, "password": password})


def staff_refused(response: Any) -> bool:
    return response.status_code == 429 or (
        response.status_code == 200 and "Too many failed login attempts" in response.content.decode()
    )


def pupil(tenant: Tenant, number: str, password: str, ip: str = SCHOOL_IP, school_code: str | None = None) -> Any:
    return Client(REMOTE_ADDR=ip).post(
        "/login/student/",
        {"school_code": school_code or tenant.school.code, "student_number": number, "password": password},
    )


def limits(action: str) -> list[tuple[int, int, str]]:
    """(amount, seconds, per) of each rate of an action, e.g. "5/15m/key" -> (5, 900, "key")."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    parsed = []
    for rate in settings.ACCOUNT_RATE_LIMITS[action].split(","):
        amount, period, per = rate.strip().split("/")
        number, unit = re.fullmatch(r"(\d*)([smhd])", period).groups()  # type: ignore[union-attr]
        parsed.append((int(amount), int(number or 1) * units[unit], per))
    return parsed


def test_the_limits_are_strict_per_account_and_generous_per_address() -> None:
    assert (5, 900, "key") in limits("login_failed")
    assert (120, 300, "ip") in limits("login_failed")
    assert (8, 900, "key") in limits("student_login_failed")
    assert (300, 300, "ip") in limits("student_login_failed")
    assert (60, 300, "ip") in limits("card_login_failed")


def test_a_staff_account_locks_after_five_failures_and_colleagues_are_not_affected(tenant_a: Tenant) -> None:
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        for _ in range(5):
            assert not staff_refused(staff(tenant_a.teacher.username, "wrong-password"))
        assert staff_refused(staff(tenant_a.teacher.username, PASSWORD)), "the right password got in after 5 failures"
        assert staff_refused(staff(tenant_a.teacher.username, PASSWORD, ip=OTHER_IP)), "the lock is per account"
        colleague = staff(tenant_a.school_admin.username, PASSWORD)
        assert colleague.status_code == 302, "a colleague behind the same address was locked out"
        clock.shift(16 * 60)
        assert staff(tenant_a.teacher.username, PASSWORD).status_code == 302, "still locked after the window"


def test_password_spraying_from_one_address_is_stopped(tenant_a: Tenant) -> None:
    (amount, _seconds, _per) = next(rate for rate in limits("login_failed") if rate[2] == "ip")
    for number in range(amount):
        staff(f"sprayed-{number}", "Summer2026!")
    assert staff_refused(staff(tenant_a.teacher.username, PASSWORD)), "the address was not throttled"
    assert staff(tenant_a.teacher.username, PASSWORD, ip=OTHER_IP).status_code == 302


def test_a_pupil_locks_per_school_and_student_id(tenant_a: Tenant, tenant_b: Tenant) -> None:
    number = tenant_a.student.student_number
    twin = User.objects.create_user(
        student_username(tenant_b.school, number),
        PASSWORD,
        display_name="Same number, other school",
        role=Role.STUDENT,
        municipality=tenant_b.municipality,
        school=tenant_b.school,
        student_number=number,
    )
    for _ in range(8):
        assert pupil(tenant_a, number, "wrong").status_code == 400
    assert pupil(tenant_a, number, PASSWORD).status_code == 429
    assert pupil(tenant_a, number.upper(), PASSWORD).status_code == 429, "case changes the key"
    assert pupil(tenant_a, number, PASSWORD, school_code=tenant_a.school.code.upper()).status_code == 429
    assert pupil(tenant_a, tenant_a.classmate.student_number, PASSWORD).status_code == 302
    assert pupil(tenant_b, number, PASSWORD).status_code == 302, "the same student ID at another school was locked"
    assert twin.pk


def test_pupil_logins_from_one_address_are_limited(tenant_a: Tenant) -> None:
    (amount, _seconds, _per) = next(rate for rate in limits("student_login_failed") if rate[2] == "ip")
    for number in range(amount):
        pupil(tenant_a, f"guess{number}", "wrong")
    assert pupil(tenant_a, tenant_a.student.student_number, PASSWORD).status_code == 429
    assert pupil(tenant_a, tenant_a.student.student_number, PASSWORD, ip=OTHER_IP).status_code == 302


def test_qr_card_guessing_from_one_address_is_stopped_even_for_a_valid_card(tenant_a: Tenant) -> None:
    token = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))[tenant_a.student]
    (amount, _seconds, _per) = limits("card_login_failed")[0]
    for number in range(amount):
        assert Client(REMOTE_ADDR=SCHOOL_IP).post("/login/card/", {"token": f"guess-{number:020d}"}).status_code == 400
    refused = Client(REMOTE_ADDR=SCHOOL_IP).post("/login/card/", {"token": token})
    assert refused.status_code == 429
    assert Client(REMOTE_ADDR=OTHER_IP).post("/login/card/", {"token": token}).status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(tenant_a: Tenant) -> None:
    """Without a trusted proxy (TRUSTED_PROXY_COUNT=0) X-Forwarded-For is not believed."""
    for number in range(60):
        Client(REMOTE_ADDR=SCHOOL_IP).post(
            "/login/card/", {"token": f"guess-{number:020d}"}, HTTP_X_FORWARDED_FOR=f"10.0.{number}.1"
        )
    token = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))[tenant_a.student]
    response = Client(REMOTE_ADDR=SCHOOL_IP).post("/login/card/", {"token": token}, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
