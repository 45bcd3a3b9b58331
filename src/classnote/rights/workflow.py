"""Every step of a data-subject request: open, disclose, correct, cease use, delete, close.

Each step takes the acting user first, checks access through classnote.tenancy.access, runs in one
transaction, is recorded in the audit log (ids and codes only), and refuses with a translated
ActionError."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts import access as account_access
from classnote.accounts import actions as account_actions
from classnote.accounts.models import User, student_username
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.base.text import clean_text
from classnote.base.validators import describe
from classnote.privacy.deadlines import Deadline
from classnote.rights import access as rights_access
from classnote.rights import disclosure, erasure
from classnote.rights.models import DataSubjectRequest, DeletionReceipt, new_reference

Kind = DataSubjectRequest.Kind
PROVISION_TABLES = {"privacy.ProvisionRecord"}


def due_date(opened_at: Any) -> Any:
    return opened_at + timedelta(days=settings.PRIVACY_REQUEST_RESPONSE_DAYS)


def open_request(actor: User, *, subject_id: int, kind: str, requester: str, details: str = "") -> DataSubjectRequest:
    """A school or municipal admin opens a request about a person they manage (for a pupil or
    guardian); any staff member opens one about themselves."""
    if kind not in Kind.values or requester not in DataSubjectRequest.Requester.values:
        raise ActionError(_("Choose the kind of request and who made it."))
    if subject_id == actor.pk and actor.role in (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN):
        subject = actor
        if requester != DataSubjectRequest.Requester.PERSON:
            raise ActionError(_("A request about yourself is made by you."))
    elif actor.role in (Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN):
        subject = account_access.get_user_for(actor, subject_id, manage=True)
    else:
        raise ActionError(_("Only school and municipal administrators open requests on behalf of others."))
    now = timezone.now()
    with transaction.atomic():
        request = DataSubjectRequest.objects.create(
            reference=new_reference("R"),
            kind=kind,
            requester=requester,
            subject=subject,
            municipality_id=subject.municipality_id,
            school_id=subject.school_id,
            opened_by=actor,
            opened_at=now,
            due_at=due_date(now),
            details=clean_text(details, 2000),
        )
        record(actor, "request.opened", target=request, subject=subject, kind=kind)
    return request


def _open_for(actor: User, request_id: int, *kinds: str) -> DataSubjectRequest:
    request: DataSubjectRequest = rights_access.get_request_for(actor, request_id, handle=True)
    if not request.is_open:
        raise ActionError(_("This request is closed."))
    if request.subject is None:
        raise ActionError(_("The person of this request has been deleted."))
    if kinds and request.kind not in kinds:
        raise ActionError(_("This step does not belong to this kind of request."))
    if request.subject_id == actor.pk and request.kind in (Kind.DELETION, Kind.CESSATION, Kind.CORRECTION):
        raise ActionError(_("A request about yourself is carried out by another administrator."))
    return request


def disclose(actor: User, request_id: int) -> tuple[DataSubjectRequest, bytes]:
    """The disclosure export (ZIP: data.json + files) of everything held about the person; for a
    request for provision records, those records only."""
    request = _open_for(actor, request_id, Kind.DISCLOSURE, Kind.PROVISION_RECORDS)
    only = PROVISION_TABLES if request.kind == Kind.PROVISION_RECORDS else None
    body = disclosure.build_zip(request.subject, only=only)
    record(actor, "request.disclosed", target=request, subject=request.subject_id, kind=request.kind)
    return request, body


CORRECTABLE = ("display_name", "student_number", "name_reading")


def correct(actor: User, request_id: int, values: dict[str, str]) -> DataSubjectRequest:
    request = _open_for(actor, request_id, Kind.CORRECTION)
    person: User = request.subject  # type: ignore[assignment]
    changed = []
    for name in CORRECTABLE:
        if name not in values:
            continue
        value = clean_text(values[name], 80)
        if name == "display_name" and not value:
            raise ActionError(_("The display name cannot be empty."))
        if name == "student_number" and person.role != Role.STUDENT:
            continue
        if name == "name_reading" and not (person.municipality and person.municipality.collect_name_reading):
            continue
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if not changed:
        raise ActionError(_("Nothing was changed."))
    if "student_number" in changed:
        person.username = student_username(person.school, person.student_number)  # type: ignore[arg-type]
    try:
        # The validators of every field (accounts.models.User): the same as the pupil form's,
        # whoever calls this.
        person.full_clean(exclude=["password"])
    except ValidationError as error:
        if _is_taken(error):
            raise ActionError(_("Another pupil of this school already has this student ID.")) from None
        raise ActionError(describe(error, User)) from None
    with transaction.atomic():
        person.save()
        record(actor, "request.corrected", target=request, subject=person, fields=sorted(changed))
    return request


def _is_taken(error: ValidationError) -> bool:
    """The login name is taken, or the school's one-pupil-per-student-ID constraint says so."""
    errors = getattr(error, "error_dict", {})
    return NON_FIELD_ERRORS in errors or any(item.code == "unique" for item in errors.get("username", []))


def cease(actor: User, request_id: int) -> DataSubjectRequest:
    """Cessation of use: the account is deactivated (sessions, QR cards and tokens end); the data
    stays until a deletion is requested or the retention period ends."""
    request = _open_for(actor, request_id, Kind.CESSATION)
    person: User = request.subject  # type: ignore[assignment]
    with transaction.atomic():
        account_actions.end_access(person)
        _close(actor, request, DataSubjectRequest.Status.COMPLETED, _("The account was deactivated."))
        record(actor, "request.ceased", target=request, subject=person)
    return request


def delete_person(actor: User, request_id: int, confirmation: str) -> DeletionReceipt:
    request = _open_for(actor, request_id, Kind.DELETION)
    if confirmation.strip().upper() != request.reference:
        raise ActionError(_("Type the request's reference to confirm the deletion."))
    person: User = request.subject  # type: ignore[assignment]
    if person.role not in (Role.STUDENT, Role.TEACHER) and actor.role != Role.MUNICIPAL_ADMIN:
        raise ActionError(_("Only a municipal administrator can delete an administrator."))
    with transaction.atomic():
        receipt = erasure.erase(person, actor=actor, reason=DeletionReceipt.Reason.REQUEST, request=request)
        request.refresh_from_db()
        _close(
            actor,
            request,
            DataSubjectRequest.Status.COMPLETED,
            _("Deleted (receipt %(ref)s).") % {"ref": receipt.reference},
        )
    return receipt


def _close(actor: User, request: DataSubjectRequest, status: str, outcome: str) -> None:
    request.status = status
    request.outcome = clean_text(outcome, 2000)
    request.closed_at = timezone.now()
    request.closed_by = actor
    request.save(update_fields=["status", "outcome", "closed_at", "closed_by"])


def close(actor: User, request_id: int, *, status: str, outcome: str) -> DataSubjectRequest:
    """Complete (after disclosing or correcting) or refuse a request, with the outcome the person is told."""
    request: DataSubjectRequest = rights_access.get_request_for(actor, request_id, handle=True)
    if not request.is_open:
        raise ActionError(_("This request is closed."))
    if status not in (DataSubjectRequest.Status.COMPLETED, DataSubjectRequest.Status.REFUSED):
        raise ActionError(_("Choose whether the request was completed or refused."))
    if not clean_text(outcome, 2000):
        raise ActionError(_("Write what the person is told."))
    if status == DataSubjectRequest.Status.COMPLETED and request.kind == Kind.DELETION:
        raise ActionError(_("A deletion request is completed by deleting the person's data."))
    with transaction.atomic():
        _close(actor, request, status, outcome)
        record(actor, "request.closed", target=request, subject=request.subject_id, status=status)
    return request


def officer_deadlines(user: User) -> Iterable[Deadline]:
    """Open requests of every tenant, for the privacy officer's dashboard (no subject shown)."""
    if user.role != Role.PRIVACY_OFFICER:
        return []
    return [
        Deadline(
            kind=_("Data-subject request"),
            reference=request.reference,
            title=str(request.get_kind_display()),
            due=request.due_at,
            status=str(request.get_status_display()),
            url=reverse("request_list") + f"#{request.reference}",
        )
        for request in rights_access.readable_requests(user)
        .filter(status=DataSubjectRequest.Status.OPEN)
        .order_by("due_at")
    ]
