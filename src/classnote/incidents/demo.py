"""A demo incident for the register and the privacy officer's dashboard."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from classnote.accounts.models import User
from classnote.incidents import actions
from classnote.incidents.models import Incident
from classnote.tenancy.models import Municipality


def create_demo_incident(officer: User, municipalities: list[Municipality]) -> Incident:
    now = timezone.now()
    return actions.create_incident(
        officer,
        municipalities=municipalities,
        kind=Incident.Kind.SUSPECTED,
        discovered_at=now - timedelta(days=2),
        occurred_at=now - timedelta(days=3),
        summary="A printed list of QR login cards of one class was found in a corridor.",
        data_items="display name, class, QR login card",
        data_categories=[Incident.DataCategory.IDENTIFIER, Incident.DataCategory.CREDENTIAL],
        persons_affected=31,
        cause="The printout was left in a copier tray.",
        measures="All login cards of the class were revoked and reprinted.",
    )
