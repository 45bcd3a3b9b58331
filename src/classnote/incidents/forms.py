from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.incidents.actions import FIELDS
from classnote.incidents.models import Incident
from classnote.tenancy.models import Municipality

_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=_LOCAL, **kwargs)


class MunicipalityChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class IncidentForm(forms.ModelForm):
    data_categories = forms.MultipleChoiceField(
        label=_("categories of data"),
        choices=Incident.DataCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    municipalities = MunicipalityChoices(
        label=_("affected boards of education"),
        queryset=Municipality.objects.filter(synthetic=False).order_by("name"),  # not the prober's tenant
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Their administrators can read this incident."),
    )

    class Meta:
        model = Incident
        fields = [*FIELDS, "municipalities"]
        widgets = {
            "discovered_at": DateTimeLocal(),
            "occurred_at": DateTimeLocal(),
            "summary": forms.Textarea(attrs={"rows": 4}),
            "data_items": forms.Textarea(attrs={"rows": 2}),
            "cause": forms.Textarea(attrs={"rows": 3}),
            "secondary_damage": forms.Textarea(attrs={"rows": 2}),
            "measures": forms.Textarea(attrs={"rows": 3}),
            "recurrence_prevention": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("discovered_at", "occurred_at"):
            self.fields[name].input_formats = [_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]  # type: ignore[attr-defined]


class ReportForm(forms.Form):
    report = forms.ChoiceField(
        choices=[("preliminary", _("Preliminary report")), ("final", _("Final report"))], widget=forms.HiddenInput
    )
    filed_at = forms.DateTimeField(
        label=_("Filed at"),
        required=False,
        widget=DateTimeLocal(),
        input_formats=[_LOCAL, "%Y-%m-%d %H:%M"],
        help_text=_("Leave empty for now."),
    )
