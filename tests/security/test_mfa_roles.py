"""Who must use a second factor, held outside the code.

The policy (SECURITY.md, *Two-factor login and step-up*; docs/operations.md): every administrator
— school, municipal, the operator and the operator's privacy officer — must enrol a second factor;
teachers must when their municipality requires it; pupils never (they log in with a login card or
their student ID, on shared tablets). The table below is that policy, written here rather than read
from classnote.base.roles, so that narrowing ``ADMIN_ROLES`` or ``User.requires_mfa`` fails:

* ``requires_mfa()`` answers as the table says for every role, with and without the teachers'
  policy, with and without a municipality;
* the middleware acts on it: a signed-in user of a role that must use a second factor, who has not
  enrolled one, reaches no page (sent to the enrolment page) and no API (403); the others do.
"""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.tenancy.models import Municipality
from tests.conftest import PASSWORD, Tenant, recently_authenticated

# role -> (must use MFA without the teachers' policy, with the teachers' policy)
EXPECTED = {
    "student": (False, False),
    "teacher": (False, True),
    "school_admin": (True, True),
    "municipal_admin": (True, True),
    "operator": (True, True),
    "privacy_officer": (True, True),
}
ENROL = "/accounts/2fa/totp/activate/"


def make_user(tenant: Tenant, role: str, *, in_tenant: bool = True) -> User:
    number = f"mfa{len(role)}{role[:3]}"
    return User.objects.create_user(
        student_username(tenant.school, number) if role == "student" else f"mfa-{role}-{in_tenant}",
        PASSWORD,
        display_name=f"MFA {role}",
        role=role,
        municipality=tenant.municipality if in_tenant else None,
        school=tenant.school if in_tenant and role not in ("municipal_admin",) else None,
        student_number=number if role == "student" else "",
    )


def set_teacher_policy(tenant: Tenant, required: bool) -> None:
    Municipality.objects.filter(pk=tenant.municipality.pk).update(require_mfa_for_teachers=required)


def test_every_role_is_in_the_table() -> None:
    assert set(EXPECTED) == {str(role) for role in Role}, "a new role: decide whether it must use MFA, add it here"


@pytest.mark.parametrize("policy", [False, True], ids=["teachers-free", "teachers-required"])
@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_requires_mfa_follows_the_policy(tenant_a: Tenant, role: str, policy: bool) -> None:
    set_teacher_policy(tenant_a, policy)
    expected = EXPECTED[role][policy]
    user = make_user(tenant_a, role)
    user = User.objects.select_related("municipality").get(pk=user.pk)
    assert user.requires_mfa() is expected, f"{role}, teachers' policy {policy}: requires_mfa() should be {expected}"
    if role in ("operator", "privacy_officer"):
        # The operator's people belong to no municipality: the rule is by role, not by tenant.
        outside = make_user(tenant_a, role, in_tenant=False)
        assert outside.requires_mfa() is expected


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_middleware_holds_every_role_that_must_use_mfa(tenant_a: Tenant, role: str) -> None:
    set_teacher_policy(tenant_a, False)
    user = make_user(tenant_a, role, in_tenant=role not in ("operator", "privacy_officer"))
    client = Client()
    client.force_login(user, backend="classnote.accounts.backends.StaffBackend")  # no second factor yet
    page = client.get("/home/")
    api = client.get("/api/me")
    if EXPECTED[role][False]:
        assert page.status_code == 302 and page["Location"].startswith(ENROL), (role, page.status_code)
        assert api.status_code == 403, (role, api.status_code)
    else:
        assert page.status_code == 200, (role, page.status_code)
        assert api.status_code == 200, (role, api.status_code)


def test_removing_the_second_factor_is_noticed_in_the_same_session(tenant_a: Tenant) -> None:
    """The middleware checks enrolment once per session and remembers it; a visit to the
    second-factor pages (where a factor is removed) makes it check again. An administrator who
    removes their authenticator app is sent to enrol again at the next page, not at the next login."""
    admin = tenant_a.school_admin
    TOTP.activate(admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client = Client()
    client.force_login(admin, backend="classnote.accounts.backends.StaffBackend")
    assert client.get("/home/").status_code == 200  # enrolled: checked, and remembered
    recently_authenticated(client, admin)
    assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=admin).exists()
    page = client.get("/home/")
    assert page.status_code == 302 and page["Location"].startswith(ENROL), page.status_code
    assert client.get("/api/me").status_code == 403


def test_only_the_users_own_app_or_passkey_counts_as_enrolled(tenant_a: Tenant) -> None:
    """Another user's authenticator app does not let an administrator in, and neither do recovery
    codes alone (they are a way back in, not a second factor)."""
    TOTP.activate(tenant_a.municipal_admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    admin = tenant_a.school_admin
    RecoveryCodes.activate(admin)
    client = Client()
    client.force_login(admin, backend="classnote.accounts.backends.StaffBackend")
    page = client.get("/home/")
    assert page.status_code == 302 and page["Location"].startswith(ENROL)
    assert client.get("/api/me").status_code == 403


def _in_japanese(message: str) -> str:
    with translation.override("ja"):
        translated = gettext(message)
    assert translated != message, f"no Japanese translation of {message!r}"
    return translated


def test_the_refusals_are_in_the_users_language(tenant_a: Tenant) -> None:
    """Tenant A speaks Japanese: the enrolment demand (page and API) and the API's step-up refusal
    come in Japanese, under the API's usual "detail" key."""
    admin = tenant_a.school_admin
    client = Client()
    client.force_login(admin, backend="classnote.accounts.backends.StaffBackend")
    api = client.get("/api/me")
    assert api.status_code == 403
    assert api.json() == {"detail": _in_japanese("Set up two-factor login first.")}
    page = client.get("/home/", follow=True)  # to enrolment (by way of the password, after force_login)
    assert page.redirect_chain[0][0].startswith(ENROL)
    assert _in_japanese("Your role requires two-factor login. Please set it up now.") in page.content.decode()

    teacher = Client()
    teacher.force_login(tenant_a.teacher, backend="classnote.accounts.backends.StaffBackend")
    refused = teacher.post("/api/tokens", {"name": "script"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == _in_japanese(
        "Confirm it is you first: enter your password at /accounts/reauthenticate/, then try again within five minutes."
    )
