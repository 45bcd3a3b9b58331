"""Access rules of data-subject requests and deletion receipts.

A school admin handles the requests about people of their school, a municipal admin those of their
board; staff see the requests they opened about themselves; the privacy officer sees every
request's deadline (not its subject). Deletion receipts are read by the admins of the school or
board the deleted person belonged to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from classnote.base.roles import Role
from classnote.rights.models import DataSubjectRequest, DeletionReceipt
from classnote.tenancy.access import get_one, nothing

if TYPE_CHECKING:
    from classnote.accounts.models import User


def request_rule(user: User, *, handle: bool = False) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(school_id=user.school_id, municipality_id=user.municipality_id)
    if user.role == Role.PRIVACY_OFFICER and not handle:
        return Q(pk__isnull=False)
    if user.role == Role.TEACHER and not handle:
        return Q(subject_id=user.pk, opened_by_id=user.pk)
    return nothing()


def readable_requests(user: User) -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(request_rule(user))


def get_request_for(user: User, pk: object, *, handle: bool = False) -> DataSubjectRequest:
    """A request the user may see (or, with handle=True, act on: export, correct, delete, close)."""
    requests = DataSubjectRequest.objects.filter(request_rule(user, handle=handle)).select_related("subject")
    return get_one(requests, pk)


def receipt_rule(user: User) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN and user.municipality_id:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN and user.school_id:
        return Q(school_id=user.school_id, municipality_id=user.municipality_id)
    return nothing()


def readable_receipts(user: User) -> QuerySet[DeletionReceipt]:
    return DeletionReceipt.objects.filter(receipt_rule(user))
