"""The JSON API (django-ninja). OpenAPI 3 at /api/openapi.json, docs at /api/docs.

Authentication is the session cookie (with CSRF on unsafe methods). Every
operation is marked with its audience (classnote.tenancy.access.audience) and
reads only through the access module.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import django_auth

from classnote.api import tenancy

api = NinjaAPI(
    title="classnote API",
    version="1",
    auth=django_auth,
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("/", tenancy.router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("You do not have access to this.")}, status=403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": _("Please log in.")}, status=401)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("The request is not valid."), "errors": exc.errors}, status=422
    )
