"""Writes of the privacy app: operator support grants (provision of a portfolio to another
organisation is classnote.portfolio.actions).

Each takes the acting user first, checks access through classnote.tenancy.access, runs in one
transaction and writes its audit entry; a refusal is an ActionError with a translated message."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.privacy.access import get_support_grant_for
from classnote.privacy.models import SupportGrant, reference_validator
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
    grant = get_support_grant_for(actor, grant_id)
    if not grant.active:
        return grant
    with transaction.atomic():
        grant.revoked_at, grant.revoked_by = timezone.now(), actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        record(actor, "support.revoked", target=grant, municipality_id=grant.municipality_id)
    return grant
