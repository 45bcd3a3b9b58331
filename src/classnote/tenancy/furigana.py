"""Who reads the pupils' pages with furigana, and the response post-processor that adds them.

A school turns furigana on for its lower grades (``School.furigana_up_to_grade``, 0: off). A pupil
gets readings over the kanji of the interface when one of the classes they attend in their school
(not archived) has a grade at or below that number, and the page is in Japanese. Teachers and
administrators never do. The readings and the HTML rewriting are classnote.base.ruby's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import F
from django.http import HttpRequest, HttpResponse

from classnote.base import ruby
from classnote.base.roles import Role
from classnote.tenancy import access

if TYPE_CHECKING:
    from classnote.accounts.models import User


def reads_with_furigana(user: User) -> bool:
    """Whether the pupil is in a class whose grade is at or below their school's furigana setting."""
    if user.role != Role.STUDENT or user.school_id is None:
        return False
    return (
        access.readable_classes(user)
        .filter(archived=False, grade__isnull=False, grade__lte=F("school__furigana_up_to_grade"))
        .exists()
    )


def _wants_ruby(request: HttpRequest, response: HttpResponse) -> bool:
    user = getattr(request, "user", None)
    return (
        user is not None
        and user.is_authenticated
        and user.role == Role.STUDENT
        and getattr(request, "LANGUAGE_CODE", "") == "ja"
        and response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and not response.has_header("Content-Disposition")
        and reads_with_furigana(user)
    )


class FuriganaMiddleware:
    """Adds <ruby> readings to the HTML pages of pupils who read with furigana (after the view,
    inside the language middleware, so the page's language is known)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _wants_ruby(request, response):
            charset = response.charset or "utf-8"
            response.content = ruby.annotate(response.content.decode(charset)).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
