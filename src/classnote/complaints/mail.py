"""The two mails a submitter may get: the acknowledgement and the outcome. They name the case by its
reference; they never repeat the submitter's message (a mail can be forwarded or mis-delivered)
nor the access code."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from classnote.complaints.models import Complaint


def _message(complaint: Complaint, subject: str, template: str, status_url: str) -> EmailMessage:
    body = render_to_string(
        template,
        {"complaint": complaint, "status_url": status_url, "site_name": settings.CLASSNOTE_SITE_NAME},
    )
    return EmailMessage(subject=subject, body=body, to=[complaint.email])


def acknowledgement(complaint: Complaint, status_url: str) -> EmailMessage:
    with translation.override(complaint.language):
        subject = _("We have received your enquiry (%(reference)s)") % {"reference": complaint.reference}
        return _message(complaint, subject, "complaints/mail/acknowledgement.txt", status_url)


def outcome(complaint: Complaint, status_url: str) -> EmailMessage:
    with translation.override(complaint.language):
        subject = _("The outcome of your enquiry (%(reference)s)") % {"reference": complaint.reference}
        return _message(complaint, subject, "complaints/mail/outcome.txt", status_url)
