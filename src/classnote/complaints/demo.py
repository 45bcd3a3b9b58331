"""Demo cases for the privacy officer's queue: one overdue, one in progress, one answered."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from classnote.accounts.models import User
from classnote.complaints import actions
from classnote.complaints.models import Complaint
from classnote.tenancy.models import Municipality


def create_demo_cases(officer: User, municipality: Municipality | None) -> list[Complaint]:
    now = timezone.now()
    specs = [
        (Complaint.Kind.COMPLAINT, "Photos of my child's class were visible to another class. Who can see them?", 20),
        (Complaint.Kind.QUESTION, "Which data about my child does the service keep after graduation?", 3),
        (Complaint.Kind.CONSULTATION, "Can we use the service for a joint lesson with another school?", 30),
    ]
    cases = []
    for kind, message, days_ago in specs:
        complaint = actions.open_case(kind=kind, municipality=municipality, message=message, language="ja").complaint
        Complaint.objects.filter(pk=complaint.pk).update(received_at=now - timedelta(days=days_ago))
        cases.append(complaint)
    actions.add_note(officer, cases[1].pk, "Asked the board of education for its retention settings.")
    actions.update_case(
        officer,
        cases[2].pk,
        status=Complaint.Status.ANSWERED,
        outcome="Yes: a teacher can invite the other class's teacher; pupils only see their own class.",
    )
    return cases
