"""Lessons, submission boxes and submissions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.tenancy.models import SchoolClass


class Lesson(models.Model):
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(_("title"), max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Students may send cards to each other only while the teacher allows it.
    peer_sending = models.BooleanField(_("students may send cards to each other"), default=False)
    # "Eyes on me": while set (and the lesson open, and within LOCK_LAPSE), the pupils' screens are
    # covered and their submissions refused (lessons.actions.set_screen_lock).
    locked_at = models.DateTimeField(_("screens locked at"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("screens locked by"),
    )

    # A lock left on lapses: a teacher who forgets to unlock must not keep the pupils out of their
    # homework in the evening. A lesson period is 45–50 minutes.
    LOCK_LAPSE = timedelta(hours=1)

    # Whether the acting user teaches it: set by lessons.access.with_relation (get_lesson_for), not stored.
    teaching: bool

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @staticmethod
    def channel_name(lesson_id: int) -> str:
        """The lesson's event channel (classnote.realtime): every change of the lesson is announced there."""
        return f"lesson:{lesson_id}"

    @property
    def channel(self) -> str:
        return self.channel_name(self.pk)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def allows_peer_sending(self) -> bool:
        """Pupils may send cards to each other only while the teacher allows it and the lesson is open."""
        return self.peer_sending and self.is_open

    def lock_seconds_left(self, now: datetime | None = None) -> int:
        """How long the pupils' screens stay locked from now: 0 when not locked (never locked,
        unlocked, the lesson ended, or the lock lapsed)."""
        if self.locked_at is None or not self.is_open:
            return 0
        left = self.locked_at + self.LOCK_LAPSE - (now or timezone.now())
        return max(0, int(left.total_seconds()))

    @property
    def is_locked(self) -> bool:
        """Whether the pupils' screens are locked now (teachers are never locked)."""
        return self.lock_seconds_left() > 0


class SubmissionBox(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="boxes")
    title = models.CharField(_("title"), max_length=120)
    is_open = models.BooleanField(_("open"), default=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    # "Share answers": every student sees the classmates' current submissions until turned off.
    sharing = models.BooleanField(default=False)
    sharing_anonymous = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Who has submitted, who is working, who has not opened: set by the teacher's lesson page, not stored.
    roster: Any

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.title

    def accepts_submissions(self) -> bool:
        """A box takes submissions while it is open (closing the lesson closes its boxes)."""
        return self.is_open

    @property
    def shares_anonymously(self) -> bool:
        """The class sees the answers without names now (the projector then hides names by default)."""
        return self.sharing and self.sharing_anonymous

    def is_late(self, at: datetime) -> bool:
        """Whether a submission made at `at` is late: after the box's deadline, if it has one."""
        return self.deadline is not None and at > self.deadline


class Submission(models.Model):
    """One submission; resubmitting adds a new row and keeps the earlier ones as history."""

    class Mark(models.TextChoices):
        """The short mark a Japanese teacher writes on returned work (◎ ○ △), optional."""

        EXCELLENT = "◎", _("◎ Excellent")
        GOOD = "○", _("○ Good")
        KEEP_TRYING = "△", _("△ Keep trying")

    box = models.ForeignKey(SubmissionBox, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("pupil")
    )
    card = models.ForeignKey("cards.Card", on_delete=models.PROTECT, related_name="submissions", verbose_name=_("card"))
    number = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    submitted_at = models.DateTimeField(auto_now_add=True, verbose_name=_("submitted at"))
    is_late = models.BooleanField(default=False, verbose_name=_("submitted late"))
    returned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("returned at"))
    return_comment = models.TextField(max_length=2000, blank=True, verbose_name=_("teacher's comment"))
    return_mark = models.CharField(max_length=1, choices=Mark.choices, blank=True, verbose_name=_("teacher's mark"))

    class Meta:
        verbose_name = _("Submission")
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["box", "student"], condition=models.Q(is_current=True), name="one_current_submission"
            ),
        ]
        indexes = [models.Index(fields=["box", "is_current"])]

    def __str__(self) -> str:
        return f"submission #{self.pk}"


class LessonActivity(models.Model):
    """When a pupil first opened the lesson (its page or one of its cards) and first worked on a card
    of it: the teacher's roster strip tells "working on it" from "not yet opened". Written on these
    two transitions only (lessons.activity), never on every autosave."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="activity", verbose_name=_("lesson"))
    pupil = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_activity", verbose_name=_("pupil")
    )
    opened_at = models.DateTimeField(_("first opened the lesson at"))
    drafted_at = models.DateTimeField(_("first worked on a card of the lesson at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Lesson activity")
        constraints = [models.UniqueConstraint(fields=["lesson", "pupil"], name="one_activity_per_pupil")]

    def __str__(self) -> str:
        return f"activity #{self.pk}"


class Group(models.Model):
    """A named group of students in a class, to send cards to part of the class."""

    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=80)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="lesson_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------


def _record(*audience: _A, also: tuple[_P, ...] = ()) -> _inv.Personal:
    return _inv.personal(
        _C.LEARNING_RECORD,
        purposes=[_P.LESSON, _P.PORTFOLIO, *also],
        retention=_inv.WHILE_ACCOUNT,
        audience=list(audience),
        mext_class="II",
    )


_inv.declare(
    Lesson,
    not_personal=[
        "id",
        "school_class",
        "title",
        "created_by",
        "created_at",
        "closed_at",
        "peer_sending",
        "locked_at",
        "locked_by",  # a teacher's id, as created_by
    ],
)
_inv.declare(
    SubmissionBox,
    not_personal=[
        "id",
        "lesson",
        "title",
        "is_open",
        "deadline",
        "sharing",
        "sharing_anonymous",
        "created_at",
    ],
)
_inv.declare(
    Submission,
    personal={
        "student": _record(_A.SELF, _A.CLASS_TEACHERS),
        "card": _record(_A.SELF, _A.CLASS_TEACHERS, _A.CLASSMATES_WHEN_SHARED),
        "submitted_at": _record(_A.SELF, _A.CLASS_TEACHERS),
        "is_late": _record(_A.SELF, _A.CLASS_TEACHERS, also=(_P.STATISTICS,)),  # the share of late submissions
        "return_comment": _record(_A.SELF, _A.CLASS_TEACHERS),
        "returned_at": _record(_A.SELF, _A.CLASS_TEACHERS),
        "return_mark": _record(_A.SELF, _A.CLASS_TEACHERS),
    },
    not_personal=["id", "box", "number", "is_current"],
    subject=[_inv.link("student", _inv.Erase.DELETE)],
)
_inv.declare(
    LessonActivity,
    personal={
        # Seen by the class's teachers on the lesson page (the roster strip); never by classmates.
        "pupil": _inv.personal(
            _C.TECHNICAL, purposes=[_P.LESSON], retention=_inv.WHILE_ACCOUNT, audience=[_A.CLASS_TEACHERS]
        ),
        "opened_at": _inv.personal(
            _C.TECHNICAL, purposes=[_P.LESSON], retention=_inv.WHILE_ACCOUNT, audience=[_A.CLASS_TEACHERS]
        ),
        "drafted_at": _inv.personal(
            _C.TECHNICAL, purposes=[_P.LESSON], retention=_inv.WHILE_ACCOUNT, audience=[_A.CLASS_TEACHERS]
        ),
    },
    not_personal=["id", "lesson"],
    subject=[_inv.link("pupil", _inv.Erase.DELETE)],
)
_inv.declare(Group, not_personal=["id", "school_class", "name"])
