"""`make audit` (tests/dependency_audit.py): a vulnerable pin fails, and an audit that checked nothing
never passes as if it had (pip-audit itself exits 0 when every package was skipped)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import dependency_audit

LOCK = "django==5.0.3\n    # via classnote\nhuey==2.5.0\n"


def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: dict[str, Any] | None, probe: str = "") -> int:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(LOCK)
    monkeypatch.setattr(dependency_audit, "service_answers", lambda name, version: probe)

    def fake_pip_audit(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if report is not None:
            Path(args[args.index("--output") + 1]).write_text(json.dumps(report))
        return subprocess.CompletedProcess(args, 1 if report is None else 0, "", "")

    monkeypatch.setattr(dependency_audit.subprocess, "run", fake_pip_audit)
    monkeypatch.setattr(dependency_audit.sys, "argv", ["dependency_audit", str(requirements)])
    return dependency_audit.main()


def test_a_vulnerable_locked_package_fails_the_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    vuln = {"id": "PYSEC-0000-CVE-2024-45230", "fix_versions": ["5.0.9"], "aliases": ["CVE-2024-45230"]}
    report = {
        "dependencies": [
            {"name": "django", "version": "5.0.3", "vulns": [vuln]},
            {"name": "huey", "version": "2.5.0", "vulns": []},
        ]
    }
    assert audit(tmp_path, monkeypatch, report) == 1
    assert (
        "VULNERABLE django 5.0.3: PYSEC-0000-CVE-2024-45230 (CVE-2024-45230) fixed in 5.0.9" in capsys.readouterr().out
    )


def test_a_clean_complete_audit_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "5.0.3", "vulns": []},
            {"name": "huey", "version": "2.5.0", "vulns": []},
        ]
    }
    assert audit(tmp_path, monkeypatch, report) == 0


def test_a_partial_audit_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "5.0.3", "vulns": []},
            {"name": "huey", "skip_reason": "Dependency not found on PyPI and could not be audited: huey (2.5.0)"},
        ]
    }
    assert audit(tmp_path, monkeypatch, report) == 1
    assert "NOT AUDITED huey" in capsys.readouterr().out


def test_an_audit_that_checked_nothing_says_skipped_and_fails_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    everything_skipped = {
        "dependencies": [
            {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.0.3)"},
            {"name": "huey", "skip_reason": "Dependency not found on PyPI and could not be audited: huey (2.5.0)"},
        ]
    }
    monkeypatch.delenv("AUDIT_REQUIRED", raising=False)
    assert audit(tmp_path, monkeypatch, everything_skipped) == 0
    assert "DEPENDENCY AUDIT SKIPPED" in capsys.readouterr().out
    monkeypatch.setenv("AUDIT_REQUIRED", "true")
    assert audit(tmp_path, monkeypatch, everything_skipped) == 1
    # The service probe failing skips before pip-audit runs, with the same rule.
    assert audit(tmp_path, monkeypatch, None, probe="https://pypi.org/pypi/django/5.0.3/json answered 404") == 1
    monkeypatch.delenv("AUDIT_REQUIRED")
    assert audit(tmp_path, monkeypatch, None, probe="https://pypi.org/pypi/django/5.0.3/json answered 404") == 0
