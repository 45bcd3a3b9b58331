"""TLS-only in production, end to end: `classnote serve` started with CLASSNOTE_ENV=production and a
throwaway certificate serves HTTPS only (TLS 1.2 or newer), its plain-HTTP listener only redirects to
HTTPS on the same host and path, and every answer carries HSTS and the browser's security headers;
the cookies of a login are Secure and HttpOnly.

The certificate authority and the server's certificate (for 127.0.0.1 and localhost) are made here
with `cryptography` (already a dependency of the product), and the clients trust only that CA.
TLS to PostgreSQL and Redis is checked by configuration (tests/test_settings.py): the local test
services have no TLS, so no real TLS connection to them is made here.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.live.server import CSRF_FIELD, ROOT, free_port, server_env

pytestmark = pytest.mark.slow

ONE_YEAR = 365 * 24 * 3600


# --- A throwaway certificate authority ------------------------------------------------------------


@dataclass
class Certificates:
    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path) -> Certificates:
    """A CA and a server certificate for 127.0.0.1, ::1 and localhost, valid for one day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("classnote test CA"))
        .issuer_name(_name("classnote test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    certificates = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    certificates.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certificates.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    certificates.key.touch(mode=0o600)
    certificates.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificates


def client_context(certificates: Certificates) -> ssl.SSLContext:
    """A client that trusts only the test CA (and checks the host name, as browsers do)."""
    return ssl.create_default_context(cafile=str(certificates.ca))


# --- The server in production mode ----------------------------------------------------------------


@dataclass
class ProductionServer:
    https_url: str
    http_url: str
    tls_port: int
    redirect_port: int
    home: Path
    certificates: Certificates
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(
            base_url=self.https_url,
            verify=client_context(self.certificates),
            follow_redirects=False,
            timeout=20,
            **kwargs,  # type: ignore[arg-type]
        )

    def staff_login(self) -> tuple[str, str]:
        rows = (self.home / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
        teachers = [row.split("\t") for row in rows if row.split("\t")[1:2] == ["teacher"]]
        return teachers[0][2], teachers[0][3]


def production_env(home: Path, certificates: Certificates, redirect_port: int) -> dict[str, str]:
    return server_env(
        home,
        CLASSNOTE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        OPERATOR_NAME="Example Operator Ltd.",
        PRIVACY_CONTACT="privacy@example.org",
        DATA_LOCATION="Japan (Tokyo)",
        TLS_CERT_FILE=str(certificates.cert),
        TLS_KEY_FILE=str(certificates.key),
        HTTP_REDIRECT_PORT=str(redirect_port),
    )


@contextlib.contextmanager
def production_server(home: Path) -> Iterator[ProductionServer]:
    certificates = make_certificates(home / "tls")
    tls_port, redirect_port = free_port(), free_port()
    log = home / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "classnote", "serve", "--demo", "--port", str(tls_port)],
        env=production_env(home, certificates, redirect_port),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    server = ProductionServer(
        f"https://127.0.0.1:{tls_port}",
        f"http://127.0.0.1:{redirect_port}",
        tls_port,
        redirect_port,
        home,
        certificates,
        process,
        log,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError), server.client() as client:
                if client.get("/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield server
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionServer]:
    with production_server(tmp_path_factory.mktemp("tls-production")) as running:
        yield running


def cookie_flags(response: httpx.Response, name: str) -> set[str]:
    """The attributes of the Set-Cookie header for NAME (or __Host-NAME / __Secure-NAME), lower-cased
    (e.g. {"secure", "httponly"})."""
    for header in response.headers.get_list("set-cookie"):
        cookie_name, _, rest = header.partition("=")
        if cookie_name.strip() in (name, f"__Host-{name}", f"__Secure-{name}"):
            return {part.strip().split("=")[0].lower() for part in rest.split(";")[1:]}
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


# --- HTTPS --------------------------------------------------------------------------------------


def test_https_verifies_against_the_certificate_authority_and_serves_pages(server: ProductionServer) -> None:
    with server.client() as client:
        response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="login"' in response.text
    # A client that does not trust the test CA refuses the connection.
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=server.https_url, timeout=10) as stranger:
        stranger.get("/healthz")


def test_every_https_answer_carries_hsts_for_at_least_a_year_with_subdomains(server: ProductionServer) -> None:
    with server.client() as client:
        for path in ("/accounts/login/", "/healthz", "/no-such-page/", "/api/me", "/static/classnote/app.css"):
            hsts = client.get(path).headers.get("strict-transport-security", "")
            max_age = re.search(r"max-age=(\d+)", hsts)
            assert max_age and int(max_age.group(1)) >= ONE_YEAR, (path, hsts)
            assert "includesubdomains" in hsts.lower(), (path, hsts)


def test_https_pages_carry_csp_nosniff_and_frame_protection(server: ProductionServer) -> None:
    with server.client() as client:
        response = client.get("/accounts/login/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "upgrade-insecure-requests" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers  # no product or version banner


def test_login_cookies_are_secure_and_http_only(server: ProductionServer) -> None:
    login, password = server.staff_login()
    with server.client() as client:
        page = client.get("/accounts/login/")
        csrf_flags = cookie_flags(page, "csrftoken")
        assert {"secure", "httponly"} <= csrf_flags
        assert "samesite" in csrf_flags
        token = CSRF_FIELD.search(page.text)
        assert token
        response = client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token.group(1), "login": login, "password": password},
            headers={"Referer": f"{server.https_url}/accounts/login/"},
        )
        assert response.status_code == 302, response.text[:500]
        session_flags = cookie_flags(response, "classnote_session")
        assert {"secure", "httponly", "samesite"} <= session_flags
        assert client.get("/home/").status_code in (200, 302)  # signed in (or sent to set up 2FA)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_only_tls_1_2_and_newer_are_accepted(server: ProductionServer) -> None:
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context = client_context(server.certificates)
        context.minimum_version = context.maximum_version = version
        with (
            socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() == version.name.replace("_", ".")

    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        context = old_protocol_client(server.certificates, version)
        with (
            pytest.raises((ssl.SSLError, ConnectionResetError)),
            socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1"),
        ):
            pass


def old_protocol_client(certificates: Certificates, version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers only VERSION (TLS 1.0 or 1.1), with OpenSSL's security level lowered so
    the client itself does not refuse to speak it."""
    context = client_context(certificates)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    return context


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_the_old_protocol_client_really_speaks_tls_1_1(tmp_path: Path) -> None:
    """The control for the test above: against a server that allows TLS 1.1, the same client
    completes a TLS 1.1 handshake, so the refusal above comes from classnote's server."""
    certificates = make_certificates(tmp_path)
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    permissive.load_cert_chain(certificates.cert, certificates.key)
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    permissive.minimum_version = ssl.TLSVersion.TLSv1
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        connection, _ = listener.accept()
        with contextlib.suppress(ssl.SSLError, OSError), permissive.wrap_socket(connection, server_side=True) as tls:
            tls.recv(1)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        context = old_protocol_client(certificates, ssl.TLSVersion.TLSv1_1)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() == "TLSv1.1"
    finally:
        listener.close()
        thread.join(timeout=5)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_the_server_context_sets_tls_1_2_as_minimum_whatever_the_library_default() -> None:
    """The floor is classnote's own setting, not an accident of the local OpenSSL configuration."""
    from classnote.core.management.commands.serve import tls_context

    def permissive() -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1
        return context

    assert tls_context(None, permissive).minimum_version == ssl.TLSVersion.TLSv1_2


def test_serve_refuses_a_redirect_listener_without_a_certificate(tmp_path: Path) -> None:
    from tests.test_settings import run_classnote

    result = run_classnote(tmp_path, "serve", "--no-migrate", "--redirect-port", str(free_port()))
    assert result.returncode != 0
    assert "HTTP_REDIRECT_PORT redirects to HTTPS: it needs --certfile / TLS_CERT_FILE" in result.stderr
    result = run_classnote(tmp_path, "serve", "--no-migrate", "--certfile", str(tmp_path / "missing.pem"))
    assert result.returncode != 0
    assert "cannot be read" in result.stderr


def test_plain_http_to_the_tls_port_gets_no_page(server: ProductionServer) -> None:
    with pytest.raises(httpx.HTTPError), httpx.Client(timeout=10) as client:
        client.get(f"http://127.0.0.1:{server.tls_port}/accounts/login/")


# --- The plain-HTTP listener only redirects ------------------------------------------------------


def test_plain_http_is_redirected_to_https_with_the_same_path_and_query(server: ProductionServer) -> None:
    with httpx.Client(base_url=server.http_url, timeout=10, follow_redirects=False) as client:
        response = client.get("/accounts/login/?next=/home/")
        assert response.status_code == 301
        assert response.headers["location"] == f"https://127.0.0.1:{server.tls_port}/accounts/login/?next=/home/"
        assert response.content == b""
        assert "set-cookie" not in response.headers

        head = client.head("/healthz", headers={"Host": "localhost"})
        assert head.status_code == 301
        assert head.headers["location"] == f"https://localhost:{server.tls_port}/healthz"

        # Other methods keep their method (308), and nothing is processed over plain HTTP.
        posted = client.post("/accounts/login/", data={"login": "someone", "password": "x"})
        assert posted.status_code == 308
        assert posted.headers["location"] == f"https://127.0.0.1:{server.tls_port}/accounts/login/"
        assert posted.content == b""


def test_followed_redirect_ends_on_the_https_page(server: ProductionServer) -> None:
    with httpx.Client(verify=client_context(server.certificates), timeout=20, follow_redirects=True) as client:
        response = client.get(f"{server.http_url}/accounts/login/")
    assert response.status_code == 200
    assert str(response.url) == f"{server.https_url}/accounts/login/"
    assert [r.status_code for r in response.history] == [301]


@pytest.mark.parametrize(
    "host",
    ["evil.example", "127.0.0.1.evil.example", "localhost@evil.example", ""],
)
def test_the_redirect_listener_sends_nobody_to_another_host(server: ProductionServer, host: str) -> None:
    with socket.create_connection(("127.0.0.1", server.redirect_port), timeout=10) as raw:
        raw.sendall(f"GET /accounts/login/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 400 " in status_line, answer[:300]
    assert b"location" not in answer.lower()


def test_an_absolute_request_target_cannot_redirect_elsewhere(server: ProductionServer) -> None:
    with socket.create_connection(("127.0.0.1", server.redirect_port), timeout=10) as raw:
        raw.sendall(b"GET http://evil.example/steal HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    headers = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    location = re.search(r"^location: (\S+)", headers, re.MULTILINE)
    assert location, headers
    assert location.group(1).startswith(f"https://127.0.0.1:{server.tls_port}/")
    assert "evil.example" not in headers
