"""Deleting a person everywhere, from the data inventory, with a receipt that holds no personal
data. What each table does is declared next to its model (Erase.DELETE / DETACH / KEEP):

* DELETE: the person's own rows go (cards, submissions, files with their stored bytes, memberships,
  login cards, tokens, MFA devices, sessions, events that repeat their name), then the account;
* DETACH: rows that belong to someone else stay without the link (a card the person sent to a
  classmate, a request record);
* KEEP: security records kept under a legal obligation, holding ids only (the audit log, provision
  records) — an id names nobody once the account is gone.

classnote keeps no separate search index; the only derived copies of personal data are the
stored events and the sessions, both inventoried and deleted here. Stored bytes are removed once
the transaction commits (files.services.delete_bytes_after_commit)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError

from classnote.audit.log import record
from classnote.base.inventory import Erase
from classnote.rights.models import DataSubjectRequest, DeletionReceipt, new_reference
from classnote.rights.subjects import Found, find


@dataclass
class Plan:
    """What deleting a person would do (the dry run), counted per table."""

    deleted: Counter[str] = field(default_factory=Counter)
    unlinked: Counter[str] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)
    files: int = 0

    def add(self, other: Plan) -> None:
        self.deleted.update(other.deleted)
        self.unlinked.update(other.unlinked)
        self.kept.update(other.kept)
        self.files += other.files


def plan(person: Any, found: list[Found] | None = None) -> Plan:
    result = Plan()
    for item in found if found is not None else find(person):
        for link, pks in item.effective():
            if not pks:
                continue
            {Erase.DELETE: result.deleted, Erase.DETACH: result.unlinked, Erase.KEEP: result.kept}[link.erase][
                item.label
            ] += len(pks)
            if item.label == "files.StoredFile" and link.erase == Erase.DELETE:
                result.files += len(pks)
    return result


def _end_sessions(session_keys: list[Any]) -> None:
    """Sessions are deleted through the session engine so its cache copy goes too."""
    from importlib import import_module

    from django.conf import settings

    engine = import_module(settings.SESSION_ENGINE)
    for key in session_keys:
        store: SessionBase = engine.SessionStore(session_key=key)
        store.delete(key)


def _delete_in_order(batches: list[tuple[type[models.Model], list[Any]]]) -> Counter[str]:
    """Delete batches, retrying those that another batch still protects (a submission protects its
    card until the submission is gone). Returns rows deleted per table, cascades included."""
    deleted: Counter[str] = Counter()
    pending = [batch for batch in batches if batch[1]]
    while pending:
        waiting = []
        for model, pks in pending:
            try:
                with transaction.atomic():
                    _, per_model = model._default_manager.filter(pk__in=pks).delete()
                deleted.update({label: n for label, n in per_model.items() if n})
            except (ProtectedError, RestrictedError):
                waiting.append((model, pks))
        if len(waiting) == len(pending):
            # Nothing moved: a protection outside the person's rows. Raise the real error.
            model, pks = waiting[0]
            model._default_manager.filter(pk__in=pks).delete()
        pending = waiting
    return deleted


def erase(
    person: Any,
    *,
    actor: Any,
    reason: str,
    request: DataSubjectRequest | None = None,
    found: list[Found] | None = None,
) -> DeletionReceipt:
    """Delete PERSON everywhere and return the receipt. Runs in one transaction. ``found`` is the
    person's rows if the caller already looked them up (the retention job plans first)."""

    found = find(person) if found is None else found
    expected = plan(person, found)
    with transaction.atomic():
        unlinked: Counter[str] = Counter()
        batches: list[tuple[type[models.Model], list[Any]]] = []
        account_batch: list[tuple[type[models.Model], list[Any]]] = []
        for item in found:
            for link, pks in item.effective():
                if not pks:
                    continue
                if link.erase == Erase.DETACH:
                    if not isinstance(link.path, str):
                        raise TypeError(f"{item.label}: a detached link must be a nullable foreign key")
                    changes: dict[str, Any] = {link.path: None}
                    if item.model is DataSubjectRequest:
                        changes["details"] = ""  # what was asked may repeat the person's data
                    unlinked[item.label] += item.model._default_manager.filter(pk__in=pks).update(**changes)
                elif link.erase == Erase.DELETE:
                    if item.label == "sessions.Session":
                        _end_sessions(pks)
                    elif link.path == "pk":
                        account_batch.append((item.model, pks))
                    else:
                        batches.append((item.model, pks))
        deleted = _delete_in_order(batches + account_batch)
        if expected.deleted.get("sessions.Session"):
            deleted["sessions.Session"] += expected.deleted["sessions.Session"]
        receipt = DeletionReceipt.objects.create(
            reference=new_reference("D"),
            reason=reason,
            performed_by_id=getattr(actor, "pk", None),
            request=request,
            municipality_id=person.municipality_id,
            school_id=person.school_id,
            role=person.role,
            deleted=dict(sorted(deleted.items())),
            unlinked=dict(sorted(unlinked.items())),
            kept=dict(sorted(expected.kept.items())),
            files_deleted=deleted.get("files.StoredFile", 0),
        )
        record(
            actor,
            "person.deleted",
            target=receipt,
            municipality_id=person.municipality_id,
            school_id=person.school_id,
            subject=person.pk,
            reason=reason,
        )
    return receipt
