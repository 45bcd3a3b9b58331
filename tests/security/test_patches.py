"""Patches on a deadline: `classnote security patches`, the nightly check and the operator's page.

The recorded feeds are in tests/data/ (see its README); every test pins the "installed" versions,
except one that runs the command against this environment."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import reverse

from classnote.accounts.models import User
from classnote.security import patches, reports, tasks
from classnote.security.models import PatchReport
from tests.conftest import Tenant, login_as

DATA = Path(__file__).resolve().parent.parent / "data"
OSV = DATA / "osv-feed.json"
PIP_AUDIT = DATA / "pip-audit.json"
INSTALLED = DATA / "installed.txt"
TODAY = date(2024, 10, 20)

pytestmark = pytest.mark.django_db  # the command reads the first-seen days of the last stored report


def run(*args: str) -> tuple[int, str, str]:
    """`classnote security patches ARGS`: exit code, stdout, stderr (as the shell would see them)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("security", "patches", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


def check(installed: dict[str, str], *feeds: Path, today: date = TODAY, **kwargs: Any) -> patches.Report:
    sources = [str(feed) for feed in feeds or (OSV,)]
    return patches.check(patches.load(sources), installed, today, feeds=sources, **kwargs)


def by_package(report: patches.Report) -> dict[str, patches.Finding]:
    return {finding.package: finding for finding in report.findings}


# --- The recorded OSV feed ------------------------------------------------------------------------


def test_recorded_feed_lists_the_expected_packages_with_7_and_30_day_deadlines() -> None:
    report = check(patches.read_installed(INSTALLED))
    found = {f.package: (f.advisory, f.severity.value, f.counted_from, f.deadline, f.overdue) for f in report.findings}
    assert found == {
        "huey": ("CLASSNOTE-TEST-0004", "unknown", date(2024, 9, 1), date(2024, 10, 1), True),
        "django": ("PYSEC-0000-CVE-2024-45230", "high", date(2024, 10, 8), date(2024, 10, 15), True),
        "django-allauth": ("CLASSNOTE-TEST-0009", "high", date(2024, 10, 14), date(2024, 10, 21), False),
        "redis": ("CLASSNOTE-TEST-0006", "critical", date(2024, 10, 16), date(2024, 10, 23), False),
        "cryptography": ("CLASSNOTE-TEST-0002", "critical", date(2024, 10, 18), date(2024, 10, 25), False),
        "pillow": ("CLASSNOTE-TEST-0003", "medium", date(2024, 10, 1), date(2024, 10, 31), False),
        "segno": ("CLASSNOTE-TEST-0005", "low", None, None, False),
    }
    # Overdue first, then by deadline; the one without a fix last.
    assert [f.package for f in report.findings] == [
        "huey",
        "django",
        "django-allauth",
        "redis",
        "cryptography",
        "pillow",
        "segno",
    ]
    django = by_package(report)["django"]
    assert django.aliases == ["CVE-2024-45230"]
    assert django.fixed == ["5.0.9", "5.1.1"]
    assert django.score == 7.5
    assert django.urgent
    assert django.days_left == -5
    assert by_package(report)["segno"].fixed == []
    assert len(report.overdue) == 2


def test_command_flags_overdue_packages_and_exits_non_zero() -> None:
    code, out, err = run("--feed", str(OSV), "--installed", str(INSTALLED), "--today", "2024-10-20")
    assert code == 1
    assert "2 affected package(s) past the patch deadline" in err
    assert "7 affected, 2 overdue" in out
    assert "django 5.0.3  PYSEC-0000-CVE-2024-45230 (CVE-2024-45230)" in out
    assert "deadline: 2024-10-15  OVERDUE by 5 day(s)" in out
    assert "severity: high 7.5 (urgent, 7 days)" in out
    assert "deadline: 2024-10-31  11 day(s) left" in out  # pillow, medium: 30 days
    assert "deadline: -  no fix yet" in out  # segno


def test_command_exits_zero_when_nothing_is_overdue(tmp_path: Path) -> None:
    pins = tmp_path / "pins.txt"
    pins.write_text("Django==5.0.3\n")
    code, out, _ = run("--feed", str(OSV), "--installed", str(pins), "--today", "2024-10-15")
    assert code == 0
    assert "deadline: 2024-10-15  0 day(s) left" in out  # due today is not yet overdue
    assert run("--feed", str(OSV), "--installed", str(pins), "--today", "2024-10-16")[0] == 1


def test_command_json_output() -> None:
    code, out, _ = run("--feed", str(OSV), "--installed", str(INSTALLED), "--today", "2024-10-20", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["affected"] == 7 and data["overdue"] == 2 and data["packages_checked"] == 9
    redis = next(f for f in data["findings"] if f["package"] == "redis")
    assert redis["severity"] == "critical" and redis["urgent"] is True
    assert redis["deadline"] == "2024-10-23" and redis["days_left"] == 3
    assert redis["counted_from_source"] == "published" and redis["score"] == 9.3


def test_versions_outside_the_affected_ranges_are_not_listed() -> None:
    report = check(
        {
            "django": "4.2.16",  # fixed
            "pillow": "10.4.1",  # after last_affected
            "redis": "4.6.0",  # before introduced
            "segno": "1.6.2",  # not in the versions list
            "cryptography": "43.0.1",  # the fixed version itself
            "huey": "3.0.0",
            "django-allauth": "65.0.2",
            "whitenoise": "6.7.0",  # its record is withdrawn
            "argon2-cffi": "23.1.0",  # a GIT range: commits, not releases
        }
    )
    assert report.findings == []
    assert report.packages == 9


def test_introduced_and_fixed_events_are_evaluated_in_version_order() -> None:
    # The record lists its events unsorted (5.1, 5.1.1, 5.0, 5.0.9, 4.2, 4.2.16), as the real one does.
    expectations = {
        "4.1.13": False,
        "4.2": True,
        "4.2.15": True,
        "4.2.16": False,
        "4.2.20": False,
        "5.0": True,
        "5.0.8": True,
        "5.0.9": False,
        "5.1": True,
        "5.1.1": False,
        "5.2.19": False,
    }
    for version, affected in expectations.items():
        found = by_package(check({"django": version}))
        assert ("django" in found) is affected, version
    assert by_package(check({"django": "4.2.15"}))["django"].fixed == ["4.2.16", "5.0.9", "5.1.1"]
    assert by_package(check({"django": "5.1"}))["django"].fixed == ["5.1.1"]


def test_introduced_zero_means_from_the_first_release() -> None:
    assert "cryptography" in by_package(check({"cryptography": "0.1"}))
    assert "cryptography" in by_package(check({"cryptography": "43.0.0"}))
    assert "cryptography" not in by_package(check({"cryptography": "43.0.1"}))


def test_last_affected_includes_that_version_and_nothing_after() -> None:
    assert "pillow" not in by_package(check({"pillow": "9.5.0"}))
    assert "pillow" in by_package(check({"pillow": "10.0.0"}))
    assert "pillow" in by_package(check({"pillow": "10.4.0"}))
    assert "pillow" not in by_package(check({"pillow": "10.4.1"}))
    assert "pillow" in by_package(check({"pillow": "11.0.0"}))  # the second range, fixed in 11.0.1
    assert "pillow" not in by_package(check({"pillow": "11.0.1"}))
    assert by_package(check({"pillow": "10.4.0"}))["pillow"].fixed == ["11.0.1"]


def test_explicit_versions_list_and_no_fix_yet() -> None:
    segno = by_package(check({"segno": "1.6.0"}))["segno"]
    assert (segno.severity, segno.fixed, segno.deadline, segno.overdue) == (patches.Severity.LOW, [], None, False)
    assert "segno" not in by_package(check({"segno": "1.5.0"}))


def test_package_names_are_compared_canonically() -> None:
    # The feed says "Pillow" and "django_allauth"; installed names vary in case and separators.
    found = by_package(check({"PILLOW": "10.4.0", "Django.Allauth": "65.0.0"}))
    assert set(found) == {"pillow", "django-allauth"}


def test_two_records_of_one_vulnerability_are_one_finding_with_the_higher_rating() -> None:
    allauth = by_package(check({"django-allauth": "65.0.0"}))["django-allauth"]
    assert allauth.advisory == "CLASSNOTE-TEST-0009"
    assert allauth.aliases == ["CLASSNOTE-TEST-0010", "CVE-TEST-0009"]
    assert allauth.severity == patches.Severity.HIGH  # from CLASSNOTE-TEST-0010; 0009 has no rating
    assert allauth.counted_from == date(2024, 10, 14)  # the earlier of the two published dates


# --- Severity -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "vector", "score", "severity"),
    [
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"),
        ("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "high"),
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "high"),
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N", 5.4, "medium"),
        ("CVSS_V3", "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "low"),
        ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "critical"),
        ("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "high"),
        ("CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "high"),  # CVSS v2 has no "critical"
    ],
)
def test_cvss_vectors_are_scored_and_bucketed(kind: str, vector: str, score: float, severity: str) -> None:
    assert patches.cvss_score(kind, vector) == (score, patches.Severity(severity))


def test_score_buckets_at_their_boundaries() -> None:
    assert [patches.bucket(s).value for s in (10.0, 9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0.0)] == [
        "critical",
        "critical",
        "high",
        "high",
        "medium",
        "medium",
        "low",
        "low",
        "low",
    ]


def test_an_unreadable_vector_leaves_the_severity_unknown() -> None:
    assert patches.cvss_score("CVSS_V3", "CVSS:3.1/AV:X") is None
    assert patches.cvss_score("Ubuntu", "high") is None
    record = {
        "id": "X-1",
        "published": "2024-10-01T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": "not a vector"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["1.0"]}],
    }
    (advisory,) = patches.parse(record)
    assert advisory.severity == patches.Severity.UNKNOWN


def test_the_most_severe_rating_of_a_record_wins() -> None:
    record = {
        "id": "X-2",
        "published": "2024-10-01T00:00:00Z",
        "database_specific": {"severity": "MODERATE"},
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
            }
        ],
    }
    report = patches.check(patches.parse(record), {"demo": "1.0"}, date(2024, 10, 5))
    (finding,) = report.findings
    assert (finding.severity, finding.score, finding.deadline) == (patches.Severity.CRITICAL, 9.8, date(2024, 10, 8))


# --- pip-audit's format ---------------------------------------------------------------------------


def test_pip_audit_output_is_read_with_unknown_severity_and_30_days_from_first_seen() -> None:
    report = check({"django": "5.0.3", "huey": "2.5.0", "segno": "1.6.1"}, PIP_AUDIT)
    found = by_package(report)
    assert set(found) == {"django", "huey"}
    django = found["django"]
    assert (django.advisory, django.aliases, django.severity) == (
        "PYSEC-0000-CVE-2024-45230",
        ["CVE-2024-45230"],
        patches.Severity.UNKNOWN,
    )
    assert django.fixed == ["5.0.9", "5.1.1"]
    assert (django.published, django.counted_from, django.counted_from_source) == (None, TODAY, "first_seen")
    assert django.deadline == TODAY + timedelta(days=30)
    assert not report.overdue


def test_pip_audit_counts_from_the_day_first_seen() -> None:
    seen = {"django:PYSEC-0000-CVE-2024-45230": date(2024, 9, 1)}
    django = by_package(check({"django": "5.0.3"}, PIP_AUDIT, first_seen=seen))["django"]
    assert (django.counted_from, django.deadline, django.overdue) == (date(2024, 9, 1), date(2024, 10, 1), True)


def test_pip_audit_audited_version_up_to_the_next_fix_counts_as_affected() -> None:
    assert "django" in by_package(check({"django": "5.0.5"}, PIP_AUDIT))
    assert "django" not in by_package(check({"django": "5.0.9"}, PIP_AUDIT))
    assert "django" not in by_package(check({"django": "5.2.19"}, PIP_AUDIT))


def test_pip_audit_entry_takes_rating_and_date_from_an_osv_record_of_the_same_vulnerability() -> None:
    report = check({"django": "5.0.3", "huey": "2.5.0"}, PIP_AUDIT, OSV)
    found = by_package(report)
    assert len(report.findings) == 2  # one finding per vulnerability, not one per feed
    assert (found["django"].severity, found["django"].counted_from) == (patches.Severity.HIGH, date(2024, 10, 8))
    assert found["django"].deadline == date(2024, 10, 15)
    assert (found["huey"].severity, found["huey"].counted_from) == (patches.Severity.UNKNOWN, date(2024, 9, 1))


def test_a_directory_of_osv_record_files_is_one_feed(tmp_path: Path) -> None:
    """An unpacked OSV export (osv.dev's PyPI/all.zip) holds one record per file."""
    for record in json.loads(OSV.read_text()):
        (tmp_path / f"{record['id']}.json").write_text(json.dumps(record))
    from_directory = check(patches.read_installed(INSTALLED), tmp_path)
    assert [f.as_dict() for f in from_directory.findings] == [f.as_dict() for f in check(PINNED).findings]
    (tmp_path / "PYSEC-0000-CVE-2024-45230.json").write_text("{")
    code, _, err = run("--feed", str(tmp_path), "--installed", str(INSTALLED))
    assert code == 3 and "PYSEC-0000-CVE-2024-45230.json: not valid JSON" in err


def test_command_reads_pip_audit_output() -> None:
    code, out, _ = run("--feed", str(PIP_AUDIT), "--installed", str(INSTALLED), "--today", "2024-10-20")
    assert code == 0
    assert "severity: unknown (30 days)" in out
    assert "published: unknown; first seen 2024-10-20" in out


# --- Feeds that cannot be read --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": "world"}', "not an OSV record"),
        ("42", "not an OSV record"),
        ('{"results": [{"vulns": [{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-10-01T00:00:00Z"}]}]}', "querybatch"),
        ('{"dependencies": [{"version": "1.0"}]}', "pip-audit dependency without a name"),
        ("[1, 2]", "not an OSV record"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
def test_malformed_feed_is_a_clear_error_with_its_own_exit_code(tmp_path: Path, content: Any, message: str) -> None:
    feed = tmp_path / "feed.json"
    feed.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = run("--feed", str(feed), "--installed", str(INSTALLED))
    assert code == 3
    assert message in err and str(feed) in err
    assert "Traceback" not in err


def test_missing_or_unreadable_feed_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("--feed", str(tmp_path / "nope.json"), "--installed", str(INSTALLED))
    assert (code, "cannot be read" in err) == (3, True)
    code, _, err = run("--feed", str(tmp_path), "--installed", str(INSTALLED))
    assert (code, "a directory without .json files" in err) == (3, True)
    code, _, err = run("--feed", "ftp://example.org/feed.json", "--installed", str(INSTALLED))
    assert (code, "only file paths and http(s) URLs" in err) == (3, True)


def test_url_on_an_undeclared_host_is_refused_by_the_egress_guard() -> None:
    code, _, err = run("--feed", "https://user:secret@osv-mirror.example.net/feed.json?token=abc")
    assert code == 3
    assert "refused by the egress guard" in err and "osv-mirror.example.net" in err
    assert "secret" not in err and "token" not in err  # credentials never repeated


def test_usage_errors_have_their_own_exit_code() -> None:
    assert run("--feed", str(OSV), "--today", "yesterday")[0] == 2
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[]):
        code, _, err = run()
    assert code == 2 and "SECURITY_FEED" in err


def test_command_runs_against_the_installed_environment() -> None:
    code, out, _ = run("--feed", str(OSV), "--format", "json")
    assert code in (0, 1)  # whatever this environment holds, the command reads it and answers
    data = json.loads(out)
    assert data["packages_checked"] > 20
    assert (data["overdue"] > 0) == (code == 1)


# --- The nightly check and the operator's page ----------------------------------------------------

PINNED = patches.read_installed(INSTALLED)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patches, "installed_packages", lambda: dict(PINNED))


def test_operator_page_says_when_no_feed_is_configured(client: Client, operator: User) -> None:
    login_as(client, operator)
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[]):
        page = client.get(reverse("security_patches"))
        assert page.status_code == 200
        assert b"No feed is configured" in page.content and b"SECURITY_FEED" in page.content
        refused = client.post(reverse("security_patches_check"))
    assert refused.status_code == 400
    assert b"No vulnerability feed is configured" in refused.content
    assert not PatchReport.objects.exists()


@pytest.mark.usefixtures("pinned")
def test_check_now_stores_the_report_and_the_page_shows_it(client: Client, operator: User) -> None:
    login_as(client, operator)
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[str(OSV)]), time_machine.travel("2024-10-20 12:00 +09:00"):
        response = client.post(reverse("security_patches_check"), follow=True)
    assert response.status_code == 200
    report = PatchReport.objects.get()
    assert (report.trigger, report.affected, report.overdue, report.error) == ("manual", 7, 2, "")
    html = response.content.decode()
    assert "PYSEC-0000-CVE-2024-45230" in html and "CVE-2024-45230" in html
    assert "2024-10-15" in html and "Overdue by 5 days" in html
    assert "2 patches are overdue." in html
    assert "No fix yet" in html  # segno
    assert "CLASSNOTE-TEST-0007" not in html  # withdrawn


@pytest.mark.usefixtures("pinned")
def test_nightly_job_stores_a_report_that_survives_as_a_row(operator: User) -> None:
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[str(OSV)]), time_machine.travel("2024-10-20 12:00 +09:00"):
        tasks.check_patches.call_local()
    report = PatchReport.objects.get()
    assert (report.trigger, report.affected, report.overdue) == ("nightly", 7, 2)
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[]):
        tasks.check_patches.call_local()  # no feed: nothing to do
    assert PatchReport.objects.count() == 1


@pytest.mark.usefixtures("pinned")
def test_stored_reports_carry_the_first_seen_day_of_undated_findings(db: None) -> None:
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[str(PIP_AUDIT)]):
        with time_machine.travel("2024-10-01 12:00 +09:00"):
            first = reports.run("nightly")
        with time_machine.travel("2024-11-05 12:00 +09:00"):
            later = reports.run("nightly")
    assert first is not None and later is not None
    assert first.overdue == 0
    django = next(f for f in later.findings if f["package"] == "django")
    assert (django["first_seen"], django["deadline"], django["overdue"]) == ("2024-10-01", "2024-10-31", True)
    assert later.overdue == 2  # django and huey, both first seen on 2024-10-01


@pytest.mark.usefixtures("pinned")
def test_a_feed_that_cannot_be_read_is_shown_with_the_last_good_report(
    client: Client, operator: User, tmp_path: Path
) -> None:
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[str(OSV)]), time_machine.travel("2024-10-20 12:00 +09:00"):
        reports.run("nightly")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    login_as(client, operator)
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[str(broken)]):
        response = client.post(reverse("security_patches_check"), follow=True)
    html = response.content.decode()
    assert "The last check failed" in html and "not valid JSON" in html
    assert "PYSEC-0000-CVE-2024-45230" in html  # the last good report stays visible
    assert PatchReport.objects.filter(error__contains="not valid JSON").count() == 1


def test_only_operators_see_or_run_the_patch_check(client: Client, tenant_a: Tenant) -> None:
    for user in tenant_a.users():
        login_as(client, user)
        assert client.get(reverse("security_patches")).status_code == 403
        assert client.post(reverse("security_patches_check")).status_code == 403
    assert not PatchReport.objects.exists()


@pytest.mark.usefixtures("pinned")
def test_patch_page_in_japanese_and_chinese(client: Client, operator: User) -> None:
    with override_settings(CLASSNOTE_SECURITY_FEEDS=[str(OSV)]), time_machine.travel("2024-10-20 12:00 +09:00"):
        reports.run("nightly")
    for language in ("ja", "zh-hant"):
        operator.language = language
        operator.save(update_fields=["language"])
        login_as(client, operator)
        html = client.get(reverse("security_patches")).content.decode()
        assert "Security patches" not in html.split("<main", 1)[-1]
        assert "PYSEC-0000-CVE-2024-45230" in html
