"""django-storages' S3Storage with deadlines, inside the guard (classnote.files.storage).

botocore waits 60 s to connect and 60 s for each read, three times over, by default: a frozen
server held a request thread for minutes. The options ``connect_timeout``, ``read_timeout`` (seconds)
and ``max_attempts`` (``S3_CONNECT_TIMEOUT``, ``S3_READ_TIMEOUT``, ``S3_MAX_ATTEMPTS``) become the
client's ``client_config`` (botocore's standard retry mode), with the addressing style and signature
version that S3Storage would otherwise put there itself.

Opening a file for reading downloads it at once, inside the guard and its deadlines (to memory,
or to a temporary file past ``max_memory_size``): the response then streams from here, and a
storage that hangs is noticed by the guarded call, not half-way through a response.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError
from storages.backends import s3

from classnote.files.guard import guard
from classnote.files.storage import Guarded

DEADLINES = {"connect_timeout": 2, "read_timeout": 5, "max_attempts": 2}


def client_config(
    *, connect_timeout: float, read_timeout: float, max_attempts: int, addressing_style: str, signature_version: str
) -> Config:
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        s3={"addressing_style": addressing_style},
        signature_version=signature_version,
    )


class S3Storage(Guarded, s3.S3Storage):
    def __init__(self, **options: Any) -> None:
        deadlines = {name: options.pop(name, default) for name, default in DEADLINES.items()}
        if options.get("client_config") is None:
            options["client_config"] = client_config(
                **deadlines,
                addressing_style=options.get("addressing_style") or "auto",
                signature_version=options.get("signature_version") or "s3v4",
            )
        super().__init__(**options)

    def _open(self, name: str, mode: str = "rb") -> Any:
        return guard.run(self._open_now, name, mode)

    def _open_now(self, name: str, mode: str) -> Any:
        file = s3.S3Storage._open(self, name, mode)
        if "r" in mode:
            try:
                file.file  # noqa: B018 - the download
            except ClientError as error:  # gone between the HEAD and the GET
                if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    raise FileNotFoundError(name) from None
                raise
        return file
