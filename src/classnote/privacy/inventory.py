"""The data inventory ("personal information ledger") read from the declarations that every model
makes next to itself (classnote.base.inventory.declare): the ledger, the checks the build runs on
it, and the translated labels of its terms.

Models of libraries we use (sessions, allauth) are declared in classnote/privacy/third_party.py.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from classnote.base.inventory import (
    WHILE_ACCOUNT,
    WHILE_SESSION,
    WHILE_TENANT,
    Audience,
    Basis,
    Category,
    Declaration,
    Purpose,
)
from classnote.privacy.third_party import DECLARATIONS, NAMES


def declaration_of(model: type[Any]) -> Declaration | None:
    own = model.__dict__.get("PRIVACY")
    if isinstance(own, Declaration):
        return own
    return DECLARATIONS.get(model._meta.label)


def entries() -> list[dict[str, Any]]:
    """Every declared personal field, as the ledger lists it."""
    ledger = []
    for model in apps.get_models():
        declaration = declaration_of(model)
        if declaration is None:
            continue
        for name, item in sorted(declaration.personal.items()):
            ledger.append({"model": model._meta.label, "field": name, **_described(item)})
    return ledger


def model_name(model_label: str) -> str:
    """What a model's rows are, in the active language (its verbose name)."""
    name = NAMES.get(model_label, apps.get_model(model_label)._meta.verbose_name)
    return capfirst(str(name))


def field_name(model_label: str, field: str) -> str:
    """What a stored field is, in the active language: the model's and the field's verbose names
    ("Person: display name"), never its technical name."""
    name = NAMES.get((model_label, field), apps.get_model(model_label)._meta.get_field(field).verbose_name)
    return pgettext("a stored field: model, field", "%(model)s: %(field)s") % {
        "model": model_name(model_label),
        "field": str(name),
    }


def _described(item: Any) -> dict[str, Any]:
    """A personal field's declaration as the ledger and the snapshot print it."""
    return {
        "category": str(item.category),
        "purposes": [str(p) for p in item.purposes],
        "legal_basis": str(item.legal_basis),
        "retention": item.retention,
        "audience": [str(a) for a in item.audience],
        "mext_class": item.mext_class,
        "optional": item.optional,
    }


def classification() -> dict[str, Any]:
    """How every stored field is classified and how each model's rows are found for one person:
    the reviewed snapshot (tests/privacy/inventory_snapshot.json, written by `classnote privacy
    inventory --format snapshot`) pins it, so a reclassification is a reviewed change."""
    fields: dict[str, Any] = {}
    links: dict[str, Any] = {}
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        declaration = declaration_of(model)
        label = model._meta.label
        for model_field in model._meta.concrete_fields:
            name = model_field.name
            item = declaration.personal.get(name) if declaration is not None else None
            if item is not None:
                fields[f"{label}.{name}"] = {"personal": True, **_described(item)}
            elif declaration is not None and name in declaration.not_personal:
                fields[f"{label}.{name}"] = {"personal": False}
            else:
                fields[f"{label}.{name}"] = {"personal": None}  # undeclared: the build fails on it
        if declaration is not None and (declaration.subject or declaration.unlinked):
            links[label] = {
                "subject": [
                    {"path": link.label, "erase": str(link.erase), "reason": link.reason}
                    for link in declaration.subject
                ],
                "unlinked": declaration.unlinked,
            }
    return {"fields": fields, "links": links}


def unlinked_models() -> list[str]:
    """Models with personal fields that say neither how to find one person's rows nor why they can't."""
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
    found = []
    for model in apps.get_models():
        declaration = declaration_of(model)
        if declaration is not None and declaration.personal:
            found.append((model, declaration))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def undeclared() -> list[str]:
    """Fields stored by the service that are neither declared personal nor declared not personal."""
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
    Purpose.STATUS_NOTICES: _("telling subscribers about the service's status (incidents and maintenance)"),
}
BASIS_LABELS = {
    Basis.ENTRUSTED: _("entrusted by the school / board of education to provide the education service"),
    Basis.LEGAL_OBLIGATION: _("legal obligation"),
    Basis.LEGITIMATE_INTEREST: _("legitimate interest in the security of the service"),
    Basis.CONSENT: _("the person's consent (a subscription they confirmed and can end at any time)"),
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
    "while the post is kept; unlinked when the account is deleted": _(
        "while the post is kept; unlinked when the account is deleted"
    ),
    "until the subscriber unsubscribes; an unconfirmed subscription is deleted after 7 days": _(
        "until the subscriber unsubscribes; an unconfirmed subscription is deleted after 7 days"
    ),
    "24 hours after the write (the operator may set another period); then deleted by an hourly job": _(
        "24 hours after the write (the operator may set another period); then deleted by an hourly job"
    ),
    (
        "at most 15 minutes after the last failed login; copies made while the shared cache is down: "
        "until it answers again"
    ): _(
        "at most 15 minutes after the last failed login; copies made while the shared cache is down: "
        "until it answers again"
    ),
    "until the lesson's events are purged (replay window)": _("until the lesson's events are purged (replay window)"),
    "3 years after the request is closed (record of handling); unlinked if the person is deleted": _(
        "3 years after the request is closed (record of handling); unlinked if the person is deleted"
    ),
    "3 years after the provision (APPI: record of provision to a third party); ids only, no names": _(
        "3 years after the provision (APPI: record of provision to a third party); ids only, no names"
    ),
    (
        "until the case is answered or closed + 3 years (the operator may set another period); "
        "then deleted by the nightly retention job"
    ): _(
        "until the case is answered or closed + 3 years (the operator may set another period); "
        "then deleted by the nightly retention job"
    ),
    (
        "until the incident is closed + 5 years (the record of the report to the regulator; the operator may set "
        "another period); then deleted by the nightly retention job"
    ): _(
        "until the incident is closed + 5 years (the record of the report to the regulator; the operator may set "
        "another period); then deleted by the nightly retention job"
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
