"""No third-party provision by default: handing a pupil's portfolio to another organisation needs a
recorded legal basis; the provision record (recipient, date, items, basis) is kept, holds no names,
and is shown to the tenant's admins and to the pupil. Exports inside the tenant are no provision."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.db import models
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from classnote.audit.models import AuditEntry
from classnote.base.errors import ActionError
from classnote.base.inventory import Erase
from classnote.portfolio import actions
from classnote.privacy import inventory
from classnote.privacy.models import ProvisionRecord
from tests.conftest import Tenant, fresh_login, login_as

HANDOVER = {
    "recipient": "Minato City Board school",
    "recipient_kind": "school",
    "basis": "consent",
    "reference": "Consent form 2026-031",
}
REFUSAL = "Choose the legal basis: without one the data may not be handed over."


def provide_path(tenant: Tenant) -> str:
    return f"/privacy/users/{tenant.student.pk}/provide/"


def test_a_handover_without_a_basis_is_refused(tenant_a: Tenant) -> None:
    client = fresh_login(Client(), tenant_a.school_admin)
    assert client.get(provide_path(tenant_a)).status_code == 200
    for missing in ({"basis": ""}, {"basis": "because"}, {"reference": ""}):
        response = client.post(provide_path(tenant_a), HANDOVER | missing)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
    with translation.override("ja"):  # tenant A's language
        assert gettext(REFUSAL) in client.post(provide_path(tenant_a), HANDOVER | {"basis": ""}).content.decode()
    assert not ProvisionRecord.objects.exists()
    with pytest.raises(ActionError):
        actions.provide_portfolio(tenant_a.school_admin, tenant_a.student.pk, **(HANDOVER | {"basis": ""}))
    assert not ProvisionRecord.objects.exists()


def test_a_handover_is_recorded_audited_and_returns_the_portfolio(tenant_a: Tenant) -> None:
    client = fresh_login(Client(), tenant_a.school_admin)
    response = client.post(provide_path(tenant_a), HANDOVER)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        index = json.loads(archive.read("index.json"))
    assert index["student"] == tenant_a.student.display_name and len(index["submissions"]) == 1

    record = ProvisionRecord.objects.get()
    assert record.subject_id == tenant_a.student.pk
    assert (record.recipient, record.recipient_kind, record.basis, record.reference) == tuple(HANDOVER.values())
    assert record.recorded_by_id == tenant_a.school_admin.pk
    assert (record.municipality_id, record.school_id) == (tenant_a.municipality.pk, tenant_a.school.pk)
    assert {"cards.Card.text", "lessons.Submission.return_comment", "accounts.User.display_name"} <= set(record.items)
    # The record holds ids and codes: no name of the pupil.
    values = " ".join(str(getattr(record, f.attname)) for f in ProvisionRecord._meta.concrete_fields)
    assert tenant_a.student.display_name not in values and tenant_a.student.student_number not in values

    entry = AuditEntry.objects.get(action="portfolio.provided")
    assert entry.subject_id == tenant_a.student.pk and entry.target_id == str(record.pk)
    assert entry.details == {"purpose": "portfolio", "basis": "consent", "recipient_kind": "school"}


def test_the_records_are_listed_to_the_tenant_and_the_pupil(tenant_a: Tenant, tenant_b: Tenant) -> None:
    fresh_login(Client(), tenant_a.school_admin).post(provide_path(tenant_a), HANDOVER)
    for admin in (tenant_a.school_admin, tenant_a.municipal_admin):
        client = login_as(Client(), admin)
        listing = client.get("/privacy/provisions/").content.decode()
        assert HANDOVER["recipient"] in listing and tenant_a.student.display_name in listing
        mine = client.get(f"/privacy/users/{tenant_a.student.pk}/provisions/").content.decode()
        assert HANDOVER["reference"] in mine
    for outsider in (tenant_b.school_admin, tenant_b.municipal_admin):
        client = login_as(Client(), outsider)
        assert HANDOVER["recipient"] not in client.get("/privacy/provisions/").content.decode()
        assert client.get(f"/privacy/users/{tenant_a.student.pk}/provisions/").status_code == 404
    # The pupil is told (the data-subject's right to the provision records).
    pupil_page = login_as(Client(), tenant_a.student).get("/privacy/views/").content.decode()
    assert HANDOVER["recipient"] in pupil_page
    assert HANDOVER["recipient"] not in login_as(Client(), tenant_a.classmate).get("/privacy/views/").content.decode()


def test_only_the_pupils_school_may_hand_over(tenant_a: Tenant, tenant_b: Tenant) -> None:
    for user in (tenant_a.teacher, tenant_a.student):
        assert login_as(Client(), user).post(provide_path(tenant_a), HANDOVER).status_code == 403
    for outsider in (tenant_b.school_admin, tenant_b.municipal_admin):
        assert login_as(Client(), outsider).post(provide_path(tenant_a), HANDOVER).status_code == 404
    staff = f"/privacy/users/{tenant_a.teacher.pk}/provide/"  # a portfolio is a pupil's
    assert login_as(Client(), tenant_a.school_admin).post(staff, HANDOVER).status_code == 404
    assert not ProvisionRecord.objects.exists()


def test_exports_inside_the_tenant_are_no_provision(tenant_a: Tenant) -> None:
    assert login_as(Client(), tenant_a.student).get("/portfolio/export.zip").status_code == 200
    admin = fresh_login(Client(), tenant_a.school_admin)
    assert admin.get(f"/users/{tenant_a.student.pk}/portfolio.zip").status_code == 200
    assert not ProvisionRecord.objects.exists()


def test_the_record_is_kept_when_the_person_goes() -> None:
    declaration = inventory.declaration_of(ProvisionRecord)
    assert declaration is not None
    links = {link.label: link for link in declaration.subject}
    assert links["subject"].erase == Erase.KEEP and links["subject"].reason
    subject = ProvisionRecord._meta.get_field("subject")
    assert isinstance(subject, models.ForeignKey)
    assert subject.remote_field.on_delete is models.DO_NOTHING and not subject.db_constraint
    assert "basis" in declaration.personal and "recipient" in declaration.personal
