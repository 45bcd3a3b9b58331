"""Writes about tenancy. Each takes the acting user and checks access through tenancy.access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.validators import describe
from classnote.tenancy import access
from classnote.tenancy.models import Municipality, School, SchoolClass

if TYPE_CHECKING:
    from classnote.accounts.models import User


def _check_fields(instance: Model) -> None:
    """The validators of the model's fields (classnote.base.validators), whoever calls the action;
    uniqueness is left to the database."""
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ActionError(describe(error, type(instance))) from None


def create_school(actor: User, municipality: Municipality, *, name: str, code: str, listed: bool) -> School:
    municipality = access.get_municipality_for(actor, municipality.pk)
    school = School(municipality=municipality, name=name, code=code, list_on_adopters_page=listed)
    _check_fields(school)
    try:
        with transaction.atomic():
            school.save()
            record(actor, "school.created", target=school, municipality_id=municipality.pk, school_id=school.pk)
            return school
    except IntegrityError:
        raise ActionError(_("This school code is already taken.")) from None


POLICY_FIELDS = (
    "default_language",
    "require_mfa_for_teachers",
    "list_on_adopters_page",
    "max_upload_mb",
    "collect_name_reading",
    "graduate_retention_days",
    "contract_end_retention_days",
)


def update_policy(actor: User, municipality: Municipality, **changes: object) -> Municipality:
    municipality = access.get_municipality_for(actor, municipality.pk)
    for field in POLICY_FIELDS:
        if field in changes:
            setattr(municipality, field, changes[field])
    with transaction.atomic():
        municipality.save()
        record(actor, "policy.changed", target=municipality, municipality_id=municipality.pk, fields=sorted(changes))
    return municipality


PASSWORD_STYLE_FIELDS = ("password_style_grades_1_2", "password_style_grades_3_4", "password_style_older")


def set_password_styles(actor: User, school: School, **styles: str) -> School:
    """Choose the style of the passwords the school's pupils get, per band of grades. Passwords
    already given keep working; new ones (new pupils, a reset, cards printed with passwords) follow."""
    school = access.get_school_for(actor, school.pk, manage=True)
    for field in PASSWORD_STYLE_FIELDS:
        if field in styles:
            setattr(school, field, styles[field])
    _check_fields(school)
    with transaction.atomic():
        school.save(update_fields=list(PASSWORD_STYLE_FIELDS))
        record(
            actor,
            "school.password_styles_changed",
            target=school,
            school_id=school.pk,
            **{field: getattr(school, field) for field in PASSWORD_STYLE_FIELDS},
        )
    return school


def create_class(actor: User, school: School, *, name: str, school_year: int, grade: int | None = None) -> SchoolClass:
    school = access.get_school_for(actor, school.pk, manage=True)
    school_class = SchoolClass(school=school, name=name, school_year=school_year, grade=grade)
    _check_fields(school_class)
    try:
        with transaction.atomic():
            school_class.save()
            return school_class
    except IntegrityError:
        raise ActionError(_("This school already has a class with that name in that year.")) from None


def set_class_grade(actor: User, class_id: object, grade: int | None) -> SchoolClass:
    """Set (or clear) the grade of a class: 1–6 primary, 7–9 lower secondary."""
    school_class = access.get_class_for(actor, class_id, manage=True)
    school_class.grade = grade
    _check_fields(school_class)
    with transaction.atomic():
        school_class.save(update_fields=["grade"])
        record(
            actor,
            "class.grade_changed",
            target=school_class,
            municipality_id=school_class.school.municipality_id,
            school_id=school_class.school_id,
            grade=grade,
        )
    return school_class


def set_furigana(actor: User, school_id: object, up_to_grade: int) -> School:
    """Turn furigana on the pupils' pages on for grades up to UP_TO_GRADE (0: off)."""
    school = access.get_school_for(actor, school_id, manage=True)
    school.furigana_up_to_grade = up_to_grade
    _check_fields(school)
    with transaction.atomic():
        school.save(update_fields=["furigana_up_to_grade"])
        record(
            actor,
            "school.furigana_changed",
            target=school,
            municipality_id=school.municipality_id,
            school_id=school.pk,
            up_to_grade=up_to_grade,
        )
    return school
