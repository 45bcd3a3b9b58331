"""Cards: the unit of work in a lesson. A sent card is a copy; the original stays with the sender."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.base.roles import Role
from classnote.files.models import StoredFile
from classnote.tenancy.models import School


class Background(models.TextChoices):
    """Thinking-tool templates (drawn by classnote.cards.templates)."""

    NONE = "", _("None")
    VENN = "venn", _("Venn diagram")
    XYW = "xyw", _("X/Y/W chart")
    FISHBONE = "fishbone", _("Fishbone")
    PYRAMID = "pyramid", _("Pyramid")
    KWL = "kwl", _("KWL chart")
    PMI = "pmi", _("PMI chart")
    DIAMOND = "diamond", _("Diamond ranking")


class Card(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        FILE = "file", _("File")
        LINK = "link", _("Web link")
        DRAWING = "drawing", _("Drawing")

    class Library(models.TextChoices):
        NONE = "", _("Not in a library")
        PERSONAL = "personal", _("My materials")
        SCHOOL = "school", _("School materials")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cards", verbose_name=_("owner")
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="cards")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    title = models.CharField(_("title"), max_length=120, blank=True)
    text = models.TextField(_("text"), max_length=20000, blank=True)
    link_url = models.URLField(_("web link"), max_length=2000, blank=True)
    file = models.ForeignKey(
        StoredFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="cards", verbose_name=_("file")
    )
    # Drawing: [{"c": "#rrggbb", "w": width, "e": eraser?, "p": [[x, y], ...]}] on a 1000×750 canvas.
    strokes = models.JSONField(default=list, blank=True, verbose_name=_("drawing"))
    # The surface's text boxes, stickies and pictures (classnote.cards.surface; a picture names one of
    # its owner's files): on a drawing card, its text is theirs.
    items = models.JSONField(default=list, blank=True, verbose_name=_("text boxes, stickies and pictures"))
    background = models.CharField(_("background"), max_length=10, choices=Background.choices, blank=True)
    # Autosave: a save must name the version it edited; a stale one is refused, never silently lost.
    version = models.PositiveIntegerField(default=1)
    library = models.CharField(max_length=10, choices=Library.choices, blank=True)
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE, null=True, blank=True, related_name="cards")
    origin = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    # A submitted snapshot: frozen, kept as history.
    frozen = models.BooleanField(default=False)
    # Linked cards: an ordered sequence that can be presented one after another.
    sequence = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="sequence_items")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Card")
        ordering = ["position", "created_at"]
        indexes = [
            models.Index(fields=["owner", "lesson"]),
            models.Index(fields=["school", "library"]),
        ]

    def __str__(self) -> str:
        return f"card #{self.pk}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------

_WORK = [_A.SELF, _A.CLASS_TEACHERS, _A.CLASSMATES_WHEN_SHARED, _A.RECIPIENTS]


def _work(category: _C = _C.LEARNING_RECORD) -> _inv.Personal:
    return _inv.personal(
        category, purposes=[_P.LESSON, _P.PORTFOLIO], retention=_inv.WHILE_ACCOUNT, audience=_WORK, mext_class="II"
    )


def peer_copies_of(person: object) -> models.QuerySet[Card]:
    """Copies of a pupil's cards that they sent to classmates (peer sending)."""
    if getattr(person, "role", "") != Role.STUDENT:
        return Card.objects.none()
    return Card.objects.filter(sent_by_id=getattr(person, "pk", 0))


_inv.declare(
    Card,
    personal={
        "owner": _work(_C.ACCOUNT),
        "title": _work(),
        "text": _work(),
        "link_url": _work(),
        "strokes": _work(),
        "items": _work(),
        "file": _work(_C.MEDIA),
        "sent_by": _work(_C.ACCOUNT),
    },
    not_personal=[
        "id",
        "school",
        "kind",
        "background",
        "version",
        "library",
        "lesson",
        "origin",
        "frozen",
        "sequence",
        "position",
        "created_at",
        "updated_at",
    ],
    # Teaching material a teacher sent stays with its recipients, without the link to the sender;
    # copies a pupil sent to classmates are the pupil's own work and go with them.
    subject=[
        _inv.link("owner", _inv.Erase.DELETE),
        _inv.link(peer_copies_of, _inv.Erase.DELETE),
        _inv.link("sent_by", _inv.Erase.DETACH),
    ],
)
