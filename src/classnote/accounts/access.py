"""Access rules of the accounts' models: whom a user may see or administer, and their own API
tokens (the engine and the tenant tree are classnote.tenancy.access)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from classnote.accounts.models import ApiToken, User
from classnote.base.roles import OPERATOR_ROLES, Role
from classnote.tenancy.access import get_one, nothing, taught_classes
from classnote.tenancy.models import Membership


def user_rule(user: User, *, manage: bool = False) -> Q:
    """Whom a user may see (manage=False) or administer (manage=True)."""
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id) & ~Q(role__in=OPERATOR_ROLES)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(school_id=user.school_id, role__in=[Role.STUDENT, Role.TEACHER, Role.SCHOOL_ADMIN])
    if user.role == Role.TEACHER:
        in_my_classes = Q(
            pk__in=Membership.objects.filter(school_class__in=taught_classes(user)).values("user"),
            school_id=user.school_id,
        )
        if manage:
            # Teachers may issue login cards and reset passwords of the pupils they teach.
            return in_my_classes & Q(role=Role.STUDENT)
        return in_my_classes | Q(pk=user.pk)
    if not manage:
        return Q(pk=user.pk)
    return nothing()


def readable_users(user: User) -> QuerySet[User]:
    return User.objects.filter(user_rule(user))


def manageable_users(user: User) -> QuerySet[User]:
    return User.objects.filter(user_rule(user, manage=True))


def get_user_for(user: User, pk: object, *, manage: bool = False) -> User:
    return get_one(manageable_users(user) if manage else readable_users(user), pk)


def own_tokens(user: User) -> QuerySet[ApiToken]:
    """A user's own API tokens: nobody else sees or revokes them."""
    return ApiToken.objects.filter(user_id=user.pk)


def get_token_for(user: User, pk: object) -> ApiToken:
    return get_one(own_tokens(user), pk)
