"""The storage comes from the environment; production refuses an S3 connection it cannot trust."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION = {
    "CLASSNOTE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "classnote.example.org",
    "OPERATOR_NAME": "Example Operator Ltd.",
    "PRIVACY_CONTACT": "privacy@example.org",
    "DATA_LOCATION": "Japan (Tokyo)",
    # Production refuses a storage host that is not declared (classnote.privacy.hosts).
    "OPERATOR_HOSTS": "s3.example.org",
    "SUBPROCESSORS": '[{"name": "AWS", "purpose": "file storage", "location": "Japan", "hosts": [".amazonaws.com"]}]',
}


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CLASSNOTE_", "DJANGO_", "S3_", "AWS_"))}
    environment.update({"CLASSNOTE_HOME": str(tmp_path / "home"), "CLASSNOTE_ENV": "test", **env})
    script = "import json, classnote.settings as s; print(json.dumps(s.STORAGES['default'], default=str))"
    return subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_files_are_on_local_disk_by_default(tmp_path: Path) -> None:
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "classnote.files.storage.FileSystemStorage"
    assert storage["OPTIONS"]["location"] == str((tmp_path / "home" / "media").resolve())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"S3_VERIFY_TLS": "false"}, "S3_VERIFY_TLS=false is not allowed"),
        ({"S3_ENDPOINT_URL": "http://s3.example.org"}, "S3_ENDPOINT_URL must use https://"),
        ({"S3_VERIFY_TLS": "maybe"}, "S3_VERIFY_TLS='maybe' is not a boolean"),
        ({"S3_ADDRESSING_STYLE": "sideways"}, "S3_ADDRESSING_STYLE='sideways' must be one of"),
    ],
)
def test_production_refuses_an_untrusted_s3_connection(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    result = load_settings(tmp_path, **PRODUCTION, S3_BUCKET="classnote", **overrides)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_accepts_https_a_private_ca_and_a_storage_on_this_host(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    https = load_settings(
        tmp_path, **PRODUCTION, S3_BUCKET="classnote", S3_ENDPOINT_URL="https://s3.example.org",
        S3_CA_BUNDLE=str(ca),
    )  # fmt: skip
    assert https.returncode == 0, https.stderr
    options = json.loads(https.stdout)["OPTIONS"]
    assert options["verify"] == str(ca) and options["addressing_style"] == "path"
    local = load_settings(tmp_path, **PRODUCTION, S3_BUCKET="classnote", S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert local.returncode == 0, local.stderr
    aws = load_settings(tmp_path, **PRODUCTION, S3_BUCKET="classnote", S3_REGION="ap-northeast-1")
    options = json.loads(aws.stdout)["OPTIONS"]
    assert options["endpoint_url"] is None and options["addressing_style"] == "auto" and options["verify"] is None
