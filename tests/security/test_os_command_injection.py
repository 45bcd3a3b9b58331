"""IPA checklist 2 — OS command injection.

Promise: no code that serves a request starts a program or a shell. A static check of every
module of src/classnote finds no subprocess, os.system/popen/exec*/spawn*, pty or asyncio
subprocess call and no shell=True; only management commands on an explicit allow-list (each
with the reason it needs a tool) may start programs, and they never with a shell. File names
full of shell metacharacters are stored and served as plain text: the name never reaches a
shell, a storage path or an unquoted header.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings
from django.test import Client

from classnote.files.models import StoredFile
from tests.conftest import Tenant, login_as
from tests.files import samples
from tests.security.static import Finding, python_files, resolved_calls
from tests.security.uploads import browser_name, post_upload

# What starts a program (or a shell) when called.
PROGRAM_CALLS = re.compile(
    r"^(subprocess\.\w+|os\.(system|popen|exec\w*|spawn\w*|posix_spawn\w*|fork\w*)|pty\.spawn"
    r"|asyncio\.create_subprocess_\w+|commands\.\w+|platform\.popen)$"
)
PROGRAM_MODULES = ("subprocess", "pty", "commands")
# A management command that legitimately runs a tool: its path under src/classnote -> why.
# Commands are started by an operator on the server, never by a request. None needs one today.
ALLOWED_PROGRAM_RUNNERS: dict[str, str] = {}


def program_findings(tree: ast.Module, path: str) -> list[Finding]:
    findings = []
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        for module in modules:
            if module.split(".")[0] in PROGRAM_MODULES:
                findings.append(Finding(path, node.lineno, f"imports {module}"))
    for call, name in resolved_calls(tree):
        if PROGRAM_CALLS.match(name):
            findings.append(Finding(path, call.lineno, f"calls {name}()"))
        for keyword in call.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                findings.append(Finding(path, call.lineno, f"{name}(..., shell=...)"))
    return findings


def test_no_code_starts_a_program_or_a_shell() -> None:
    problems = []
    for path, tree in python_files():
        findings = program_findings(tree, path)
        if not findings:
            continue
        if path in ALLOWED_PROGRAM_RUNNERS and "/management/commands/" in f"/{path}":
            # Even an allowed command never hands a string to a shell.
            problems += [str(f) for f in findings if "shell=" in f.what or "os.system" in f.what or "popen" in f.what]
            continue
        problems += [str(f) for f in findings]
    assert not problems, (
        "Code that starts programs. Requests must never do so; a management command that must run a tool "
        "goes into ALLOWED_PROGRAM_RUNNERS with its reason, and passes an argument list, never shell=True:\n"
        + "\n".join(problems)
    )


def test_allowed_program_runners_are_management_commands_that_exist() -> None:
    for path, reason in ALLOWED_PROGRAM_RUNNERS.items():
        assert "/management/commands/" in f"/{path}", f"{path} is not a management command"
        assert (Path(__file__).resolve().parents[2] / "src" / "classnote" / path).exists(), path
        assert len(reason) > 20, f"{path}: say why it needs to run a program"


def test_the_static_check_finds_every_way_to_start_a_program() -> None:
    sample = """
import os, subprocess as sp
from subprocess import run
from os import system as s
import asyncio
def view(name):
    os.system("convert " + name)
    sp.check_output(["ls", name])
    run(name, shell=True)
    s(name)
    os.popen(name)
    os.execvp("x", [name])
    asyncio.create_subprocess_shell(name)
    os.path.join("a", name)
"""
    findings = program_findings(ast.parse(sample), "sample.py")
    lines = sorted({f.line for f in findings})
    assert lines == [2, 3, 7, 8, 9, 10, 11, 12, 13], [str(f) for f in findings]


# --- File names with shell metacharacters are plain text --------------------------------------------

SHELL_NAMES = [
    "; rm -rf ~ #.pdf",
    "$(touch INJECTED).pdf",
    "`touch INJECTED`.pdf",
    "a | touch INJECTED & b > c.pdf",
    "x'; touch INJECTED; echo '.pdf",
    '"; touch INJECTED; ".pdf',
    "-rf --no-preserve-root.pdf",
    "${IFS}touch${IFS}INJECTED.pdf",
    "report\ntouch INJECTED.pdf",
]


def test_file_names_with_shell_metacharacters_are_stored_and_served_harmlessly(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    content = samples.pdf()
    # As a browser sends them, and raw (an attacker's client); the API's upload takes the same path.
    names = [*(browser_name(n) for n in SHELL_NAMES), *SHELL_NAMES, 'a\\"; touch INJECTED.pdf']
    accepted = 0
    for number, raw in enumerate(names):
        path = "/api/files" if number % 2 else "/files/"
        response = post_upload(pupil, path, raw, content)
        if response.status_code == 400:  # a name that breaks the multipart header: no file at all
            assert "\n" in raw or '"' in raw, (raw, response.content)
            continue
        assert response.status_code == 201, (raw, response.content)
        accepted += 1
        stored = StoredFile.objects.get(pk=response.json()["id"])
        # Stored under a key of our own; the name is display text only.
        assert re.fullmatch(rf"files/{tenant_a.school.pk}/[0-9a-f]{{32}}", stored.storage_key), stored.storage_key
        assert "\n" not in stored.name and stored.name.endswith(".pdf")
        download = pupil.get(f"/files/{stored.pk}/")
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == content
        disposition = download["Content-Disposition"]
        fallback = re.search(r'filename="([^"]*)"', disposition)
        assert fallback, disposition
        # The plain filename= offered to old clients holds no shell or quoting characters at all.
        assert re.fullmatch(r"[A-Za-z0-9._ ()-]+", fallback.group(1)), disposition
        assert not re.search(r"[;|&$`'\"<>\n\r]", disposition.split("filename*=UTF-8''", 1)[1]), disposition
    assert accepted >= len(SHELL_NAMES), "most names must be accepted, or this test proves little"
    # Nothing ran: no file named INJECTED appeared in the working directory or the media folder.
    for folder in (Path.cwd(), Path(settings.MEDIA_ROOT)):
        assert not list(folder.rglob("INJECTED")), f"a file name was executed in {folder}"
