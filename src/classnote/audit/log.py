"""Append to and verify the audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classnote.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "municipality": entry.municipality_id,
        "school": entry.school_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "subject": entry.subject_id,
        "details": entry.details,
    }


def _is_person(target: Any) -> bool:
    """Whether the target is an account (the audit log sits below accounts and never imports it)."""
    meta = getattr(target, "_meta", None)
    return meta is not None and meta.label == settings.AUTH_USER_MODEL


def _type_of(target: Any) -> str:
    """The target's model (its class name), also through a lazy object such as ``request.user``
    (whose own class is SimpleLazyObject)."""
    if target is None:
        return ""
    meta = getattr(target, "_meta", None)
    return str(meta.object_name) if meta is not None else type(target).__name__


def record(
    actor: Any,
    action: str,
    *,
    target: Any = None,
    municipality_id: int | None = None,
    school_id: int | None = None,
    subject: Any = None,
    **details: Any,
) -> AuditEntry:
    """Append an entry in the caller's transaction. Details must be ids and codes, not names or text.

    ``subject`` is the person whose data the entry concerns; it defaults to the target when the
    target is a person."""
    if subject is None and _is_person(target):
        subject = target
    if municipality_id is None and actor is not None:
        municipality_id = getattr(actor, "municipality_id", None)
    if school_id is None and actor is not None:
        school_id = getattr(actor, "school_id", None)
    with transaction.atomic():
        head, _ = AuditHead.objects.get_or_create(pk=1)
        head = AuditHead.objects.select_for_update().get(pk=1)
        entry = AuditEntry(
            at=timezone.now(),
            actor_id=getattr(actor, "pk", None),
            actor_role=getattr(actor, "role", "") or "",
            action=action,
            municipality_id=municipality_id,
            school_id=school_id,
            target_type=_type_of(target),
            target_id=str(getattr(target, "pk", "")) if target is not None else "",
            subject_id=getattr(subject, "pk", subject),
            details=details,
            prev_hash=head.last_hash,
        )
        entry.hash = _digest(entry.prev_hash, _content(entry))
        entry.save()
        head.last_hash, head.count = entry.hash, head.count + 1
        head.save(update_fields=["last_hash", "count"])
    return entry


@dataclass
class Problem:
    entry_id: int | None
    reason: str


def verify() -> list[Problem]:
    """Walk the chain; name every entry that was edited, and every gap where one was removed."""
    problems: list[Problem] = []
    expected_prev = GENESIS
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator():
        count += 1
        if entry.prev_hash != expected_prev:
            problems.append(Problem(entry.pk, "the entry before it was removed or altered"))
        if _digest(entry.prev_hash, _content(entry)) != entry.hash:
            problems.append(Problem(entry.pk, "its content was edited"))
        expected_prev = entry.hash
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != expected_prev or head.count != count):
        problems.append(Problem(None, f"entries at the end were removed (expected {head.count}, found {count})"))
    return problems
