"""Who is in which class decides what they may see: when a membership ends or changes role, the
person's open event streams are told at once (realtime.events.access_changed) and re-check their
right to the channel. Signals, so that every way a membership goes (the roster page, the API, a
roster import, a class deleted with its memberships) is covered."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from classnote.realtime.events import access_changed
from classnote.tenancy.models import Membership


@receiver(post_save, sender=Membership)
def _membership_saved(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    if not created:  # a new membership only adds access; a changed one (another role) may narrow it
        access_changed([instance.user_id])


@receiver(post_delete, sender=Membership)
def _membership_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    access_changed([instance.user_id])
