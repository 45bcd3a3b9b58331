"""Site-wide — password storage and password policy.

Promise:
  * passwords are stored only as Argon2id hashes with deliberately chosen parameters (m=19 MiB,
    t=2, p=1: OWASP's minimum, ~31 ms per check) and a random salt; production lists no weak hasher
    (the test settings put MD5 first for speed, and only they);
  * the plaintext of a password set through the product (a new pupil's or staff member's first
    password, a reset, a staff member's own change) is in no table, session or log line;
  * an older hash (PBKDF2, or Argon2 with Django's default cost) is re-hashed at the next login;
  * staff choose passwords under a policy: at least 10 characters, not a common password, not only
    digits, not like their login ID — and long passphrases (100 characters) work in full, without
    truncation; generated first passwords are random (10 characters for pupils, 14 for staff).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client, override_settings

from classnote.accounts import actions
from classnote.accounts.hashers import ClassnoteArgon2Hasher
from classnote.accounts.models import User
from tests.conftest import PASSWORD, Tenant, fresh_login, login_as
from tests.security.conftest import LogLines

ARGON2ID_PREFIX = "argon2$argon2id$v=19$m=19456,t=2,p=1$"
WEAK_HASHERS = ("MD5", "SHA1", "UnsaltedSHA1", "UnsaltedMD5", "Crypt", "BCrypt")


@pytest.fixture
def production_hashers(production_settings: dict[str, Any], tenant_a: Tenant) -> Any:
    """The production hashers; the test tenant's passwords (hashed with MD5 for speed) re-hashed."""
    with override_settings(PASSWORD_HASHERS=production_settings["PASSWORD_HASHERS"]):
        for user in User.objects.all():
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        yield


def test_production_hashes_with_argon2id_and_lists_no_weak_hasher(production_settings: dict[str, Any]) -> None:
    hashers = production_settings["PASSWORD_HASHERS"]
    assert hashers[0] == "classnote.accounts.hashers.ClassnoteArgon2Hasher"
    assert not [h for h in hashers if any(h.endswith(f".{weak}PasswordHasher") for weak in WEAK_HASHERS)], hashers
    hasher = ClassnoteArgon2Hasher()
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (19 * 1024, 2, 1)
    # OWASP's minimum for Argon2id: 19 MiB with 2 passes (or more memory with fewer).
    assert hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2
    first, second = hasher.encode("same password", hasher.salt()), hasher.encode("same password", hasher.salt())
    assert first.startswith(ARGON2ID_PREFIX) and second.startswith(ARGON2ID_PREFIX)
    assert first != second, "no random salt"


def every_stored_text() -> str:
    """Every text value of every table (sessions and the cache-backed session data included)."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if table not in connection.introspection.table_names():
                continue
            columns = [f.column for f in model._meta.concrete_fields]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own table and column names
            chunks += [str(value) for row in cursor.fetchall() for value in row]
    from django.contrib.sessions.models import Session

    chunks += [str(session.get_decoded()) for session in Session.objects.all()]
    return "\n".join(chunks)


def test_passwords_set_through_the_product_are_stored_only_as_argon2id_hashes(
    tenant_a: Tenant, production_hashers: None, log_lines: LogLines
) -> None:
    admin = fresh_login(Client(), tenant_a.school_admin)
    page = admin.post(
        f"/schools/{tenant_a.school.pk}/",
        {"form": "student", "student-display_name": "New pupil", "student-student_number": "p100"},
    )
    assert page.status_code == 201
    first = re.search(r'<code class="secret">(\w+)</code>', page.content.decode())
    assert first, "the first password is shown once"
    staff = admin.post(
        f"/schools/{tenant_a.school.pk}/",
        {
            "form": "staff",
            "staff-display_name": "New teacher",
            "staff-login_id": "new-teacher",
            "staff-role": "teacher",
        },
    )
    staff_password = re.search(r'<code class="secret">(\w+)</code>', staff.content.decode())
    assert staff_password
    _target, reset = actions.reset_password(tenant_a.teacher, tenant_a.student.pk)
    teacher = Client()
    assert (
        teacher.post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD}).status_code == 302
    )
    own = "correct horse battery staple on the roof 42"
    changed = teacher.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": own, "password2": own})
    assert changed.status_code == 302, changed.content[:300]
    secrets = {
        "first pupil password": first.group(1),
        "first staff password": staff_password.group(1),
        "reset": reset,
        "own": own,
    }
    assert len(first.group(1)) == 10 and len(staff_password.group(1)) == 14 and len(reset) == 10
    stored = every_stored_text()
    for label, secret in secrets.items():
        assert secret not in stored, f"the {label} is stored in plain text"
        assert secret not in log_lines.text(), f"the {label} is in the log"
    for user in User.objects.filter(username__in=["new-teacher", tenant_a.teacher.username, tenant_a.student.username]):
        assert user.password.startswith(ARGON2ID_PREFIX), (user.username, user.password[:40])
    pupil = User.objects.get(display_name="New pupil")
    assert pupil.password.startswith(ARGON2ID_PREFIX) and pupil.check_password(first.group(1))


@pytest.mark.parametrize(
    "old_hash",
    [
        "pbkdf2",
        "django-argon2",  # Django's own default cost: the same "argon2" prefix, other parameters
    ],
)
def test_an_older_hash_is_upgraded_at_the_next_login(tenant_a: Tenant, production_hashers: None, old_hash: str) -> None:
    hasher = {"pbkdf2": "pbkdf2_sha256", "django-argon2": "argon2"}[old_hash]
    if old_hash == "django-argon2":
        from django.contrib.auth.hashers import Argon2PasswordHasher

        encoded = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    else:
        encoded = make_password(PASSWORD, hasher=hasher)
    User.objects.filter(pk=tenant_a.teacher.pk).update(password=encoded)
    assert not encoded.startswith(ARGON2ID_PREFIX)
    response = Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    assert response.status_code == 302
    tenant_a.teacher.refresh_from_db()
    assert tenant_a.teacher.password.startswith(ARGON2ID_PREFIX)


@pytest.mark.parametrize(
    ("new_password", "why"),
    [
        ("short1!", "shorter than 10 characters"),
        ("qwertyuiop", "a common password"),
        ("password123", "a common password"),
        ("83749201746352", "only digits"),
        ("aaa-teacher-1", "like the login ID"),
    ],
)
def test_staff_cannot_choose_a_weak_password(tenant_a: Tenant, new_password: str, why: str) -> None:
    client = Client()
    client.post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password}
    )
    assert response.status_code == 200, f"{why}: accepted"
    assert "errorlist" in response.content.decode() or "error" in response.content.decode()
    tenant_a.teacher.refresh_from_db()
    assert tenant_a.teacher.check_password(PASSWORD), f"{why}: the password was changed"


def test_the_policy_is_the_same_in_production(production_settings: dict[str, Any]) -> None:
    validators = {
        v["NAME"].rsplit(".", 1)[-1]: v.get("OPTIONS", {}) for v in production_settings["AUTH_PASSWORD_VALIDATORS"]
    }
    assert validators["MinimumLengthValidator"]["min_length"] >= 10
    assert {"CommonPasswordValidator", "NumericPasswordValidator", "UserAttributeSimilarityValidator"} <= set(
        validators
    )


def test_a_long_passphrase_works_in_full_and_is_not_truncated(tenant_a: Tenant, production_hashers: None) -> None:
    passphrase = "the quick brown fox jumps over the lazy dog while the school bell rings twice at noon!!"
    passphrase = (passphrase + " and again and again")[:100]
    assert len(passphrase) == 100
    client = Client()
    client.post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    changed = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": passphrase, "password2": passphrase}
    )
    assert changed.status_code == 302
    assert (
        Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": passphrase}).status_code
        == 302
    )
    for cut in (passphrase[:72], passphrase[:99], passphrase + "x"):
        response = Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": cut})
        assert response.status_code == 200, f"a password of {len(cut)} characters was accepted"


def test_password_fields_are_never_shown_or_filled_in(tenant_a: Tenant) -> None:
    pages = {
        "/accounts/login/": Client().post("/accounts/login/", {"login": "someone", "password": "typed-secret-99"}),
        "/login/student/": Client().post(
            "/login/student/", {"school_code": "x", "student_number": "y", "password": "typed-secret-99"}
        ),
    }
    for url, response in pages.items():
        body = response.content.decode()
        assert "typed-secret-99" not in body, url
        fields = re.findall(r"<input[^>]*name=\"password\"[^>]*>", body)
        assert fields and all('type="password"' in field for field in fields), (url, fields)
    settings_page = login_as(Client(), tenant_a.teacher).get("/settings/")
    assert settings_page.status_code == 200
