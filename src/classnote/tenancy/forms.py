from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classnote.base import schoolyear
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


def grade_choices(blank: str) -> list[tuple[str, str]]:
    """Grades 1–9 (7–9: lower secondary, 中1–中3) for a select, with BLANK first."""
    return [("", blank), *((str(grade), _("Grade %(grade)d") % {"grade": grade}) for grade in range(1, 10))]


class SchoolClassForm(forms.ModelForm):
    class Meta:
        model = SchoolClass
        fields = ["name", "school_year", "grade"]

    def __init__(self, *args: object, school: School, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.school = school
        self.fields["school_year"].initial = schoolyear.current_school_year()  # April–March
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


class ClassGradeForm(forms.Form):
    school_class = forms.ModelChoiceField(label=_("Class"), queryset=SchoolClass.objects.none())
    # A number shown as a select; the model field's validators (1–9) check it after conversion.
    grade = forms.IntegerField(
        label=_("Grade"),
        required=False,
        widget=forms.Select(),
        validators=SchoolClass._meta.get_field("grade").validators,
    )

    def __init__(self, *args: object, classes: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["school_class"].queryset = classes  # type: ignore[attr-defined]
        self.fields["grade"].widget.choices = grade_choices(str(_("No grade")))


class FuriganaForm(forms.Form):
    up_to_grade = forms.IntegerField(
        label=_("Furigana on pupils' pages"),
        min_value=0,
        widget=forms.Select(),
        validators=School._meta.get_field("furigana_up_to_grade").validators,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices: list[tuple[str, str]] = [("0", str(_("Off")))]
        choices += [(str(grade), _("Up to grade %(grade)d") % {"grade": grade}) for grade in range(1, 10)]
        self.fields["up_to_grade"].widget.choices = choices


class AddMemberForm(forms.Form):
    user: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label=_("Person"), queryset=None)
    role = forms.ChoiceField(label=_("As"), choices=Membership.Role.choices[::-1])  # pupil first

    def __init__(self, *args: object, candidates: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["user"].queryset = candidates  # type: ignore[attr-defined]
