"""``{% idempotency_field %}``: a hidden ``idempotency_key`` for a form whose write must not run twice
(core/idempotency.py). Without JavaScript, re-sending the same form (reloading the error page after a
timeout) sends the same key, and the server answers with the first outcome. With JavaScript, app.js
sends the form itself with the Idempotency-Key header and retries it (a key per change)."""

from __future__ import annotations

import uuid

from django import template

from classnote.core.idempotency import FIELD

register = template.Library()


@register.inclusion_tag("core/_idempotency_field.html")
def idempotency_field() -> dict[str, str]:
    return {"name": FIELD, "value": str(uuid.uuid4())}
