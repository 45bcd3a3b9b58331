"""The first upload handler of every request (settings.FILE_UPLOAD_HANDLERS): it stops reading a
multipart body as soon as its files exceed the uploader's limit (their tenant's max_upload_mb).

Without it, Django would spool an upload of any size to a temporary file before a view could look
at it. The request is marked (``request.classnote_upload_too_large``), so the view answers 413
with a message instead of "no file".

Form fields sent before the file are kept: a client should send the CSRF token in the
X-CSRFToken header or as the first form field.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from classnote.files.validation import max_upload_bytes

# Multipart overhead (boundaries, part headers, small form fields) allowed on top of the limit.
MULTIPART_SLACK = 64 * 1024
# Up to this multiple of the limit the rest of the body is read and discarded, so the client gets
# the 413 answer; beyond it the connection is not read any further.
DRAIN_FACTOR = 2


def mark_too_large(request: Any) -> None:
    request.classnote_upload_too_large = True


class UploadLimitHandler(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit: int | None = None
        self.received = 0
        self.declared_length: int | None = None

    def _limit(self) -> int:
        if self.limit is None:
            user = getattr(self.request, "user", None)
            authenticated = user is not None and user.is_authenticated
            # Anonymous visitors upload nothing: every file of theirs is over the limit.
            self.limit = max_upload_bytes(user) if authenticated else 0
        return self.limit

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        self.declared_length = content_length  # parsing goes on as usual; we only count

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self._limit() == 0:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self._limit():
            self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the storing handlers after this one make the file

    def _stop(self) -> None:
        if self.request is not None:
            mark_too_large(self.request)
        declared = self.declared_length or 0
        drain = declared <= DRAIN_FACTOR * self._limit() + MULTIPART_SLACK
        raise StopUpload(connection_reset=not drain)
