"""``{% idempotency_field %}``: a hidden ``idempotency_key`` for a form whose write must not run twice
(core/idempotency.py). Without JavaScript, re-sending the same form (reloading the error page after a
timeout) sends the same key, and the server answers with the first outcome. With JavaScript, app.js
sends the form itself with the Idempotency-Key header and retries it (a key per change)."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from classnote.core.idempotency import FIELD

register = template.Library()


@register.simple_tag
def idempotency_field() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, uuid.uuid4())
