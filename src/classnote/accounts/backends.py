"""Authentication backends: staff (login ID), students (school code + student ID), QR login cards."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest
from django.utils import timezone

from classnote.accounts import credentials, usercache
from classnote.accounts.models import LoginCard, User, student_username
from classnote.base.roles import Role
from classnote.tenancy.models import School

# Checked against when no account matches, so a wrong school code or student ID takes
# as long as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = make_password("classnote-timing-equaliser")


class StaffBackend(AuthenticationBackend):
    """allauth's backend (login ID + password), closed to students."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> User | None:
        user = super().authenticate(request, **credentials)
        if user is not None and user.role == Role.STUDENT:
            return None
        return user

    def get_user(self, user_id: int) -> User | None:
        return _active_user(user_id)

    @classmethod
    def _stash_user(cls, user: Any) -> Any:
        # allauth remembers a deactivated account whose password matched, to show its "account
        # inactive" page — which tells whoever typed the password that it is right. Not here: a
        # deactivated account gets the same "not correct" answer as a wrong password
        # (tests/security/test_error_messages.py).
        return None


class StudentBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, *, school_code: str, student_number: str, password: str
    ) -> User | None:

        school = School.objects.filter(code__iexact=school_code.strip()).first()
        user = None
        if school is not None:
            user = (
                User.objects.filter(username=student_username(school, student_number.strip()), role=Role.STUDENT)
                .select_related("municipality")
                .first()
            )
        if user is None:
            User(password=_DUMMY_HASH).check_password(password)
            return None
        # Pictures tapped or named, "サクラ４７" for "さくら 47": the form that was hashed (accounts.credentials).
        if user.check_password(credentials.normalise(user.password_style, password)) and self.user_can_authenticate(
            user
        ):
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        return _active_user(user_id)


class LoginCardBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, *, login_card_token: str) -> User | None:  # type: ignore[override]
        card = (
            LoginCard.objects.filter(token_hash=LoginCard.hash_token(login_card_token), revoked_at__isnull=True)
            .select_related("user")
            .first()
        )
        if card is None or not self.user_can_authenticate(card.user) or card.user.role != Role.STUDENT:
            return None
        LoginCard.objects.filter(pk=card.pk).update(last_used_at=timezone.now())
        card.user.login_card_id = card.pk  # type: ignore[attr-defined]  # the session remembers it (accounts.sessions)
        return card.user

    def get_user(self, user_id: int) -> User | None:
        return _active_user(user_id)


def _active_user(user_id: int) -> User | None:
    # The signed-in user of every request, with the tenant needed for language and MFA policy:
    # from the cache, see classnote.accounts.usercache.
    return usercache.active_user(user_id)
