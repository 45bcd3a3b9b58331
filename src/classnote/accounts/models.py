"""People who log in, and the QR login cards of pupils.

Students are represented by the least the lesson needs: a display name, the
school-assigned student ID and their classes. No e-mail address, no birth date.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Basis as _B
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.base.roles import ADMIN_ROLES, STAFF_ROLES, Role
from classnote.base.validators import no_formula, student_number_validator, username_validator
from classnote.tenancy.models import Municipality, PasswordStyle, School


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields: object) -> User:
        user = self.model(username=username.lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username__iexact=username or "")


def student_username(school: School, student_number: str) -> str:
    """Students log in with school code + student ID; this is the internal key for that pair."""
    return f"{school.code}/{student_number}".lower()


class User(AbstractBaseUser):
    username = models.CharField(_("login ID"), max_length=80, unique=True, validators=[username_validator])
    display_name = models.CharField(_("display name"), max_length=80, validators=[no_formula])
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("board of education"),
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("school")
    )
    student_number = models.CharField(_("student ID"), max_length=32, blank=True, validators=[student_number_validator])
    # Optional, only where the tenant records it (Municipality.collect_name_reading).
    name_reading = models.CharField(_("reading of the name"), max_length=80, blank=True, validators=[no_formula])
    # The day a pupil graduated or left; their data is deleted the tenant's retention period later.
    left_on = models.DateField(_("graduated or left on"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The style of the password the service made for a pupil (classnote.accounts.credentials): the
    # login normalises what was typed or tapped accordingly. Empty: a password chosen by its holder,
    # checked exactly as typed.
    password_style = models.CharField(
        _("password style"), max_length=20, choices=PasswordStyle.choices, blank=True, default=""
    )
    # Raised by "log out everywhere": it is part of the session hash, so every session ends.
    session_epoch = models.PositiveIntegerField(default=0)
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("account created"))

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["display_name", "role"]

    class Meta:
        verbose_name = _("user")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "student_number"],
                condition=models.Q(role="student"),
                name="student_number_unique_per_school",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["operator", "privacy_officer"]) | models.Q(municipality__isnull=False),
                name="user_has_tenant_unless_operator",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or f"user #{self.pk}"

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    def session_kind(self) -> str:
        if self.role == Role.STUDENT:
            return "student"
        if self.role == Role.TEACHER:
            return "teacher"
        return "admin"

    def requires_mfa(self) -> bool:
        if self.role in ADMIN_ROLES:
            return True
        if self.role == Role.TEACHER and self.municipality_id:
            return bool(self.municipality and self.municipality.require_mfa_for_teachers)
        return False

    def tenant_language(self) -> str:
        return self.municipality.default_language if self.municipality_id and self.municipality else ""

    def get_session_auth_hash(self) -> str:
        # Django ends every session whose stored hash no longer matches: changing the password
        # or raising session_epoch logs the user out everywhere, at no extra query per request.
        key_salt = "classnote.accounts.User.get_session_auth_hash"
        return salted_hmac(key_salt, f"{self.password}:{self.session_epoch}", algorithm="sha256").hexdigest()

    def get_username(self) -> str:
        return self.username


class LoginCard(models.Model):
    """A printable QR login card. Only a hash of its secret is stored; printing again issues a new one."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_cards", verbose_name=_("person"))
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("login card code (hashed)"))
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used"))

    class Meta:
        verbose_name = _("Login card")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"login card #{self.pk} of user #{self.user_id}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiToken(models.Model):
    """A personal API token of a staff member (``Authorization: Bearer <token>``).

    Only the SHA-256 of the token is stored; the token itself is shown once, when it is made
    (see classnote.accounts.tokens). A token works only while it is neither revoked nor expired,
    its user is active and staff, and the user's session epoch is the one it was made in: "log out
    everywhere" and deactivation end tokens as they end sessions.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("person"))
    name = models.CharField(_("name"), max_length=80)
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token (hashed)"))
    session_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used"))
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"API token #{self.pk} of user #{self.user_id}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------
# Pupils are represented by the least the lesson needs: a display name, the school-assigned student
# ID and their classes. No e-mail address, no birth date.

_SCHOOL = [_A.SELF, _A.CLASS_TEACHERS, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS]
_inv.declare(
    User,
    personal={
        "display_name": _inv.personal(
            _C.IDENTIFIER,
            # The portfolio export is headed with the pupil's name; operator support sees the user list.
            purposes=[_P.LESSON, _P.ADMINISTRATION, _P.PORTFOLIO, _P.SUPPORT],
            retention=_inv.WHILE_ACCOUNT,
            mext_class="III",
            audience=[*_SCHOOL, _A.CLASSMATES_WHEN_SHARED, _A.RECIPIENTS],
        ),
        "username": _inv.personal(
            _C.IDENTIFIER,
            purposes=[_P.LOGIN],
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SELF, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
            mext_class="III",
        ),
        "student_number": _inv.personal(
            _C.IDENTIFIER,
            purposes=[_P.LOGIN, _P.ADMINISTRATION],
            retention=_inv.WHILE_ACCOUNT,
            audience=_SCHOOL,
            mext_class="III",
        ),
        "password": _inv.personal(
            _C.CREDENTIAL, purposes=[_P.LOGIN], retention=_inv.WHILE_ACCOUNT, audience=[_A.NOBODY]
        ),
        # Which kind of password a pupil has (pictures, word and number, random): not the password.
        "password_style": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.LOGIN],
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SELF, _A.CLASS_TEACHERS, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
        "last_login": _inv.personal(
            _C.TECHNICAL,
            purposes=[_P.SECURITY],
            basis=_B.LEGITIMATE_INTEREST,
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SCHOOL_ADMINS],
        ),
        "language": _inv.personal(_C.ACCOUNT, purposes=[_P.LESSON], retention=_inv.WHILE_ACCOUNT, audience=[_A.SELF]),
        "municipality": _inv.personal(
            _C.ACCOUNT, purposes=[_P.ADMINISTRATION], retention=_inv.WHILE_ACCOUNT, audience=_SCHOOL
        ),
        "school": _inv.personal(
            _C.ACCOUNT, purposes=[_P.ADMINISTRATION], retention=_inv.WHILE_ACCOUNT, audience=_SCHOOL
        ),
        "role": _inv.personal(
            _C.ACCOUNT, purposes=[_P.ADMINISTRATION, _P.SUPPORT], retention=_inv.WHILE_ACCOUNT, audience=_SCHOOL
        ),
        "name_reading": _inv.personal(
            _C.IDENTIFIER,
            purposes=[_P.LESSON, _P.ADMINISTRATION],
            retention=_inv.WHILE_ACCOUNT,
            audience=_SCHOOL,
            mext_class="III",
            optional=True,
        ),
        "left_on": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.ADMINISTRATION],
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
        "is_active": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.ADMINISTRATION],
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
        "date_joined": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.ADMINISTRATION],
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
    },
    not_personal=["id", "session_epoch"],
    subject=[_inv.link("pk", _inv.Erase.DELETE)],
)


def _secret(holder_audience: list[_A], usage_audience: list[_A]) -> dict[str, _inv.Personal]:
    """A login secret (QR card or API token): whose it is, its hash, and when it was last used."""
    login = {"purposes": [_P.LOGIN], "retention": _inv.WHILE_ACCOUNT}
    return {
        "user": _inv.personal(_C.CREDENTIAL, audience=holder_audience, **login),  # type: ignore[arg-type]
        "token_hash": _inv.personal(_C.CREDENTIAL, audience=[_A.NOBODY], **login),  # type: ignore[arg-type]
        "last_used_at": _inv.personal(
            _C.TECHNICAL,
            purposes=[_P.SECURITY],
            basis=_B.LEGITIMATE_INTEREST,
            retention=_inv.WHILE_ACCOUNT,
            audience=usage_audience,
        ),
    }


_inv.declare(
    LoginCard,
    personal=_secret([_A.CLASS_TEACHERS, _A.SCHOOL_ADMINS], [_A.SCHOOL_ADMINS]),
    not_personal=["id", "issued_by", "issued_at", "revoked_at"],
    subject=[_inv.link("user", _inv.Erase.DELETE)],
)
_inv.declare(
    ApiToken,
    personal=_secret([_A.SELF], [_A.SELF]),
    not_personal=["id", "name", "session_epoch", "created_at", "expires_at", "revoked_at"],
    subject=[_inv.link("user", _inv.Erase.DELETE)],
)
