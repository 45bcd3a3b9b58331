"""Access rules of complaints: worked by the operator's privacy officer alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from classnote.base.roles import Role
from classnote.complaints.models import Complaint
from classnote.tenancy.access import get_one

if TYPE_CHECKING:
    from classnote.accounts.models import User


def readable_complaints(user: User) -> QuerySet[Complaint]:
    if user.role != Role.PRIVACY_OFFICER:
        return Complaint.objects.none()
    return Complaint.objects.select_related("municipality")


def get_complaint_for(user: User, pk: object) -> Complaint:
    return get_one(readable_complaints(user), pk)
