from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"SITE_NAME": settings.CLASSNOTE_SITE_NAME, "LANGUAGES": settings.LANGUAGES}
