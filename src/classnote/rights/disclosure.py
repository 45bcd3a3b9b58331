"""The disclosure export: everything classnote holds about one person, as JSON plus their files,
generated from the data inventory (so it cannot miss a declared table or field).

Login secrets (password hashes, token hashes, MFA seeds, session keys) are listed as present but
their values are withheld: handing them out would let anyone holding the export log in as the
person, and they say nothing about the person."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid
import zipfile
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from classnote.accounts.models import User
from classnote.base.inventory import Category
from classnote.files.validation import clean_name
from classnote.rights.subjects import find
from classnote.tenancy.models import School, SchoolClass

FORMAT_VERSION = 1
WITHHELD_TECHNICAL = {
    ("sessions.Session", "session_key"),
    ("sessions.Session", "session_data"),
    ("usersessions.UserSession", "session_key"),
}
WITHHELD = {"withheld": "login secret, not disclosed for the person's security"}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def collect(person: Any, *, only: set[str] | None = None) -> dict[str, Any]:
    """The export as a dict: one table per inventoried model, with every stored field of every row
    linked to the person. ``only`` limits it to some model labels (e.g. provision records)."""
    tables: dict[str, Any] = {}
    for item in find(person):
        label = item.label
        if only is not None and label not in only:
            continue
        concrete = item.model._meta.concrete_fields
        withheld = {
            name
            for name, personal in item.declaration.personal.items()
            if personal.category == Category.CREDENTIAL and name not in ("user",)
        } | {name for (model, name) in WITHHELD_TECHNICAL if model == label}
        rows = []
        for obj in item.model._default_manager.filter(pk__in=item.pks()).order_by("pk"):
            row = {}
            for model_field in concrete:
                if model_field.name in withheld:
                    row[model_field.name] = WITHHELD
                else:
                    row[model_field.name] = _plain(model_field.value_from_object(obj))
            rows.append(row)
        tables[label] = {
            "personal_fields": sorted(item.declaration.personal),
            "how_linked": [
                {"via": link.label, "on_deletion": str(link.erase), "reason": link.reason}
                for link in item.declaration.subject
            ],
            "rows": rows,
        }
    return {
        "format": "classnote disclosure export",
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "person": {"id": person.pk, "role": person.role},
        "tables": tables,
    }


README = """classnote: everything held about one person

data.json   every table of the service that holds personal data, with every stored field of
            every row linked to the person ("tables"); "personal_fields" names the fields the
            data inventory declares personal, "how_linked" how the rows belong to the person and
            what deleting the person does to them.
files/      the person's uploaded files (photos, documents) and their thumbnails, by file id.

Login secrets (password hash, token hashes, MFA seeds, session keys) are listed but withheld.
The privacy policy of the service explains each category, purpose, legal basis and retention.
"""


def write_person(archive: zipfile.ZipFile, person: Any, *, prefix: str = "", only: set[str] | None = None) -> None:
    """Write one person's export (data.json, README.txt, files/) into ARCHIVE under PREFIX."""
    data = collect(person, only=only)
    files = []
    for row in data["tables"].get("files.StoredFile", {}).get("rows", []):
        # Display text only (see classnote.files.validation.clean_name): no entry leaves the archive's folder.
        safe = clean_name(str(row.get("name") or ""))[:120]
        for key_field, suffix in (("storage_key", ""), ("thumbnail_key", ".thumbnail.jpg")):
            key = row.get(key_field)
            if not key:
                continue
            path = f"files/{row['id']}/{safe}{suffix}"
            with default_storage.open(key, "rb") as handle:
                archive.writestr(prefix + path, handle.read())
            files.append({"file_id": row["id"], "stored_as": key_field, "path": path})
    data["files"] = files
    archive.writestr(prefix + "data.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    archive.writestr(prefix + "README.txt", README)


def build_zip(person: Any, *, only: set[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_person(archive, person, only=only)
    return buffer.getvalue()


def write_tenant(target: Any, municipality: Any) -> int:
    """The tenant's full export, offered before its data is deleted after the contract ends: one
    folder per person (as in a disclosure export) and the structure (schools, classes) as JSON.
    TARGET is a path or a binary file. Returns the number of people written."""

    people = User.objects.filter(municipality=municipality).order_by("pk")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        structure = {
            "municipality": {"id": municipality.pk, "name": municipality.name},
            "schools": list(School.objects.filter(municipality=municipality).values("id", "name", "code")),
            "classes": list(
                SchoolClass.objects.filter(school__municipality=municipality).values(
                    "id", "school_id", "name", "school_year"
                )
            ),
            "people": [{"id": p.pk, "role": p.role, "folder": f"people/{p.pk}/"} for p in people],
        }
        archive.writestr("tenant.json", json.dumps(structure, ensure_ascii=False, indent=2, default=str))
        count = 0
        for person in people.iterator():
            write_person(archive, person, prefix=f"people/{person.pk}/")
            count += 1
    return count
