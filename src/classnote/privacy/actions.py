"""Writes of the privacy app: operator support grants and provision to other organisations.

Each takes the acting user first, checks access through classnote.tenancy.access, runs in one
transaction and writes its audit entry; a refusal is an ActionError with a translated message."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.inventory import Purpose
from classnote.base.roles import Role
from classnote.portfolio import export
from classnote.privacy import purposes
from classnote.privacy.models import ProvisionRecord, SupportGrant, reference_validator
from classnote.tenancy import access

# How long a support grant may run: an hour to a week, chosen per ticket.
SUPPORT_HOURS = (1, 4, 8, 24, 72, 168)


def grant_support(actor: User, *, reference: str, reason: str, hours: int) -> SupportGrant:
    """A municipal admin lets the operator see the board's schools, classes and user list for a while."""
    if actor.role != Role.MUNICIPAL_ADMIN:
        raise ActionError(_("Only a municipal administrator can grant support access."))
    municipality = access.get_municipality_for(actor, actor.municipality_id)
    reference = (reference or "").strip()
    try:
        reference_validator(reference)
    except ValidationError:
        raise ActionError(_("Enter the ticket reference (2–40 letters, digits or . _ # / : -).")) from None
    if reason not in SupportGrant.Reason.values:
        raise ActionError(_("Choose the reason for the support access."))
    if hours not in SUPPORT_HOURS:
        raise ActionError(_("Choose how long the support access lasts."))
    now = timezone.now()
    with transaction.atomic():
        grant = SupportGrant.objects.create(
            municipality=municipality,
            reference=reference,
            reason=reason,
            granted_by=actor,
            granted_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        record(
            actor,
            "support.granted",
            target=grant,
            municipality_id=municipality.pk,
            reference=reference,
            reason=reason,
            hours=hours,
        )
    return grant


def revoke_support(actor: User, grant_id: int) -> SupportGrant:
    """End a support grant now (nothing happens to one that already ended)."""
    grant = access.get_support_grant_for(actor, grant_id)
    if not grant.active:
        return grant
    with transaction.atomic():
        grant.revoked_at, grant.revoked_by = timezone.now(), actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        record(actor, "support.revoked", target=grant, municipality_id=grant.municipality_id)
    return grant


def provide_portfolio(
    actor: User,
    student_id: int,
    *,
    recipient: str,
    recipient_kind: str,
    basis: str,
    reference: str,
) -> tuple[ProvisionRecord, bytes]:
    """Hand a pupil's portfolio to another organisation (e.g. the school they move to in another
    board). Refused without a legal basis and its reference; keeps the provision record the law
    requires and returns the portfolio ZIP."""
    if actor.role not in access.SCHOOL_MANAGERS:
        raise ActionError(_("Only a school or municipal administrator can hand data to another organisation."))
    student = access.get_user_for(actor, student_id, manage=True)
    if student.role != Role.STUDENT or student.municipality_id is None:
        raise Http404
    recipient, reference = (recipient or "").strip(), (reference or "").strip()
    if basis not in ProvisionRecord.Basis.values:
        raise ActionError(_("Choose the legal basis for handing the data over: without one it is not allowed."))
    if not reference:
        raise ActionError(_("Enter the consent form's number or the legal provision the handover rests on."))
    if not recipient or len(recipient) > 150 or len(reference) > 120:
        raise ActionError(_("Enter the organisation that receives the data."))
    if recipient_kind not in ProvisionRecord.RecipientKind.values:
        raise ActionError(_("Choose the kind of organisation that receives the data."))
    # Checked (and a refusal logged) before anything is written.
    purposes.check_reads(actor, Purpose.PORTFOLIO, export.READS, school_id=student.school_id)
    body = export.build_zip(student)
    with transaction.atomic():
        provision = ProvisionRecord.objects.create(
            subject=student,
            recipient=recipient,
            recipient_kind=recipient_kind,
            items=export.items(),
            basis=basis,
            reference=reference,
            recorded_by=actor,
            municipality_id=student.municipality_id,
            school_id=student.school_id,
        )
        record(
            actor,
            "portfolio.provided",
            target=provision,
            subject=student,
            municipality_id=student.municipality_id,
            school_id=student.school_id,
            purpose=purposes.code(Purpose.PORTFOLIO),
            basis=basis,
            recipient_kind=recipient_kind,
        )
    return provision, body
