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


class Category(StrEnum):
    IDENTIFIER = "identifier"  # names, login IDs, student IDs
    CREDENTIAL = "credential"  # password hashes, MFA secrets, token hashes
    CONTACT = "contact"
    LEARNING_RECORD = "learning record"  # cards, submissions, teachers' comments
    MEDIA = "media"  # uploaded photos and files
    ACCOUNT = "account data"  # role, language, memberships
    TECHNICAL = "technical"  # session and device data, IP addresses, timestamps of use


class Purpose(StrEnum):
    LESSON = "running the lesson"
    LOGIN = "logging in and keeping the account secure"
    ADMINISTRATION = "school administration (classes, rosters)"
    PORTFOLIO = "the pupil's portfolio"
    SECURITY = "security and abuse prevention"


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
