"""The two promises of issue 4's "done when":

* a disclosure export contains every declared field of every inventoried table, and every file of
  the person (compared with the inventory, not with a hand-written list);
* after deletion, no row of any table, no stored file, no cache entry and no log message holds the
  person's name or school-assigned ID (the pupil has submitted to a box that shares answers with
  names, so stored events repeat the name); the sessions the person had opened are gone and no
  longer sign anyone in — and the audit chain still verifies.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from classnote.audit.log import verify
from classnote.audit.models import AuditEntry
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.lessons import actions as lesson_actions
from classnote.privacy import inventory
from classnote.realtime.models import Event
from classnote.rights.models import DataSubjectRequest, DeletionReceipt
from tests.conftest import PASSWORD, Tenant, login_as
from tests.rights.conftest import admin_client

NAME = "Zyxwvu Quillfeather"
STUDENT_ID = "Q7770421"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


@pytest.fixture
def every_log() -> Iterator[Capture]:
    """A handler on the root and on every named logger (some do not propagate)."""
    capture = Capture()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if isinstance(name, str)
    ]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    yield capture
    for lg, level in levels:
        lg.removeHandler(capture)
        lg.setLevel(level)


def _rich_pupil(tenant: Tenant) -> Any:
    """The pupil with a distinctive name and ID, who has done everything a pupil does."""
    from classnote.accounts.actions import issue_login_card
    from classnote.accounts.models import student_username

    pupil = tenant.student
    pupil.display_name, pupil.student_number = NAME, STUDENT_ID
    pupil.username = student_username(tenant.school, STUDENT_ID)
    pupil.save()
    # A second uploaded file (an image-like blob) and a card that shows it.
    key = default_storage.save("files/test/photo.bin", ContentFile(b"\x89PNG pretend photo bytes"))
    photo = StoredFile.objects.create(
        school=tenant.school,
        owner=pupil,
        kind="image",
        name=f"{NAME} at the zoo.png",
        content_type="image/png",
        size=24,
        sha256="1" * 64,
        storage_key=key,
        thumbnail_key=default_storage.save("files/test/photo.thumb", ContentFile(b"thumb")),
    )
    mine = Card.objects.create(
        owner=pupil, school=tenant.school, kind="text", title="My idea", text=f"by {NAME}", lesson=tenant.lesson
    )
    mine.file = photo
    mine.save()
    # Peer sending: a copy goes to a classmate (the pupil's own work: it goes with the pupil).
    lesson_actions.set_peer_sending(tenant.teacher, tenant.lesson.pk, True)
    lesson_actions.peer_send(pupil, tenant.lesson.pk, mine.pk, [tenant.classmate.pk])
    # A box whose answers the teacher shares with names: the classmates' event repeats the name.
    shared_box = lesson_actions.create_box(tenant.teacher, tenant.lesson.pk, "Shared answers")
    lesson_actions.share_answers(tenant.teacher, shared_box.pk, True, anonymous=False)
    lesson_actions.submit(pupil, shared_box.pk, mine.pk)
    # The teacher opens the pupil's submitted card (audited with the pupil as subject).
    login_as(Client(), tenant.teacher).get(f"/cards/{tenant.submission.card_id}/")
    # The teacher returns the submission with a comment; a QR card is issued; the pupil logs in.
    lesson_actions.return_submission(tenant.teacher, tenant.submission.pk, "Well done")
    issue_login_card(pupil, issued_by=tenant.teacher)
    client = Client()
    assert client.post(
        "/login/student/", {"school_code": tenant.school.code, "student_number": STUDENT_ID, "password": PASSWORD}
    ).status_code in (302, 303)
    return pupil


def _export(tenant: Tenant, pupil: Any, kind: str = "disclosure") -> zipfile.ZipFile:
    client = admin_client(tenant.school_admin)
    client.post("/requests/new/", {"subject": pupil.pk, "kind": kind, "requester": "guardian"})
    request = DataSubjectRequest.objects.latest("opened_at")
    response = client.post(f"/requests/{request.pk}/export/")
    assert response.status_code == 200, response.content[:300]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_disclosure_export_holds_every_declared_field_and_every_file(tenant_a: Tenant) -> None:
    pupil = _rich_pupil(tenant_a)
    archive = _export(tenant_a, pupil)
    data = json.loads(archive.read("data.json"))
    tables = data["tables"]
    # Every inventoried table is in the export, with every field the inventory declares personal.
    ledger: dict[str, set[str]] = {}
    for entry in inventory.entries():
        ledger.setdefault(entry["model"], set()).add(entry["field"])
    assert set(tables) == set(ledger), "the export and the inventory list different tables"
    for label, fields in ledger.items():
        assert set(tables[label]["personal_fields"]) == fields
        for row in tables[label]["rows"]:
            assert fields <= set(row), f"{label}: a row lacks declared fields {fields - set(row)}"
    # The person's rows are there, in the tables that hold them.
    for label in (
        "accounts.User",
        "tenancy.Membership",
        "cards.Card",
        "lessons.Submission",
        "files.StoredFile",
        "accounts.LoginCard",
        "realtime.Event",
        "audit.AuditEntry",
        "sessions.Session",
    ):
        assert tables[label]["rows"], f"no rows of {label} in the export"
    assert tables["accounts.User"]["rows"][0]["display_name"] == NAME
    assert any(row["return_comment"] == "Well done" for row in tables["lessons.Submission"]["rows"])
    # Secrets are listed but withheld.
    assert tables["accounts.User"]["rows"][0]["password"] == {
        "withheld": "login secret, not disclosed for the person's security"
    }
    assert "withheld" in json.dumps(tables["sessions.Session"]["rows"][0]["session_key"])
    # Every file of theirs, original and thumbnail, byte for byte.
    theirs = StoredFile.objects.filter(owner=pupil)
    assert theirs.count() == 2
    for stored in theirs:
        listed = [f for f in data["files"] if f["file_id"] == str(stored.pk)]
        original = next(f for f in listed if f["stored_as"] == "storage_key")
        with default_storage.open(stored.storage_key) as handle:
            assert archive.read(original["path"]) == handle.read()
        if stored.thumbnail_key:
            assert any(f["stored_as"] == "thumbnail_key" for f in listed)
    # Nobody else's rows: the classmate's name appears nowhere.
    assert tenant_a.classmate.display_name not in json.dumps(data, ensure_ascii=False)
    assert AuditEntry.objects.filter(action="request.disclosed", subject=pupil).exists()


def test_provision_records_request_exports_only_those(tenant_a: Tenant) -> None:
    archive = _export(tenant_a, tenant_a.student, kind="provision_records")
    data = json.loads(archive.read("data.json"))
    assert set(data["tables"]) <= {"privacy.ProvisionRecord"}


def _everything_in_the_database() -> Iterator[tuple[str, str]]:
    for model in apps.get_models(include_auto_created=True):
        for row in model._default_manager.all().values_list():
            yield model._meta.label, json.dumps(row, default=str, ensure_ascii=False)


def _everything_in_storage(folder: str = "") -> Iterator[tuple[str, bytes]]:
    directories, files = default_storage.listdir(folder)
    for name in files:
        path = f"{folder}/{name}" if folder else name
        with default_storage.open(path) as handle:
            yield path, handle.read()
    for directory in directories:
        yield from _everything_in_storage(f"{folder}/{directory}" if folder else directory)


def _everything_in_the_cache() -> Iterator[tuple[str, bytes]]:
    """Every entry of the default cache, as stored (pickled bytes hold strings as UTF-8)."""
    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # LocMemCache (the embedded default)
        yield from ((str(key), bytes(value)) for key, value in list(store.items()))
        return
    client = getattr(store, "get_client", None)
    if client is None:
        pytest.fail(f"teach _everything_in_the_cache to read a {type(cache).__name__}")
    redis = client(None, write=False)
    for key in redis.scan_iter():
        value = redis.get(key)
        yield str(key), value if isinstance(value, bytes) else str(value).encode()


def _signed_in_as(client: Client) -> Any:
    me = client.get("/api/me")
    return me.json()["id"] if me.status_code == 200 else None


def test_after_deletion_nothing_anywhere_holds_the_pupils_name_or_id(
    tenant_a: Tenant, every_log: Capture, django_capture_on_commit_callbacks: Any
) -> None:
    pupil = _rich_pupil(tenant_a)
    pupil_id = pupil.pk
    file_keys = [k for f in StoredFile.objects.filter(owner=pupil) for k in (f.storage_key, f.thumbnail_key) if k]
    copy_for_classmate = Card.objects.get(owner=tenant_a.classmate, sent_by=pupil)
    material = tenant_a.card  # the teacher's card; its copies stay with the pupils when the teacher goes
    # The pupil's own browser, signed in before the deletion (its session and cached user hold them).
    browser = Client()
    browser.post(
        "/login/student/", {"school_code": tenant_a.school.code, "student_number": STUDENT_ID, "password": PASSWORD}
    )
    assert browser.get("/home/").status_code == 200
    assert _signed_in_as(browser) == pupil_id
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    # Before: the markers are really there (the searches below can find them).
    assert any(NAME in text for _, text in _everything_in_the_database())
    assert any(STUDENT_ID in text for _, text in _everything_in_the_database())
    assert Event.objects.filter(kind="shared.updated").exists(), "the shared box announced the pupil's answer"
    assert any(NAME.encode() in value for _, value in _everything_in_the_cache()), "the signed-in user is cached"
    assert Session.objects.filter(session_key=session_key).exists()
    sessions = [s.pk for s in Session.objects.all() if str(s.get_decoded().get("_auth_user_id")) == str(pupil_id)]
    assert len(sessions) >= 2  # the login in _rich_pupil and the browser's

    client = admin_client(tenant_a.school_admin)
    client.post("/requests/new/", {"subject": pupil.pk, "kind": "deletion", "requester": "guardian"})
    request = DataSubjectRequest.objects.latest("opened_at")
    refused = client.post(f"/requests/{request.pk}/delete/", {"confirmation": "wrong"})
    assert refused.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):  # stored bytes go once the deletion commits
        response = client.post(f"/requests/{request.pk}/delete/", {"confirmation": request.reference.lower()})
    assert response.status_code == 302

    # No row of any table (stored events included).
    leaks = [(label, text[:200]) for label, text in _everything_in_the_database() if NAME in text or STUDENT_ID in text]
    assert not leaks, leaks
    # No cache entry (the cached user, sessions).
    cached = [
        key for key, value in _everything_in_the_cache() if NAME.encode() in value or STUDENT_ID.encode() in value
    ]
    assert not cached, cached
    # The sessions the pupil opened are gone: no row names the account, the session's cached copy is
    # gone, and the browser that was signed in is signed out (sent to the login page).
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not [s.pk for s in Session.objects.all() if str(s.get_decoded().get("_auth_user_id")) == str(pupil_id)]
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    assert cache.get(store.cache_key) is None, "the session's cached copy outlived the deletion"
    home = browser.get("/home/")
    assert home.status_code == 302 and "/accounts/login/" in home["Location"]
    assert _signed_in_as(browser) is None
    # No stored file (theirs are gone; nothing else mentions them).
    for key in file_keys:
        assert not default_storage.exists(key)
    for path, content in _everything_in_storage():
        assert NAME.encode() not in content and STUDENT_ID.encode() not in content, path
    # No log message.
    for line in every_log.lines:
        assert NAME not in line and STUDENT_ID not in line, line
    # The receipt says what, when, by whom — and holds nothing of the person.
    receipt = DeletionReceipt.objects.get(request=request)
    assert receipt.performed_by_id == tenant_a.school_admin.pk and receipt.reason == "request"
    assert receipt.deleted["accounts.User"] == 1 and receipt.files_deleted == 2
    assert receipt.deleted["lessons.Submission"] >= 1
    assert receipt.deleted["sessions.Session"] == len(sessions), receipt.deleted
    assert (receipt.municipality_id, receipt.school_id) == (tenant_a.municipality.pk, tenant_a.school.pk)
    for counts in (receipt.deleted, receipt.unlinked, receipt.kept):  # counts per table, nothing else
        assert all(isinstance(label, str) and isinstance(n, int) for label, n in counts.items())
    request.refresh_from_db()
    assert request.status == "completed" and request.subject is None and request.details == ""
    # The copy the pupil sent a classmate was the pupil's work: gone. Teaching material stays.
    assert not Card.objects.filter(pk=copy_for_classmate.pk).exists()
    assert Card.objects.filter(pk=material.pk).exists()
    # The audit log kept its entries (ids only), and its chain still verifies.
    assert AuditEntry.objects.filter(subject_id=pupil_id).exists()
    assert verify() == []


def test_a_demo_pupils_export_matches_the_inventory(db: None) -> None:
    from classnote.accounts.models import User
    from classnote.base.roles import Role
    from classnote.demo.data import create_demo
    from classnote.rights import disclosure

    create_demo()
    pupil = User.objects.filter(role=Role.STUDENT).order_by("pk").first()
    assert pupil is not None
    data = disclosure.collect(pupil)
    ledger = {e["model"] for e in inventory.entries()}
    assert set(data["tables"]) == ledger
    assert data["tables"]["accounts.User"]["rows"][0]["display_name"] == pupil.display_name
    assert data["tables"]["tenancy.Membership"]["rows"]
    # The demo's open requests about this pupil are part of what is held about them.
    assert data["tables"]["rights.DataSubjectRequest"]["rows"]
