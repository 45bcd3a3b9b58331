"""Login for staff (login ID + password + MFA) and pupils (school code + student ID, QR cards),
throttling, session lifetimes per role and "log out everywhere"."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory

from classnote.accounts import actions
from classnote.accounts.hashers import ClassnoteArgon2Hasher
from classnote.accounts.models import LoginCard
from classnote.base.errors import ActionError
from tests.conftest import PASSWORD, Tenant, fresh_login, login_as

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Tests that make a TOTP code run with the clock frozen here, in the middle of a 30-second period, so
# the code cannot roll over to the next period between making it and the server checking it. (Its
# own period: allauth remembers used codes in the cache until the period ends, by the clock.)
TOTP_INSTANT = datetime.datetime(2026, 11, 26, 9, 15, 15, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> None:
    cache.clear()


def staff_login(client: Client, login_id: str, password: str = PASSWORD) -> object:
    return client.post("/accounts/login/", {"login": login_id, "password": password})


def current_code() -> str:
    import time

    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def test_teacher_logs_in_with_login_id_and_password(tenant_a: Tenant) -> None:
    client = Client()
    response = staff_login(client, tenant_a.teacher.username)
    assert response.status_code == 302
    assert client.get("/home/").status_code == 200


def test_students_cannot_use_the_staff_form(tenant_a: Tenant) -> None:
    client = Client()
    response = staff_login(client, tenant_a.student.username)
    assert response.status_code == 200  # form shown again with an error
    assert client.get("/home/").status_code == 302


def test_student_logs_in_with_school_code_and_student_id(tenant_a: Tenant) -> None:
    client = Client()
    response = client.post(
        "/login/student/",
        {
            "school_code": tenant_a.school.code.upper(),
            "student_number": tenant_a.student.student_number,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    home = client.get("/home/")
    assert home.status_code == 200
    assert tenant_a.school_class.name in home.content.decode()


def test_wrong_student_password_gives_one_vague_message(tenant_a: Tenant) -> None:
    wrong_password = Client().post(
        "/login/student/",
        {
            "school_code": tenant_a.school.code,
            "student_number": tenant_a.student.student_number,
            "password": "nope",
        },
    )
    no_such_pupil = Client().post(
        "/login/student/",
        {"school_code": tenant_a.school.code, "student_number": "unknown", "password": "nope"},
    )
    assert wrong_password.status_code == no_such_pupil.status_code == 400
    # The same words either way: the form does not reveal which student IDs exist.
    message = "The school code, student ID or password is not right."
    assert message in wrong_password.content.decode() and message in no_such_pupil.content.decode()


def test_repeated_student_failures_lock_the_account_for_a_while(tenant_a: Tenant) -> None:
    data = {"school_code": tenant_a.school.code, "student_number": tenant_a.student.student_number}
    for _ in range(8):
        assert Client().post("/login/student/", data | {"password": "wrong"}).status_code == 400
    locked = Client().post("/login/student/", data | {"password": PASSWORD})
    assert locked.status_code == 429
    # A classmate behind the same school IP is not affected.
    classmate = Client().post(
        "/login/student/",
        {
            "school_code": tenant_a.school.code,
            "student_number": tenant_a.classmate.student_number,
            "password": PASSWORD,
        },
    )
    assert classmate.status_code == 302


def test_repeated_staff_failures_are_throttled(tenant_a: Tenant) -> None:
    for _ in range(5):
        staff_login(Client(), tenant_a.teacher.username, "wrong-password")
    response = staff_login(Client(), tenant_a.teacher.username)
    assert response.status_code in {200, 429}
    assert Client().get("/home/").status_code == 302
    assert "Too many" in response.content.decode() or response.status_code == 429


def test_qr_login_card_logs_in_until_revoked(tenant_a: Tenant) -> None:
    issued = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))
    token = issued[tenant_a.student]
    assert tenant_a.other_class_student not in issued
    # Only a hash is stored.
    assert not LoginCard.objects.filter(token_hash=token).exists()
    client = Client()
    assert client.post("/login/card/", {"token": token}).status_code == 302
    assert client.get("/home/").status_code == 200

    actions.revoke_login_cards(tenant_a.teacher, tenant_a.student.pk)
    assert Client().post("/login/card/", {"token": token}).status_code == 400


def test_printing_new_cards_revokes_the_old_ones(tenant_a: Tenant) -> None:
    old = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))[tenant_a.student]
    new = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))[tenant_a.student]
    assert Client().post("/login/card/", {"token": old}).status_code == 400
    assert Client().post("/login/card/", {"token": new}).status_code == 302


def test_login_card_page_prints_qr_codes_without_the_secret_in_any_url(tenant_a: Tenant) -> None:
    client = fresh_login(Client(), tenant_a.teacher)
    response = client.post(f"/classes/{tenant_a.school_class.pk}/login-cards/")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<svg") == 2  # two pupils in the class
    assert tenant_a.student.display_name in body
    assert response["Cache-Control"] == "no-store"


def test_admins_must_enrol_a_second_factor_before_anything_else(tenant_a: Tenant) -> None:
    client = Client()
    assert staff_login(client, tenant_a.school_admin.username).status_code == 302
    response = client.get("/home/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate")
    assert client.get(f"/schools/{tenant_a.school.pk}/").status_code == 302
    assert client.get("/api/me").status_code == 403


@time_machine.travel(TOTP_INSTANT, tick=False)
def test_an_admin_enrols_an_authenticator_app_right_after_login(tenant_a: Tenant) -> None:
    import time

    client = Client()
    staff_login(client, tenant_a.school_admin.username)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # no second password prompt right after logging in
    secret = client.session["mfa.totp.secret"]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=tenant_a.school_admin, type="totp").exists()
    assert client.get(f"/schools/{tenant_a.school.pk}/").status_code == 200


def test_tenant_policy_can_require_mfa_for_teachers(tenant_a: Tenant) -> None:
    tenant_a.municipality.require_mfa_for_teachers = True
    tenant_a.municipality.save()
    client = Client()
    staff_login(client, tenant_a.teacher.username)
    assert client.get("/home/").status_code == 302


@time_machine.travel(TOTP_INSTANT, tick=False)
def test_enrolled_admin_needs_the_code_and_cannot_skip_it(tenant_a: Tenant) -> None:
    TOTP.activate(tenant_a.school_admin, TOTP_SECRET)
    stored = Authenticator.objects.get(user=tenant_a.school_admin).data["secret"]
    assert TOTP_SECRET not in stored  # encrypted at rest

    client = Client()
    response = staff_login(client, tenant_a.school_admin.username)
    assert response["Location"].startswith("/accounts/2fa/authenticate")
    # Skipping the second step leaves the visitor logged out.
    assert client.get("/home/").status_code == 302
    assert client.get(f"/schools/{tenant_a.school.pk}/").status_code == 302
    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    assert client.get("/home/").status_code == 302
    assert client.post("/accounts/2fa/authenticate/", {"code": current_code()}).status_code == 302
    assert client.get(f"/schools/{tenant_a.school.pk}/").status_code == 200


def test_student_session_ends_after_idle_time(tenant_a: Tenant) -> None:
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        client = login_as(Client(), tenant_a.student)
        assert client.get("/home/").status_code == 200
        clock.shift(30 * 60)
        assert client.get("/home/").status_code == 200
        clock.shift(46 * 60)
        assert client.get("/home/").status_code == 302


def test_student_session_has_an_absolute_limit(tenant_a: Tenant) -> None:
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        client = login_as(Client(), tenant_a.student)
        for _ in range(20):  # active all day, a request every 30 minutes
            clock.shift(30 * 60)
            response = client.get("/home/")
        assert response.status_code == 302


def test_logout_everywhere_ends_every_session(tenant_a: Tenant) -> None:
    tablet, laptop = login_as(Client(), tenant_a.teacher), login_as(Client(), tenant_a.teacher)
    assert tablet.get("/home/").status_code == laptop.get("/home/").status_code == 200
    assert laptop.post("/settings/logout-everywhere/").status_code == 302
    assert tablet.get("/home/").status_code == 302
    assert laptop.get("/home/").status_code == 302


def test_a_new_password_from_the_teacher_ends_the_pupils_sessions(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    teacher = fresh_login(Client(), tenant_a.teacher)
    response = teacher.post(f"/users/{tenant_a.student.pk}/password/")
    assert response.status_code == 200
    new_password = re.search(r'<p class="secret"><code>(\w+)</code>', response.content.decode())
    assert new_password
    assert pupil.get("/home/").status_code == 302
    assert (
        Client()
        .post(
            "/login/student/",
            {
                "school_code": tenant_a.school.code,
                "student_number": tenant_a.student.student_number,
                "password": new_password.group(1),
            },
        )
        .status_code
        == 302
    )


def test_passwords_are_hashed_with_argon2id_at_the_chosen_cost() -> None:
    encoded = ClassnoteArgon2Hasher().encode("a pupil's password", ClassnoteArgon2Hasher().salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), type(ClassnoteArgon2Hasher()).__mro__[1])
    assert ClassnoteArgon2Hasher().verify("a pupil's password", encoded)


def test_students_need_no_email_or_birth_date() -> None:
    from classnote.accounts.models import User

    names = {field.name for field in User._meta.get_fields()}
    assert not names & {"email", "birth_date", "date_of_birth", "birthday", "first_name", "last_name"}


def test_the_staff_login_page_offers_no_sign_up_and_points_pupils_to_their_login(db: None) -> None:
    body = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "sign up" not in body.lower() and "/accounts/signup/" not in body
    assert 'href="/login/student/"' in body


# --- Forgotten passwords: an administrator sets a new one; nothing is mailed ---------------------------


ADDRESSES = ["victim@example.com", "teacher-aaa@example.org", "a@b.c", "not an address"]


def test_the_password_reset_form_mails_nobody_and_sends_people_to_their_administrator(tenant_a: Tenant) -> None:
    """Finding 6 of issue 12: the form mailed allauth's "unknown account" message to any address,
    20 per minute per address of the sender. Staff have no e-mail: the page says whom to ask."""
    page = Client().get("/accounts/password/reset/")
    assert page.status_code == 200
    assert "Ask your school administrator" in page.content.decode()
    for address in ADDRESSES:
        response = Client().post("/accounts/password/reset/", {"email": address})
        assert response.status_code == 200
        assert "Ask your school administrator" in response.content.decode()
    signed_in = login_as(Client(), tenant_a.teacher).post("/accounts/password/reset/", {"email": ADDRESSES[0]})
    assert signed_in.status_code == 200
    assert mail.outbox == []


def test_the_password_reset_page_is_translated(db: None) -> None:
    page = Client().get("/accounts/password/reset/", HTTP_ACCEPT_LANGUAGE="ja")
    assert "学校管理者に発行" in page.content.decode()


def test_the_other_pages_of_the_mailed_flow_send_nothing(db: None) -> None:
    done = Client().get("/accounts/password/reset/done/")  # allauth's said "we have sent you an e-mail"
    assert done.status_code == 200 and "Ask your school administrator" in done.content.decode()
    for url in ("/accounts/password/reset/key/1-abc/", "/accounts/password/reset/key/done/"):
        assert Client().post(url, {"password1": "x", "password2": "x"}).status_code < 500
    assert mail.outbox == []


def test_allauth_never_mails_even_when_asked_directly(tenant_a: Tenant) -> None:
    """The second wall: should one of allauth's mailing flows be reached some other way."""
    request = RequestFactory().get("/")
    get_adapter(request).send_mail("account/email/unknown_account", ADDRESSES[0], {"request": request})
    assert mail.outbox == []


def test_nobody_can_make_the_service_mail_an_address_of_their_choice(tenant_a: Tenant) -> None:
    """allauth's e-mail page let any signed-in user (pupils too) add an address, which mails it a
    confirmation link: classnote keeps no e-mail addresses of accounts, so the page is not there."""
    for user in (tenant_a.teacher, tenant_a.student):
        client = login_as(Client(), user)
        assert client.get("/accounts/email/").status_code == 404
        response = client.post("/accounts/email/", {"email": ADDRESSES[0], "action_add": ""})
        assert response.status_code == 404
    assert mail.outbox == []
    assert not EmailAddress.objects.exists()


def test_the_login_page_points_to_the_administrator_not_to_a_mail(db: None) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page


@pytest.mark.parametrize("target", ["teacher", "student"])
def test_a_school_administrator_sets_a_new_password_after_confirming_their_own(tenant_a: Tenant, target: str) -> None:
    """The way back into a forgotten account: the school administrator (a teacher for their
    pupils) makes a new password, shown once; step-up first (classnote.accounts.stepup)."""
    person = getattr(tenant_a, target)
    url = f"/users/{person.pk}/password/"
    not_fresh = login_as(Client(), tenant_a.school_admin).post(url)
    assert not_fresh.status_code == 302 and "/accounts/reauthenticate/" in not_fresh["Location"]
    person.refresh_from_db()
    assert person.check_password(PASSWORD), "changed without step-up"

    response = fresh_login(Client(), tenant_a.school_admin).post(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    found = re.search(r'<p class="secret"><code>(\w+)</code>', response.content.decode())
    assert found
    new_password = found.group(1)
    person.refresh_from_db()
    assert person.check_password(new_password) and not person.check_password(PASSWORD)
    if target == "teacher":
        assert staff_login(Client(), person.username, new_password).status_code == 302  # type: ignore[attr-defined]
    else:
        login = {"school_code": tenant_a.school.code, "student_number": person.student_number, "password": new_password}
        assert Client().post("/login/student/", login).status_code == 302
    assert mail.outbox == []


def test_nobody_resets_a_password_outside_their_school(tenant_a: Tenant, tenant_b: Tenant) -> None:
    admin = fresh_login(Client(), tenant_a.school_admin)
    assert admin.post(f"/users/{tenant_b.teacher.pk}/password/").status_code == 404
    assert admin.post(f"/users/{tenant_a.municipal_admin.pk}/password/").status_code == 404
    pupil = fresh_login(Client(), tenant_a.student)
    assert pupil.post(f"/users/{tenant_a.classmate.pk}/password/").status_code in (403, 404)


def test_the_account_actions_refuse_invalid_fields_as_a_refusal_not_a_crash(tenant_a: Tenant) -> None:
    """The model's validators (classnote.base.validators) hold for direct callers of the actions too."""
    with pytest.raises(ActionError, match="spreadsheets"):
        actions.create_student(tenant_a.school_admin, tenant_a.school, display_name="=1+1", student_number="x900")
    with pytest.raises(ActionError):
        actions.create_student(tenant_a.school_admin, tenant_a.school, display_name="Fine", student_number="a b/c")
    with pytest.raises(ActionError):
        actions.create_students(tenant_a.school_admin, tenant_a.school, [actions.NewStudent("@SUM(1)", "x901")])
    with pytest.raises(ActionError):
        actions.create_staff(
            tenant_a.school_admin, tenant_a.school, display_name="-x", login_id="fine-login", role="teacher"
        )
