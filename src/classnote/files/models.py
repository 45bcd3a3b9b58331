"""Uploaded files. The content is checked (not the name), images are re-encoded without EXIF,
and the bytes live behind Django's storage API (local disk or S3-compatible storage) under a
random key; files are served only through views that check access."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.tenancy.models import School


class StoredFile(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF")
        OFFICE = "office", _("Office document")
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")
        TEXT = "text", _("Text")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="files")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files", verbose_name=_("owner")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=200, unique=True, verbose_name=_("storage location"))
    thumbnail_key = models.CharField(max_length=200, blank=True, verbose_name=_("thumbnail location"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("File")

    def __str__(self) -> str:
        return f"file {self.pk}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------

_SEEN_WITH_CARD = [_A.SELF, _A.CLASS_TEACHERS, _A.CLASSMATES_WHEN_SHARED, _A.RECIPIENTS]
_inv.declare(
    StoredFile,
    personal={
        # The bytes behind storage_key: photos and documents a pupil or teacher uploaded (EXIF removed).
        "storage_key": _inv.personal(
            _C.MEDIA,
            purposes=[_P.LESSON, _P.PORTFOLIO],
            retention=_inv.WHILE_ACCOUNT,
            audience=_SEEN_WITH_CARD,
            mext_class="II",
        ),
        "thumbnail_key": _inv.personal(
            _C.MEDIA, purposes=[_P.LESSON], retention=_inv.WHILE_ACCOUNT, audience=_SEEN_WITH_CARD, mext_class="II"
        ),
        "name": _inv.personal(
            _C.MEDIA,
            purposes=[_P.LESSON, _P.PORTFOLIO],  # the file keeps its name in the portfolio ZIP
            retention=_inv.WHILE_ACCOUNT,
            audience=_SEEN_WITH_CARD,
            mext_class="II",
        ),
        "owner": _inv.personal(
            _C.ACCOUNT, purposes=[_P.LESSON], retention=_inv.WHILE_ACCOUNT, audience=[_A.SELF, _A.CLASS_TEACHERS]
        ),
    },
    not_personal=["id", "school", "kind", "content_type", "size", "sha256", "width", "height", "created_at"],
    subject=[_inv.link("owner", _inv.Erase.DELETE)],
)
