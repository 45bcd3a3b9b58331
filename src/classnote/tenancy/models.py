"""Tenancy: country → region → municipality (the tenant) → school → class → membership.

A municipality is a board of education; a private school is its own tenant (a
municipality of kind "private"). No person ever sees another tenant's data:
every query for tenant data goes through classnote.tenancy.access.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.base.territories import country_name
from classnote.base.validators import no_formula, school_code_validator

code_validator = school_code_validator


class Country(models.Model):
    code = models.CharField(_("country code"), max_length=2, unique=True)  # ISO 3166-1 alpha-2
    name = models.CharField(_("name"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.name

    @property
    def local_name(self) -> str:
        """The name in the reader's language (CLDR), the stored name when CLDR has none."""
        return country_name(self.code, self.name)


class Region(models.Model):
    """A prefecture, state, province or special region."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="regions")
    name = models.CharField(_("name"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["country", "sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["country", "name"], name="region_unique_name")]

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """The tenant: a board of education, or a private school that contracts on its own."""

    class Kind(models.TextChoices):
        BOARD = "board", _("Board of education")
        PRIVATE = "private", _("Private school")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="municipalities")
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BOARD)
    default_language = models.CharField(_("default language"), max_length=10, choices=settings.LANGUAGES, default="en")
    require_mfa_for_teachers = models.BooleanField(_("require two-factor login for teachers"), default=False)
    list_on_adopters_page = models.BooleanField(_("list on the public adopters page"), default=False)
    # The status prober's own tenant (classnote.status.probe_tenant): no real school, never listed,
    # counted or exported; its accounts exist only to exercise the service end to end.
    synthetic = models.BooleanField(_("synthetic (the status prober's tenant)"), default=False)
    max_upload_mb = models.PositiveSmallIntegerField(
        _("largest file a user may upload (MB)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    # Minimum acquisition: anything beyond display name, student ID and class is optional per tenant.
    collect_name_reading = models.BooleanField(_("record the reading (furigana) of pupils' names"), default=False)
    # Retention (classnote.rights.retention applies these every night).
    graduate_retention_days = models.PositiveIntegerField(
        _("days a pupil's data is kept after they graduate or leave"),
        default=365,
        validators=[MaxValueValidator(3650)],
    )
    contract_ends_on = models.DateField(_("contract ends on"), null=True, blank=True)
    contract_end_retention_days = models.PositiveIntegerField(
        _("days the tenant's data is kept after the contract ends"),
        default=90,
        validators=[MaxValueValidator(3650)],
    )
    # When the operator handed the tenant its full export: a tenant's data is never deleted before.
    export_offered_at = models.DateTimeField(_("export offered to the tenant"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region", "name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return self.name


class PasswordStyle(models.TextChoices):
    """How the passwords the service makes for pupils look (classnote.accounts.credentials)."""

    PICTURES = "pictures", _("Pictures: tap 4 of 12 pictures")
    WORD_NUMBER = "word_number", _("A word and a number, such as apple 47")
    RANDOM = "random", _("10 random letters and digits")


# The grades each of a school's three password settings covers (SchoolClass.grade).
YOUNGEST_GRADES = range(1, 3)
MIDDLE_GRADES = range(3, 5)


class School(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(_("name"), max_length=150, validators=[no_formula])
    # Typed by pupils at login, together with their student ID: short, unique, not secret.
    code = models.CharField(_("school code"), max_length=32, unique=True, validators=[code_validator])
    list_on_adopters_page = models.BooleanField(_("list on the public adopters page"), default=False)
    # Readings (<ruby>) over the kanji of the pupils' pages, for the lower grades (classnote.tenancy.furigana).
    furigana_up_to_grade = models.PositiveSmallIntegerField(
        _("furigana on pupils' pages up to grade (0: off)"),
        default=0,
        validators=[MaxValueValidator(9)],
    )
    # Age-appropriate pupil passwords: one style per band of grades. A pupil whose class has no grade
    # gets the style of the oldest band (docs: SECURITY.md, "Pupil passwords").
    password_style_grades_1_2 = models.CharField(
        _("pupil passwords in grades 1 and 2"),
        max_length=20,
        choices=PasswordStyle.choices,
        default=PasswordStyle.PICTURES,
    )
    password_style_grades_3_4 = models.CharField(
        _("pupil passwords in grades 3 and 4"),
        max_length=20,
        choices=PasswordStyle.choices,
        default=PasswordStyle.WORD_NUMBER,
    )
    password_style_older = models.CharField(
        _("pupil passwords in grade 5 and above, or when the grade is not known"),
        max_length=20,
        choices=PasswordStyle.choices,
        default=PasswordStyle.RANDOM,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["municipality", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.code = self.code.lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def password_style_for(self, grade: int | None) -> str:
        """The style of the passwords this school's pupils of GRADE get (None: grade not known)."""
        if grade in YOUNGEST_GRADES:
            return self.password_style_grades_1_2
        if grade in MIDDLE_GRADES:
            return self.password_style_grades_3_4
        return self.password_style_older


class SchoolClass(models.Model):
    """A class (homeroom or course group) in one school year."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    school_year = models.PositiveSmallIntegerField(_("school year"))
    name = models.CharField(_("name"), max_length=80, validators=[no_formula])
    # The pupils' grade: 1–6 in primary school, 7–9 in lower secondary (中1 = 7), up to 12 elsewhere;
    # empty for mixed groups. It chooses the furigana (School.furigana_up_to_grade) and the style of the
    # passwords the pupils get (School.password_style_for).
    grade = models.PositiveSmallIntegerField(
        _("grade"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-school_year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year", "name"], name="class_unique_name_per_year")
        ]
        verbose_name = _("class")
        verbose_name_plural = _("classes")

    def __str__(self) -> str:
        return f"{self.name} ({self.school_year})"


class Membership(models.Model):
    class Role(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        STUDENT = "student", _("Student")

    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("class")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Class membership")
        constraints = [models.UniqueConstraint(fields=["school_class", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.role} #{self.user_id} in class #{self.school_class_id}"


# --- Data inventory (classnote.privacy.inventory): organisations are not personal data; ------------
# a class's membership says which pupil is in which class.

_inv.declare(Country, not_personal=["id", "code", "name", "sort_order"])
_inv.declare(Region, not_personal=["id", "country", "name", "sort_order"])
_inv.declare(
    Municipality,
    not_personal=[
        "id",
        "region",
        "name",
        "kind",
        "default_language",
        "require_mfa_for_teachers",
        "list_on_adopters_page",
        "synthetic",
        "max_upload_mb",
        "collect_name_reading",
        "graduate_retention_days",
        "contract_ends_on",
        "contract_end_retention_days",
        "export_offered_at",
        "created_at",
    ],
)
_inv.declare(
    School,
    not_personal=[
        "id",
        "municipality",
        "name",
        "code",
        "list_on_adopters_page",
        "furigana_up_to_grade",
        "password_style_grades_1_2",
        "password_style_grades_3_4",
        "password_style_older",
        "created_at",
    ],
)
_inv.declare(
    SchoolClass,
    not_personal=[
        "id",
        "school",
        "school_year",
        "name",
        "grade",
        "archived",
        "created_at",
    ],
)
_inv.declare(
    Membership,
    personal={
        "user": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.LESSON, _P.ADMINISTRATION, _P.STATISTICS],  # statistics count a class's pupils
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SELF, _A.CLASS_TEACHERS, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
            mext_class="III",
        ),
        "school_class": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.LESSON, _P.ADMINISTRATION, _P.STATISTICS],
            retention=_inv.WHILE_ACCOUNT,
            audience=[_A.SELF, _A.CLASS_TEACHERS, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
            mext_class="III",
        ),
    },
    not_personal=["id", "role", "created_at"],
    subject=[_inv.link("user", _inv.Erase.DELETE)],
)
