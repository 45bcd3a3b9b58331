"""Who may manage the status page's posts and subscribers: the operator's people
(``base.roles.OPERATOR_ROLES``: the operator and the privacy officer). Nobody else reads drafts,
manages maintenance or sees the subscribers; the public sees published posts only, through
``classnote.status.queries``. Subscribers' e-mail addresses are shown to nobody: operators list
webhooks and count e-mail subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from classnote.base.roles import OPERATOR_ROLES
from classnote.status.models import Maintenance, StatusIncident, Subscriber
from classnote.tenancy.access import get_one, nothing

if TYPE_CHECKING:
    from classnote.accounts.models import User


def may_manage(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in OPERATOR_ROLES


def status_rule(user: User) -> Q:
    """Every status post (drafts included) for the operator's people; nothing for anyone else."""
    return Q(pk__isnull=False) if may_manage(user) else nothing()


def manageable_incidents(user: User) -> QuerySet[StatusIncident]:
    return StatusIncident.objects.filter(status_rule(user))


def get_incident_for(user: User, pk: object) -> StatusIncident:
    return get_one(manageable_incidents(user), pk)


def manageable_maintenance(user: User) -> QuerySet[Maintenance]:
    return Maintenance.objects.filter(status_rule(user))


def get_maintenance_for(user: User, pk: object) -> Maintenance:
    return get_one(manageable_maintenance(user), pk)


def manageable_webhooks(user: User) -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(status_rule(user), kind=Subscriber.Kind.WEBHOOK)


def get_webhook_for(user: User, pk: object) -> Subscriber:
    return get_one(manageable_webhooks(user), pk)
