"""Configuration comes only from the environment, and production refuses insecure settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

STRONG_KEY = secrets.token_urlsafe(64)


def run_classnote(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CLASSNOTE_", "DJANGO_"))}
    for name in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "HTTPS"):
        environment.pop(name, None)
    environment.update({"CLASSNOTE_HOME": str(tmp_path / "home"), **env})
    return subprocess.run(
        [sys.executable, "-m", "classnote", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(**overrides: str) -> dict[str, str]:
    return {
        "CLASSNOTE_ENV": "production",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "classnote.example.org",
        # Published on /privacy/ (tests/privacy/test_outbound_settings.py)
        "OPERATOR_NAME": "Example Operator Ltd.",
        "PRIVACY_CONTACT": "privacy@example.org",
        "DATA_LOCATION": "Japan (Tokyo)",
    } | overrides


def test_a_proper_production_configuration_passes_check_deploy_without_warnings(tmp_path: Path) -> None:
    result = run_classnote(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG=true is not allowed"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty"),
        ({"HTTPS": "false"}, "HTTPS=false is not allowed"),
        ({"HSTS_SECONDS": "3600"}, "HSTS_SECONDS must be at least"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "REDIS_URL must use rediss://"),
        ({"REDIS_URL": "REDIS://127.0.0.1:6379/0"}, "REDIS_URL must use rediss://"),
        ({"REDIS_URL": "rediss://127.0.0.1:6380/0?ssl_cert_reqs=none"}, "REDIS_URL turns off the check"),
        ({"REDIS_URL": "rediss://127.0.0.1:6380/0?ssl_check_hostname=false"}, "REDIS_URL turns off the check"),
        ({"DATABASE_URL": "postgres://c@127.0.0.1/classnote?sslmode=disable"}, "sslmode=disable: production needs"),
        ({"DATABASE_URL": "postgres://c@127.0.0.1/classnote?sslmode=prefer"}, "sslmode=prefer: production needs"),
        ({"DATABASE_URL": "postgres://c@127.0.0.1/classnote?sslmode=require"}, "sslmode=require: production needs"),
    ],
)
def test_production_refuses_to_start_with_an_insecure_setting(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    env = production(**overrides)
    if env.get("SECRET_KEY") == "":
        env.pop("SECRET_KEY")
    result = run_classnote(tmp_path, "check", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("SESSION_AGE_TEACHER", "lots", "SESSION_AGE_TEACHER='lots' is not a whole number"),
        ("CLASSNOTE_ENV", "staging", "CLASSNOTE_ENV='staging' must be one of"),
        ("DATABASE_URL", "mysql://db/classnote", "DATABASE_URL must be sqlite:///... or postgres://..."),
        ("SESSION_IDLE_STUDENT", "5", "SESSION_IDLE_STUDENT=5 is below the minimum 60"),
        ("STATUS_SLO", "high", "STATUS_SLO='high' is not a number"),
        ("STATUS_SLO", "nan", "STATUS_SLO='nan' is not a number"),
        # A percentage where a fraction is meant.
        ("STATUS_SLO", "99.95", "STATUS_SLO=99.95 is above the maximum 0.999999"),
    ],
)
def test_a_bad_value_names_the_variable(tmp_path: Path, variable: str, value: str, message: str) -> None:
    result = run_classnote(tmp_path, "check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(STRONG_KEY + "\n")
    env = production()
    env.pop("SECRET_KEY")
    result = run_classnote(tmp_path, "check", "--deploy", SECRET_KEY_FILE=str(key_file), **env)
    assert result.returncode == 0, result.stderr


def test_production_database_connections_require_tls(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('sslmode'))"
    result = run_classnote(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        code,
        **production(DATABASE_URL="postgres://classnote@db.internal:5432/classnote", OPERATOR_HOSTS="db.internal"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "verify-full"


def test_production_accepts_verified_tls_to_postgresql_and_redis(tmp_path: Path) -> None:
    """TLS to the database and Redis is configured in their URLs, with the server's certificate
    checked (a private CA named by sslrootcert / ssl_ca_certs). The local test services have no TLS,
    so this checks the configuration, not a connection."""
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['sslmode']); "
        "print(settings.DATABASES['default']['OPTIONS']['sslrootcert']); "
        "print(settings.CACHES['default']['LOCATION'].split('://')[0]); print(settings.HUEY['connection']['url'][:9])"
    )
    result = run_classnote(
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        code,
        **production(
            DATABASE_URL="postgres://classnote@db.internal:5432/classnote?sslmode=verify-ca&sslrootcert=/etc/db-ca.pem",
            REDIS_URL="rediss://:secret@cache.internal:6380/0?ssl_ca_certs=/etc/redis-ca.pem",
            OPERATOR_HOSTS="db.internal,cache.internal",
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["verify-ca", "/etc/db-ca.pem", "rediss", "rediss://"]


def test_development_default_keeps_all_state_under_classnote_home(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['NAME']); print(settings.MEDIA_ROOT); "
        "print(settings.HUEY['filename'])"
    )
    result = run_classnote(tmp_path, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    home = str((tmp_path / "home").resolve())
    assert all(line.startswith(home) for line in result.stdout.split())
    assert (tmp_path / "home" / "secret_key").stat().st_mode & 0o077 == 0


def test_the_bus_channel_prefix_keeps_deployments_apart(settings: Any) -> None:
    """Redis pub/sub ignores database numbers: two deployments on one Redis must not share channels."""
    from classnote.realtime.bus import redis_prefix

    settings.REALTIME_CHANNEL_PREFIX = ""
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "NAME": "classnote_city_a"}}
    city_a = redis_prefix()
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "NAME": "/var/lib/b/classnote.sqlite3"}}
    assert city_a == "classnote:classnote_city_a:events:" and redis_prefix() == "classnote:classnote.sqlite3:events:"
    settings.REALTIME_CHANNEL_PREFIX = "staging:"
    assert redis_prefix() == "staging:"
