"""Access rules of stored files that the files app decides itself: a user's own uploads. Who else
may read a file follows from the cards it is on (classnote.cards.access.readable_files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from classnote.files.models import StoredFile
from classnote.tenancy.access import get_one

if TYPE_CHECKING:
    from classnote.accounts.models import User


def own_files(user: User) -> QuerySet[StoredFile]:
    return StoredFile.objects.filter(owner_id=user.pk)


def get_own_file(user: User, pk: object) -> StoredFile:
    return get_one(own_files(user), pk)
