"""What deleting a member of staff does to other people's rows, and what the receipt says about it.

The receipt (rights.DeletionReceipt) is the record of what a deletion did, counted per table; the
tests of the deleted pupil (test_disclosure_and_deletion.py) look at what is gone. Here a teacher
and a municipal administrator are deleted: the rows that belong to others stay, without the link
(Erase.DETACH), every linked table is visited even when an earlier link of the same table found
nothing, and the receipt counts each unlinking.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from classnote.cards.models import Card
from classnote.privacy.models import SupportGrant
from classnote.rights.erasure import Plan, erase
from tests.conftest import Tenant


def test_deleting_a_teacher_keeps_the_pupils_copies_without_the_link(tenant_a: Tenant) -> None:
    """The teacher sent a card to the class: the pupils' copies are the pupils' work and stay, no
    longer naming the sender. (Card's links: owner, then peer copies — none for a teacher — then
    sent_by: the empty middle link must not end the walk over the card's links.)"""
    teacher = tenant_a.teacher
    copies = list(Card.objects.filter(sent_by=teacher).exclude(owner=teacher).values_list("pk", flat=True))
    assert len(copies) >= 2

    receipt = erase(teacher, actor=tenant_a.school_admin, reason="test")

    assert Card.objects.filter(pk__in=copies).count() == len(copies)
    assert not Card.objects.filter(pk__in=copies, sent_by__isnull=False).exists()
    assert receipt.unlinked.get("cards.Card") == len(copies), receipt.unlinked
    assert receipt.deleted["accounts.User"] == 1


def test_a_row_linked_twice_is_counted_twice_on_the_receipt(tenant_a: Tenant) -> None:
    """A support grant the administrator both gave and revoked is unlinked on both fields; the
    receipt counts each field it cleared."""
    admin = tenant_a.municipal_admin
    now = timezone.now()
    grant = SupportGrant.objects.create(
        municipality=tenant_a.municipality,
        reference="T-1",
        reason="fault",
        granted_by=admin,
        expires_at=now + timedelta(hours=1),
        revoked_by=admin,
        revoked_at=now,
    )

    receipt = erase(admin, actor=None, reason="test")

    grant.refresh_from_db()
    assert grant.granted_by_id is None and grant.revoked_by_id is None
    assert receipt.unlinked["privacy.SupportGrant"] == 2, receipt.unlinked


def test_plans_add_up() -> None:
    """The retention job's dry run adds up the plans of every person it would delete."""
    total = Plan(Counter({"cards.Card": 1}), Counter({"x.Y": 1}), Counter({"audit.AuditEntry": 1}), files=2)
    total.add(Plan(Counter({"cards.Card": 2}), Counter({"x.Y": 3}), Counter({"audit.AuditEntry": 4}), files=5))
    assert total.deleted == Counter({"cards.Card": 3})
    assert total.unlinked == Counter({"x.Y": 4})
    assert total.kept == Counter({"audit.AuditEntry": 5})
    assert total.files == 7
