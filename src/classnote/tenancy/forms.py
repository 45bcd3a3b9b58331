from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classnote.tenancy.actions import PASSWORD_STYLE_FIELDS, POLICY_FIELDS
from classnote.tenancy.models import Membership, Municipality, School, SchoolClass


class SchoolForm(forms.ModelForm):
    class Meta:
        model = School
        fields = ["name", "code", "list_on_adopters_page"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].lower()
        if School.objects.filter(code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This school code is already taken."))
        return code


class PupilPasswordsForm(forms.ModelForm):
    """The school's choice of pupil password style per band of grades (accounts.credentials)."""

    class Meta:
        model = School
        fields = list(PASSWORD_STYLE_FIELDS)


class MunicipalityPolicyForm(forms.ModelForm):
    class Meta:
        model = Municipality
        fields = list(POLICY_FIELDS)


class SchoolClassForm(forms.ModelForm):
    class Meta:
        model = SchoolClass
        fields = ["name", "school_year", "grade"]

    def __init__(self, *args: object, school: School, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.school = school
        self.fields["school_year"].initial = timezone.now().year
        self.fields["school_year"].min_value = 2000  # type: ignore[attr-defined]
        self.fields["school_year"].max_value = 2100  # type: ignore[attr-defined]
        self.fields["school_year"].widget.attrs.update({"min": 2000, "max": 2100})
        self.fields["grade"].widget.attrs.update({"min": 1, "max": 12})
        self.fields["grade"].help_text = _("Chooses the kind of password its pupils get. Empty for mixed groups.")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        name, year = data.get("name"), data.get("school_year")
        if name and year and SchoolClass.objects.filter(school=self.school, school_year=year, name=name).exists():
            raise forms.ValidationError(_("This school already has a class with that name in that year."))
        return data


class AddMemberForm(forms.Form):
    user: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label=_("Person"), queryset=None)
    role = forms.ChoiceField(label=_("As"), choices=Membership.Role.choices[::-1])  # pupil first

    def __init__(self, *args: object, candidates: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["user"].queryset = candidates  # type: ignore[attr-defined]
