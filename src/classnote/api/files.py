"""Files: upload (multipart) and a file's description. The bytes are served by the web route
/files/<uuid>/ (access-checked, sandboxed); the API only points there."""

import uuid

from django.utils.translation import gettext as _
from ninja import File, Router, Status, UploadedFile

from classnote.api.common import answers, file_out
from classnote.api.schemas import FileOut
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import LESSON_ROLES
from classnote.cards import access as card_access
from classnote.files import services
from classnote.files.validation import too_large
from classnote.tenancy.access import audience

router = Router(tags=["files"])


@router.post("/files", response=answers({201: FileOut}, 413, 503))
@audience(*LESSON_ROLES)
def upload_file(request: AuthedRequest, file: UploadedFile | None = File(None)) -> object:  # noqa: B008
    """Upload one file as multipart/form-data in the field "file". Its content decides whether it
    is accepted (images, PDF, office documents, audio, video); images are re-encoded without
    their metadata. Use the returned id to make an image or file card."""
    if getattr(request, "classnote_upload_too_large", False):
        raise too_large(request.user)
    if file is None:
        raise ActionError(_("Choose a file to upload."))
    stored = services.store_upload(request.user, file)
    return Status(201, file_out(stored))


@router.get("/files/{file_id}", response=answers({200: FileOut}))
@audience(*LESSON_ROLES)
def get_file(request: AuthedRequest, file_id: uuid.UUID) -> object:
    return file_out(card_access.get_file_for(request.user, file_id))
