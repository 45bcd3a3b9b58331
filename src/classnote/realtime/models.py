"""Stored events. Every event is written (with a per-channel sequence number) in the same
transaction as the change it announces, and published only after that commits; a client that
reconnects with Last-Event-ID gets exactly what it missed, from here."""

from __future__ import annotations

import json

from django.db import models
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.realtime.channels import channels_of


class Channel(models.Model):
    """One stream of events, e.g. "lesson:42"; last_seq hands out sequence numbers."""

    name = models.CharField(max_length=64, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    # Who receives it: {"users": [ids]} and/or {"roles": ["teacher", "student"]}; see realtime.audience.
    audience = models.JSONField(default=dict, verbose_name=_("recipients"))
    # Shown to every recipient; "per_user" holds slices only the named user receives.
    data = models.JSONField(default=dict, verbose_name=_("event content"))
    per_user = models.JSONField(default=dict, verbose_name=_("content per person"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Lesson event")
        constraints = [models.UniqueConstraint(fields=["channel", "seq"], name="event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}#{self.seq} {self.kind}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------

# Events keep ids (of the submission, the cards, the sender, the audience) and box or lesson state so
# that a reconnecting device can catch up; names, titles and comments travel only live and a replay
# reads them again under today's rules (realtime.channels). Events stored before that change may
# still repeat a name or an excerpt. They are transient: kept for replay only.
_EVENT = _inv.personal(
    _C.LEARNING_RECORD,
    purposes=[_P.LESSON],
    retention="until the lesson's events are purged (replay window)",
    audience=[_A.SELF, _A.CLASS_TEACHERS, _A.RECIPIENTS],
    mext_class="II",
)


def events_of(user: object) -> models.QuerySet[Event]:
    """Stored events that concern a person: addressed to them, carrying a slice for them, or
    (events stored before they kept ids only) repeating their name or student ID. Only the channels
    the apps register for the person (realtime.channels.channels_of) are searched."""
    pk = getattr(user, "pk", 0)
    markers = [str(v) for v in (getattr(user, "display_name", ""), getattr(user, "student_number", "")) if v]
    found = []
    events = Event.objects.filter(channel__name__in=channels_of(user)).only("pk", "audience", "data", "per_user")
    for event in events:
        text = json.dumps([event.data, event.per_user], ensure_ascii=False)
        if (
            pk in (event.audience or {}).get("users", [])
            or str(pk) in (event.per_user or {})
            or any(marker in text for marker in markers)
        ):
            found.append(event.pk)
    return Event.objects.filter(pk__in=found)


_inv.declare(Channel, not_personal=["id", "name", "last_seq"])
_inv.declare(
    Event,
    personal={"data": _EVENT, "per_user": _EVENT, "audience": _EVENT},
    not_personal=["id", "channel", "seq", "kind", "created_at"],
    subject=[_inv.link(events_of, _inv.Erase.DELETE)],
)
