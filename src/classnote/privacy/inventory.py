"""The data inventory ("personal information ledger"): every stored field is declared, once,
next to its model, as personal (with category, purposes, legal basis, retention and audience) or
not personal. tests/privacy/test_inventory.py fails the build on a field that is neither.

A model's file declares its fields right after the model::

    inventory.declare(User,
        personal={"display_name": inventory.personal(Category.IDENTIFIER, ...)},
        not_personal=["id", "session_epoch"],
    )

Models of libraries we use (sessions, allauth) are declared in classnote/privacy/third_party.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Category(StrEnum):
    IDENTIFIER = "identifier"  # names, login IDs, student IDs
    CREDENTIAL = "credential"  # password hashes, MFA secrets, token hashes
    CONTACT = "contact"
    LEARNING_RECORD = "learning record"  # cards, submissions, teachers' comments
    MEDIA = "media"  # uploaded photos and files
    ACCOUNT = "account data"  # role, language, memberships
    TECHNICAL = "technical"  # session and device data, IP addresses, timestamps of use
    CASE = "case record"  # complaints and enquiries of the public, incident records


class Purpose(StrEnum):
    LESSON = "running the lesson"
    LOGIN = "logging in and keeping the account secure"
    ADMINISTRATION = "school administration (classes, rosters)"
    PORTFOLIO = "the pupil's portfolio"
    SECURITY = "security and abuse prevention"
    # Reads for these purposes state them (classnote.privacy.purposes.check) and are refused for a
    # field whose declaration does not list them.
    STATISTICS = "aggregate statistics for the school and board"
    SUPPORT = "operator support on the tenant's request"
    PROVISION_RECORD = "keeping the record of provision to other organisations that the law requires"
    COMPLAINTS = "answering complaints and consultations about personal information"
    INCIDENTS = "handling incidents and reporting them to the regulator"
    # Every field may be read to answer the person's own request (disclosure, correction, deletion);
    # the disclosure export reads under this purpose only.
    RIGHTS = "answering the person's requests (disclosure, correction, deletion)"


class Basis(StrEnum):
    ENTRUSTED = "entrusted by the school / board of education to provide the education service"
    LEGAL_OBLIGATION = "legal obligation"
    LEGITIMATE_INTEREST = "legitimate interest in the security of the service"


class Audience(StrEnum):
    SELF = "the person themselves"
    CLASS_TEACHERS = "teachers of the person's classes"
    CLASSMATES_WHEN_SHARED = "classmates, while the teacher shares answers (optionally anonymised)"
    RECIPIENTS = "recipients of a card the person sent"
    SCHOOL_ADMINS = "administrators of the person's school"
    MUNICIPAL_ADMINS = "administrators of the person's board of education"
    NOBODY = "nobody (used by the service only)"
    PRIVACY_OFFICER = "the operator's privacy officer"
    SUBMITTER = "the person who sent it (with the case reference and access code)"


@dataclass(frozen=True)
class Personal:
    category: Category
    purposes: tuple[Purpose, ...]
    legal_basis: Basis
    retention: str
    audience: tuple[Audience, ...]
    mext_class: str = ""  # MEXT education-information importance class (I–IV) where it applies
    optional: bool = False  # acquired only if the tenant chooses to


class Erase(StrEnum):
    """What deleting a person does to the rows linked to them."""

    DELETE = "deleted"  # the rows are the person's own and go with them (files too)
    DETACH = "unlinked"  # the row belongs to someone else; its link to the person is set to null
    KEEP = "kept"  # kept under a legal obligation; holds only pseudonymous ids, never names


def kept_reference(to: str, *, null: bool = True) -> Any:
    """A foreign key for records kept when the person (or tenant) is deleted (Erase.KEEP): it never
    cascades and has no database constraint — changing it would rewrite a kept record (and break
    the audit log's hash chain), and an id names nobody once the account is gone."""
    from django.db import models

    return models.ForeignKey(to, on_delete=models.DO_NOTHING, db_constraint=False, null=null, related_name="+")


@dataclass(frozen=True)
class Link:
    """How rows of a model are found for a person: an ORM lookup to accounts.User ("owner",
    "user", "pk"), or a function user -> queryset for rows that are linked less directly."""

    path: str | Callable[[Any], Any]
    erase: Erase
    reason: str = ""  # why, for KEEP

    @property
    def label(self) -> str:
        return self.path if isinstance(self.path, str) else getattr(self.path, "__name__", "custom")


def link(path: str | Callable[[Any], Any], erase: Erase, reason: str = "") -> Link:
    if erase == Erase.KEEP and not reason:
        raise ValueError("a kept link needs the reason (the legal obligation) it is kept for")
    return Link(path, erase, reason)


@dataclass(frozen=True)
class Declaration:
    personal: dict[str, Personal] = field(default_factory=dict)
    not_personal: frozenset[str] = frozenset()
    # How the rows of one person are found (disclosure exports, deletion). A model with personal
    # fields declares its links, or says why its rows belong to no account (``unlinked``).
    subject: tuple[Link, ...] = ()
    unlinked: str = ""


def personal(
    category: Category,
    *,
    purposes: list[Purpose],
    basis: Basis = Basis.ENTRUSTED,
    retention: str,
    audience: list[Audience],
    mext_class: str = "",
    optional: bool = False,
) -> Personal:
    return Personal(category, tuple(purposes), basis, retention, tuple(audience), mext_class, optional)


def fields(
    *,
    personal: dict[str, Personal] | None = None,
    not_personal: list[str] | None = None,
    subject: list[Link] | None = None,
    unlinked: str = "",
) -> Declaration:
    return Declaration(dict(personal or {}), frozenset(not_personal or []), tuple(subject or ()), unlinked)


def declare(
    model: type[Any],
    *,
    personal: dict[str, Personal] | None = None,
    not_personal: list[str] | None = None,
    subject: list[Link] | None = None,
    unlinked: str = "",
) -> None:
    """Declare a model's fields (as its PRIVACY attribute, beside the model) and how its rows are
    found for one person (``subject``), e.g. ``subject=[link("owner", Erase.DELETE)]``."""
    model.PRIVACY = fields(personal=personal, not_personal=not_personal, subject=subject, unlinked=unlinked)


# Retention rules, stated once.
WHILE_ACCOUNT = "while the account exists; deleted with it (and after graduation + the tenant's retention period)"
WHILE_SESSION = "until the session ends (at most the role's session lifetime)"
WHILE_TENANT = "while the school's contract runs; deleted after contract end + the tenant's retention period"


def declaration_of(model: type[Any]) -> Declaration | None:
    from classnote.privacy.third_party import DECLARATIONS

    own = model.__dict__.get("PRIVACY")
    if isinstance(own, Declaration):
        return own
    return DECLARATIONS.get(model._meta.label)


def entries() -> list[dict[str, Any]]:
    """Every declared personal field, as the ledger lists it."""
    from django.apps import apps

    ledger = []
    for model in apps.get_models():
        declaration = declaration_of(model)
        if declaration is None:
            continue
        for name, item in sorted(declaration.personal.items()):
            ledger.append(
                {
                    "model": model._meta.label,
                    "field": name,
                    "category": str(item.category),
                    "purposes": [str(p) for p in item.purposes],
                    "legal_basis": str(item.legal_basis),
                    "retention": item.retention,
                    "audience": [str(a) for a in item.audience],
                    "mext_class": item.mext_class,
                    "optional": item.optional,
                }
            )
    return ledger


def unlinked_models() -> list[str]:
    """Models with personal fields that say neither how to find one person's rows nor why they can't."""
    from django.apps import apps

    return [
        model._meta.label
        for model in apps.get_models()
        if (declaration := declaration_of(model)) is not None
        and declaration.personal
        and not declaration.subject
        and not declaration.unlinked
    ]


def personal_models() -> list[tuple[type[Any], Declaration]]:
    """Every model that holds personal fields, with its declaration, in a stable order."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        declaration = declaration_of(model)
        if declaration is not None and declaration.personal:
            found.append((model, declaration))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def undeclared() -> list[str]:
    """Fields stored by the service that are neither declared personal nor declared not personal."""
    from django.apps import apps

    missing = []
    for model in apps.get_models():
        declaration = declaration_of(model)
        for model_field in model._meta.concrete_fields:
            declared = declaration is not None and (
                model_field.name in declaration.personal or model_field.name in declaration.not_personal
            )
            if not declared:
                missing.append(f"{model._meta.label}.{model_field.name}")
    return missing


# --- Translated labels, for people (the privacy page). The ledger (JSON, markdown) keeps the English values.
# A new Category / Purpose / Basis / Audience member or retention phrase needs its label here:
# tests/privacy/test_policy.py fails until it has one.
CATEGORY_LABELS = {
    Category.IDENTIFIER: pgettext_lazy("privacy inventory category", "identifier"),
    Category.CREDENTIAL: pgettext_lazy("privacy inventory category", "credential"),
    Category.CONTACT: pgettext_lazy("privacy inventory category", "contact"),
    Category.LEARNING_RECORD: pgettext_lazy("privacy inventory category", "learning record"),
    Category.MEDIA: pgettext_lazy("privacy inventory category", "media"),
    Category.ACCOUNT: pgettext_lazy("privacy inventory category", "account data"),
    Category.TECHNICAL: pgettext_lazy("privacy inventory category", "technical"),
    Category.CASE: pgettext_lazy("privacy inventory category", "case record"),
}
PURPOSE_LABELS = {
    Purpose.LESSON: _("running the lesson"),
    Purpose.LOGIN: _("logging in and keeping the account secure"),
    Purpose.ADMINISTRATION: _("school administration (classes, rosters)"),
    Purpose.PORTFOLIO: _("the pupil's portfolio"),
    Purpose.SECURITY: _("security and abuse prevention"),
    Purpose.STATISTICS: _("aggregate statistics for the school and board"),
    Purpose.SUPPORT: _("operator support on the tenant's request"),
    Purpose.PROVISION_RECORD: _("keeping the record of provision to other organisations that the law requires"),
    Purpose.COMPLAINTS: _("answering complaints and consultations about personal information"),
    Purpose.INCIDENTS: _("handling incidents and reporting them to the regulator"),
    Purpose.RIGHTS: _("answering the person's requests (disclosure, correction, deletion)"),
}
BASIS_LABELS = {
    Basis.ENTRUSTED: _("entrusted by the school / board of education to provide the education service"),
    Basis.LEGAL_OBLIGATION: _("legal obligation"),
    Basis.LEGITIMATE_INTEREST: _("legitimate interest in the security of the service"),
}
AUDIENCE_LABELS = {
    Audience.SELF: _("the person themselves"),
    Audience.CLASS_TEACHERS: _("teachers of the person's classes"),
    Audience.CLASSMATES_WHEN_SHARED: _("classmates, while the teacher shares answers (optionally anonymised)"),
    Audience.RECIPIENTS: _("recipients of a card the person sent"),
    Audience.SCHOOL_ADMINS: _("administrators of the person's school"),
    Audience.MUNICIPAL_ADMINS: _("administrators of the person's board of education"),
    Audience.NOBODY: _("nobody (used by the service only)"),
    Audience.PRIVACY_OFFICER: _("the operator's privacy officer"),
    Audience.SUBMITTER: _("the person who sent it (with the case reference and access code)"),
}
# Retention phrases as the declarations write them (the constants above and the models' own).
RETENTION_LABELS = {
    WHILE_ACCOUNT: _(
        "while the account exists; deleted with it (and after graduation + the tenant's retention period)"
    ),
    WHILE_SESSION: _("until the session ends (at most the role's session lifetime)"),
    WHILE_TENANT: _("while the school's contract runs; deleted after contract end + the tenant's retention period"),
    "5 years (security record)": _("5 years (security record)"),
    "until the lesson's events are purged (replay window)": _("until the lesson's events are purged (replay window)"),
    "3 years after the request is closed (record of handling); unlinked if the person is deleted": _(
        "3 years after the request is closed (record of handling); unlinked if the person is deleted"
    ),
    "3 years after the provision (APPI: record of provision to a third party); ids only, no names": _(
        "3 years after the provision (APPI: record of provision to a third party); ids only, no names"
    ),
    (
        "until the case is answered or closed + PRIVACY_COMPLAINT_RETENTION_DAYS (3 years by default); "
        "then deleted by the nightly retention job"
    ): _(
        "until the case is answered or closed + PRIVACY_COMPLAINT_RETENTION_DAYS (3 years by default); "
        "then deleted by the nightly retention job"
    ),
    (
        "until the incident is closed + INCIDENT_RETENTION_DAYS (5 years by default, the record of the report "
        "to the regulator); then deleted by the nightly retention job"
    ): _(
        "until the incident is closed + INCIDENT_RETENTION_DAYS (5 years by default, the record of the report "
        "to the regulator); then deleted by the nightly retention job"
    ),
}
LABELS: dict[str, Any] = {
    str(value): text
    for labels in (CATEGORY_LABELS, PURPOSE_LABELS, BASIS_LABELS, AUDIENCE_LABELS, RETENTION_LABELS)
    for value, text in labels.items()
}


def label(value: str) -> str:
    """The label of an inventory value (a category, purpose, basis, audience or retention phrase,
    as the enum member or its English value) in the active language."""
    known = LABELS.get(str(value))
    return str(known) if known is not None else gettext(str(value))
