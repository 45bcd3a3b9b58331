"""Writes of the security app: the operator's "check now"."""

from __future__ import annotations

from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.base.errors import ActionError, Refused
from classnote.base.roles import Role
from classnote.security import reports
from classnote.security.models import PatchReport


def check_patches_now(user: User) -> PatchReport:
    if user.role != Role.OPERATOR:
        raise Refused(_("Only the operator checks for patches."))
    report = reports.run(PatchReport.Trigger.MANUAL)
    if report is None:
        raise ActionError(_("No vulnerability feed is configured (SECURITY_FEED)."))
    return report
