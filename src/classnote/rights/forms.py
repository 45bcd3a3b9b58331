from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.base.validators import no_formula, student_number_validator
from classnote.rights.models import DataSubjectRequest


class OpenRequestForm(forms.Form):
    subject = forms.TypedChoiceField(label=_("About whom"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind of request"), choices=DataSubjectRequest.Kind.choices)
    requester = forms.ChoiceField(label=_("Made by"), choices=DataSubjectRequest.Requester.choices)
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is asked, e.g. which item is wrong. Do not copy the person's data here."),
    )

    def __init__(self, *args: object, people: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["subject"].choices = people  # type: ignore[attr-defined]


class CorrectionForm(forms.Form):
    """The same checks as the pupil form (accounts.forms.StudentForm): the validators of the fields
    it writes (tests/architecture/test_field_validators.py)."""

    display_name = forms.CharField(label=_("display name"), max_length=80, validators=[no_formula])
    student_number = forms.CharField(
        label=_("student ID"), max_length=32, required=False, validators=[student_number_validator]
    )
    name_reading = forms.CharField(
        label=_("reading of the name"), max_length=80, required=False, validators=[no_formula]
    )


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Result"),
        choices=[
            (DataSubjectRequest.Status.COMPLETED, _("Completed")),
            (DataSubjectRequest.Status.REFUSED, _("Refused")),
        ],
    )
    outcome = forms.CharField(
        label=_("What the person is told"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DeleteForm(forms.Form):
    confirmation = forms.CharField(
        label=_("Type the request's reference to confirm"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
