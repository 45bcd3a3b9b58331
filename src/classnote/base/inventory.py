"""How a model declares its fields for the data inventory ("personal information ledger"): every
stored field is declared, once, next to its model, as personal (with category, purposes, legal
basis, retention and audience) or not personal. classnote.privacy.inventory reads the declarations
into the ledger; tests/privacy/test_inventory.py fails the build on a field that is neither.

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

from django.db import models


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
    STATUS_NOTICES = "telling subscribers about the service's status (incidents and maintenance)"


class Basis(StrEnum):
    ENTRUSTED = "entrusted by the school / board of education to provide the education service"
    LEGAL_OBLIGATION = "legal obligation"
    LEGITIMATE_INTEREST = "legitimate interest in the security of the service"
    CONSENT = "the person's consent (a subscription they confirmed and can end at any time)"


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


def kept_reference(to: str, *, null: bool = True, verbose_name: Any = None) -> Any:
    """A foreign key for records kept when the person (or tenant) is deleted (Erase.KEEP): it never
    cascades and has no database constraint — changing it would rewrite a kept record (and break
    the audit log's hash chain), and an id names nobody once the account is gone."""
    return models.ForeignKey(
        to,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=null,
        related_name="+",
        verbose_name=verbose_name,
    )


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
