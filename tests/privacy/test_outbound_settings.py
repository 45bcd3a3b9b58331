"""Where data lives and which outside services process it come from the environment; production
refuses to start with a backend host that is neither on this machine nor declared, so the list the
privacy page publishes cannot miss an outside service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from classnote.privacy import hosts
from tests.test_settings import production, run_classnote

AWS = [{"name": "Example Cloud", "purpose": "file storage", "location": "Japan", "hosts": [".amazonaws.com"]}]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"OPERATOR_NAME": ""}, "OPERATOR_NAME must be set in production"),
        ({"PRIVACY_CONTACT": "", "DATA_LOCATION": " "}, "PRIVACY_CONTACT, DATA_LOCATION must be set in production"),
        ({"EGRESS_GUARD": "false"}, "EGRESS_GUARD=false is not allowed"),
        (
            {"DATABASE_URL": "postgres://classnote@db.internal:5432/classnote"},
            "DATABASE_URL names the host db.internal",
        ),
        ({"REDIS_URL": "rediss://:secret@cache.internal:6380/0"}, "REDIS_URL names the host cache.internal"),
        (
            {"S3_BUCKET": "classnote", "S3_ENDPOINT_URL": "https://s3.storage.example"},
            "S3_ENDPOINT_URL names the host s3.storage.example",
        ),
        ({"S3_BUCKET": "classnote", "S3_REGION": "ap-northeast-1"}, "names the host s3.ap-northeast-1.amazonaws.com"),
        ({"EMAIL_HOST": "smtp.mail.example"}, "EMAIL_HOST names the host smtp.mail.example"),
        ({"SUBPROCESSORS": "[{"}, "SUBPROCESSORS is not valid JSON"),
        ({"OPERATOR_HOSTS": "*"}, "OPERATOR_HOSTS: '*' is not a host name"),
    ],
)
def test_production_refuses_an_undeclared_outside_host(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    result = run_classnote(tmp_path, "check", **production(**overrides))
    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_when_every_backend_is_declared(tmp_path: Path) -> None:
    subprocessors = tmp_path / "subprocessors.json"
    subprocessors.write_text(json.dumps(AWS), encoding="utf-8")
    env = production(
        DATABASE_URL="postgres://classnote@10.1.2.3:5432/classnote",
        REDIS_URL="rediss://:secret@cache.ops.example:6380/0",
        EMAIL_HOST="localhost",
        S3_BUCKET="classnote",
        S3_REGION="ap-northeast-1",
        OPERATOR_HOSTS="10.1.0.0/16,.ops.example",
        SUBPROCESSORS_FILE=str(subprocessors),
    )
    result = run_classnote(tmp_path, "egress", "hosts", **env)
    assert result.returncode == 0, result.stderr
    assert "10.1.2.3\tconfigured backend (DATABASE_URL)" in result.stdout
    assert ".amazonaws.com\tsub-processor Example Cloud (SUBPROCESSORS)" in result.stdout
    assert "localhost\tthis machine (EMAIL_HOST)" in result.stdout
    assert "The egress guard is on." in result.stdout


def test_the_embedded_default_needs_no_declaration(tmp_path: Path) -> None:
    result = run_classnote(tmp_path, "egress", "hosts", CLASSNOTE_ENV="development")
    assert result.returncode == 0, result.stderr
    assert "sub-processor" not in result.stdout and "operator's own host" not in result.stdout


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{}", "must be a JSON list"),
        ('[{"name": "X", "purpose": "p", "location": "l", "host": []}]', "unknown keys ['host']"),
        ('[{"name": "", "purpose": "p", "location": "l"}]', "name must be a non-empty text"),
        ('[{"name": "X", "purpose": "", "location": "l"}]', "purpose must be a text"),
        ('[{"name": "X", "purpose": {"en": 1}, "location": "l"}]', "purpose must be a text"),
        ('[{"name": "X", "purpose": "p", "location": "l", "hosts": "a.example"}]', "hosts must be a list"),
        ('[{"name": "X", "purpose": "p", "location": "l", "hosts": ["https://a.example:443"]}]', "without a port"),
        ('[{"name": "X", "purpose": "p", "location": "l", "hosts": ["*.org"]}]', "a whole top-level domain"),
        ('[{"name": "X", "purpose": "p", "location": "l", "hosts": ["10.0.0.0/33"]}]', "is not a network"),
    ],
)
def test_a_bad_sub_processor_list_names_the_problem(raw: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="SUBPROCESSORS") as error:
        hosts.parse_subprocessors(raw)
    assert message in str(error.value)


def test_host_patterns() -> None:
    def allowed(pattern: str, host: str) -> bool:
        return hosts.HostPattern.parse(pattern, "TEST").matches(hosts.normalise(host))

    assert allowed("db.example.org", "DB.Example.org.")
    assert not allowed("db.example.org", "db.example.org.evil.example")
    assert allowed(".example.org", "example.org") and allowed(".example.org", "a.b.example.org")
    assert allowed("*.example.org", "a.example.org") and not allowed("*.example.org", "example.org")
    assert not allowed(".example.org", "badexample.org")
    assert allowed("10.0.0.0/8", "10.200.3.4") and not allowed("10.0.0.0/8", "11.0.0.1")
    assert allowed("2001:db8::5", "[2001:DB8::5]") and allowed("192.0.2.5", "::ffff:192.0.2.5")


def test_operator_text_in_the_readers_language() -> None:
    (sub,) = hosts.parse_subprocessors(
        json.dumps([{"name": "X", "purpose": {"en": "mail", "ja": "メール", "zh_Hant": "郵件"}, "location": "Tokyo"}])
    )
    assert sub.purpose_in("ja") == "メール" and sub.purpose_in("zh-hant") == "郵件" and sub.purpose_in("en") == "mail"
    assert sub.purpose_in("ko") == "mail" and sub.location_in("ja") == "Tokyo" and sub.hosts == ()
