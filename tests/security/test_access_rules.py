"""Access rules held on their own, not only through the page or API that uses them today.

The rules of classnote.tenancy.access and each app's access.py serve lists and lookups alike
(docs/architecture.md, *Who may see what*). A rule that is only safe because today's one caller
adds a filter of its own is one refactoring away from a leak; these tests hold the rules
themselves (found by `make mutation`, docs/security-checklist.md, *Mutation testing*).
"""

from __future__ import annotations

import pytest
from django.test import Client

from classnote.accounts.models import User
from classnote.base.errors import NotFound
from classnote.privacy import access as privacy_access
from classnote.tenancy.access import member_rule
from classnote.tenancy.models import Membership
from tests.conftest import Tenant, login_as


def test_a_pupils_member_rule_alone_names_only_the_teachers_of_their_own_classes(tenant_a: Tenant) -> None:
    """member_rule is a Q over every membership: for a pupil it must itself stay within the pupil's
    classes, not rely on the caller naming one class."""
    other_teacher = User.objects.create_user(
        "aaa-other-teacher",
        "x",
        display_name="Other teacher",
        role="teacher",
        municipality=tenant_a.municipality,
        school=tenant_a.school,
    )
    Membership.objects.create(school_class=tenant_a.other_class, user=other_teacher, role="teacher")
    seen = set(Membership.objects.filter(member_rule(tenant_a.student)).values_list("user_id", "school_class_id"))
    assert seen == {(tenant_a.teacher.pk, tenant_a.school_class.pk)}


def test_a_support_lookup_with_an_id_beyond_any_is_not_found(tenant_a: Tenant, operator: User) -> None:
    """An id no database could hold is 'not found' (404), never an answer of another kind (a 500)."""
    with pytest.raises(NotFound):
        privacy_access.get_support_grant_of(operator, 10**30)
    with pytest.raises(NotFound):
        privacy_access.get_support_grant_of(operator, "not an id")
    response = login_as(Client(raise_request_exception=False), operator).get(
        f"/privacy/support/municipalities/{10**30}/"
    )
    assert response.status_code == 404
