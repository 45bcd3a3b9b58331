"""Open complaint cases as deadlines on the privacy officer's dashboard (classnote.privacy.deadlines)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from classnote.complaints import access as complaint_access
from classnote.complaints.models import Complaint
from classnote.privacy.deadlines import Deadline


def complaint_deadlines(user: Any) -> Iterator[Deadline]:
    if not getattr(user, "is_authenticated", False):
        return
    for case in complaint_access.readable_complaints(user).filter(status__in=Complaint.OPEN_STATUSES):
        yield Deadline(
            kind=_("Complaint"),
            reference=case.reference,
            title=_("Answer to the submitter"),
            due=case.respond_by,
            status=str(case.get_status_display()),
            url=reverse("complaint_detail", args=[case.pk]),
        )
