"""Writes about tenancy. Each takes the acting user and checks access through tenancy.access."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from classnote.accounts import actions as account_actions
from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.tenancy import access, roster
from classnote.tenancy.models import Membership, Municipality, School, SchoolClass


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


def add_member(actor: User, school_class: SchoolClass, member_id: int, role: str) -> Membership:
    school_class = access.get_class_for(actor, school_class.pk, manage=True)
    member = access.get_user_for(actor, member_id)
    if member.school_id != school_class.school_id:
        raise ActionError(_("Only people of this school can join its classes."))
    wanted_role = {"student": Role.STUDENT, "teacher": Role.TEACHER}.get(role)
    if wanted_role is None or (
        member.role != wanted_role and not (role == Membership.Role.TEACHER and member.role == Role.SCHOOL_ADMIN)
    ):
        raise ActionError(_("This person cannot join the class in that role."))
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            school_class=school_class, user=member, defaults={"role": role}
        )
        if created:
            record(
                actor,
                "membership.added",
                target=member,
                school_id=school_class.school_id,
                school_class=school_class.pk,
                role=role,
            )
    return membership


def remove_member(actor: User, school_class: SchoolClass, member_id: int) -> None:
    school_class = access.get_class_for(actor, school_class.pk, manage=True)
    with transaction.atomic():
        if Membership.objects.filter(school_class=school_class, user_id=member_id).delete()[0]:
            record(
                actor,
                "membership.removed",
                school_id=school_class.school_id,
                school_class=school_class.pk,
                user=member_id,
            )


@dataclass(frozen=True)
class Imported:
    """The outcome of a roster import: the new pupils with their first passwords (shown once)."""

    created: list[tuple[User, str, SchoolClass]]
    updated: int
    unchanged: int
    refused: int


def import_roster(actor: User, school: School, plan: roster.Plan) -> Imported:
    """Apply a roster plan (tenancy.roster.plan) in one transaction: create the new pupils (the
    same checks as adding one, accounts.actions.create_students), update names and readings, add
    memberships. Refused lines change nothing. The audit entry holds counts only."""
    school = access.get_school_for(actor, school.pk, manage=True)
    if actor.role not in access.SCHOOL_MANAGERS or plan.school.pk != school.pk:
        raise ActionError(_("Only the school's administrators can import its roster."))
    new = [line for line in plan.lines if line.outcome == roster.CREATE]
    changed = [line for line in plan.lines if line.outcome == roster.UPDATE]
    manageable = access.manageable_classes(actor).filter(school=school)
    class_ids = {line.school_class.pk for line in new + changed if line.school_class is not None}
    if manageable.filter(pk__in=class_ids).count() != len(class_ids):
        raise ActionError(_("Only the school's administrators can import its roster."))
    with transaction.atomic():
        created = account_actions.create_students(
            actor,
            school,
            [
                account_actions.NewStudent(line.row.display_name, line.row.student_number, line.row.name_reading)
                for line in new
            ],
        )
        joins = [
            Membership(school_class=line.school_class, user=user, role=Membership.Role.STUDENT)
            for line, (user, _password) in zip(new, created, strict=True)
        ]
        for line in changed:
            user = access.get_user_for(actor, line.existing.pk if line.existing else 0, manage=True)
            fields: list[str] = []
            if user.display_name != line.row.display_name:
                user.display_name, fields = line.row.display_name, [*fields, "display_name"]
            if line.row.name_reading and user.name_reading != line.row.name_reading:
                user.name_reading, fields = line.row.name_reading, [*fields, "name_reading"]
            if fields:
                user.save(update_fields=fields)
            joins.append(Membership(school_class=line.school_class, user=user, role=Membership.Role.STUDENT))
        Membership.objects.bulk_create(joins, ignore_conflicts=True)
        counts = plan.counts
        record(
            actor,
            "roster.imported",
            target=school,
            school_id=school.pk,
            created=len(created),
            updated=counts[roster.UPDATE],
            unchanged=counts[roster.UNCHANGED],
            refused=counts[roster.REFUSE],
        )
    return Imported(
        created=[
            (user, password, line.school_class)
            for line, (user, password) in zip(new, created, strict=True)
            if line.school_class
        ],
        updated=counts[roster.UPDATE],
        unchanged=counts[roster.UNCHANGED],
        refused=counts[roster.REFUSE],
    )
