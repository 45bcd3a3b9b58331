"""The one way the domain refuses: ``ActionError`` with a translated message.

Domain code (actions, access rules, queries) never raises ``Http404`` or redirects. Each front door
turns a refusal into its own answer in one place: the web into a page message (or the error page
for ``NotFound`` / ``Refused``, classnote.core.middleware.RefusalMiddleware), the API into a JSON
``{"detail": ...}`` with ``status`` (classnote.api.api).
"""

from __future__ import annotations

from django.utils.translation import gettext as _


class ActionError(Exception):
    """A refusal the user can act on; the message is translated. ``status`` is the HTTP status
    the front doors answer with (400 unless a subclass says otherwise); ``retry_after``, seconds
    after which trying again may succeed (a busy server's 503), goes into a Retry-After header."""

    status = 400
    retry_after: int | None = None


class NotFound(ActionError):
    """The object is missing *or* the user may not see it: the two are never told apart, so an id
    of another tenant reveals nothing."""

    status = 404

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("Not found."))


class Refused(ActionError):
    """The user may see the object but not do this to it (403), with a message saying why."""

    status = 403
