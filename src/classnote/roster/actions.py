"""Writes of the roster: people joining and leaving classes, and the roster import. Each takes the
acting user, checks access through the access rules and runs in one transaction with its audit entry."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from classnote.accounts import access as account_access
from classnote.accounts import actions as account_actions
from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import SCHOOL_MANAGER_ROLES, Role
from classnote.roster import reader
from classnote.tenancy import access
from classnote.tenancy.models import Membership, School, SchoolClass


def add_member(actor: User, class_id: int, member_id: int, role: str) -> Membership:
    """Add a person of the school to a class as pupil or teacher (school administrators may teach)."""
    school_class = access.get_class_for(actor, class_id, manage=True)
    member = account_access.get_user_for(actor, member_id)
    if member.school_id != school_class.school_id:
        raise ActionError(_("Only people of this school can join its classes."))
    wanted_role = {str(Membership.Role.STUDENT): Role.STUDENT, str(Membership.Role.TEACHER): Role.TEACHER}.get(role)
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


def remove_member(actor: User, class_id: int, member_id: int) -> None:
    school_class = access.get_class_for(actor, class_id, manage=True)
    member = account_access.get_user_for(actor, member_id)
    with transaction.atomic():
        if Membership.objects.filter(school_class=school_class, user=member).delete()[0]:
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


def import_roster(actor: User, school: School, plan: reader.Plan) -> Imported:
    """Apply a roster plan (classnote.roster.reader.plan) in one transaction: create the new pupils (the
    same checks as adding one, accounts.actions.create_students), update names and readings, add
    memberships. Refused lines change nothing. The audit entry holds counts only."""
    school = access.get_school_for(actor, school.pk, manage=True)
    if actor.role not in SCHOOL_MANAGER_ROLES or plan.school.pk != school.pk:
        raise ActionError(_("Only the school's administrators can import its roster."))
    new = [line for line in plan.lines if line.outcome == reader.CREATE]
    changed = [line for line in plan.lines if line.outcome == reader.UPDATE]
    manageable = access.manageable_classes(actor).filter(school=school)
    class_ids = {line.school_class.pk for line in new + changed if line.school_class is not None}
    if manageable.filter(pk__in=class_ids).count() != len(class_ids):
        raise ActionError(_("Only the school's administrators can import its roster."))
    with transaction.atomic():
        created = account_actions.create_students(
            actor,
            school,
            [
                account_actions.NewStudent(
                    line.row.display_name,
                    line.row.student_number,
                    line.row.name_reading,
                    grade=line.school_class.grade if line.school_class else None,
                )
                for line in new
            ],
        )
        joins = [
            Membership(school_class=line.school_class, user=user, role=Membership.Role.STUDENT)
            for line, (user, _password) in zip(new, created, strict=True)
        ]
        for line in changed:
            user = account_access.get_user_for(actor, line.existing.pk if line.existing else 0, manage=True)
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
            updated=counts[reader.UPDATE],
            unchanged=counts[reader.UNCHANGED],
            refused=counts[reader.REFUSE],
        )
    return Imported(
        created=[
            (user, password, line.school_class)
            for line, (user, password) in zip(new, created, strict=True)
            if line.school_class
        ],
        updated=counts[reader.UPDATE],
        unchanged=counts[reader.UNCHANGED],
        refused=counts[reader.REFUSE],
    )
