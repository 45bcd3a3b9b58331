"""The audit chain, attacked as someone with write access to the database would attack it.

tests/audit/test_audit_log.py edits one field (actor_role) and deletes entries without covering
their tracks. Here the attacker is careful:

* every stored field of an entry (read from the model, so a new field is covered the day it is
  added) is changed alone, directly in the database, and verify() must name that entry as edited:
  each field is part of the entry's hash, ``details`` and ``prev_hash`` included;
* an entry is removed and the tracks covered: the next entry's ``prev_hash`` is rewritten to the
  hash of the entry before the gap and the head's count is lowered. Only the hash of the next
  entry, which covers its ``prev_hash``, can tell.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import models

from classnote.accounts import actions as account_actions
from classnote.audit import log
from classnote.audit.models import AuditEntry, AuditHead
from classnote.tenancy import actions as tenancy_actions
from tests.conftest import Tenant

# Fields that are not content: the row's id (its place in the chain is checked through prev_hash)
# and the hash itself.
NOT_HASHED = {"id", "hash"}
EDITED = "its content was edited"


def hashed_fields() -> list[models.Field[Any, Any]]:
    return [f for f in AuditEntry._meta.concrete_fields if f.name not in NOT_HASHED]


def entries(tenant: Tenant) -> list[AuditEntry]:
    """Four entries with every field filled: actor, tenant, target, subject and details."""
    account_actions.reset_password(tenant.teacher, tenant.student.pk)
    tenancy_actions.update_policy(tenant.municipal_admin, tenant.municipality, require_mfa_for_teachers=True)
    account_actions.issue_login_cards(tenant.teacher, tenant.school_class)
    log.record(
        tenant.school_admin,
        "test.everything",
        target=tenant.student,
        reason="a test",
        count=3,
        ids=[1, 2],
    )
    found = list(AuditEntry.objects.order_by("id"))
    assert len(found) >= 4
    assert log.verify() == []
    return found


def altered(field: models.Field[Any, Any], value: Any) -> Any:
    """Another valid value for FIELD, different from VALUE."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return value + timedelta(seconds=1)
    if kind == "ForeignKey":
        return (value or 0) + 1000  # kept references have no database constraint
    if kind == "CharField":
        changed = ("x" + value)[: field.max_length]
        return changed if changed != value else "y" * len(value)
    if kind == "JSONField":
        return {**value, "tampered": True}
    pytest.fail(f"AuditEntry.{field.name} is a {kind}: teach altered() how to change one")


def test_the_hashed_fields_are_every_stored_field() -> None:
    names = {f.name for f in hashed_fields()}
    # A sanity check that the introspection sees the chain's own fields and the content.
    assert {"prev_hash", "details", "actor", "at", "action", "subject"} <= names


@pytest.mark.parametrize("name", [f.name for f in hashed_fields()])
def test_changing_any_hashed_field_alone_is_detected(tenant_a: Tenant, name: str) -> None:
    field = AuditEntry._meta.get_field(name)
    victim = entries(tenant_a)[-1]  # the last entry: no later entry's prev_hash gives the change away
    before = getattr(victim, field.attname)
    AuditEntry.objects.filter(pk=victim.pk).update(**{field.attname: altered(field, before)})
    assert getattr(AuditEntry.objects.get(pk=victim.pk), field.attname) != before

    problems = log.verify()
    assert any(p.entry_id == victim.pk and p.reason == EDITED for p in problems), (
        f"changing AuditEntry.{name} of entry #{victim.pk} was not detected as an edit: {problems}"
    )


def test_a_removed_entry_is_detected_even_with_the_tracks_covered(tenant_a: Tenant) -> None:
    first, removed, following, *_ = entries(tenant_a)
    AuditEntry.objects.filter(pk=removed.pk).delete()
    AuditEntry.objects.filter(pk=following.pk).update(prev_hash=first.hash)
    head = AuditHead.objects.get(pk=1)
    AuditHead.objects.filter(pk=1).update(count=head.count - 1)

    problems = log.verify()
    assert problems, "an entry was removed, the next one re-linked and the count lowered: verify() saw nothing"
    assert any(p.entry_id == following.pk and p.reason == EDITED for p in problems), problems


@pytest.mark.parametrize("covered", ["last_hash", "count"])
def test_removing_the_last_entry_is_detected_with_half_the_head_rewritten(tenant_a: Tenant, covered: str) -> None:
    """The head holds both the last hash and the count: rewriting one of them to match the shortened
    chain is not enough. (Rewriting both, like recomputing every hash, needs more than this log can
    see: the head is the anchor that backups and `classnote audit verify` reports keep.)"""
    *_, before_last, last = entries(tenant_a)
    AuditEntry.objects.filter(pk=last.pk).delete()
    head = AuditHead.objects.get(pk=1)
    if covered == "last_hash":
        AuditHead.objects.filter(pk=1).update(last_hash=before_last.hash)
    else:
        AuditHead.objects.filter(pk=1).update(count=head.count - 1)
    problems = log.verify()
    assert any(p.entry_id is None and "removed" in p.reason for p in problems), problems


def test_the_untouched_chain_verifies(tenant_a: Tenant) -> None:
    entries(tenant_a)
    assert log.verify() == []
    assert AuditHead.objects.count() == 1, "the chain has one head"


# --- The format of the chain is stable: logs written before an upgrade still verify after it ------


def test_the_hash_of_an_entry_is_the_documented_sha256(db: None) -> None:
    """The hash is SHA-256 over the previous hash, a line break and the entry's content as canonical
    JSON (sorted keys, no spaces, UTF-8). Written out here, independently of classnote.audit.log: a
    change of the format (a renamed key, another separator) would make every entry written before
    the change fail `classnote audit verify`."""
    at = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        entry = log.record(None, "test.pinned", municipality_id=7, school_id=8, subject=9, note="ünïcode")
    canonical = (
        '{"action":"test.pinned","actor":null,"actor_role":"","at":"2026-04-01T09:30:00+00:00",'
        '"details":{"note":"ünïcode"},"municipality":7,"school":8,"subject":9,"target_id":"","target_type":""}'
    )
    expected = hashlib.sha256(f"{log.GENESIS}\n{canonical}".encode()).hexdigest()
    assert entry.prev_hash == "0" * 64
    assert entry.hash == expected
    following = log.record(None, "test.next", municipality_id=7, school_id=8)
    assert following.prev_hash == expected
    assert log.verify() == []


def test_an_entry_about_a_person_names_them_as_its_subject(tenant_a: Tenant) -> None:
    """The subject is how a pupil sees who viewed their data (privacy/views/): an entry whose target
    is an account names that account, unless the caller names another subject."""
    entry = log.record(tenant_a.teacher, "test.about_a_pupil", target=tenant_a.student)
    assert entry.subject_id == tenant_a.student.pk
    assert (entry.target_type, entry.target_id) == ("User", str(tenant_a.student.pk))
    other = log.record(tenant_a.teacher, "test.named_subject", target=tenant_a.student, subject=tenant_a.classmate)
    assert other.subject_id == tenant_a.classmate.pk
    not_a_person = log.record(tenant_a.teacher, "test.about_a_lesson", target=tenant_a.lesson)
    assert not_a_person.subject_id is None
    assert (not_a_person.target_type, not_a_person.target_id) == ("Lesson", str(tenant_a.lesson.pk))


def test_an_entry_belongs_to_the_actors_tenant_unless_told_otherwise(tenant_a: Tenant, tenant_b: Tenant) -> None:
    """Each tenant's admins read their own tenant's log (audit/access.py): the entry's municipality and
    school default to the actor's, and the actor's role is kept as it was at the time."""
    entry = log.record(tenant_a.teacher, "test.tenant")
    assert (entry.municipality_id, entry.school_id) == (tenant_a.municipality.pk, tenant_a.school.pk)
    assert (entry.actor_id, entry.actor_role) == (tenant_a.teacher.pk, "teacher")
    told = log.record(tenant_a.teacher, "test.told", municipality_id=tenant_b.municipality.pk, school_id=None)
    assert told.municipality_id == tenant_b.municipality.pk and told.school_id == tenant_a.school.pk
    # A municipal admin (no school of their own) acting on a school's behalf: the school is kept.
    board = log.record(tenant_a.municipal_admin, "test.for_a_school", school_id=tenant_a.school.pk)
    assert (board.municipality_id, board.school_id) == (tenant_a.municipality.pk, tenant_a.school.pk)
    nobody = log.record(None, "test.system")
    assert (nobody.actor_id, nobody.actor_role, nobody.municipality_id, nobody.school_id) == (None, "", None, None)
