"""Security events in the log (logger ``classnote.security``), one JSON line each.

Every line names the event (``event``), the request it belongs to (``request_id``, added by
classnote.core.logging) and, where known, the account by its id (``user_id``) and the kind of
login (``kind``). Never a login ID, a name, a password, a token, a code or anything typed: a
failed login's "login ID" is often a password typed into the wrong field.

Events: login.succeeded, login.failed, login.throttled, mfa.failed, access.refused. Other modules
log their own: privacy.read_refused (classnote.privacy.purposes), egress.refused
(classnote.privacy.egress), and Django's django.security.csrf for refused CSRF checks.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger("classnote.security")

# Which login a backend stands for (a backend's dotted path -> kind).
_BACKEND_KINDS = {
    "classnote.accounts.backends.StaffBackend": "staff",
    "classnote.accounts.backends.StudentBackend": "student",
    "classnote.accounts.backends.LoginCardBackend": "card",
}


def event(name: str, message: str, *, level: int = logging.WARNING, **fields: Any) -> None:
    """Log a security event; FIELDS are ids and codes only (user_id, kind, status, path)."""
    logger.log(level, message, extra={"event": name, **fields})


def login_kind(credentials: dict[str, Any]) -> str:
    if "login_card_token" in credentials:
        return "card"
    if "school_code" in credentials:
        return "student"
    return "staff"


@receiver(user_login_failed, dispatch_uid="classnote.security_log.login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    event("login.failed", "login failed", kind=login_kind(credentials))


@receiver(user_logged_in, dispatch_uid="classnote.security_log.logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    backend = getattr(user, "backend", "") or ""
    kind = _BACKEND_KINDS.get(backend, "staff")
    event("login.succeeded", "login succeeded", level=logging.INFO, kind=kind, user_id=user.pk)


def _mfa_failed(sender: Any, request: Any = None, user: Any = None, authenticator: Any = None, **kwargs: Any) -> None:
    kind = str(getattr(authenticator, "type", "") or "unknown")
    event("mfa.failed", "second factor failed", kind=kind, user_id=getattr(user, "pk", None))


def throttled(kind: str) -> None:
    """A login refused because of too many failures (the account, school ID or address is locked)."""
    event("login.throttled", "login refused: too many failed attempts", kind=kind)


def access_refused(request: Any, status: int) -> None:
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    event("access.refused", "access refused", status=status, user_id=user_id, path=request.path[:200])


def connect() -> None:
    """Called from CoreConfig.ready(): the receivers above are connected by importing this module;
    the MFA signal is allauth's."""
    from allauth.mfa.signals import authentication_failed

    authentication_failed.connect(_mfa_failed, dispatch_uid="classnote.security_log.mfa_failed")
