"""Personal API tokens of staff members: made, listed, revoked and checked here.

A token is ``cn_`` followed by 43 random URL-safe characters (256 bits). Only its SHA-256 is
stored (ApiToken.token_hash), so a copy of the database opens nothing; the token is shown once,
when it is made. A token is refused unless it is neither revoked nor expired, its user is active
and a staff member (students never get tokens), and the user's session epoch is still the one the
token was made in — "log out everywhere" and deactivation end tokens as they end sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.access import get_token_for
from classnote.accounts.models import ApiToken, User
from classnote.base.errors import ActionError
from classnote.base.roles import Role

PREFIX = "cn_"
TOKEN_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
MAX_ACTIVE_TOKENS = 20
MAX_LIFETIME_DAYS = 366
# last_used_at is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 200


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def may_have_tokens(user: User) -> bool:
    return bool(user.is_active and user.role in TOKEN_ROLES)


def active_tokens(user: User) -> QuerySet[ApiToken]:
    now = timezone.now()
    return (
        ApiToken.objects.filter(user=user, revoked_at__isnull=True, session_epoch=user.session_epoch)
        .exclude(expires_at__lte=now)
        .order_by("-created_at")
    )


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """Every token of USER, newest first (revoked and expired ones too, for the record)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def is_active(token: ApiToken, user: User) -> bool:
    return (
        token.revoked_at is None
        and (token.expires_at is None or token.expires_at > timezone.now())
        and token.session_epoch == user.session_epoch
    )


def issue(actor: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token of ACTOR; returns the row and the token, which is never shown again."""
    if not may_have_tokens(actor):
        raise ActionError(_("Only staff members can have API tokens."))
    name = " ".join(name.split())[:80]
    if not name:
        raise ActionError(_("Give the API token a name."))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        raise ActionError(_("An API token can last from 1 to 366 days."))
    token = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # Locks the user's row, so two requests at once cannot both pass the limit.
        user = User.objects.select_for_update().get(pk=actor.pk)
        if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
            raise ActionError(_("You have too many API tokens. Revoke one you no longer use."))
        api_token = ApiToken.objects.create(
            user=user,
            name=name,
            token_hash=hash_token(token),
            session_epoch=user.session_epoch,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    return api_token, token


def revoke(actor: User, token_id: int) -> ApiToken:
    """Revoke one of ACTOR's own tokens (NotFound for any other id)."""
    api_token = get_token_for(actor, token_id)
    if api_token.revoked_at is None:
        api_token.revoked_at = timezone.now()
        api_token.save(update_fields=["revoked_at"])
    return api_token


def authenticate(token: str) -> User | None:
    """The user a presented token belongs to, or None if it does not work (for whatever reason)."""
    if not token.startswith(PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    api_token = (
        ApiToken.objects.select_related("user", "user__municipality")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if api_token is None:
        return None
    user = api_token.user
    if not may_have_tokens(user) or not is_active(api_token, user):
        return None
    now = timezone.now()
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return user
