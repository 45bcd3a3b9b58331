"""``user_content``: marks what a person wrote (a name, a title, card text) as not interface text.

``{{ value|user_content }}`` is the escaped value inside ``<span translate="no" data-user-content>``:
translation tools leave it alone and the furigana post-processor (classnote.base.ruby) never puts
readings over it. Also for values set into translated sentences:
``{% blocktranslate with name=user.display_name|user_content %}Hello, {{ name }}{% endblocktranslate %}``."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def user_content(value: object) -> SafeString:
    return format_html('<span translate="no" data-user-content>{}</span>', value)
