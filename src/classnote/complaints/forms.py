from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.complaints.models import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH, Complaint
from classnote.tenancy.models import Municipality

# Anything that could end a mail header or add a recipient: line breaks and other control
# characters, separators of address lists, and angle brackets / quotes of display names.
_UNSAFE_IN_ADDRESS = re.compile(r"[\x00-\x1f\x7f,;<>\"'\\()\[\]\s]")
# Control characters, and the Unicode line breaks (NEL, line and paragraph separators): a name is one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


class MunicipalityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it about?"), choices=Complaint.Kind.choices, widget=forms.RadioSelect)
    municipality = MunicipalityChoice(
        label=_("Board of education or school operator"),
        queryset=Municipality.objects.none(),
        required=False,
        empty_label=_("I don't know / not applicable"),
        help_text=_("If your enquiry concerns a school, choose the board of education or operator it belongs to."),
    )
    message = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Please do not include passwords. Pupils' names only where we need them to look into the matter."),
    )
    name = forms.CharField(label=_("Your name (optional)"), max_length=100, required=False)
    email = forms.CharField(
        label=_("Your e-mail address (optional)"),
        max_length=254,
        required=False,
        strip=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send the acknowledgement and our answer here. Without it, check the status page."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        listed = Municipality.objects.filter(list_on_adopters_page=True, synthetic=False).order_by("name")
        self.fields["municipality"].queryset = listed  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if _CONTROL.search(name):
            raise forms.ValidationError(_("The name must be one line of text."), code="invalid")
        return name

    def clean_email(self) -> str:
        raw: str = self.cleaned_data["email"]
        address = raw.strip(" ")
        if not address:
            return ""
        if _UNSAFE_IN_ADDRESS.search(address):
            raise forms.ValidationError(
                _("Enter one e-mail address only, without line breaks, spaces or other separators."),
                code="unsafe",
            )
        forms.EmailField().clean(address)  # Django's own validator, with its translated message
        return address

    def header_injection(self) -> bool:
        return any(error.code == "unsafe" for error in self.errors.as_data().get("email", []))


class StatusForm(forms.Form):
    reference = forms.CharField(
        label=_("Case reference"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    access_code = forms.CharField(
        label=_("Access code"), max_length=40, widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Seen by the privacy officer only, never by the submitter."),
    )


class CaseForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Complaint.Status.choices)
    outcome = forms.CharField(
        label=_("Outcome told to the submitter"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Shown on the status page once the case is answered or closed, and sent by e-mail if the "
            "submitter gave an address."
        ),
    )
