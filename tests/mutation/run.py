"""`make mutation`: mutation testing of the security modules with mutmut, one group at a time.

Each group names the modules it mutates, the functions among them (mutmut's mutant names, as
globs) and the tests that hold them. A group runs in its own directory, .mutation/<group>/, with
symlinks to src/, tests/ and docs/ and its own pyproject.toml (this project's, plus a
[tool.mutmut] section for the group), so that

* mutmut collects its per-function test map from that group's tests only, and each mutant then
  runs only the tests of that map that call the mutated function (mutmut's own selection);
* results are kept per group (mutmut resumes where it stopped; delete .mutation/<group>/ to
  start again) and a group can be run alone: `make mutation GROUPS="audit mfa"`.

After each group it writes .mutation/<group>/summary.txt: counts per status and the diff of every
mutant that was not killed. The survivors and why each is acceptable are recorded in
docs/security-checklist.md, *Mutation testing*. Not part of `make test`: a full run takes about an
hour on two cores.

    python -m tests.mutation.run [GROUP ...]            # all groups when none is named
    python -m tests.mutation.run --report [GROUP ...]   # rewrite the summaries only, no run
    python -m tests.mutation.run --minutes 10 [GROUP ...]  # stop each group after 10 minutes

A stopped group keeps its results: the next run goes on with the mutants not checked yet.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".mutation"
LINKED = ["src", "tests", "docs", "bench", "deploy", "README.md", "SECURITY.md", "Makefile", "uv.lock"]
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"


@dataclass(frozen=True)
class Group:
    name: str
    files: tuple[str, ...]  # paths under src/ to mutate
    mutants: tuple[str, ...]  # mutmut mutant-name globs to run (functions of those files)
    tests: tuple[str, ...]  # the tests that hold the group
    extra: str = ""  # more [tool.mutmut] settings for this group


ACCESS_FILES = (
    "src/classnote/tenancy/access.py",
    "src/classnote/accounts/access.py",
    "src/classnote/audit/access.py",
    "src/classnote/cards/access.py",
    "src/classnote/complaints/access.py",
    "src/classnote/files/access.py",
    "src/classnote/incidents/access.py",
    "src/classnote/lessons/access.py",
    "src/classnote/privacy/access.py",
    "src/classnote/rights/access.py",
)

GROUPS = [
    Group(
        "audit",
        ("src/classnote/audit/log.py",),
        ("classnote.audit.log.*",),
        ("tests/audit",),
    ),
    Group(
        "mfa",
        (
            "src/classnote/accounts/models.py",
            "src/classnote/accounts/middleware.py",
            "src/classnote/accounts/stepup.py",
        ),
        (
            "classnote.accounts.models.xǁUserǁrequires_mfa__mutmut_*",
            "classnote.accounts.middleware.xǁRequireMFAMiddlewareǁ*",
            "classnote.accounts.stepup.*",
        ),
        (
            "tests/security/test_mfa_roles.py",
            "tests/security/test_mfa.py",
            # the tests of who must enrol and of step-up; TOTP and recovery codes are allauth's
            "-k",
            "roles or policy or middleware or enrols or without_a_second_factor or two_factor_login_of "
            "or password_step or asks_for_the_password or fresh_login or api_token "
            "or needs_no_step_up",
        ),
    ),
    Group(
        "inventory",
        ("src/classnote/base/inventory.py", "src/classnote/privacy/inventory.py"),
        ("classnote.base.inventory.*", "classnote.privacy.inventory.*"),
        ("tests/privacy/test_inventory.py", "tests/privacy/test_inventory_snapshot.py", "tests/privacy/test_policy.py"),
    ),
    Group(
        "erasure",
        ("src/classnote/rights/erasure.py", "src/classnote/rights/subjects.py"),
        ("classnote.rights.erasure.*", "classnote.rights.subjects.*"),
        ("tests/rights",),
    ),
    Group(
        "images",
        ("src/classnote/files/images.py",),
        ("classnote.files.images.*",),
        ("tests/files/test_images.py", "tests/files/test_validation.py"),
    ),
    Group(
        "egress",
        ("src/classnote/privacy/egress.py",),
        ("classnote.privacy.egress.*",),
        # (its test of a real child process is left out: the child does not run the mutant)
        ("tests/privacy/test_egress.py", "-k", "not a_real_process"),
        # The guard is an audit hook: once the tests install it in mutmut's own process, mutmut's
        # next change of its environment calls the mutated hook there. A fork server keeps the
        # tests out of mutmut's process.
        'process_isolation = "forkserver"\n',
    ),
    Group(
        "access",
        ACCESS_FILES,
        tuple(f"classnote.{Path(f).parent.name}.access.*" for f in ACCESS_FILES),
        (
            "tests/test_isolation.py",
            "tests/security/test_access_control.py",
            "tests/security/test_route_ledger.py",
            "tests/test_front_doors.py",
            "tests/audit",
            "tests/rights/test_requests.py",
            "tests/complaints",
            "tests/incidents",
            "tests/privacy/test_support_access.py",
            "tests/privacy/test_who_viewed.py",
            "tests/privacy/test_provision.py",
            "tests/lessons/test_lesson_actions.py",
            "tests/api/test_cards.py",
            "tests/api/test_files.py",
            "tests/api/test_lessons.py",
        ),
    ),
]


def _toml_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def prepare(group: Group) -> Path:
    home = WORK / group.name
    home.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = home / name
        if not link.is_symlink() and (ROOT / name).exists():
            link.symlink_to(ROOT / name)
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {_toml_list(group.files)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(group.tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-W", "ignore"]\n'
        "use_git_change_detection = false\n" + group.extra
    )
    target = home / "pyproject.toml"
    if not target.exists() or target.read_text(encoding="utf-8") != config:
        target.write_text(config, encoding="utf-8")
    return home


def run(group: Group, children: int, minutes: float | None) -> int:
    home = prepare(group)
    env = dict(os.environ, CLASSNOTE_ENV="test", PYTHONPATH="")
    print(f"== mutation: {group.name} ({', '.join(group.files)})", flush=True)
    with open(home / "run.log", "a", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(MUTMUT), "run", "--max-children", str(children), *group.mutants],
            cwd=home,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: mutmut and its forked workers
        )
        try:
            code = process.wait(timeout=minutes * 60 if minutes else None)
        except subprocess.TimeoutExpired:
            # mutmut records each mutant's result as it finishes: only the ones in flight are lost.
            print(f"   stopped after {minutes} minutes; the next run goes on from here", flush=True)
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            code = 0
    summarise(group, home)
    return code


def results(home: Path) -> dict[str, str]:
    listing = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, CLASSNOTE_ENV="test"),
    ).stdout
    found = {}
    for line in listing.splitlines():
        match = re.match(r"\s+(\S+): (.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def summarise(group: Group, home: Path) -> None:
    statuses = {
        name: status
        for name, status in results(home).items()
        if any(fnmatch.fnmatch(name, pattern) for pattern in group.mutants)
    }
    counts = Counter(statuses.values())
    lines = [f"group {group.name}: " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))]
    for name, status in sorted(statuses.items()):
        if status in ("killed", "not checked"):
            continue
        diff = subprocess.run([str(MUTMUT), "show", name], cwd=home, capture_output=True, text=True, check=False).stdout
        lines += ["", f"--- {name}: {status}", diff.strip()]
    (home / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(lines[0], flush=True)


ORDER = ["audit", "mfa", "inventory", "egress", "erasure", "images", "access"]


def main(argv: list[str]) -> int:
    report_only = "--report" in argv
    argv = [arg for arg in argv if arg != "--report"]
    minutes = None
    if "--minutes" in argv:
        at = argv.index("--minutes")
        minutes = float(argv[at + 1])
        del argv[at : at + 2]
    wanted = argv or [group.name for group in GROUPS]
    unknown = set(wanted) - {group.name for group in GROUPS}
    if unknown:
        print(f"unknown groups {sorted(unknown)}; known: {[g.name for g in GROUPS]}", file=sys.stderr)
        return 2
    if not MUTMUT.exists() or shutil.which("git") is None:
        print("mutmut is not installed: run `make install` (it is a dev dependency)", file=sys.stderr)
        return 2
    children = 2  # the machine's two cores
    worst = 0
    by_name = {group.name: group for group in GROUPS}
    for name in ORDER:
        if name not in wanted:
            continue
        if report_only:
            summarise(by_name[name], prepare(by_name[name]))
        else:
            worst = max(worst, run(by_name[name], children, minutes))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
