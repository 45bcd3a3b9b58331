"""Who is calling the API, and the checks made before a request body is read.

* ``TokenAuth``: ``Authorization: Bearer <token>`` with a personal API token of a staff member
  (classnote.accounts.tokens). A token request needs no CSRF token: a browser never adds the
  header by itself. A presented token that does not work is refused (401); there is no fall-back
  to the session cookie then.
* ``django_auth`` (ninja's session authentication) checks CSRF on unsafe methods.
* ``gate``: wraps every operation so that, right after authentication and *before* the query
  and body are validated, the caller's role is checked against the operation's audience (403)
  and every object named in the path must be readable by the caller (404). So a request about
  another school's object is answered 404 whatever its body, and a 422 never tells whether an
  id exists (a path value that is no id at all is left to validation: 422). The operations check
  again, more strictly (teach, edit), through the access module. Then the gate runs a write
  with an ``Idempotency-Key`` once (classnote.core.idempotency), for sessions and tokens alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, ConfigError
from ninja.security import HttpBearer

from classnote.accounts import access as account_access
from classnote.accounts import tokens
from classnote.accounts.models import User
from classnote.base.errors import NotFound
from classnote.cards import access as card_access
from classnote.core import idempotency, throttle
from classnote.core.middleware import UserLanguageMiddleware
from classnote.lessons import access as lesson_access
from classnote.tenancy import access as tenancy_access
from classnote.tenancy.access import AUTHENTICATED, PUBLIC

_BEARER_USER = "_classnote_token_user"
MAX_ID = 2**63 - 1


class ApiAuthenticationError(AuthenticationError):
    """A 401 with its own (translated) message."""


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        cached = getattr(request, _BEARER_USER, None)
        if cached is not None:  # the gate authenticated this request already
            return cached
        user = tokens.authenticate(token.strip())
        if user is None:
            raise ApiAuthenticationError(401, _("The API token is not valid, has expired or was revoked."))
        throttle.spend(request, user.pk)  # writes per person, as for browser sessions (core.throttle)
        request.user = user
        setattr(request, _BEARER_USER, user)
        # The language middleware ran before we knew the user: speak the user's language now.
        language = UserLanguageMiddleware.language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return user


class NoToken:
    """For operations only a signed-in browser session may call (making a new token): a request
    that presents a bearer token is refused. (Not an authentication scheme of its own: it never
    lets a request in, and does not appear in the OpenAPI document.)"""

    def __call__(self, request: HttpRequest) -> None:
        if request.headers.get("Authorization", "").lower().startswith("bearer"):
            raise ApiAuthenticationError(
                401,
                _("New API tokens can be made only while you are logged in to the site, not with a token."),
            )


# --- The gate -------------------------------------------------------------------------------------


class _Malformed(Exception):
    """Not an id at all: left to the operation's own validation (422), which reveals nothing."""


def _int_id(value: object) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise _Malformed from None
    if not 1 <= number <= MAX_ID:
        raise NotFound
    return number


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _Malformed from None


# Path parameter -> a check that the caller may read the object (NotFound otherwise).
PATH_OBJECTS: dict[str, Callable[[User, Any], object]] = {
    "class_id": lambda user, value: tenancy_access.get_class_for(user, _int_id(value)),
    "lesson_id": lambda user, value: lesson_access.get_lesson_for(user, _int_id(value)),
    "card_id": lambda user, value: card_access.get_card_for(user, _int_id(value)),
    "box_id": lambda user, value: lesson_access.get_box_for(user, _int_id(value)),
    "submission_id": lambda user, value: lesson_access.get_submission_for(user, _int_id(value)),
    "file_id": lambda user, value: card_access.get_file_for(user, _uuid(value)),
    "token_id": lambda user, value: account_access.get_token_for(user, _int_id(value)),
}


def gate(run: Callable[..., Any]) -> Callable[..., Any]:
    """A "view" decorator of every operation (NinjaAPI.add_decorator(..., mode="view"))."""
    operation = run.__self__  # type: ignore[attr-defined]
    roles: frozenset[str] | None = getattr(operation.view_func, "classnote_audience", None)
    unknown = set(operation.signature.path_params_names) - set(PATH_OBJECTS)
    if unknown:
        raise ConfigError(f"{operation.path}: add {sorted(unknown)} to classnote.api.security.PATH_OBJECTS")

    @wraps(run)
    def checked(request: HttpRequest, **kwargs: Any) -> Any:
        if roles is None or PUBLIC in roles:
            return run(request, **kwargs)
        refusal = operation._run_checks(request)  # authentication, as the operation itself does
        if refusal is not None:
            return refusal
        try:
            user = cast(User, request.user)
            if AUTHENTICATED not in roles and user.role not in roles:
                raise PermissionDenied
            for name, value in kwargs.items():
                try:
                    PATH_OBJECTS[name](user, value)
                except _Malformed:
                    continue
        except Exception as error:
            return operation.api.on_exception(request, error)
        if request.method in idempotency.WRITES and not idempotency.handled(request):
            # Once the caller and the path's objects are checked: a write with an Idempotency-Key
            # runs once (core/idempotency.py).
            try:
                key = idempotency.requested_key(request)
            except idempotency.InvalidKey:
                return operation.api.create_response(request, {"detail": idempotency.invalid_key_message()}, status=400)
            if key is not None:
                return idempotency.once(request, user.pk, key, lambda: run(request, **kwargs))
        return run(request, **kwargs)

    return checked
