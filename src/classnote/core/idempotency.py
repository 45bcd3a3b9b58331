"""Idempotent writes: a write (POST, PUT, PATCH, DELETE) of a signed-in person that carries an
``Idempotency-Key`` runs at most once; a retry with the same key gets the first outcome again.

Why: when the database is slow, a write can commit after the client gave up (a 503 or 504 from
the proxy). The pupil retries; without a key that makes a second submission.

* The key is the ``Idempotency-Key`` header: 8–128 characters of ``A-Z a-z 0-9 . _ : -`` (else 400).
  A page form without JavaScript may send it as the hidden field ``idempotency_key`` instead, in an
  ``application/x-www-form-urlencoded`` body (the header wins when both are present).
* Recorded with the key, per person (``core.models.IdempotencyKey``): the request's fingerprint
  (method, path with query, SHA-256 of the body; a form as its fields without the key field and its
  files, so the boundary a browser draws anew for each sending of a multipart form does not count)
  and the outcome (status, content type, ``Location``, the body up to 64 KiB; a larger body, or one
  the view marked ``Cache-Control: no-store`` itself (a secret shown once), is replayed empty with
  ``Idempotent-Body-Omitted: true``).
* A key recorded with the same fingerprint: the stored outcome with ``Idempotent-Replayed: true``;
  the view does not run. The same key with another request: 422.
* Otherwise the view runs inside ``transaction.atomic()`` and a 2xx or 3xx answer (not streamed) is
  recorded **in the same transaction**: whenever the write committed, its record did too, so a
  retry after a lost answer finds it. Error answers are not recorded, so a retry runs again: a
  4xx's own writes (an audit entry) commit, a 5xx rolls back everything. Two requests with the same
  key at once: the one that commits second fails on the unique constraint, rolls back its writes and
  answers with the first one's outcome (so does one that failed with a 5xx, e.g. on a constraint
  of the twin's write, once the twin's record is there). Events (``transaction.on_commit``) go out after the outer
  commit, and not at all for a rolled-back loser.
* The pages' writes of signed-in sessions are handled by the middleware, before the write rate
  (``core.throttle``): a replay is no new write. The API's writes (session or token) are handled by
  the API's gate after authentication, CSRF, the role and the objects in the path are checked
  (``api.security.gate``); there a replay counts against the write rate like any call. Anonymous
  requests and requests without a key are not touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from classnote.base.requests import wants_json
from classnote.core.middleware import UserLanguageMiddleware
from classnote.core.models import MAX_STORED_BODY, IdempotencyKey

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
REPLAYED = "Idempotent-Replayed"
BODY_OMITTED = "Idempotent-Body-Omitted"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VALID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_HANDLED = "_classnote_idempotency"
API_PREFIX = "/api/"  # classnote.urls


class InvalidKey(Exception):
    """An Idempotency-Key that is not 8–128 characters of A-Z a-z 0-9 . _ : -"""


def requested_key(request: HttpRequest) -> str | None:
    """The request's key (header, else a plain form's hidden field); None without one."""
    value = request.headers.get(HEADER)
    if value is None and request.content_type == "application/x-www-form-urlencoded":
        value = request.POST.get(FIELD) or None
    if value is None:
        return None
    if not _VALID.fullmatch(value):
        raise InvalidKey
    return value


def body_sha256(request: HttpRequest) -> str:
    """The body's fingerprint. A form (urlencoded or multipart) is fingerprinted by its fields in
    order, without the key field and with line breaks as one "\\n", and by its files' names and
    contents: the same form sent by script (key in the header) and by the browser (key in the
    field) match, and so do two sendings of one multipart form, whose random boundaries differ.
    Parsing it here is what the CSRF check does anyway; the view gets the parsed form."""
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return hashlib.sha256(request.body).hexdigest()
    digest = hashlib.sha256()
    fields = [
        (name, value.replace("\r\n", "\n"))
        for name, values in request.POST.lists()
        if name != FIELD
        for value in values
    ]
    digest.update(json.dumps(fields).encode())
    for name, files in request.FILES.lists():
        for upload in files:
            digest.update(json.dumps([name, upload.name, upload.size]).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if wants_json(request):
        body: dict[str, Any] = {"detail": message}
        if status == 422:  # the API's shape of a 422 (api.schemas.ValidationErrorOut)
            body["errors"] = [{"loc": ["header", HEADER], "msg": message, "type": "idempotency_key_reused"}]
        return JsonResponse(body, status=status)
    return render(request, "errors/error.html", {"status": status, "message": message}, status=status)


def invalid_key_message() -> str:
    return _("The Idempotency-Key must be 8 to 128 characters: letters, digits, dot, underscore, colon or hyphen.")


def reused_key_message() -> str:
    return _("This Idempotency-Key was already used for a different request. Use a new key for a new change.")


def replay(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body) if record.body is not None else b"",
        status=record.status,
        content_type=record.content_type or None,
    )
    if record.location:
        response["Location"] = record.location
    if record.body is None:
        response[BODY_OMITTED] = "true"
    response[REPLAYED] = "true"
    return response


def _kept_body(response: HttpResponse) -> bytes | None:
    """The body to store: not a large one, nor one the view marked ``Cache-Control: no-store``
    itself (a secret shown once: new login cards, a new API token). Those are replayed empty."""
    if len(response.content) > MAX_STORED_BODY or "no-store" in response.get("Cache-Control", ""):
        return None
    return response.content


def _recordable(response: HttpResponse) -> bool:
    return 200 <= response.status_code < 400 and not response.streaming


class _Lost(Exception):
    """Another request with the same key committed first."""

    def __init__(self, error: IntegrityError) -> None:
        super().__init__(error)
        self.error = error


def handled(request: HttpRequest) -> bool:
    """Whether the request's key has been dealt with already (by the middleware)."""
    return bool(getattr(request, _HANDLED, False))


def once(
    request: HttpRequest,
    user_id: int,
    key: str,
    run: Callable[[], HttpResponse],
    check: Callable[[HttpRequest], HttpResponse | None] = lambda request: None,
) -> HttpResponse:
    """Run a write with its key: replay, refuse (422) or run it once and record the outcome.
    ``check`` is asked before an answer from the ledger (the CSRF check the view would make)."""
    setattr(request, _HANDLED, True)
    method, path, digest = str(request.method), request.get_full_path(), body_sha256(request)

    def answer(record: IdempotencyKey) -> HttpResponse:
        refused = check(request)
        if refused is not None:
            return refused
        if (record.method, record.path, record.body_sha256) != (method, path, digest):
            return refusal(request, 422, reused_key_message())
        return replay(record)

    record = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
    if record is not None:
        return answer(record)
    try:
        with transaction.atomic():
            # Looked up again inside the transaction: a twin that committed meanwhile is seen
            # (on SQLite this transaction began after it, as writers take turns).
            record = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
            if record is not None:
                return answer(record)
            response = run()
            if _recordable(response):
                try:
                    with transaction.atomic():  # a savepoint: PostgreSQL's transaction stays usable
                        IdempotencyKey.objects.create(
                            user_id=user_id,
                            key=key,
                            method=method,
                            path=path,
                            body_sha256=digest,
                            status=response.status_code,
                            content_type=response.get("Content-Type", ""),
                            location=response.get("Location", ""),
                            body=_kept_body(response),
                        )
                except IntegrityError as error:
                    raise _Lost(error) from error  # rolls back this request's writes
            elif response.status_code >= 500:
                transaction.set_rollback(True)
    except _Lost as lost:
        record = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
        if record is None:  # not the key's constraint (e.g. the person was deleted meanwhile)
            raise lost.error from None
        return answer(record)
    if response.status_code >= 500:
        # Failed (rolled back) while a twin with the same key went through, e.g. on a constraint
        # the twin's write took first: the twin's outcome is this request's outcome too.
        try:
            record = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
        except DatabaseError:  # the database is what failed: the error stands
            record = None
        if record is not None:
            return answer(record)
    return response


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """A replay answers without the view: the CSRF check the view would have had is made here."""
    return CsrfViewMiddleware(lambda request: HttpResponse()).process_view(request, None, (), {})  # type: ignore[arg-type]


class IdempotencyMiddleware:
    """Idempotency-Key for the pages' writes of signed-in sessions. The API's writes are left to the
    API's gate (api.security.gate), which runs ``once`` after its own checks: the caller's role and
    the objects in the path are checked first there, so an outsider gets 403/404 whatever the key."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.method not in WRITES
            or user is None
            or not user.is_authenticated
            or request.path.startswith(API_PREFIX)
        ):
            return self.get_response(request)
        with translation.override(UserLanguageMiddleware.language_for(request)):
            try:
                key = requested_key(request)
            except InvalidKey:
                return refusal(request, 400, invalid_key_message())
        if key is None:
            return self.get_response(request)
        with translation.override(UserLanguageMiddleware.language_for(request)):
            # The view itself runs in the language the language middleware chooses, as without a key.
            return once(request, user.pk, key, lambda: self.get_response(request), check=_csrf_refusal)


def declared_header() -> dict[str, Any]:
    """The header as an OpenAPI parameter (api/api.py adds it to every write operation)."""
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Makes the write safe to retry. Send a new random value (a UUID) for each change and the same "
            "value with each retry of it. A repeated key with the same request returns the first outcome "
            "(header Idempotent-Replayed: true) without writing again; with another request it is refused "
            f"(422). 8–128 characters of A-Z a-z 0-9 . _ : -; kept {settings.IDEMPOTENCY_KEY_HOURS} hours."
        ),
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"},
    }
