"""The components of the public status page: what the prober checks, end to end, as a user would.

A component is user-facing when a failed probe means a user's operation failed; the whole service's
availability is computed over the user-facing ones only (docs/operations.md, *Status figures*).
Background jobs and backups have their own figures and bars but do not count against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Component:
    key: str
    name: str | Promise
    description: str | Promise
    user_facing: bool
    # The latency objective of the component's operation: a probe that succeeded but took longer
    # counts as not available (it answered, so it still counts as up).
    objective_ms: int


SIGN_IN = "sign-in"
LESSONS = "lessons"
FILES = "files"
API = "api"
JOBS = "jobs"
BACKUPS = "backups"

COMPONENTS: dict[str, Component] = {
    c.key: c
    for c in (
        Component(SIGN_IN, _("Sign-in"), _("Logging in to classnote"), True, 2000),
        Component(
            LESSONS, _("Lessons and cards"), _("Opening a lesson, sending cards and their live delivery"), True, 2000
        ),
        Component(FILES, _("File storage"), _("Uploading and opening pictures and files"), True, 3000),
        Component(API, _("API"), _("The JSON API used by apps and integrations"), True, 1000),
        Component(JOBS, _("Background jobs"), _("Scheduled work such as retention and notifications"), False, 120_000),
        Component(BACKUPS, _("Backups"), _("Backups of the data to several locations"), False, 0),
    )
}

USER_FACING: tuple[str, ...] = tuple(key for key, c in COMPONENTS.items() if c.user_facing)
