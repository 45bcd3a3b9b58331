"""The privacy policy page's content, generated from the data inventory and a tenant's settings.

Nothing here is written by hand per field: every personal field of the inventory appears, grouped by
category and by what is declared about it (purposes, legal basis, retention, who sees it), with the
inventory's vocabulary translated (inventory.label). Optional fields appear for a tenant only when
the tenant switched them on (OPTIONAL_SWITCHES); in the generic version they are marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from classnote.privacy import inventory
from classnote.tenancy.models import Municipality

# Optional fields a tenant switches on: (model label, field) -> the Municipality setting.
OPTIONAL_SWITCHES = {("accounts.User", "name_reading"): "collect_name_reading"}

CATEGORY_DESCRIPTIONS = {
    inventory.Category.IDENTIFIER: _("Names, login IDs and the student ID the school assigns."),
    inventory.Category.CREDENTIAL: _(
        "Passwords (stored only as hashes), two-factor login secrets and login-card tokens (stored only as hashes)."
    ),
    inventory.Category.CONTACT: _("Contact details, only where someone gives them."),
    inventory.Category.LEARNING_RECORD: _("Cards, answers, submissions and teachers' comments from lessons."),
    inventory.Category.MEDIA: _("Photos and files uploaded in lessons (location data is removed from photos)."),
    inventory.Category.ACCOUNT: _("Role, language, school and class memberships and similar account settings."),
    inventory.Category.TECHNICAL: _("Login sessions, device and browser details, IP addresses and times of use."),
    inventory.Category.CASE: _("Complaints, consultations and incident records, and the notes made handling them."),
}


@dataclass(frozen=True)
class StoredField:
    """A stored field as the page names it: what it is, in the reader's language, and its technical
    name for the operator (shown on hover)."""

    name: str
    technical: str


@dataclass
class Row:
    """Fields declared alike: one row of a category's table."""

    fields: list[StoredField]
    purposes: list[str]
    basis: str
    retention: str
    audience: list[str]
    optional: bool
    # Optional by the tenant's choice (e.g. the name reading); else optional because only given by choice.
    tenant_choice: bool


@dataclass
class Section:
    category: str
    description: str
    rows: list[Row] = field(default_factory=list)


def _included(entry: dict[str, Any], municipality: Municipality | None) -> bool:
    """An optional field is collected for a tenant only when the tenant switched it on."""
    switch = OPTIONAL_SWITCHES.get((entry["model"], entry["field"]))
    if not entry["optional"] or municipality is None or switch is None:
        return True
    return bool(getattr(municipality, switch))


def collected(municipality: Municipality | None) -> list[Section]:
    """What is collected, grouped by category, in the active language."""
    sections: dict[str, Section] = {}
    rows: dict[tuple[Any, ...], Row] = {}
    for entry in inventory.entries():
        if not _included(entry, municipality):
            continue
        category = entry["category"]
        if category not in sections:
            sections[category] = Section(
                category=inventory.label(category), description=str(CATEGORY_DESCRIPTIONS.get(category, ""))
            )
        key = (
            category,
            tuple(entry["purposes"]),
            entry["legal_basis"],
            entry["retention"],
            tuple(entry["audience"]),
            entry["optional"],
            (entry["model"], entry["field"]) in OPTIONAL_SWITCHES,
        )
        if key not in rows:
            rows[key] = Row(
                fields=[],
                purposes=[inventory.label(p) for p in entry["purposes"]],
                basis=inventory.label(entry["legal_basis"]),
                retention=inventory.label(entry["retention"]),
                audience=[inventory.label(a) for a in entry["audience"]],
                optional=entry["optional"],
                tenant_choice=key[-1],
            )
            sections[category].rows.append(rows[key])
        rows[key].fields.append(
            StoredField(inventory.field_name(entry["model"], entry["field"]), f"{entry['model']}.{entry['field']}")
        )
    order = [str(category) for category in inventory.Category]
    return [sections[c] for c in sorted(sections, key=lambda c: order.index(c) if c in order else len(order))]


def retention_days(municipality: Municipality | None) -> dict[str, Any]:
    """The tenant's retention settings, or the defaults a tenant starts with."""
    names = ("graduate_retention_days", "contract_end_retention_days")
    if municipality is not None:
        return {"tenant": True, **{name: getattr(municipality, name) for name in names}}
    return {"tenant": False, **{name: getattr(Municipality._meta.get_field(name), "default", None) for name in names}}


def subprocessors(language: str) -> list[dict[str, str]]:
    return [
        {"name": sub.name, "purpose": sub.purpose_in(language), "location": sub.location_in(language)}
        for sub in settings.CLASSNOTE_SUBPROCESSORS
    ]


def context(municipality: Municipality | None, language: str) -> dict[str, Any]:
    return {
        "municipality": municipality,
        "operator": settings.CLASSNOTE_OPERATOR_NAME or settings.CLASSNOTE_SITE_NAME,
        "contact": settings.CLASSNOTE_PRIVACY_CONTACT,
        "data_location": settings.CLASSNOTE_DATA_LOCATION,
        "sections": collected(municipality),
        "retention": retention_days(municipality),
        "subprocessors": subprocessors(language),
    }
