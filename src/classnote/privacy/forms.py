from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from classnote.privacy.actions import SUPPORT_HOURS
from classnote.privacy.models import ProvisionRecord, SupportGrant, reference_validator


def _duration_text(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


_duration = lazy(_duration_text, str)  # translated when shown, in the user's language


class SupportGrantForm(forms.Form):
    reference = forms.CharField(
        label=_("Ticket reference"),
        max_length=40,
        validators=[reference_validator],
        help_text=_("The operator's support ticket, e.g. T-2026-0415. No names."),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=SupportGrant.Reason.choices)
    hours = forms.TypedChoiceField(
        label=_("Access ends after"),
        coerce=int,
        initial=8,
        choices=[(hours, _duration(hours)) for hours in SUPPORT_HOURS],
    )


class ProvisionForm(forms.Form):
    recipient = forms.CharField(
        label=_("Organisation that receives the data"),
        max_length=150,
        help_text=_("E.g. the school the pupil moves to."),
    )
    recipient_kind = forms.ChoiceField(label=_("Kind of organisation"), choices=ProvisionRecord.RecipientKind.choices)
    basis = forms.ChoiceField(
        label=_("Legal basis"),
        choices=[("", "—"), *ProvisionRecord.Basis.choices],
        error_messages={"required": _("Choose the legal basis: without one the data may not be handed over.")},
    )
    reference = forms.CharField(
        label=_("Consent form number or legal provision"),
        max_length=120,
        help_text=_("E.g. the number of the signed consent form, or the article of the law. No names."),
    )
