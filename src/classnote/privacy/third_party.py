"""Declarations for models of the libraries classnote uses (Django, allauth)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as inv
from classnote.base.inventory import Audience as A
from classnote.base.inventory import Basis as B
from classnote.base.inventory import Category as C
from classnote.base.inventory import Purpose as P

_SESSION = inv.personal(C.TECHNICAL, purposes=[P.LOGIN], retention=inv.WHILE_SESSION, audience=[A.NOBODY])
_DEVICE = inv.personal(
    C.TECHNICAL, purposes=[P.SECURITY], basis=B.LEGITIMATE_INTEREST, retention=inv.WHILE_SESSION, audience=[A.SELF]
)

_DELETE = inv.Erase.DELETE


def sessions_of(user: object) -> Any:
    """A person's login sessions: the ones allauth's session list knows, and any other whose
    signed data names the user (sessions are short-lived, so the scan is small)."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    pk = str(getattr(user, "pk", ""))
    keys = set(UserSession.objects.filter(user_id=pk).values_list("session_key", flat=True))
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) == pk:
            keys.add(session.session_key)
    return Session.objects.filter(session_key__in=keys)


DECLARATIONS: dict[str, inv.Declaration] = {
    "auth.Permission": inv.fields(not_personal=["id", "name", "content_type", "codename"]),
    "auth.Group": inv.fields(not_personal=["id", "name"]),
    "contenttypes.ContentType": inv.fields(not_personal=["id", "app_label", "model"]),
    "sessions.Session": inv.fields(
        personal={"session_key": _SESSION, "session_data": _SESSION},
        not_personal=["expire_date"],
        subject=[inv.link(sessions_of, _DELETE)],
    ),
    # allauth's e-mail tables stay empty: classnote collects no e-mail addresses.
    "account.EmailAddress": inv.fields(
        personal={
            "email": inv.personal(
                C.CONTACT, purposes=[P.LOGIN], retention=inv.WHILE_ACCOUNT, audience=[A.SELF], optional=True
            ),
            "user": inv.personal(
                C.CONTACT, purposes=[P.LOGIN], retention=inv.WHILE_ACCOUNT, audience=[A.SELF], optional=True
            ),
        },
        not_personal=["id", "verified", "primary"],
        subject=[inv.link("user", _DELETE)],
    ),
    "account.EmailConfirmation": inv.fields(not_personal=["id", "email_address", "created", "sent", "key"]),
    "mfa.Authenticator": inv.fields(
        personal={
            "data": inv.personal(C.CREDENTIAL, purposes=[P.LOGIN], retention=inv.WHILE_ACCOUNT, audience=[A.NOBODY]),
            "user": inv.personal(C.CREDENTIAL, purposes=[P.LOGIN], retention=inv.WHILE_ACCOUNT, audience=[A.SELF]),
            "last_used_at": _DEVICE,
        },
        not_personal=["id", "type", "created_at"],
        subject=[inv.link("user", _DELETE)],
    ),
    "usersessions.UserSession": inv.fields(
        personal={
            "user": _DEVICE,
            "ip": _DEVICE,
            "user_agent": _DEVICE,
            "session_key": _SESSION,
            "data": _DEVICE,
            "last_seen_at": _DEVICE,
        },
        not_personal=["id", "created_at"],
        subject=[inv.link("user", _DELETE)],
    ),
}


# What the libraries' models and personal fields are, in the reader's language, for the privacy
# policy: their own verbose names are English (or missing in some languages), and classnote cannot
# change them. Keys: "app.Model" for the model, ("app.Model", "field") for a field.
NAMES: dict[str | tuple[str, str], Any] = {
    "sessions.Session": _("Login session"),
    ("sessions.Session", "session_key"): _("session key"),
    ("sessions.Session", "session_data"): _("session data"),
    "account.EmailAddress": _("Email address"),
    ("account.EmailAddress", "email"): _("email address"),
    ("account.EmailAddress", "user"): _("person"),
    "mfa.Authenticator": _("Two-factor authenticator"),
    ("mfa.Authenticator", "data"): _("authenticator secret"),
    ("mfa.Authenticator", "user"): _("person"),
    ("mfa.Authenticator", "last_used_at"): _("last used"),
    "usersessions.UserSession": _("Session on a device"),
    ("usersessions.UserSession", "user"): _("person"),
    ("usersessions.UserSession", "ip"): _("IP address"),
    ("usersessions.UserSession", "user_agent"): _("browser and device"),
    ("usersessions.UserSession", "session_key"): _("session key"),
    ("usersessions.UserSession", "data"): _("session details"),
    ("usersessions.UserSession", "last_seen_at"): _("last seen"),
}
