"""Free text from forms and the API, made safe to store once for every app."""

from __future__ import annotations


def clean_text(value: str, limit: int) -> str:
    """No NUL (PostgreSQL refuses it), trimmed, bounded to LIMIT characters."""
    return value.replace("\x00", "").strip()[:limit]
