"""Purpose limitation: code that reads personal data for anything but running the lesson states why.

    purposes.check(actor, Purpose.STATISTICS, Submission, ["is_late"])
    purposes.check_reads(actor, Purpose.PORTFOLIO, export.READS, record_as="portfolio.exported", ...)

Each field is looked up in the data inventory (the declaration next to its model). A field whose
declaration does not list the purpose — or that is not declared at all — refuses the whole read:
``PurposeRefused`` (a ``PermissionDenied``, so pages answer 403 and the API ``{"detail": ...}`` 403)
and an audit entry "privacy.read_refused" with the purpose's code, the model and the field names
(never values), plus a log line. Fields declared not personal may be read for any purpose.

With ``record_as`` an allowed read is recorded too (exports, operator support), with the purpose's
code among its details. Check before opening a transaction: a refusal inside one would roll its
own audit entry back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from classnote.audit.log import record
from classnote.base.inventory import Purpose
from classnote.privacy import inventory

logger = logging.getLogger(__name__)

# Purposes every field serves without saying so: the person's own requests (APPI disclosure and
# correction cover everything held about them).
IMPLICIT = frozenset({Purpose.RIGHTS})


def code(purpose: Purpose) -> str:
    """The purpose's stable code for audit entries and logs, e.g. "statistics"."""
    return purpose.name.lower()


class PurposeRefused(PermissionDenied):
    """A read for a purpose the data was not declared for. The message names no data."""

    def __init__(self, purpose: Purpose, refused: Mapping[str, list[str]]) -> None:
        self.purpose = purpose
        self.refused = dict(refused)
        super().__init__(purpose.value)

    @property
    def message(self) -> str:
        return gettext("This information may not be used for this purpose. The refusal has been recorded.")

    def __str__(self) -> str:
        return self.message


def undeclared_for(purpose: Purpose, model: type[Any], fields: Iterable[str]) -> list[str]:
    """The fields of ``model`` that may not be read for ``purpose``."""
    declaration = inventory.declaration_of(model)
    if declaration is None:
        return sorted(set(fields))
    missing = []
    for name in fields:
        if name in declaration.not_personal:
            continue
        item = declaration.personal.get(name)
        if item is None or (purpose not in item.purposes and purpose not in IMPLICIT):
            missing.append(name)
    return sorted(set(missing))


def check_reads(
    actor: Any,
    purpose: Purpose,
    reads: Mapping[type[Any], Iterable[str]],
    *,
    record_as: str = "",
    target: Any = None,
    subject: Any = None,
    municipality_id: int | None = None,
    school_id: int | None = None,
    **details: Any,
) -> str:
    """Allow the reads (model -> field names) for ``purpose`` or refuse them all; returns the code."""

    purpose_code = code(purpose)
    refused = {
        model._meta.label: missing
        for model, fields in reads.items()
        if (missing := undeclared_for(purpose, model, list(fields)))
    }
    tenant = {"municipality_id": municipality_id, "school_id": school_id}
    if refused:
        for label, fields in refused.items():
            logger.warning(
                "read refused: purpose %s is not declared for %s %s",
                purpose_code,
                label,
                fields,
                extra={"event": "privacy.read_refused"},
            )
            record(actor, "privacy.read_refused", purpose=purpose_code, model=label, fields=fields, **tenant)
        raise PurposeRefused(purpose, refused)
    if record_as:
        record(actor, record_as, target=target, subject=subject, purpose=purpose_code, **tenant, **details)
    return purpose_code


def check(actor: Any, purpose: Purpose, model: type[Any], fields: Iterable[str], **options: Any) -> str:
    """``check_reads`` for one model."""
    return check_reads(actor, purpose, {model: fields}, **options)
