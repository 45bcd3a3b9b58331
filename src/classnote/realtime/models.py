"""Stored events. Every event is written (with a per-channel sequence number) in the same
transaction as the change it announces, and published only after that commits; a client that
reconnects with Last-Event-ID gets exactly what it missed, from here."""

from __future__ import annotations

from django.db import models


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
    audience = models.JSONField(default=dict)
    # Shown to every recipient; "per_user" holds slices only the named user receives.
    data = models.JSONField(default=dict)
    per_user = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "seq"], name="event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}#{self.seq} {self.kind}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------
from classnote.privacy import inventory as _inv  # noqa: E402
from classnote.privacy.inventory import Audience as _A  # noqa: E402
from classnote.privacy.inventory import Category as _C  # noqa: E402
from classnote.privacy.inventory import Purpose as _P  # noqa: E402

# Events repeat what they announce (a pupil's display name with a submission, a card's excerpt) so
# that a reconnecting device can catch up. They are transient: kept for replay only.
_EVENT = _inv.personal(
    _C.LEARNING_RECORD,
    purposes=[_P.LESSON],
    retention="until the lesson's events are purged (replay window)",
    audience=[_A.SELF, _A.CLASS_TEACHERS, _A.RECIPIENTS],
    mext_class="II",
)
_inv.declare(Channel, not_personal=["id", "name", "last_seq"])
_inv.declare(
    Event,
    personal={"data": _EVENT, "per_user": _EVENT, "audience": _EVENT},
    not_personal=["id", "channel", "seq", "kind", "created_at"],
)
