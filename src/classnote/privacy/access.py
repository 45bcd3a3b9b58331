"""Access rules of operator support and provision records.

The operator sees no tenant data by default. While a municipal admin's support grant runs, an
operator may see that tenant's schools, classes and user list (display names and roles only), never
lesson content; the support views audit every such read. Provision records are read by the tenant's
admins (a school admin: their school's) and by the person they concern."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet
from django.utils import timezone

from classnote.accounts.models import User
from classnote.base.errors import NotFound
from classnote.base.roles import OPERATOR_ROLES, Role
from classnote.privacy.models import ProvisionRecord, SupportGrant
from classnote.tenancy.access import get_one, nothing
from classnote.tenancy.models import School, SchoolClass


def manageable_support_grants(user: User) -> QuerySet[SupportGrant]:
    """The grants a municipal admin gave (and may revoke) for their board."""
    if user.role != Role.MUNICIPAL_ADMIN or not user.municipality_id:
        return SupportGrant.objects.none()
    return SupportGrant.objects.filter(municipality_id=user.municipality_id)


def get_support_grant_for(user: User, pk: object) -> SupportGrant:
    return get_one(manageable_support_grants(user), pk)


def active_support_grants(user: User) -> QuerySet[SupportGrant]:
    """The grants that let this operator in now (none for anybody else)."""
    if user.role != Role.OPERATOR:
        return SupportGrant.objects.none()
    running = SupportGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    return running.select_related("municipality")


def get_support_grant_of(user: User, municipality_id: object) -> SupportGrant:
    """The running grant for this tenant (the latest to expire); NotFound without one."""
    try:
        running = active_support_grants(user).filter(municipality_id=cast(Any, municipality_id))
        grant = running.order_by("-expires_at").first()
    except (ValueError, TypeError, OverflowError):  # not an id (or beyond any the database holds)
        grant = None
    if grant is None:
        raise NotFound
    return grant


def _supported(user: User) -> QuerySet[SupportGrant, Any]:
    return active_support_grants(user).values("municipality_id")


def supported_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(municipality_id__in=_supported(user))


def supported_classes(user: User) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(school__municipality_id__in=_supported(user)).select_related("school")


def supported_users(user: User) -> QuerySet[User]:
    """Display names and roles only: the fields declared for Purpose.SUPPORT."""
    return (
        User.objects.filter(municipality_id__in=_supported(user))
        .exclude(role__in=OPERATOR_ROLES)
        .only("pk", "display_name", "role", "municipality_id")
    )


def provision_rule(user: User) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(municipality_id=user.municipality_id, school_id=user.school_id)
    if user.role in (Role.STUDENT, Role.TEACHER):
        return Q(subject_id=user.pk)
    return nothing()


def readable_provision_records(user: User) -> QuerySet[ProvisionRecord]:
    return ProvisionRecord.objects.filter(provision_rule(user))
