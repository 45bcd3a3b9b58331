"""Access rules of the lesson's models: lessons, submission boxes, submissions and groups.

Lesson content is seen by the class's teachers and pupils only: administrators manage rosters, they
do not read pupils' work. School administrators who are members of a class as its teacher teach it.
The lesson also tells the cards app which cards inside lessons a user may read
(:func:`register`, called when the app is ready)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from classnote.accounts.models import User
from classnote.base.roles import TEACHING_ROLES, Role
from classnote.cards import access as card_access
from classnote.lessons.models import Lesson, Submission, SubmissionBox
from classnote.tenancy.access import attended_classes, get_one, nothing, taught_classes
from classnote.tenancy.models import Membership


def lesson_rule(user: User, *, teach: bool = False) -> Q:
    """Lessons the user attends or teaches (teach=False), or teaches (teach=True)."""
    if user.role in TEACHING_ROLES:
        return Q(school_class__in=taught_classes(user), school_class__school_id=user.school_id)
    if user.role == Role.STUDENT and not teach:
        return Q(school_class__in=attended_classes(user), school_class__school_id=user.school_id)
    return nothing()


def readable_lessons(user: User) -> QuerySet[Lesson]:
    return Lesson.objects.filter(lesson_rule(user)).select_related("school_class")


def teaching_lessons(user: User) -> QuerySet[Lesson]:
    """Lessons in which the user acts as teacher (send, collect, share, return)."""
    return Lesson.objects.filter(lesson_rule(user, teach=True)).select_related("school_class")


def with_relation(lessons: QuerySet[Lesson], user: User) -> QuerySet[Lesson]:
    """The lessons, each with ``teaching``: whether the user teaches it (one query, not two)."""
    teacher = Membership.objects.filter(
        school_class=OuterRef("school_class"), user_id=user.pk, role=Membership.Role.TEACHER
    )
    return lessons.annotate(teaching=Exists(teacher))  # type: ignore[no-redef]  # declared on Lesson for the readers


def get_lesson_for(user: User, pk: object, *, teach: bool = False) -> Lesson:
    """A lesson the user attends (or, with teach=True, teaches), annotated with ``teaching``."""
    return get_one(with_relation(teaching_lessons(user) if teach else readable_lessons(user), user), pk)


def get_box_for(user: User, pk: object, *, teach: bool = False) -> SubmissionBox:
    """A submission box of a lesson the user attends (or, with teach=True, teaches)."""
    lessons = teaching_lessons(user) if teach else readable_lessons(user)
    return get_one(SubmissionBox.objects.filter(lesson__in=lessons).select_related("lesson"), pk)


def submission_rule(user: User, *, teach: bool = False) -> Q:
    """Submissions of lessons the user teaches, and (unless teach=True) the user's own."""
    visible = Q(box__lesson__in=teaching_lessons(user))
    if not teach:
        visible |= Q(student_id=user.pk, box__lesson__in=readable_lessons(user))
    return visible


def get_submission_for(user: User, pk: object, *, teach: bool = False) -> Submission:
    """A submission of a lesson the user teaches, or (unless teach=True) one of the user's own."""
    submissions = Submission.objects.filter(submission_rule(user, teach=teach))
    return get_one(submissions.select_related("box__lesson", "card", "student"), pk)


def taught_pupils(user: User, ids: set[int]) -> dict[int, str]:
    """The names of those of IDS who are pupils of a class the user teaches (a replay of a pupil's
    activity names the pupil to their teachers only)."""
    pupils = User.objects.filter(
        pk__in=ids, memberships__school_class__in=taught_classes(user), memberships__role=Membership.Role.STUDENT
    )
    return dict(pupils.values_list("pk", "display_name"))


# --- What the lesson adds to the cards a user may read (classnote.cards.access) -------------------


def lesson_cards_rule(user: User) -> Q:
    """Cards inside lessons beyond one's own: everything in the lessons a teacher teaches; for a
    pupil, the classmates' answers while the teacher shares them."""
    if user.role in TEACHING_ROLES:
        return Q(lesson__school_class__in=taught_classes(user))
    if user.role == Role.STUDENT:
        shared = Submission.objects.filter(
            is_current=True, box__sharing=True, box__lesson__school_class__in=attended_classes(user)
        )
        return Q(pk__in=shared.values("card"))
    return nothing()


def lesson_for_card(user: User, lesson_id: object) -> Lesson:
    """The lesson a user puts a new card in: one they attend or teach."""
    return get_lesson_for(user, lesson_id)


def register() -> None:
    card_access.register_lessons(readable=lesson_cards_rule, lesson_for=lesson_for_card)
