"""The JSON API (django-ninja). OpenAPI 3 at /api/openapi.json, docs at /api/docs.

Authentication is a personal API token of a staff member (``Authorization: Bearer <token>``, no
CSRF token needed) or the session cookie (with the X-CSRFToken header on unsafe methods; GET
/api/csrf gives the token). Every operation is marked with its audience
(classnote.tenancy.access.audience), reads only through the access module and writes only through
the same actions as the web pages. Before a request body is validated, the caller's role and every
object named in the path are checked (classnote.api.security.gate).

Every refusal is a JSON ``{"detail": "<message in the user's language>"}`` with a 4xx status.

Every write (POST, PUT, PATCH, DELETE) accepts an ``Idempotency-Key`` header: a new random value
(a UUID) for each change, the same value with each retry of it. A retry of a write that was done
already gets the first answer again, with ``Idempotent-Replayed: true``, and changes nothing; the
same key with a different request gets 422. Keys are kept for IDEMPOTENCY_KEY_HOURS (24 by default).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import PathView
from ninja.security import django_auth

from classnote.api import cards, files, lessons, status, tenancy, tokens
from classnote.api.security import ApiAuthenticationError, TokenAuth, gate
from classnote.base.errors import ActionError
from classnote.cards.actions import VersionConflict
from classnote.core import idempotency, security_log
from classnote.core.throttle import Throttled


class ClassnoteAPI(NinjaAPI):
    """NinjaAPI whose "method not allowed" answer is JSON like every other refusal, and whose
    OpenAPI document declares the Idempotency-Key header on every write (core/idempotency.py)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() in idempotency.WRITES:
                    parameters = operation.setdefault("parameters", [])
                    if not any(p.get("name") == idempotency.HEADER for p in parameters):
                        parameters.append(idempotency.declared_header())
        return schema

    def _get_bound_routers(self) -> Any:
        bound_routers = super()._get_bound_routers()
        for bound_router in bound_routers:
            for path_view in bound_router.path_operations.values():
                path_view._not_allowed = partial(_method_not_allowed, path_view)  # type: ignore[method-assign]
        return bound_routers


def _method_not_allowed(path_view: PathView) -> HttpResponse:
    allowed = sorted({method for operation in path_view.operations for method in operation.methods})
    response = JsonResponse({"detail": _("This method is not allowed here.")}, status=405)
    response["Allow"] = ", ".join(allowed)
    return response


api = ClassnoteAPI(
    title="classnote API",
    version="1",
    description=__doc__,
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
)
api.add_decorator(gate, mode="view")
api.add_router("/", tenancy.router)
api.add_router("/", tokens.router)
api.add_router("/", cards.router)
api.add_router("/", lessons.router)
api.add_router("/", files.router)
api.add_router("/", status.router)  # the public status page's summary.json (issue 15)


def _detail(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": message}, status=status)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _detail(request, _("Not found."), 404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    security_log.access_refused(request, 403)
    # A refusal that explains itself (classnote.privacy.purposes.PurposeRefused) keeps its message.
    return _detail(request, str(getattr(exc, "message", "") or _("You do not have access to this.")), 403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, ApiAuthenticationError):
        response = _detail(request, str(exc), 401)
        response["WWW-Authenticate"] = 'Bearer realm="classnote"'
        return response
    return _detail(request, _("Please log in."), 401)


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _detail(request, exc.message, 429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("The request is not valid."), "errors": exc.errors}, status=422)


@api.exception_handler(VersionConflict)
def conflict(request: HttpRequest, exc: VersionConflict) -> HttpResponse:
    return _detail(request, str(exc), 409)


@api.exception_handler(ActionError)
def refused(request: HttpRequest, exc: ActionError) -> HttpResponse:
    """A refusal of an action; its message is translated already. Most are 400; some carry their
    own status (a file too large: 413, storage unavailable: 503, ...); a busy server says when to
    try again (Retry-After)."""
    response = _detail(request, str(exc), int(getattr(exc, "status", 400)))
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(DjangoValidationError)
def invalid_model(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A model's own validation (e.g. a web link that is not a URL): its messages are translated."""
    return _detail(request, " ".join(str(message) for message in exc.messages), 400)


@api.exception_handler(MultiPartParserError)
def unreadable_upload(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _detail(request, _("The upload could not be read. Please try again."), 400)


@api.exception_handler(SuspiciousOperation)
def suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A body too large or with too many fields or files (Django's request limits)."""
    return _detail(request, _("The request is not valid."), 400)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals (CSRF, an unreadable body, ...) with a message in the user's language."""
    status = exc.status_code
    if status == 403 and "csrf" in str(exc).lower():
        message = _(
            "The CSRF check failed. With the session cookie, send the X-CSRFToken header (GET /api/csrf gives it)."
        )
    else:
        messages = {
            401: _("Please log in."),
            403: _("You do not have access to this."),
            404: _("Not found."),
        }
        message = messages.get(status, _("The request is not valid."))
    return _detail(request, message, status)
