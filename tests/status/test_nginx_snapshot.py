"""deploy/nginx/classnote.conf serves the status page's static snapshot when no app process answers
(issue 15): nginx runs with the deploy configuration (this run's ports, no TLS) against a dead
upstream and answers /status/ from the snapshot directory, in the language asked."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from classnote.status import snapshot
from tests.status import factories

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _render(conf: str, port: int, dead: int, snapshot_dir: Path) -> str:
    """The deploy file as bench/scaleout.sh renders it, without TLS: this run's port and a worker
    that is not there."""
    conf = re.sub(
        r"# workers-begin.*?# workers-end", f"server 127.0.0.1:{dead} max_fails=1 fail_timeout=5s;", conf, flags=re.S
    )
    conf = re.sub(r"# status-snapshot-begin.*?# status-snapshot-end", f"root {snapshot_dir};", conf, flags=re.S)
    conf = conf.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{_free_port()};")
    conf = re.sub(r"\n\s*listen \[::\].*", "", conf)
    conf = re.sub(r"\n\s*ssl_.*", "", conf)
    return conf


@pytest.fixture
def nginx(tmp_path: Path, settings: Any) -> Iterator[int]:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed, and CI=true requires the deploy configuration's test")
        pytest.skip("nginx is not installed (apt-get install nginx-light); the deploy configuration is not tested")
    settings.STATUS_SNAPSHOT_DIR = tmp_path / "status"
    settings.STATUS_SNAPSHOT_S3_URL = ""
    assert snapshot.publish(factories.summary())
    port, dead = _free_port(), _free_port()
    rendered = _render((ROOT / "deploy/nginx/classnote.conf").read_text(), port, dead, settings.STATUS_SNAPSHOT_DIR)
    temp = tmp_path / "nginx"
    temp.mkdir()
    user = "user root root;" if os.getuid() == 0 else ""
    (temp / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
pid {temp}/nginx.pid;
error_log {temp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{ text/html html; application/json json; application/atom+xml atom; text/css css;
             text/javascript js; image/svg+xml svg; }}
{rendered}
}}
"""
    )
    process = subprocess.Popen([binary, "-p", str(temp), "-c", str(temp / "nginx.conf"), "-g", "daemon off;"])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"nginx did not start: {(temp / 'error.log').read_text()}")
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": "classnote.example.org", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our own local nginx
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_nginx_serves_the_snapshot_when_the_app_is_unreachable(nginx: int) -> None:
    status, headers, body = _get(nginx, "/status/")
    assert status == 200 and headers.get("X-Classnote-Status") == "snapshot"
    assert 'lang="en"' in body and "File storage" in body
    status, _headers, body = _get(nginx, "/status/", **{"Accept-Language": "ja,en;q=0.5"})
    assert 'lang="ja"' in body
    status, _headers, body = _get(nginx, "/status/?lang=zh-hant", **{"Accept-Language": "ja"})
    assert 'lang="zh-hant"' in body
    status, headers, body = _get(nginx, "/status/api/summary.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json") and '"page"' in body
    status, headers, _body = _get(nginx, "/status/feed.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    status, _headers, _body = _get(nginx, "/status/status.css")
    assert status == 200
    # Outside /status/, a dead app is still a 502: only the status page has a copy.
    assert _get(nginx, "/home/")[0] == 502
