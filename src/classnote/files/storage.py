"""The storages of settings.STORAGES["default"]: Django's, with every call through the guard.

``FileSystemStorage`` (the embedded default, under ``CLASSNOTE_HOME/media``) and
``classnote.files.s3.S3Storage`` (django-storages', when ``S3_BUCKET`` is set) run each call that
touches the disk or the network inside classnote.files.guard: a bounded number at once, refused at
once while the storage is known to be down, and an outage comes out as ``outages.Unavailable``
(503, or 507 for a full disk) instead of the driver's error.

A write that fails half-way on the local disk (no space left) removes what it wrote: a file is
either complete or absent, never a truncated copy a later download would serve.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from django.core.files.storage import FileSystemStorage as DjangoFileSystemStorage

from classnote.files.guard import guard


class Guarded:
    """Storage methods that reach the disk or the network, each one guarded call."""

    def _open(self, name: str, mode: str = "rb") -> Any:
        return guard.run(super()._open, name, mode)  # type: ignore[misc]

    def _save(self, name: str, content: Any) -> str:
        return guard.run(super()._save, name, content)  # type: ignore[misc]

    def delete(self, name: str) -> None:
        guard.run(super().delete, name)  # type: ignore[misc]

    def exists(self, name: str) -> bool:
        return guard.run(super().exists, name)  # type: ignore[misc]

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return guard.run(super().listdir, path)  # type: ignore[misc]

    def size(self, name: str) -> int:
        return guard.run(super().size, name)  # type: ignore[misc]

    def get_accessed_time(self, name: str) -> Any:
        return guard.run(super().get_accessed_time, name)  # type: ignore[misc]

    def get_created_time(self, name: str) -> Any:
        return guard.run(super().get_created_time, name)  # type: ignore[misc]

    def get_modified_time(self, name: str) -> Any:
        return guard.run(super().get_modified_time, name)  # type: ignore[misc]


class FileSystemStorage(Guarded, DjangoFileSystemStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saving = threading.local()

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        name = super().get_available_name(name, max_length)
        tried = getattr(self._saving, "names", None)
        if tried is not None:  # a clash inside _save: the next name it tries
            tried.append(name)
        return name

    def _save(self, name: str, content: Any) -> str:
        return guard.run(self._save_whole, name, content)

    def _save_whole(self, name: str, content: Any) -> str:
        # Django's _save opens the file with O_EXCL, so the file it was writing when it failed is
        # its own: NAME, or the last name it took after a clash (the earlier ones were somebody's).
        self._saving.names = [name]
        try:
            return str(DjangoFileSystemStorage._save(self, name, content))  # type: ignore[attr-defined]
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(self.path(self._saving.names[-1]))
            raise
        finally:
            self._saving.names = None
