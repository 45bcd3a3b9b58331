"""Forms of the status page's operator pages and of the public subscription form. The actions check
everything again; the forms give translated messages next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.status.components import COMPONENTS
from classnote.status.models import Impact, IncidentState

_LOCAL = "%Y-%m-%dT%H:%M"
_FORMATS = [_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _component_choices() -> list[tuple[str, Any]]:
    return [(key, c.name) for key, c in COMPONENTS.items()]


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=_LOCAL, **kwargs)


class ComponentsField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("Affected components"),
            choices=_component_choices,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one affected component.")},
            **kwargs,
        )


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices, initial=Impact.MINOR)
    components = ComponentsField()
    state = forms.ChoiceField(
        label=_("State"),
        choices=[(v, label) for v, label in IncidentState.choices if v != IncidentState.RESOLVED],
        initial=IncidentState.INVESTIGATING,
    )
    body = forms.CharField(
        label=_("First update"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Public: what users notice and what you are doing. No names, no internal details."),
    )


class UpdateForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=IncidentState.choices)
    body = forms.CharField(label=_("Update"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class PublishForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    components = ComponentsField()


class MaintenanceForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("What will happen"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    components = ComponentsField()
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeLocal(), input_formats=_FORMATS)
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DateTimeLocal(), input_formats=_FORMATS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The maintenance must end after it starts."))
        return data


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=_("Webhook URL"),
        max_length=500,
        help_text=_("An https:// address on a host declared in OPERATOR_HOSTS."),
        widget=forms.URLInput(),
    )


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def clean_email(self) -> str:
        address: str = self.cleaned_data["email"]
        if any(ch in address for ch in ",;<>\"'\\()[] \r\n\t"):
            raise forms.ValidationError(_("Enter one e-mail address only."), code="invalid")
        return address
