"""The validators of stored fields, one per kind of value, shared by the model field and every
form, schema and import that writes it (tests/architecture/test_field_validators.py finds every
writer and checks it carries its field's validators)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

FORMULA_STARTS = ("=", "+", "-", "@")


def no_formula(value: str) -> None:
    """Names end up in spreadsheets (class lists a school copies out, rosters exported back): a
    value that starts like a formula (=, +, -, @, full-width ones too) would run there as one
    (CSV injection, e.g. ``=cmd|' /C calc'!A0``)."""
    first = unicodedata.normalize("NFKC", value.lstrip()[:1])
    if first.startswith(FORMULA_STARTS):
        raise ValidationError(
            _("Must not start with =, +, - or @ (spreadsheets would run it as a formula)."), code="formula"
        )


# A school's code: part of every pupil's login (school code + student ID).
SCHOOL_CODE = r"[A-Za-z0-9][A-Za-z0-9-]{1,31}"
school_code_validator = RegexValidator(
    rf"^{SCHOOL_CODE}$", _("Use 2–32 letters, digits or hyphens, starting with a letter or digit.")
)

STUDENT_NUMBER = r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}"
student_number_validator = RegexValidator(
    rf"^{STUDENT_NUMBER}$", _("Use up to 32 letters, digits, dots, hyphens or underscores.")
)

LOGIN_ID = r"[a-z0-9][a-z0-9._-]{2,79}"
login_id_validator = RegexValidator(
    rf"^{LOGIN_ID}$",
    _("Use 3–80 lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit."),
)

# The stored login name: a staff member's login ID, or a pupil's "school code/student ID" (lower case,
# accounts.models.student_username) — never anything else, whichever path wrote it.
username_validator = RegexValidator(
    rf"^(?:{LOGIN_ID}|{SCHOOL_CODE.replace('A-Za-z', 'a-z')}/{STUDENT_NUMBER.replace('A-Za-z', 'a-z')})$",
    _("A login name is a login ID, or a school code and a student ID."),
)


def describe(error: ValidationError, model: Any) -> str:
    """A model's ValidationError as one line to show: "display name: Must not start with …"."""
    if not hasattr(error, "error_dict"):
        return " ".join(str(message) for message in error.messages)
    parts = []
    for name, errors in error.error_dict.items():
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001 - NON_FIELD_ERRORS and constraints have no field
            label = ""
        for message in ValidationError(errors).messages:
            parts.append(f"{label}: {message}" if label else str(message))
    return " ".join(parts)
