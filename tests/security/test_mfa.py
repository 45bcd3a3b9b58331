"""Two-factor login and step-up for sensitive actions, tested as a user (and an attacker) would.

* Enrolment of an authenticator app through the real allauth pages, with codes computed here from
  the secret the page shows (a small RFC 6238 implementation, independent of the product's code).
* Recovery codes: made at enrolment, shown once, each usable once; a used one is refused.
* The second factor cannot be skipped: not by going straight to pages or the API after the password
  step, not by replaying a code, not with an old code or another user's code, not by posting the
  code step from another session.
* Administrators (and, by their municipality's policy, teachers) cannot use the product before
  enrolling a second factor.
* Step-up: every sensitive action (classnote.accounts.stepup lists them) refuses a session without a
  recent login, sends the user to confirm their password or a code, then carries out the suspended
  request; another tenant's ids are still refused with 404 first.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.test import Client

from classnote.accounts.models import ApiToken, LoginCard, User
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.privacy.models import ProvisionRecord, SupportGrant
from classnote.rights import workflow
from classnote.tenancy.models import Municipality
from tests.conftest import PASSWORD, Tenant, login_as, read_body
from tests.test_isolation import _values, all_routes

# A fixed instant in the middle of a 30-second TOTP period, so a code never expires mid-test.
NOW = datetime.datetime(2026, 11, 26, 8, 0, 10, tzinfo=datetime.UTC)
SECRET_A = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SECRET_B = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"
REAUTHENTICATE = "/accounts/reauthenticate/"
MFA_REAUTHENTICATE = "/accounts/2fa/reauthenticate/"
MFA_AUTHENTICATE = "/accounts/2fa/authenticate/"
STEP_UP_WINDOW = 300  # ACCOUNT_REAUTHENTICATION_TIMEOUT


def totp(secret: str, at: datetime.datetime = NOW, *, digits: int = 6, period: int = 30) -> str:
    """RFC 6238 (HMAC-SHA1), written out here rather than taken from the product."""
    counter = int(at.timestamp()) // period
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{value:0{digits}d}"


def test_the_totp_of_this_test_follows_rfc_6238() -> None:
    """RFC 6238 appendix B: the SHA-1 secret "12345678901234567890" at T=59 gives 94287082."""
    secret = base64.b32encode(b"12345678901234567890").decode()
    at = datetime.datetime.fromtimestamp(59, tz=datetime.UTC)
    assert totp(secret, at, digits=8) == "94287082"


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[time_machine.Coordinates]:
    cache.clear()  # rate limits and used TOTP codes of other tests
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def password_step(client: Client, user: User, password: str = PASSWORD) -> Any:
    return client.post("/accounts/login/", {"login": user.username, "password": password})


def signed_in_as(client: Client) -> int | None:
    """The id of the signed-in user, as the API sees it (None: not signed in)."""
    response = client.get("/api/me")
    return response.json()["id"] if response.status_code == 200 else None


def enrol(client: Client, user: User) -> tuple[str, list[str]]:
    """Log in with the password, set up an authenticator app from the secret the page shows and
    read the recovery codes shown right after. Returns the secret and the codes."""
    assert password_step(client, user).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # no second password prompt right after logging in
    found = re.search(r'id="authenticator_secret"[^>]*?value="([A-Z2-7]+)"', page.content.decode(), re.DOTALL)
    assert found, "the page shows the secret for typing into an app"
    secret = found.group(1)
    refused = client.post("/accounts/2fa/totp/activate/", {"code": "123456" if totp(secret) != "123456" else "654321"})
    assert refused.status_code == 200
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp(secret)})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/2fa/recovery-codes/"
    codes = recovery_codes_on(client.get(done["Location"]).content.decode())
    return secret, codes


def recovery_codes_on(page: str) -> list[str]:
    found = re.search(r'<textarea[^>]*id="recovery_codes"[^>]*>([^<]*)</textarea>', page, re.DOTALL)
    return found.group(1).split() if found else []


def second_step(client: Client, code: str) -> Any:
    return client.post(MFA_AUTHENTICATE, {"code": code})


def full_login(client: Client, user: User, secret: str) -> Client:
    assert password_step(client, user)["Location"].startswith(MFA_AUTHENTICATE)
    assert second_step(client, totp(secret)).status_code == 302
    assert signed_in_as(client) == user.pk
    return client


# --- Enrolment and recovery codes ----------------------------------------------------------------


def test_an_administrator_enrols_an_authenticator_app_through_the_pages(tenant_a: Tenant) -> None:
    admin = tenant_a.school_admin
    client = Client()
    secret, codes = enrol(client, admin)
    stored = Authenticator.objects.get(user=admin, type=Authenticator.Type.TOTP)
    assert secret not in str(stored.data)  # the seed is encrypted at rest
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(f"/schools/{tenant_a.school.pk}/").status_code == 200  # now they may work

    # The next login asks for a code from the app.
    client.post("/accounts/logout/")
    full_login(Client(), admin, secret)


def test_recovery_codes_are_shown_once(tenant_a: Tenant) -> None:
    client = Client()
    _secret, codes = enrol(client, tenant_a.school_admin)
    assert codes
    again = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert recovery_codes_on(again) == []
    assert not any(code in again for code in codes)
    assert client.get("/accounts/2fa/recovery-codes/download/").status_code == 403
    # New codes can be made (which replaces the old ones), never the old ones shown again.
    assert 'href="/accounts/2fa/recovery-codes/generate/"' in again


def test_each_recovery_code_works_once_and_a_used_one_is_refused(tenant_a: Tenant) -> None:
    admin = tenant_a.school_admin
    _secret, codes = enrol(Client(), admin)

    first = Client()
    password_step(first, admin)
    assert second_step(first, codes[0]).status_code == 302
    assert signed_in_as(first) == admin.pk

    replay = Client()
    password_step(replay, admin)
    assert second_step(replay, codes[0]).status_code == 200  # refused: already used
    assert signed_in_as(replay) is None
    assert second_step(replay, codes[1]).status_code == 302
    assert signed_in_as(replay) == admin.pk

    wrapped = Authenticator.objects.get(user=admin, type=Authenticator.Type.RECOVERY_CODES).wrap()
    assert len(wrapped.get_unused_codes()) == 8


# --- The second factor cannot be skipped ---------------------------------------------------------


@pytest.fixture
def enrolled(tenant_a: Tenant, tenant_b: Tenant) -> tuple[User, User]:
    """Two administrators with authenticator apps: A's school admin and B's municipal admin."""
    TOTP.activate(tenant_a.school_admin, SECRET_A)
    TOTP.activate(tenant_b.municipal_admin, SECRET_B)
    return tenant_a.school_admin, tenant_b.municipal_admin


def test_after_the_password_step_no_page_or_api_is_open(tenant_a: Tenant, enrolled: tuple[User, User]) -> None:
    admin, _other = enrolled
    client = Client()
    assert password_step(client, admin)["Location"].startswith(MFA_AUTHENTICATE)
    for path in (
        "/home/",
        f"/schools/{tenant_a.school.pk}/",
        f"/users/{tenant_a.teacher.pk}/",
        "/audit/",
        "/settings/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    # A write straight after the password step changes nothing.
    client.post(f"/users/{tenant_a.teacher.pk}/active/", {"active": "0"})
    tenant_a.teacher.refresh_from_db()
    assert tenant_a.teacher.is_active
    # The API sees no user.
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/classes").status_code == 401
    assert client.post("/api/tokens", {"name": "x"}, content_type="application/json").status_code in (401, 403)
    assert not ApiToken.objects.exists()


def test_a_totp_code_cannot_be_replayed(enrolled: tuple[User, User]) -> None:
    admin, _other = enrolled
    full_login(Client(), admin, SECRET_A)
    attacker = Client()  # e.g. someone who watched the code being typed
    password_step(attacker, admin)
    assert second_step(attacker, totp(SECRET_A)).status_code == 200
    assert signed_in_as(attacker) is None


@pytest.mark.parametrize("seconds", [-90, -60, 60, 90, -3600])
def test_a_code_of_another_time_is_refused(enrolled: tuple[User, User], seconds: int) -> None:
    admin, _other = enrolled
    client = Client()
    password_step(client, admin)
    assert second_step(client, totp(SECRET_A, NOW + datetime.timedelta(seconds=seconds))).status_code == 200
    assert signed_in_as(client) is None


def test_another_users_code_is_refused(enrolled: tuple[User, User]) -> None:
    admin, other = enrolled
    client = Client()
    password_step(client, admin)
    assert second_step(client, totp(SECRET_B)).status_code == 200  # B's valid code, for A's login
    assert signed_in_as(client) is None
    # And the other way round.
    client = Client()
    password_step(client, other)
    assert second_step(client, totp(SECRET_A)).status_code == 200
    assert signed_in_as(client) is None


def test_the_code_step_cannot_be_posted_for_another_session(enrolled: tuple[User, User]) -> None:
    admin, other = enrolled
    victim = Client()
    password_step(victim, admin)  # the victim is between the two steps

    # Someone without a login in progress posts the victim's current code.
    stranger = Client()
    response = second_step(stranger, totp(SECRET_A))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert signed_in_as(stranger) is None

    # Someone in the middle of their own login (B's admin) posts the victim's code: refused, and
    # they are not signed in as anybody.
    insider = Client()
    password_step(insider, other)
    assert second_step(insider, totp(SECRET_A)).status_code == 200
    assert signed_in_as(insider) is None

    # The victim's own session completes with the code, unharmed.
    assert second_step(victim, totp(SECRET_A)).status_code == 302
    assert signed_in_as(victim) == admin.pk


def test_a_wrong_password_never_reaches_the_code_step(enrolled: tuple[User, User]) -> None:
    admin, _other = enrolled
    client = Client()
    assert password_step(client, admin, "not-the-password").status_code == 200
    response = second_step(client, totp(SECRET_A))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert signed_in_as(client) is None


# --- Enrolment is required -----------------------------------------------------------------------

MFA_EXEMPT = ("/accounts/", "/static/", "/i18n/", "/healthz", "/readyz", "/settings/language/")


@pytest.mark.parametrize("role", ["school_admin", "municipal_admin"])
def test_an_administrator_without_a_second_factor_can_use_nothing(tenant_a: Tenant, role: str) -> None:
    """Every route of the product (walked like tests/test_isolation.py), GET and POST, sends an
    administrator who has not enrolled to the enrolment page (the API: 403) and changes nothing."""
    admin = getattr(tenant_a, role)
    client = Client()
    assert password_step(client, admin).status_code == 302
    paths = [
        route.path(_values(route, tenant_a))
        for route in all_routes()
        if route.audience is not None  # not allauth's own pages (login, enrolment, logout)
    ]
    entries = AuditEntry.objects.count()  # after the objects the paths name were made
    checked = 0
    for path in paths:
        if path.startswith(MFA_EXEMPT) or path == "/":
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            read_body(response)
            if path.startswith("/api/"):
                assert response.status_code in (403, 405), (method, path, response.status_code)
            else:
                assert response.status_code == 302, (method, path, response.status_code)
                assert response["Location"].startswith("/accounts/2fa/totp/activate/"), (method, path)
            checked += 1
    assert checked > 100
    assert AuditEntry.objects.count() == entries


def test_a_municipality_can_require_two_factor_login_of_its_teachers(tenant_a: Tenant, tenant_b: Tenant) -> None:
    Municipality.objects.filter(pk=tenant_a.municipality.pk).update(require_mfa_for_teachers=True)
    client = Client()
    password_step(client, tenant_a.teacher)
    response = client.get(f"/classes/{tenant_a.school_class.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/totp/activate/")
    assert client.get("/api/classes").status_code == 403

    # Another municipality's teachers are not affected by A's policy.
    other = Client()
    password_step(other, tenant_b.teacher)
    assert other.get(f"/classes/{tenant_b.school_class.pk}/").status_code == 200

    # Once enrolled, A's teacher needs the code at every login.
    secret, _codes = enrol(Client(), tenant_a.teacher)
    later = Client()
    assert password_step(later, tenant_a.teacher)["Location"].startswith(MFA_AUTHENTICATE)
    assert later.get(f"/classes/{tenant_a.school_class.pk}/").status_code == 302
    assert second_step(later, totp(secret)).status_code == 302
    assert later.get(f"/classes/{tenant_a.school_class.pk}/").status_code == 200


# --- Step-up for sensitive actions ---------------------------------------------------------------

HANDOVER = {
    "recipient": "Minato City Board school",
    "recipient_kind": "school",
    "basis": "consent",
    "reference": "Consent form 2026-031",
}


@dataclass
class Sensitive:
    name: str
    role: str  # the acting user of the tenant (attribute of Tenant)
    method: str
    path: Callable[[Tenant], str]
    data: Callable[[Tenant], dict[str, str]]
    done: Callable[[Tenant], bool]

    def actor(self, tenant: Tenant) -> User:
        return getattr(tenant, self.role)

    def call(self, client: Client, tenant: Tenant) -> Any:
        return getattr(client, self.method)(self.path(tenant), self.data(tenant))


def _request(tenant: Tenant, kind: str) -> Any:
    from classnote.rights.models import DataSubjectRequest

    existing = DataSubjectRequest.objects.filter(subject=tenant.student, kind=kind).first()
    return existing or workflow.open_request(
        tenant.school_admin, subject_id=tenant.student.pk, kind=kind, requester="guardian"
    )


def _inactive(user: User) -> bool:
    user.refresh_from_db()
    return not user.is_active


SENSITIVE = [
    Sensitive(
        "school exports a pupil's portfolio",
        "school_admin",
        "get",
        lambda t: f"/users/{t.student.pk}/portfolio.zip",
        lambda t: {},
        lambda t: AuditEntry.objects.filter(action="portfolio.exported", subject_id=t.student.pk).exists(),
    ),
    Sensitive(
        "portfolio handed to another organisation",
        "school_admin",
        "post",
        lambda t: f"/privacy/users/{t.student.pk}/provide/",
        lambda t: HANDOVER,
        lambda t: ProvisionRecord.objects.filter(subject_id=t.student.pk).exists(),
    ),
    Sensitive(
        "operator support access granted",
        "municipal_admin",
        "post",
        lambda t: "/privacy/support/",
        lambda t: {"reference": "T-2026-0415", "reason": "accounts", "hours": "8"},
        lambda t: SupportGrant.objects.filter(municipality=t.municipality).exists(),
    ),
    Sensitive(
        "account deactivated",
        "school_admin",
        "post",
        lambda t: f"/users/{t.teacher.pk}/active/",
        lambda t: {"active": "0"},
        lambda t: _inactive(t.teacher),
    ),
    Sensitive(
        "pupil recorded as graduated (ends the account)",
        "school_admin",
        "post",
        lambda t: f"/users/{t.student.pk}/left/",
        lambda t: {"left_on": "2026-03-31"},
        lambda t: _inactive(t.student),
    ),
    Sensitive(
        "password reset",
        "teacher",
        "post",
        lambda t: f"/users/{t.student.pk}/password/",
        lambda t: {},
        lambda t: not User.objects.get(pk=t.student.pk).check_password(PASSWORD),
    ),
    Sensitive(
        "QR login cards issued for a class",
        "teacher",
        "post",
        lambda t: f"/classes/{t.school_class.pk}/login-cards/",
        lambda t: {},
        lambda t: LoginCard.objects.filter(user=t.student).exists(),
    ),
    Sensitive(
        "municipality policy changed",
        "municipal_admin",
        "post",
        lambda t: f"/municipalities/{t.municipality.pk}/",
        lambda t: {
            "policy-default_language": "ja",
            "policy-max_upload_mb": "20",
            "policy-require_mfa_for_teachers": "on",
            "policy-graduate_retention_days": "365",
            "policy-contract_end_retention_days": "90",
        },
        lambda t: Municipality.objects.get(pk=t.municipality.pk).require_mfa_for_teachers,
    ),
    Sensitive(
        "school administrator created",
        "school_admin",
        "post",
        lambda t: f"/schools/{t.school.pk}/",
        lambda t: {
            "form": "staff",
            "staff-display_name": "New Office",
            "staff-login_id": f"{t.school.code}-new-office",
            "staff-role": Role.SCHOOL_ADMIN,
        },
        lambda t: User.objects.filter(username=f"{t.school.code}-new-office").exists(),
    ),
    Sensitive(
        "data-subject request: disclosure export",
        "school_admin",
        "post",
        lambda t: f"/requests/{_request(t, 'disclosure').pk}/export/",
        lambda t: {},
        lambda t: AuditEntry.objects.filter(action="request.disclosed").exists(),
    ),
    Sensitive(
        "data-subject request: cessation of use",
        "school_admin",
        "post",
        lambda t: f"/requests/{_request(t, 'cessation').pk}/cease/",
        lambda t: {},
        lambda t: _inactive(t.student),
    ),
    Sensitive(
        "data-subject request: deletion",
        "school_admin",
        "post",
        lambda t: f"/requests/{_request(t, 'deletion').pk}/delete/",
        lambda t: {"confirmation": _request(t, "deletion").reference},
        lambda t: not User.objects.filter(pk=t.student.pk).exists(),
    ),
]


def _stale(tenant: Tenant, action: Sensitive) -> Client:
    """Signed in (second factor passed) but without having entered a password recently."""
    return login_as(Client(), action.actor(tenant))


@pytest.mark.parametrize("action", SENSITIVE, ids=lambda a: a.name)
def test_a_sensitive_action_asks_for_the_password_again(tenant_a: Tenant, action: Sensitive) -> None:
    client = _stale(tenant_a, action)
    path = action.path(tenant_a)
    response = action.call(client, tenant_a)
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(REAUTHENTICATE), response["Location"]
    assert not action.done(tenant_a)

    # A wrong password does not carry it out.
    assert client.post(response["Location"], {"password": "not-the-password"}).status_code == 200
    assert not action.done(tenant_a)

    # The right one does: the suspended request is carried out as it was sent.
    resumed = client.post(response["Location"], {"password": PASSWORD})
    if action.method == "get":
        assert resumed.status_code == 302 and resumed["Location"] == path
        resumed = client.get(path)
    assert resumed.status_code in (200, 201, 302), resumed.status_code
    assert not (resumed.status_code == 302 and resumed["Location"].startswith(REAUTHENTICATE))
    assert action.done(tenant_a)


@pytest.mark.parametrize("action", SENSITIVE, ids=lambda a: a.name)
def test_a_sensitive_action_accepts_a_code_from_the_authenticator_app(tenant_a: Tenant, action: Sensitive) -> None:
    TOTP.activate(action.actor(tenant_a), SECRET_A)
    client = _stale(tenant_a, action)
    path = action.path(tenant_a)
    response = action.call(client, tenant_a)
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)
    page = client.get(response["Location"]).content.decode()
    assert MFA_REAUTHENTICATE in page  # the page offers the app instead of the password
    by_code = MFA_REAUTHENTICATE + response["Location"][len(REAUTHENTICATE) :]
    assert client.post(by_code, {"code": totp(SECRET_B)}).status_code == 200  # not this user's app
    assert not action.done(tenant_a)
    resumed = client.post(by_code, {"code": totp(SECRET_A)})
    if action.method == "get":
        assert resumed.status_code == 302 and resumed["Location"] == path
        resumed = client.get(path)
    assert resumed.status_code in (200, 201, 302)
    assert action.done(tenant_a)


@pytest.mark.parametrize(
    "action", [a for a in SENSITIVE if a.name != "operator support access granted"], ids=lambda a: a.name
)
def test_another_tenants_ids_are_refused_before_the_password_is_asked(
    tenant_a: Tenant, tenant_b: Tenant, action: Sensitive
) -> None:
    """A stale session of A calling the action on B's objects gets 404 (B's ids reveal nothing and
    no reauthentication prompt hints that they exist)."""
    client = _stale(tenant_a, action)
    response = getattr(client, action.method)(action.path(tenant_b), action.data(tenant_b))
    assert response.status_code == 404
    assert not action.done(tenant_b)


def test_a_fresh_login_counts_for_five_minutes_then_the_password_is_asked_again(
    tenant_a: Tenant, _frozen_clock: time_machine.Coordinates
) -> None:
    admin = tenant_a.school_admin
    TOTP.activate(admin, SECRET_A)
    client = full_login(Client(), admin, SECRET_A)
    # Right after logging in with both factors: no second prompt.
    response = client.post(f"/users/{tenant_a.teacher.pk}/active/", {"active": "0"})
    assert response.status_code == 302 and response["Location"] == f"/users/{tenant_a.teacher.pk}/"
    assert _inactive(tenant_a.teacher)

    _frozen_clock.shift(STEP_UP_WINDOW + 1)
    response = client.post(f"/users/{tenant_a.teacher.pk}/active/", {"active": "1"})
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)
    assert _inactive(tenant_a.teacher)


def test_creating_a_teacher_needs_no_step_up_but_an_administrator_does(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.school_admin)
    form = {"form": "staff", "staff-display_name": "New Teacher", "staff-login_id": "aaa-new-teacher"}
    assert client.post(f"/schools/{tenant_a.school.pk}/", form | {"staff-role": Role.TEACHER}).status_code == 201
    form["staff-login_id"] = "aaa-new-admin"
    response = client.post(f"/schools/{tenant_a.school.pk}/", form | {"staff-role": Role.SCHOOL_ADMIN})
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)
    assert not User.objects.filter(username="aaa-new-admin").exists()


def test_making_an_api_token_needs_a_recent_login(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.teacher)
    refused = client.post("/api/tokens", {"name": "script"}, content_type="application/json")
    assert refused.status_code == 403
    assert "/accounts/reauthenticate/" in refused.json()["detail"]
    assert not ApiToken.objects.exists()
    assert client.post(REAUTHENTICATE, {"password": PASSWORD}).status_code == 302
    made = client.post("/api/tokens", {"name": "script"}, content_type="application/json")
    assert made.status_code == 201 and made.json()["token"].startswith("cn_")
