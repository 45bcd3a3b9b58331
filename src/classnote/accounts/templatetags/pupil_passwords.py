"""``{% pupil_password style password %}``: a new password as its pupil gets it on paper —
pictures as pictures with their names, a Japanese word with its romaji, random letters spaced."""

from __future__ import annotations

from typing import Any

from django import template

from classnote.accounts import credentials
from classnote.tenancy.models import PasswordStyle

register = template.Library()


@register.inclusion_tag("accounts/pupil_password.html")
def pupil_password(style: str, password: str) -> dict[str, Any]:
    return {
        "style": style,
        "password": password,
        "pictures": credentials.pictures_of(password) if style == PasswordStyle.PICTURES else [],
        "romaji": credentials.romaji_of(password) if style == PasswordStyle.WORD_NUMBER else "",
    }
