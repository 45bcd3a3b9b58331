"""Site-wide — TLS-only settings in production mode.

Promise: a production configuration (CLASSNOTE_ENV=production) is HTTPS only: plain HTTP is
redirected, HSTS (two years, subdomains, preload) is sent, every cookie is Secure (and
`__Host-`, tests/security/test_session_management.py), the CSP upgrades stray http:// loads,
passkeys are bound to https origins, and X-Forwarded-Proto is believed only behind a configured
proxy (TRUSTED_PROXY_COUNT), so a client cannot claim HTTPS over plain HTTP. tests/test_settings.py
proves that production refuses to start with HTTPS off, a short HSTS, a database without verified
TLS or Redis without TLS; the end-to-end test of a real server with a certificate is
tests/security/test_tls_production.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from tests.test_settings import production, run_classnote

TWO_YEARS = 63072000


def test_production_settings_are_https_only(production_settings: dict[str, Any]) -> None:
    s = production_settings
    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= TWO_YEARS
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and s["SECURE_HSTS_PRELOAD"] is True
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["LANGUAGE_COOKIE_SECURE"]
    assert s["SECURE_PROXY_SSL_HEADER"] is None, "X-Forwarded-Proto is believed without a trusted proxy"
    assert s["MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN"] is False
    directives = s["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives.get("upgrade-insecure-requests") is True
    assert not {"http:", "*"} & {
        source for values in directives.values() if isinstance(values, list) for source in values
    }


def transport(production_settings: dict[str, Any]) -> dict[str, Any]:
    names = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
    return {name: production_settings[name] for name in names} | {"SECURE_PROXY_SSL_HEADER": None}


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/login/student/", "/api/me", "/static/classnote/app.css"])
def test_with_the_production_transport_settings_http_is_redirected_to_https(
    db: None, production_settings: dict[str, Any], url: str
) -> None:
    with override_settings(**transport(production_settings)):
        response = Client().get(url)
        assert response.status_code == 301, (url, response.status_code)
        assert response["Location"] == f"https://testserver{url}"
        # A client claiming HTTPS without a trusted proxy is redirected all the same.
        claimed = Client().get(url, HTTP_X_FORWARDED_PROTO="https")
        assert claimed.status_code == 301


def test_over_https_every_answer_carries_hsts(db: None, production_settings: dict[str, Any]) -> None:
    with override_settings(**transport(production_settings)):
        for url in ("/", "/accounts/login/", "/no-such-page/", "/api/me"):
            response = Client().get(url, secure=True)
            assert response.status_code < 500
            assert response["Strict-Transport-Security"] == f"max-age={TWO_YEARS}; includeSubDomains; preload", url


def test_forwarded_proto_is_believed_only_behind_a_configured_proxy(tmp_path: Any) -> None:
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER, settings.USE_X_FORWARDED_HOST)"
    result = run_classnote(tmp_path, "shell", "--no-imports", "-c", code, **production(TRUSTED_PROXY_COUNT="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "False"]
