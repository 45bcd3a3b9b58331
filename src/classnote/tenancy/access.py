"""The one place that decides who may see and change what.

* ``readable_*`` / ``manageable_*`` return querysets already limited to what the
  acting user may see or change. Views and the API never build tenant filters
  of their own.
* ``get_*_for`` fetch one object by id for the acting user and raise Http404
  whether it is missing or forbidden, so ids of other tenants reveal nothing.
* ``audience`` marks every view with the roles that may call it and enforces
  that; a view without a mark fails the isolation test (tests/test_isolation.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import redirect

from classnote.accounts.models import Role, User
from classnote.tenancy.models import Membership, Municipality, School, SchoolClass

PUBLIC = "public"
AUTHENTICATED = "authenticated"
STAFF = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
SCHOOL_MANAGERS = (Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)

V = TypeVar("V", bound=Callable[..., Any])


def audience(*roles: str) -> Callable[[V], V]:
    """Declare (and enforce) who may call a view: PUBLIC, AUTHENTICATED or a list of roles.

    Anonymous visitors of a non-public view are sent to the login page; a signed-in
    user of another role gets 403.
    """

    def decorate(view: V) -> V:
        if PUBLIC in roles:
            view.classnote_audience = frozenset(roles)  # type: ignore[attr-defined]
            return view

        def refuse(request: HttpRequest, user: Any) -> Any:
            if not user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if AUTHENTICATED not in roles and user.role not in roles:
                raise PermissionDenied
            return None

        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refusal = refuse(request, await request.auser())
                return refusal if refusal is not None else await view(request, *args, **kwargs)

            wrapper: Any = async_wrapper
        else:

            @wraps(view)
            def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refusal = refuse(request, request.user)
                return refusal if refusal is not None else view(request, *args, **kwargs)

        wrapper.classnote_audience = frozenset(roles)
        return wrapper

    return decorate


def require_roles(user: Any, roles: Iterable[str]) -> None:
    if not user.is_authenticated or user.role not in roles:
        raise PermissionDenied


def home_redirect() -> Any:
    return redirect("home")


# --- Rules: a Q per role, used for lists and for detail lookups alike ----------------------------


def _none() -> Q:
    return Q(pk__in=[])


def municipality_rule(user: User) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(pk=user.municipality_id)
    return _none()


def school_rule(user: User, *, manage: bool = False) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(pk=user.school_id)
    if not manage and user.role in (Role.TEACHER, Role.STUDENT):
        return Q(pk=user.school_id)
    return _none()


def class_rule(user: User, *, manage: bool = False) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(school__municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(school_id=user.school_id)
    if user.role == Role.TEACHER:
        mine = Q(pk__in=Membership.objects.filter(user=user, role=Membership.Role.TEACHER).values("school_class"))
        return mine & Q(school_id=user.school_id)
    if user.role == Role.STUDENT and not manage:
        mine = Q(pk__in=Membership.objects.filter(user=user, role=Membership.Role.STUDENT).values("school_class"))
        return mine & Q(school_id=user.school_id)
    return _none()


def user_rule(user: User, *, manage: bool = False) -> Q:
    """Whom a user may see (manage=False) or administer (manage=True)."""
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id) & ~Q(role__in=[Role.OPERATOR, Role.PRIVACY_OFFICER])
    if user.role == Role.SCHOOL_ADMIN:
        return Q(school_id=user.school_id, role__in=[Role.STUDENT, Role.TEACHER, Role.SCHOOL_ADMIN])
    if user.role == Role.TEACHER:
        taught = Membership.objects.filter(user=user, role=Membership.Role.TEACHER).values("school_class")
        in_my_classes = Q(
            pk__in=Membership.objects.filter(school_class__in=taught).values("user"), school_id=user.school_id
        )
        if manage:
            # Teachers may issue login cards and reset passwords of the pupils they teach.
            return in_my_classes & Q(role=Role.STUDENT)
        return in_my_classes | Q(pk=user.pk)
    if not manage:
        return Q(pk=user.pk)
    return _none()


# --- Querysets ------------------------------------------------------------------------------------


def readable_municipalities(user: User) -> QuerySet[Municipality]:
    return Municipality.objects.filter(municipality_rule(user))


def readable_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(school_rule(user))


def manageable_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(school_rule(user, manage=True))


def readable_classes(user: User) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(class_rule(user)).select_related("school")


def manageable_classes(user: User) -> QuerySet[SchoolClass]:
    """Classes whose roster the user may change (admins) — teachers may view but not restructure."""
    if user.role in SCHOOL_MANAGERS:
        return SchoolClass.objects.filter(class_rule(user, manage=True)).select_related("school")
    return SchoolClass.objects.none()


def readable_users(user: User) -> QuerySet[User]:
    return User.objects.filter(user_rule(user))


def manageable_users(user: User) -> QuerySet[User]:
    return User.objects.filter(user_rule(user, manage=True))


# --- Single objects: 404 whether missing or forbidden -------------------------------------------


def _get(queryset: QuerySet[Any], pk: object) -> Any:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_municipality_for(user: User, pk: object) -> Municipality:
    return _get(readable_municipalities(user), pk)


def get_school_for(user: User, pk: object, *, manage: bool = False) -> School:
    return _get(manageable_schools(user) if manage else readable_schools(user), pk)


def get_class_for(user: User, pk: object, *, manage: bool = False) -> SchoolClass:
    return _get(manageable_classes(user) if manage else readable_classes(user), pk)


def get_user_for(user: User, pk: object, *, manage: bool = False) -> User:
    return _get(manageable_users(user) if manage else readable_users(user), pk)


# --- Lessons, cards and files ---------------------------------------------------------------------
# Lesson content (cards, submissions, files) is seen by the class's teachers and students only:
# administrators manage rosters, they do not read pupils' work.


def _taught_classes(user: User) -> QuerySet[Any, Any]:
    return Membership.objects.filter(user=user, role=Membership.Role.TEACHER).values("school_class")


def _attended_classes(user: User) -> QuerySet[Any, Any]:
    return Membership.objects.filter(user=user, role=Membership.Role.STUDENT).values("school_class")


def readable_lessons(user: User) -> QuerySet[Any]:
    from classnote.lessons.models import Lesson

    if user.role == Role.TEACHER or user.role == Role.SCHOOL_ADMIN:
        rule = Q(school_class__in=_taught_classes(user))
    elif user.role == Role.STUDENT:
        rule = Q(school_class__in=_attended_classes(user))
    else:
        rule = _none()
    return Lesson.objects.filter(rule, school_class__school_id=user.school_id or 0).select_related("school_class")


def teaching_lessons(user: User) -> QuerySet[Any]:
    """Lessons in which the user acts as teacher (send, collect, share, return)."""
    from classnote.lessons.models import Lesson

    if user.role not in (Role.TEACHER, Role.SCHOOL_ADMIN):
        return Lesson.objects.none()
    return Lesson.objects.filter(school_class__in=_taught_classes(user), school_class__school_id=user.school_id)


def get_lesson_for(user: User, pk: object, *, teach: bool = False) -> Any:
    return _get(teaching_lessons(user) if teach else readable_lessons(user), pk)


def card_rule(user: User) -> Q:
    from classnote.cards.models import Card

    mine = Q(owner=user)
    if user.role == Role.STUDENT:
        from classnote.lessons.models import Submission

        shared = Q(
            pk__in=Submission.objects.filter(
                is_current=True,
                box__sharing=True,
                box__lesson__school_class__in=_attended_classes(user),
            ).values("card")
        )
        return mine | shared
    if user.role in (Role.TEACHER, Role.SCHOOL_ADMIN):
        in_my_lessons = Q(lesson__school_class__in=_taught_classes(user))
        school_library = Q(library=Card.Library.SCHOOL, school_id=user.school_id)
        return mine | in_my_lessons | school_library
    return mine


def readable_cards(user: User) -> QuerySet[Any]:
    from classnote.cards.models import Card

    return Card.objects.filter(card_rule(user))


def editable_cards(user: User) -> QuerySet[Any]:
    from classnote.cards.models import Card

    return Card.objects.filter(owner=user, frozen=False)


def get_card_for(user: User, pk: object, *, edit: bool = False) -> Any:
    return _get(editable_cards(user) if edit else readable_cards(user), pk)


def readable_files(user: User) -> QuerySet[Any]:
    from classnote.files.models import StoredFile

    return StoredFile.objects.filter(Q(owner=user) | Q(cards__in=readable_cards(user).values("pk"))).distinct()


def get_file_for(user: User, pk: object) -> Any:
    return _get(readable_files(user), pk)


def get_box_for(user: User, pk: object, *, teach: bool = False) -> Any:
    """A submission box of a lesson the user attends (or, with teach=True, teaches)."""
    from classnote.lessons.models import SubmissionBox

    lessons = teaching_lessons(user) if teach else readable_lessons(user)
    return _get(SubmissionBox.objects.filter(lesson__in=lessons).select_related("lesson"), pk)


def get_submission_for(user: User, pk: object, *, teach: bool = False) -> Any:
    """A submission of a lesson the user teaches, or (unless teach=True) one of the user's own."""
    from classnote.lessons.models import Submission

    visible = Q(box__lesson__in=teaching_lessons(user))
    if not teach:
        visible |= Q(student=user, box__lesson__in=readable_lessons(user))
    return _get(Submission.objects.filter(visible).select_related("box__lesson", "card", "student"), pk)
