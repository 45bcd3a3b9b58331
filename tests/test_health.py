"""/healthz says the process is alive; /readyz that the database, cache and storage answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from django.test import Client

from tests.conftest import require_service


def test_healthz(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(db: None) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "storage": "ok"}}


def test_readyz_fails_without_revealing_details(db: None) -> None:
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
    assert "200 {'database': 'ok', 'cache': 'ok', 'storage': 'ok'}" in result.stdout
    assert "RedisCache" in result.stdout
