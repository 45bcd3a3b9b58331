"""Writes of the portfolio: handing a pupil's portfolio to another organisation (a provision)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from classnote.accounts.access import get_user_for
from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError, NotFound
from classnote.base.inventory import Purpose
from classnote.base.roles import SCHOOL_MANAGER_ROLES, Role
from classnote.portfolio import export
from classnote.privacy import purposes
from classnote.privacy.models import ProvisionRecord


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
    if actor.role not in SCHOOL_MANAGER_ROLES:
        raise ActionError(_("Only a school or municipal administrator can hand data to another organisation."))
    student = get_user_for(actor, student_id, manage=True)
    if student.role != Role.STUDENT or student.municipality_id is None:
        raise NotFound
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
