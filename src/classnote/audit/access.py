"""Access rules of the audit log: a school admin reads their school's entries, a municipal admin
their board's. (The audit app sits below everything that records into it, so it imports no rule
engine: a rule here is a plain Q.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from classnote.audit.models import AuditEntry
from classnote.base.roles import Role

if TYPE_CHECKING:
    from classnote.accounts.models import User


def entry_rule(user: User) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN and user.municipality_id:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN and user.school_id:
        return Q(school_id=user.school_id)
    return Q(pk__in=[])


def readable_entries(user: User) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(entry_rule(user))
