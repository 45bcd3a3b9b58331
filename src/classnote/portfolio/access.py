"""Who may export whose portfolio (the engine is classnote.tenancy.access).

A pupil exports their own. A class teacher exports the portfolios of the pupils of the classes they
teach, in their own school, and only the work of those classes' lessons: a teacher reads the
lessons they teach, never the work a pupil did in another teacher's class. The school's and the
board's administrators keep their own export of a single pupil (accounts.access, manage=True)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from classnote.accounts.models import User
from classnote.base.roles import TEACHING_ROLES, Role
from classnote.tenancy.access import get_one, nothing, taught_classes
from classnote.tenancy.models import Membership, SchoolClass


def export_class_rule(user: User) -> Q:
    """Classes whose pupils' portfolios the user may export: the classes they teach, in their school."""
    if user.role in TEACHING_ROLES:
        return Q(pk__in=taught_classes(user), school_id=user.school_id)
    return nothing()


def exportable_classes(user: User) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(export_class_rule(user)).select_related("school")


def get_class_for_export(user: User, pk: object) -> SchoolClass:
    return get_one(exportable_classes(user), pk)


def pupils_of(school_class: SchoolClass) -> QuerySet[User]:
    """The pupils of a class (its pupil members of the class's school), by student number and name."""
    members = Membership.objects.filter(school_class=school_class, role=Membership.Role.STUDENT).values("user")
    return User.objects.filter(pk__in=members, role=Role.STUDENT, school_id=school_class.school_id).order_by(
        "student_number", "display_name", "pk"
    )


def get_pupil_for_export(user: User, class_pk: object, pupil_pk: object) -> tuple[SchoolClass, User]:
    """A class the user teaches and one of its pupils; NotFound for anything else."""
    school_class = get_class_for_export(user, class_pk)
    return school_class, get_one(pupils_of(school_class), pupil_pk)
