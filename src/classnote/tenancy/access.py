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

from classnote.accounts.models import User
from classnote.base.roles import Role
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


def listed_municipalities() -> QuerySet[Municipality]:
    """Tenants that chose to be named publicly (adopters page, privacy policy): anyone may see them."""
    return Municipality.objects.filter(list_on_adopters_page=True)


def get_listed_municipality(pk: object) -> Municipality:
    return _get(listed_municipalities(), pk)


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


# --- Data-subject requests (classnote.rights) ------------------------------------------------------
# A school admin handles the requests about people of their school, a municipal admin those of
# their board; staff see the requests they opened about themselves; the privacy officer sees every
# request's deadline (not its subject).


def request_rule(user: User, *, handle: bool = False) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(school_id=user.school_id, municipality_id=user.municipality_id)
    if user.role == Role.PRIVACY_OFFICER and not handle:
        return Q(pk__isnull=False)
    if user.role == Role.TEACHER and not handle:
        return Q(subject_id=user.pk, opened_by_id=user.pk)
    return _none()


def readable_requests(user: User) -> QuerySet[Any]:
    from classnote.rights.models import DataSubjectRequest

    return DataSubjectRequest.objects.filter(request_rule(user))


def get_request_for(user: User, pk: object, *, handle: bool = False) -> Any:
    """A request the user may see (or, with handle=True, act on: export, correct, delete, close)."""
    from classnote.rights.models import DataSubjectRequest

    return _get(DataSubjectRequest.objects.filter(request_rule(user, handle=handle)).select_related("subject"), pk)


# --- Complaints and incidents (classnote.complaints, classnote.incidents) --------------------------
# Complaints are worked by the operator's privacy officer alone. Incidents are registered by the
# privacy officer; a municipal admin reads (never changes) the incidents that affect their board.


def readable_complaints(user: User) -> QuerySet[Any]:
    from classnote.complaints.models import Complaint

    if user.role != Role.PRIVACY_OFFICER:
        return Complaint.objects.none()
    return Complaint.objects.select_related("municipality")


def get_complaint_for(user: User, pk: object) -> Any:
    return _get(readable_complaints(user), pk)


def incident_rule(user: User, *, manage: bool = False) -> Q:
    if user.role == Role.PRIVACY_OFFICER:
        return Q(pk__isnull=False)
    if user.role == Role.MUNICIPAL_ADMIN and not manage and user.municipality_id:
        return Q(pk__in=_incidents_affecting(user.municipality_id))
    return _none()


def _incidents_affecting(municipality_id: int) -> QuerySet[Any, Any]:
    from classnote.incidents.models import Incident

    return Incident.municipalities.through.objects.filter(municipality_id=municipality_id).values("incident_id")


def readable_incidents(user: User) -> QuerySet[Any]:
    from classnote.incidents.models import Incident

    return Incident.objects.filter(incident_rule(user))


def get_incident_for(user: User, pk: object, *, manage: bool = False) -> Any:
    """An incident the user may read (or, with manage=True, change: the privacy officer only)."""
    from classnote.incidents.models import Incident

    return _get(Incident.objects.filter(incident_rule(user, manage=manage)), pk)


# --- Operator support and provision records (classnote.privacy) -----------------------------------
# The operator sees no tenant data by default. While a municipal admin's support grant runs, an
# operator may see that tenant's schools, classes and user list (display names and roles only),
# never lesson content; the support views audit every such read. Provision records are read by the
# tenant's admins (a school admin: their school's) and by the person they concern.


def manageable_support_grants(user: User) -> QuerySet[Any]:
    """The grants a municipal admin gave (and may revoke) for their board."""
    from classnote.privacy.models import SupportGrant

    if user.role != Role.MUNICIPAL_ADMIN or not user.municipality_id:
        return SupportGrant.objects.none()
    return SupportGrant.objects.filter(municipality_id=user.municipality_id)


def get_support_grant_for(user: User, pk: object) -> Any:
    return _get(manageable_support_grants(user), pk)


def active_support_grants(user: User) -> QuerySet[Any]:
    """The grants that let this operator in now (none for anybody else)."""
    from django.utils import timezone

    from classnote.privacy.models import SupportGrant

    if user.role != Role.OPERATOR:
        return SupportGrant.objects.none()
    return SupportGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).select_related(
        "municipality"
    )


def get_support_grant_of(user: User, municipality_id: object) -> Any:
    """The running grant for this tenant (the latest to expire); 404 without one."""
    try:
        grant = active_support_grants(user).filter(municipality_id=municipality_id).order_by("-expires_at").first()
    except (ValueError, TypeError, OverflowError):  # not an id (or beyond any the database holds)
        grant = None
    if grant is None:
        raise Http404
    return grant


def _supported(user: User) -> QuerySet[Any, Any]:
    return active_support_grants(user).values("municipality_id")


def supported_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(municipality_id__in=_supported(user))


def supported_classes(user: User) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(school__municipality_id__in=_supported(user)).select_related("school")


def supported_users(user: User) -> QuerySet[User]:
    """Display names and roles only: the fields declared for Purpose.SUPPORT."""
    return (
        User.objects.filter(municipality_id__in=_supported(user))
        .exclude(role__in=[Role.OPERATOR, Role.PRIVACY_OFFICER])
        .only("pk", "display_name", "role", "municipality_id")
    )


def provision_rule(user: User) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(municipality_id=user.municipality_id, school_id=user.school_id)
    if user.role in (Role.STUDENT, Role.TEACHER):
        return Q(subject_id=user.pk)
    return _none()


def readable_provision_records(user: User) -> QuerySet[Any]:
    from classnote.privacy.models import ProvisionRecord

    return ProvisionRecord.objects.filter(provision_rule(user))
