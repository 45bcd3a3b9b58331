"""`{% capture_limits as limits %}`: what the capture dialog (capture.js) may record for this user:
the most bytes of a photo, a sound and a video recording, and the most seconds of each recording."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from classnote.files.models import StoredFile
from classnote.files.validation import max_upload_bytes, media_limit_bytes

register = template.Library()


@register.simple_tag(takes_context=True)
def capture_limits(context: Any) -> dict[str, int]:
    user = context.get("user")
    return {
        "photo_bytes": max_upload_bytes(user),
        "audio_bytes": media_limit_bytes(user, StoredFile.Kind.AUDIO) or 0,
        "video_bytes": media_limit_bytes(user, StoredFile.Kind.VIDEO) or 0,
        "audio_seconds": int(settings.AUDIO_MAX_SECONDS),
        "video_seconds": int(settings.VIDEO_MAX_SECONDS),
    }
