"""One object by id for the acting user, Http404 whether it is missing or forbidden.

Built only on the querysets of classnote.tenancy.access (no tenant filter of its own): boxes and
submissions are reached through the lessons the user reads or teaches.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from classnote.accounts.models import ApiToken, User
from classnote.lessons.models import Submission, SubmissionBox
from classnote.tenancy import access


def _first(queryset: Any) -> Any:
    found = queryset.first()
    if found is None:
        raise Http404
    return found


def get_class(user: User, pk: object) -> Any:
    return access.get_class_for(user, pk)


def get_lesson(user: User, pk: object, *, teach: bool = False) -> Any:
    return access.get_lesson_for(user, pk, teach=teach)


def get_card(user: User, pk: object, *, edit: bool = False) -> Any:
    return access.get_card_for(user, pk, edit=edit)


def get_file(user: User, pk: object) -> Any:
    return access.get_file_for(user, pk)


def get_box(user: User, pk: int, *, teach: bool = False) -> SubmissionBox:
    return access.get_box_for(user, pk, teach=teach)


def get_submission(user: User, pk: int) -> Submission:
    """A submission of a lesson the user teaches, or one of the user's own."""
    return access.get_submission_for(user, pk)


def get_token(user: User, pk: int) -> ApiToken:
    return _first(ApiToken.objects.filter(pk=pk, user=user))
