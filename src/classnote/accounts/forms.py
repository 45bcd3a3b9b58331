from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.base.validators import login_id_validator, no_formula, student_number_validator


class StudentLoginForm(forms.Form):
    static_fields = True  # see classnote.core.templatetags.classnote_forms
    school_code = forms.CharField(label=_("School code"), max_length=32)
    student_number = forms.CharField(label=_("Student ID"), max_length=32)
    password = forms.CharField(label=_("Password"), max_length=128, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_code"].widget.attrs.update({"autocomplete": "organization", "autocapitalize": "none"})
        self.fields["student_number"].widget.attrs.update({"autocomplete": "username", "inputmode": "text"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class CardLoginForm(forms.Form):
    token = forms.CharField(max_length=64, min_length=16, widget=forms.HiddenInput)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("School default")), *settings.LANGUAGES], required=False
    )
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


class StudentForm(forms.Form):
    """One pupil: the form of the school page, and each line of a roster import (classnote.roster)."""

    display_name = forms.CharField(label=_("Display name"), max_length=80, validators=[no_formula])
    student_number = forms.CharField(label=_("Student ID"), max_length=32, validators=[student_number_validator])
    # Optional data: asked only where the board of education chose to record it (minimum acquisition).
    name_reading = forms.CharField(
        label=_("Reading of the name (furigana)"), max_length=80, required=False, validators=[no_formula]
    )

    def __init__(self, *args: Any, collect_name_reading: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not collect_name_reading:
            del self.fields["name_reading"]


class StaffForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80, validators=[no_formula])
    login_id = forms.CharField(label=_("Login ID"), max_length=80, validators=[login_id_validator])
    role = forms.ChoiceField(label=_("Role"), choices=[])

    def __init__(self, *args: Any, roles: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(value, label) for value, label in Role.choices if value in roles]
        self.fields["role"].choices = choices  # type: ignore[attr-defined]

    def clean_login_id(self) -> str:
        login_id = self.cleaned_data["login_id"].lower()
        if "/" in login_id or User.objects.filter(username__iexact=login_id).exists():
            raise forms.ValidationError(_("This login ID is already taken."))
        return login_id
