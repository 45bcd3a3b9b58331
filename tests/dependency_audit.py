"""`make audit`: pip-audit over the locked requirements (uv.lock, every group), with an honest answer.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) which advisories affect
each pinned version. When that endpoint cannot be reached, pip-audit marks every package "skipped"
and still says "No known vulnerabilities found" with exit status 0 — a pass that audited nothing.
This wrapper reads pip-audit's JSON instead and decides:

* exit 1 when any locked package has a known vulnerability (always: a known hole in the lock is a
  defect, in CI and on a laptop alike); the report names the package, advisory and fixed versions;
* exit 1 when the audit was partial (some packages audited, some skipped): an incomplete audit is
  not a pass;
* exit 0 with a loud "SKIPPED" when the vulnerability service answers nothing (no package could be
  audited, e.g. a network that reaches the package index but not PyPI's JSON API), unless
  AUDIT_REQUIRED=true, where that is exit 1 — set it where the service is known to be reachable;
* exit 0 when every package was audited and none is affected.

Usage: python -m tests.dependency_audit REQUIREMENTS_FILE (written by `uv export`, see the Makefile).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
PROBE = "https://pypi.org/pypi/{name}/{version}/json"


def pins(requirements: Path) -> list[tuple[str, str]]:
    found = []
    for line in requirements.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def service_answers(name: str, version: str) -> str:
    """'' when PyPI's per-version JSON API answers for a locked pin, else why not."""
    url = PROBE.format(name=name, version=version)
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - a fixed https URL
            json.load(response)
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"{url}: {getattr(error, 'reason', error)}"
    return ""


def skipped(reason: str) -> int:
    required = os.environ.get("AUDIT_REQUIRED", "").lower() in ("1", "true", "yes")
    print("=" * 78)
    print("DEPENDENCY AUDIT SKIPPED: the vulnerability service cannot be reached from here,")
    print("so NO locked package was checked for known vulnerabilities.")
    print(f"  {reason}")
    print("Run `make audit` where https://pypi.org/pypi/<name>/<version>/json is reachable, or check")
    print("with `classnote security patches --feed <OSV or pip-audit JSON> --installed <export>`")
    print("(docs/operations.md, Patching).")
    print("=" * 78)
    if required:
        print("AUDIT_REQUIRED=true: a skipped audit fails.", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    requirements = Path(sys.argv[1])
    locked = pins(requirements)
    if not locked:
        print(f"{requirements}: no pinned requirements", file=sys.stderr)
        return 1
    probe = next(((n, v) for n, v in locked if n.lower() == "django"), locked[0])
    reason = service_answers(*probe)
    if reason:
        return skipped(reason)
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "audit.json"
        result = subprocess.run(  # our own venv's pip-audit, fixed arguments, no shell
            [
                str(PIP_AUDIT),
                "--requirement",
                str(requirements),
                "--no-deps",  # the export is complete and pinned: every package is listed
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report_path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not report_path.exists():
            print(result.stdout + result.stderr, file=sys.stderr)
            return skipped(f"pip-audit ended with status {result.returncode} and no report")
        report = json.loads(report_path.read_text())
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    missed = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        return skipped(missed[0]["skip_reason"] if missed else "pip-audit audited nothing")
    affected = [(d, v) for d in audited for v in d.get("vulns", [])]
    for dependency, vuln in affected:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({aliases}) fixed in {fixes}")
    for dependency in missed:
        print(f"NOT AUDITED {dependency['name']}: {dependency['skip_reason']}")
    print(
        f"dependency audit: {len(audited)} locked packages audited, {len(affected)} known vulnerabilities, "
        f"{len(missed)} not audited"
    )
    if affected:
        print("Upgrade each with `uv lock --upgrade-package NAME`, then `make test` (docs/operations.md, Patching).")
    return 1 if affected or missed else 0


if __name__ == "__main__":
    sys.exit(main())
