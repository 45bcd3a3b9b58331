"""Writes about tenancy. Each takes the acting user and checks access through tenancy.access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.tenancy import access
from classnote.tenancy.models import Municipality, School, SchoolClass

if TYPE_CHECKING:
    from classnote.accounts.models import User


def create_school(actor: User, municipality: Municipality, *, name: str, code: str, listed: bool) -> School:
    municipality = access.get_municipality_for(actor, municipality.pk)
    try:
        with transaction.atomic():
            school = School.objects.create(
                municipality=municipality, name=name, code=code, list_on_adopters_page=listed
            )
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


def create_class(actor: User, school: School, *, name: str, school_year: int) -> SchoolClass:
    school = access.get_school_for(actor, school.pk, manage=True)
    try:
        with transaction.atomic():
            return SchoolClass.objects.create(school=school, name=name, school_year=school_year)
    except IntegrityError:
        raise ActionError(_("This school already has a class with that name in that year.")) from None
