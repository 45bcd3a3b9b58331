"""Who may see and change what: the engine, and the rules of the tenant tree.

The contract (docs/architecture.md, *Who may see what*):

* Each app declares the access rules of its own models beside them, in its ``access.py``
  (``lessons/access.py``, ``cards/access.py``, ``rights/access.py``, ...): a **rule** is a
  function ``user -> Q`` of what the user may read (or manage); ``readable_*`` / ``manageable_*``
  apply it to the model's manager; ``get_*_for(user, pk)`` fetch one object through
  :func:`get_one`, which raises :class:`~classnote.base.errors.NotFound` whether the object is
  missing or forbidden, so ids of another tenant reveal nothing.
* This module is the engine those modules share (``audience``, ``get_one``, ``nothing``) and the
  rules of the tenant tree itself: municipalities, schools, classes, who teaches or attends a
  class, and whom a user sees in a class's member list.
* **Actions are the only place that checks access before a write**: they take the acting user
  and ids, fetch through ``get_*_for`` and refuse with ``ActionError``. Views and the API do not
  check again; they read through the same rules and queries. The API's gate resolves the objects
  named in a path before it reads a body (classnote.api.security).
* Domain code never raises ``Http404`` or redirects: one handler per front door turns refusals
  into pages or JSON.
* ``audience`` marks every view and API operation with the roles that may call it and enforces
  that; a view without a mark fails the isolation test (tests/test_isolation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from classnote.base.errors import NotFound
from classnote.base.roles import SCHOOL_MANAGER_ROLES, TENANT_STAFF_ROLES, Role
from classnote.tenancy.models import Membership, Municipality, School, SchoolClass

if TYPE_CHECKING:
    from classnote.accounts.models import User

PUBLIC = "public"
AUTHENTICATED = "authenticated"

V = TypeVar("V", bound=Callable[..., Any])
M = TypeVar("M", bound=Model)


# --- The engine -----------------------------------------------------------------------------------


def audience(*roles: str) -> Callable[[V], V]:
    """Declare (and enforce) who may call a view: PUBLIC, AUTHENTICATED or a list of roles.

    Anonymous visitors of a non-public view are sent to the login page (401 in JSON for a view
    whose client reads JSON, ``core.refusals.answers_json``, such as the event stream: a script
    that follows a redirect to the login page would retry for ever); a signed-in user of another
    role gets 403.
    """

    def decorate(view: V) -> V:
        if PUBLIC in roles:
            view.classnote_audience = frozenset(roles)  # type: ignore[attr-defined]
            return view

        def refuse(request: HttpRequest, user: Any) -> Any:
            if not user.is_authenticated:
                if getattr(wrapper, "classnote_json", False):
                    return JsonResponse({"detail": _("Please log in.")}, status=401)
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


def nothing() -> Q:
    """The rule that lets nobody see anything."""
    return Q(pk__in=[])


def get_one(queryset: QuerySet[M], pk: object) -> M:
    """The object with this pk among those the queryset allows; NotFound whether it is missing,
    forbidden or not an id at all (or beyond any id the database holds)."""
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound from None


# --- Who teaches and who attends a class ----------------------------------------------------------


def taught_classes(user: User) -> QuerySet[Membership, Any]:
    """The ids of the classes the user teaches (a subquery)."""
    return Membership.objects.filter(user=user, role=Membership.Role.TEACHER).values("school_class")


def attended_classes(user: User) -> QuerySet[Membership, Any]:
    """The ids of the classes the user attends as a pupil (a subquery)."""
    return Membership.objects.filter(user=user, role=Membership.Role.STUDENT).values("school_class")


def own_school_classes(user: User, among: QuerySet[Membership, Any]) -> QuerySet[SchoolClass, SchoolClass]:
    """The classes of the user's own school among AMONG (``taught_classes`` or ``attended_classes``):
    a membership left in another school's class after a transfer gives nothing there."""
    return SchoolClass.objects.filter(pk__in=among, school_id=user.school_id)


def teaches(user: User, school_class: SchoolClass | int) -> bool:
    """Whether the user is a teacher of the class (opens its lessons, makes its groups)."""
    class_id = school_class if isinstance(school_class, int) else school_class.pk
    return Membership.objects.filter(user=user, school_class_id=class_id, role=Membership.Role.TEACHER).exists()


# --- Rules: a Q per role, used for lists and for detail lookups alike ----------------------------


def municipality_rule(user: User) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(pk=user.municipality_id)
    return nothing()


def school_rule(user: User, *, manage: bool = False) -> Q:
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(pk=user.school_id)
    if not manage and user.role in (Role.TEACHER, Role.STUDENT):
        return Q(pk=user.school_id)
    return nothing()


def class_rule(user: User, *, manage: bool = False) -> Q:
    """Classes the user may read (manage=False) or whose roster they may change (manage=True:
    the school's and the board's administrators; teachers read but do not restructure)."""
    if user.role == Role.MUNICIPAL_ADMIN:
        return Q(school__municipality_id=user.municipality_id)
    if user.role == Role.SCHOOL_ADMIN:
        return Q(school_id=user.school_id)
    if user.role == Role.TEACHER and not manage:
        return Q(pk__in=taught_classes(user), school_id=user.school_id)
    if user.role == Role.STUDENT and not manage:
        return Q(pk__in=attended_classes(user), school_id=user.school_id)
    return nothing()


def member_rule(user: User) -> Q:
    """Whom a user sees in the member lists of classes: staff who may read a class see all of its
    members; a pupil sees the teachers of their own classes, never a roster of classmates."""
    if user.role in TENANT_STAFF_ROLES:
        return Q(school_class__in=SchoolClass.objects.filter(class_rule(user)))
    if user.role == Role.STUDENT:
        return Q(school_class__in=attended_classes(user), role=Membership.Role.TEACHER)
    return nothing()


# --- Querysets ------------------------------------------------------------------------------------


def readable_municipalities(user: User) -> QuerySet[Municipality]:
    return Municipality.objects.filter(municipality_rule(user))


def listed_municipalities() -> QuerySet[Municipality]:
    """Tenants that chose to be named publicly (adopters page, privacy policy): anyone may see them."""
    return Municipality.objects.filter(list_on_adopters_page=True, synthetic=False)


def listed_schools() -> QuerySet[School]:
    """Schools named on the adopters page: listed themselves, of a listed tenant."""
    return School.objects.filter(
        list_on_adopters_page=True, municipality__list_on_adopters_page=True, municipality__synthetic=False
    )


def readable_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(school_rule(user))


def manageable_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(school_rule(user, manage=True))


def readable_classes(user: User) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(class_rule(user)).select_related("school")


def manageable_classes(user: User) -> QuerySet[SchoolClass]:
    """Classes whose roster the user may change (admins) — teachers may view but not restructure."""
    if user.role not in SCHOOL_MANAGER_ROLES:
        return SchoolClass.objects.none()
    return SchoolClass.objects.filter(class_rule(user, manage=True)).select_related("school")


def visible_members(user: User, school_class: SchoolClass) -> QuerySet[Membership]:
    """The members of a class the user sees (member_rule), as both front doors list them:
    teachers first, then pupils by student number and name."""
    return (
        Membership.objects.filter(member_rule(user), school_class=school_class)
        .select_related("user")
        .order_by("-role", "user__student_number", "user__display_name", "user_id")
    )


# --- Single objects: NotFound whether missing or forbidden ----------------------------------------


def get_municipality_for(user: User, pk: object) -> Municipality:
    return get_one(readable_municipalities(user), pk)


def get_listed_municipality(pk: object) -> Municipality:
    return get_one(listed_municipalities(), pk)


def get_school_for(user: User, pk: object, *, manage: bool = False) -> School:
    return get_one(manageable_schools(user) if manage else readable_schools(user), pk)


def get_class_for(user: User, pk: object, *, manage: bool = False) -> SchoolClass:
    return get_one(manageable_classes(user) if manage else readable_classes(user), pk)
