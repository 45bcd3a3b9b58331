"""Writes of the security app: the operator's "check now"."""

from __future__ import annotations

from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.security import reports
from classnote.security.models import PatchReport
from classnote.tenancy.access import require_roles


def check_patches_now(user: User) -> PatchReport:
    require_roles(user, [Role.OPERATOR])
    report = reports.run(PatchReport.Trigger.MANUAL)
    if report is None:
        raise ActionError(_("No vulnerability feed is configured (SECURITY_FEED)."))
    return report
