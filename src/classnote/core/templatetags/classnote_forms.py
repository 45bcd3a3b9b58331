"""`{% static_form form "template.html" %}`: render an unbound form's fields once per process and language.

Rendering a form's widgets goes through Django's form renderer, template by template: on the lesson
page, the blank "new card" form cost a quarter of the page's server time (bench/classroom/profile.py).
Forms whose fields and choices never depend on the request or the user say so with
`static_fields = True`; their unbound rendering is then the same for everyone with the same
initial values and language, and is kept in a small per-process table. A bound form (with the
user's input and errors) and any form without that flag are rendered every time.
The template must not use anything but `form` (no csrf token, no request): it is rendered with
`form` alone.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.translation import get_language

register = template.Library()

_MAX_ENTRIES = 512
_rendered: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = Lock()


def _render(form: Any, template_name: str) -> Any:
    # The engine's output is already marked safe (escaped while rendering); it is kept as it is.
    return get_template(template_name).render({"form": form})


@register.simple_tag
def static_form(form: Any, template_name: str) -> Any:
    if form.is_bound or not getattr(form, "static_fields", False):
        return _render(form, template_name)
    initial = tuple(sorted((name, str(value)) for name, value in form.initial.items()))
    key = (
        template_name,
        type(form).__module__,
        type(form).__qualname__,
        form.prefix,
        str(form.auto_id),
        initial,
        get_language(),
    )
    with _lock:
        html = _rendered.get(key)
        if html is not None:
            _rendered.move_to_end(key)
    if html is None:
        html = _render(form, template_name)
        with _lock:
            _rendered[key] = html
            while len(_rendered) > _MAX_ENTRIES:
                _rendered.popitem(last=False)
    return html
