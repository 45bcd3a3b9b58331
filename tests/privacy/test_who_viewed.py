"""Who viewed my work: every staff read of a pupil's work (cards on the web and in the API,
compared submissions, downloaded files, portfolio exports) is recorded with the pupil as subject,
and listed to the pupil — and, for a young pupil, to their school — with who, when and what."""

from __future__ import annotations

from django.test import Client

from classnote.audit.models import AuditEntry
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.lessons import actions as lesson_actions
from tests.conftest import Tenant, fresh_login, login_as


def pupil_card(tenant: Tenant) -> Card:
    return Card.objects.get(origin=tenant.card, owner=tenant.student)


def reads_of(tenant: Tenant) -> list[str]:
    return list(AuditEntry.objects.filter(subject_id=tenant.student.pk).values_list("action", flat=True))


def test_a_teachers_reads_are_listed_to_the_pupil(tenant_a: Tenant) -> None:
    teacher = login_as(Client(), tenant_a.teacher)
    card = pupil_card(tenant_a)
    assert teacher.get(f"/cards/{card.pk}/").status_code == 200
    assert teacher.get(f"/api/cards/{card.pk}").status_code == 200
    assert teacher.get(f"/cards/{card.pk}/present/").status_code == 200
    assert reads_of(tenant_a) == ["card.viewed"] * 3

    page = login_as(Client(), tenant_a.student).get("/privacy/views/")
    assert page.status_code == 200
    body = page.content.decode()
    assert tenant_a.teacher.display_name in body
    assert card.title in body  # the pupil may read their card: its title is named
    # Nobody else's list shows it.
    assert (
        tenant_a.teacher.display_name
        not in login_as(Client(), tenant_a.classmate).get("/privacy/views/").content.decode()
    )


def test_pictures_and_overviews_are_not_recorded_one_by_one(tenant_a: Tenant) -> None:
    card = pupil_card(tenant_a)
    card.strokes = [{"c": "#000000", "w": 3, "p": [[1, 1], [20, 20]]}]
    card.save(update_fields=["strokes"])
    StoredFile.objects.filter(pk=tenant_a.file.pk).update(kind="image", content_type="image/png")
    teacher = login_as(Client(), tenant_a.teacher)
    assert teacher.get(f"/cards/{card.pk}/thumbnail/").status_code == 200
    assert teacher.get(f"/cards/{card.pk}/image/").status_code == 200
    assert teacher.get(f"/lessons/{tenant_a.lesson.pk}/").status_code == 200
    assert teacher.get(f"/api/boxes/{tenant_a.box.pk}/submissions").status_code == 200
    assert teacher.get(f"/files/{tenant_a.file.pk}/?inline=1").status_code == 200
    assert reads_of(tenant_a) == []
    # Downloading the pupil's file takes a copy away: recorded.
    response = teacher.get(f"/files/{tenant_a.file.pk}/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert reads_of(tenant_a) == ["file.downloaded"]
    assert tenant_a.file.name in login_as(Client(), tenant_a.student).get("/privacy/views/").content.decode()


def test_comparing_submissions_records_each_pupil(tenant_a: Tenant) -> None:
    copy = Card.objects.get(origin=tenant_a.card, owner=tenant_a.classmate)
    other = lesson_actions.submit(tenant_a.classmate, tenant_a.box.pk, copy.pk)
    teacher = login_as(Client(), tenant_a.teacher)
    response = teacher.get(f"/boxes/{tenant_a.box.pk}/compare/?s={tenant_a.submission.pk}&s={other.pk}")
    assert response.status_code == 200
    viewed = AuditEntry.objects.filter(action="submission.viewed")
    assert sorted(viewed.values_list("subject_id", flat=True)) == sorted([tenant_a.student.pk, tenant_a.classmate.pk])
    page = login_as(Client(), tenant_a.classmate).get("/privacy/views/").content.decode()
    assert tenant_a.teacher.display_name in page and copy.title in page


def test_exports_are_listed_and_own_actions_are_not(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    assert pupil.get("/portfolio/export.zip").status_code == 200  # the pupil's own export
    pupil.get(f"/cards/{pupil_card(tenant_a).pk}/")  # their own card
    assert "Staff" not in pupil.get("/privacy/views/").content.decode()
    admin = fresh_login(Client(), tenant_a.school_admin)
    assert admin.get(f"/users/{tenant_a.student.pk}/portfolio.zip").status_code == 200
    assert tenant_a.school_admin.display_name in pupil.get("/privacy/views/").content.decode()


def test_the_school_sees_the_list_of_its_pupil(tenant_a: Tenant, tenant_b: Tenant) -> None:
    card = pupil_card(tenant_a)
    login_as(Client(), tenant_a.teacher).get(f"/cards/{card.pk}/")
    path = f"/privacy/users/{tenant_a.student.pk}/views/"
    for admin in (tenant_a.school_admin, tenant_a.municipal_admin):
        client = login_as(Client(), admin)
        assert path in client.get(f"/users/{tenant_a.student.pk}/").content.decode()  # linked from the user page
        body = client.get(path).content.decode()
        assert tenant_a.teacher.display_name in body
        assert card.title not in body  # administrators do not read pupils' work: no title
    assert login_as(Client(), tenant_a.teacher).get(path).status_code == 403
    assert login_as(Client(), tenant_a.classmate).get(path).status_code == 403
    assert login_as(Client(), tenant_b.school_admin).get(path).status_code == 404
    assert login_as(Client(), tenant_b.municipal_admin).get(path).status_code == 404


def test_the_page_is_linked_from_settings_and_the_portfolio(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    assert "/privacy/views/" in pupil.get("/settings/").content.decode()
    assert "/privacy/views/" in pupil.get("/portfolio/").content.decode()
    teacher = login_as(Client(), tenant_a.teacher)
    assert teacher.get("/privacy/views/").status_code == 200
