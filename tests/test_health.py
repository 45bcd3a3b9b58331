"""/healthz says the process is alive; /readyz that the database, cache and storage answer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from unittest import mock

from django.db import connection
from django.test import Client, override_settings

from tests.conftest import require_service


def test_healthz(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(transactional_db: None) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "storage": "ok", "disk": "ok"}}


def test_readyz_fails_without_revealing_details(transactional_db: None) -> None:
    with mock.patch("django.core.files.storage.default_storage.save", side_effect=OSError("/secret/path full")):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "failing"
    assert "secret" not in response.content.decode()


def test_readyz_with_redis_as_the_shared_cache(tmp_path: Path) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    code = (
        "from django.test import Client; r = Client().get('/readyz'); "
        "print(r.status_code, r.json()['checks']);"
        "from django.core.cache import caches; print(type(caches['default']).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "CLASSNOTE_HOME": str(tmp_path),
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        }
    )
    subprocess.run([sys.executable, "-m", "classnote", "migrate", "-v", "0"], env=env, check=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "-m", "classnote", "shell", "--no-imports", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "200 {'database': 'ok', 'cache': 'ok', 'storage': 'ok', 'disk': 'ok'}" in result.stdout
    assert "RedisCache" in result.stdout


def test_readyz_answers_in_time_when_a_check_hangs_and_starts_no_second_one(transactional_db: None) -> None:
    """A hung dependency is reported as `timeout` within READY_CHECK_TIMEOUT, and a probe while it is
    still hung does not start another check of it (a hung backend cannot eat the probe's threads)."""
    release = threading.Event()
    calls = []

    def hung_save(*args: object, **kwargs: object) -> str:
        calls.append(1)
        release.wait(30)
        return "_readyz/x"

    try:
        with (
            override_settings(READY_CHECK_TIMEOUT=1),
            mock.patch("django.core.files.storage.default_storage.save", side_effect=hung_save),
        ):
            first = Client().get("/readyz")
            second = Client().get("/readyz")
    finally:
        release.set()
    assert first.status_code == second.status_code == 503
    assert first.json()["checks"] == {"database": "ok", "cache": "ok", "storage": "timeout", "disk": "ok"}
    assert second.json()["checks"]["storage"] == "timeout"
    assert len(calls) == 1


def test_readyz_reports_the_embedded_database_not_writable_without_free_space(transactional_db: None) -> None:
    full = shutil._ntuple_diskusage(total=10**9, used=10**9, free=0)  # type: ignore[attr-defined]
    with mock.patch("classnote.core.health.shutil.disk_usage", return_value=full):
        response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["disk"] == "not_writable"
    if connection.vendor == "sqlite":
        assert checks["database"] == "not_writable"
