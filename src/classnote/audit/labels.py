"""What the audit log's codes mean, in the reader's language (issue 14, defect 7).

Entries keep stable codes (``account.created``, target ``User``), which the hash chain covers; the
page shows these labels instead. Every code the code base records must have a label here:
tests/audit/test_labels.py finds them in the source.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTIONS: dict[str, Promise] = {
    "account.activated": _("Account activated"),
    "account.created": _("Account created"),
    "account.deactivated": _("Account deactivated"),
    "account.left_on_set": _("Account set to leave on a date"),
    "account.password_reset": _("Password reset"),
    "account.viewed": _("Account details viewed"),
    "card.viewed": _("Pupil's card opened"),
    "complaint.note_added": _("Note added to a complaint"),
    "complaint.purged": _("Complaint deleted after its retention period"),
    "complaint.received": _("Complaint received"),
    "complaint.updated": _("Complaint updated"),
    "complaint.viewed": _("Complaint viewed"),
    "file.downloaded": _("Pupil's file downloaded"),
    "incident.created": _("Incident recorded"),
    "incident.purged": _("Incident deleted after its retention period"),
    "incident.report_filed": _("Incident report filed"),
    "incident.updated": _("Incident updated"),
    "incident.viewed": _("Incident viewed"),
    "lesson.locked": _("Pupils' screens locked"),
    "lesson.unlocked": _("Pupils' screens unlocked"),
    "login_card.revoked": _("Login card revoked"),
    "login_cards.issued": _("Login cards printed"),
    "membership.added": _("Added to a class"),
    "membership.removed": _("Removed from a class"),
    "person.deleted": _("Person's data deleted"),
    "policy.changed": _("Policy changed"),
    "portfolio.provided": _("Portfolio handed to another organisation"),
    "privacy.read_refused": _("Read refused (purpose not declared)"),
    "request.ceased": _("Data request: use stopped"),
    "request.closed": _("Data request closed"),
    "request.corrected": _("Data request: data corrected"),
    "request.disclosed": _("Data request: data disclosed"),
    "request.opened": _("Data request opened"),
    "roster.imported": _("Roster imported"),
    "school.created": _("School created"),
    "school.password_styles_changed": _("Pupil password styles changed"),
    "school.furigana_changed": _("Furigana setting changed"),
    "class.grade_changed": _("Class grade changed"),
    "submission.viewed": _("Pupil's submission opened"),
    "status.draft_confirmed": _("Status incident draft confirmed and published"),
    "status.draft_discarded": _("Status incident draft discarded"),
    "status.draft_opened": _("Status incident draft opened by the probes"),
    "status.incident_opened": _("Status incident opened"),
    "status.incident_resolved": _("Status incident resolved"),
    "status.incident_updated": _("Status incident updated"),
    "status.maintenance_announced": _("Maintenance announced"),
    "status.maintenance_cancelled": _("Maintenance cancelled"),
    "status.maintenance_changed": _("Maintenance changed"),
    "status.webhook_added": _("Status webhook added"),
    "status.webhook_removed": _("Status webhook removed"),
    "support.granted": _("Operator support access granted"),
    "support.revoked": _("Operator support access revoked"),
}

# Target types as recorded (the model's class name).
TARGETS: dict[str, Promise] = {
    "ApiToken": _("API token"),
    "AuditEntry": _("Audit entry"),
    "AuditHead": _("Audit log"),
    "CacheEntry": _("Cache entry"),
    "Card": _("Card"),
    "Channel": _("Event channel"),
    "Complaint": _("Complaint"),
    "ComplaintNote": _("Note on a complaint"),
    "Country": _("Country"),
    "DataSubjectRequest": _("Data request"),
    "DeletionReceipt": _("Deletion receipt"),
    "Event": _("Lesson event"),
    "Group": _("Group"),
    "IdempotencyKey": _("Repeated-write record"),
    "Incident": _("Incident"),
    "Lesson": _("Lesson"),
    "LoginCard": _("Login card"),
    "Membership": _("Class membership"),
    "LessonActivity": _("Lesson activity"),
    "Municipality": _("Board of education"),
    "PatchReport": _("Patch report"),
    "ProvisionRecord": _("Provision record"),
    "Region": _("Region"),
    "School": _("School"),
    "SchoolClass": _("Class"),
    "StoredFile": _("File"),
    "DailyAggregate": _("Daily status figures"),
    "Maintenance": _("Maintenance window"),
    "ProbeResult": _("Probe result"),
    "StatusIncident": _("Status incident"),
    "StatusUpdate": _("Status update"),
    "Subscriber": _("Status subscriber"),
    "Submission": _("Submission"),
    "SubmissionBox": _("Submission box"),
    "SupportGrant": _("Support access"),
    "User": _("Person"),
}


def action_label(code: str) -> str:
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def target_label(target_type: str) -> str:
    label = TARGETS.get(target_type)
    return str(label) if label is not None else target_type
