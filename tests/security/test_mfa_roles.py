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
from django.test import Client

from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.tenancy.models import Municipality
from tests.conftest import PASSWORD, Tenant

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
