"""Personal API tokens (staff only) and the CSRF token for session clients.

A token is made only from a signed-in browser session (not with another token) and is shown once;
send it as ``Authorization: Bearer <token>``. Requests with a token need no CSRF token.
"""

from typing import Any

from django.http import HttpResponse
from django.middleware.csrf import get_token
from ninja import Router, Status
from ninja.security import django_auth

from classnote.accounts import tokens
from classnote.accounts.models import ApiToken, User
from classnote.accounts.stepup import require_recent_login_api
from classnote.api.common import answers
from classnote.api.schemas import CsrfOut, NewTokenOut, TokenIn, TokenOut
from classnote.api.security import NoToken
from classnote.base.requests import AuthedRequest
from classnote.tenancy.access import AUTHENTICATED, audience

router = Router(tags=["auth"])


def _token_out(api_token: ApiToken, user: User) -> dict[str, Any]:
    return {
        "id": api_token.pk,
        "name": api_token.name,
        "created_at": api_token.created_at,
        "last_used_at": api_token.last_used_at,
        "expires_at": api_token.expires_at,
        "revoked_at": api_token.revoked_at,
        "active": tokens.is_active(api_token, user),
    }


@router.get("/csrf", response=answers({200: CsrfOut}))
@audience(AUTHENTICATED)
def csrf_token(request: AuthedRequest) -> object:
    """The token to send as X-CSRFToken with unsafe requests authenticated by the session cookie
    (the csrftoken cookie is set too). Not needed with an API token."""
    return {"csrf_token": get_token(request)}


@router.get("/tokens", response=answers({200: list[TokenOut]}))
@audience(*tokens.TOKEN_ROLES)
def list_tokens(request: AuthedRequest) -> object:
    """My API tokens, newest first (revoked and expired ones too). The tokens themselves are never
    shown again."""
    return [_token_out(api_token, request.user) for api_token in tokens.tokens_of(request.user)]


@router.post("/tokens", response=answers({201: NewTokenOut}), auth=[NoToken(), django_auth])
@audience(*tokens.TOKEN_ROLES)
def create_token(request: AuthedRequest, payload: TokenIn, response: HttpResponse) -> object:
    """A new personal API token (staff only, from a logged-in session). The token is in this
    answer only: store it now. Needs a recent login (within five minutes), as other sensitive
    actions do: otherwise 403 until the password is confirmed at /accounts/reauthenticate/."""
    require_recent_login_api(request)
    api_token, token = tokens.issue(request.user, payload.name, payload.expires_in_days)
    # A secret shown once: kept out of caches and out of the idempotency ledger (core/idempotency.py).
    response["Cache-Control"] = "no-store"
    return Status(201, _token_out(api_token, request.user) | {"token": token})


@router.delete("/tokens/{token_id}", response=answers({204: None}))
@audience(*tokens.TOKEN_ROLES)
def revoke_token(request: AuthedRequest, token_id: int) -> object:
    """Revoke one of my tokens; it stops working at once."""
    tokens.revoke(request.user, token_id)
    return Status(204, None)
