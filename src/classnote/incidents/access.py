"""Access rules of the incident register: the privacy officer registers and changes incidents; a
municipal admin reads (never changes) the incidents that affect their board, and of the boards an
incident affects sees only their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from classnote.base.roles import Role
from classnote.incidents.models import Incident
from classnote.tenancy.access import get_one, nothing
from classnote.tenancy.models import Municipality

if TYPE_CHECKING:
    from classnote.accounts.models import User


def incident_rule(user: User, *, manage: bool = False) -> Q:
    if user.role == Role.PRIVACY_OFFICER:
        return Q(pk__isnull=False)
    if user.role == Role.MUNICIPAL_ADMIN and not manage and user.municipality_id:
        affecting = Incident.municipalities.through.objects.filter(municipality_id=user.municipality_id)
        return Q(pk__in=affecting.values("incident_id"))
    return nothing()


def readable_incidents(user: User) -> QuerySet[Incident]:
    return Incident.objects.filter(incident_rule(user))


def get_incident_for(user: User, pk: object, *, manage: bool = False) -> Incident:
    """An incident the user may read (or, with manage=True, change: the privacy officer only)."""
    return get_one(Incident.objects.filter(incident_rule(user, manage=manage)), pk)


def affected_boards(user: User, incident: Incident) -> QuerySet[Municipality]:
    """The boards an incident affects, as far as the user may know: a municipal admin sees only theirs."""
    boards = incident.municipalities.order_by("name")
    if user.role != Role.PRIVACY_OFFICER:
        boards = boards.filter(pk=user.municipality_id or 0)
    return boards
