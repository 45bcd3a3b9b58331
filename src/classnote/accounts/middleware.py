from __future__ import annotations

import time
from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from classnote.accounts import sessions

MFA_OK = "classnote_mfa_enrolled"
# Reachable before a second factor is enrolled: enrolment itself, logout, language, static, health.
_MFA_EXEMPT = ("/accounts/", "/static/", "/i18n/", "/healthz", "/readyz", "/settings/language/")


class SessionPolicyMiddleware:
    """Ends sessions past their per-role absolute or idle lifetime."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            if sessions.session_expired(request, now):
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
            else:
                sessions.touch(request, now)
        return self.get_response(request)


class RequireMFAMiddleware:
    """Staff whose role or tenant policy requires a second factor must enrol one before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.requires_mfa():
            if request.path.startswith("/accounts/2fa/"):
                request.session.pop(MFA_OK, None)  # re-checked after the user changes their factors
            elif not request.session.get(MFA_OK) and not request.path.startswith(_MFA_EXEMPT):
                enrolled = Authenticator.objects.filter(
                    user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
                ).exists()
                if not enrolled:
                    if request.path.startswith("/api/"):
                        return JsonResponse({"detail": _("Set up two-factor login first.")}, status=403)
                    messages.warning(request, _("Your role requires two-factor login. Please set it up now."))
                    return redirect("mfa_activate_totp")
                request.session[MFA_OK] = True
        return self.get_response(request)
