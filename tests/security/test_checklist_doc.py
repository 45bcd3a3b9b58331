"""docs/security-checklist.md stays true: every test it names exists, every item has tests, and
every test of the item modules is on the page (so a new test is mapped to its item)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security-checklist.md"
# The modules of the IPA items and the site-wide items (tests/security/<name>.py).
ITEM_MODULES = [
    "test_sql_injection",
    "test_os_command_injection",
    "test_path_traversal",
    "test_session_management",
    "test_xss",
    "test_csrf",
    "test_http_header_injection",
    "test_mail_header_injection",
    "test_clickjacking",
    "test_access_control",
    "test_tls_settings",
    "test_password_storage",
    "test_login_throttling",
    "test_error_messages",
    "test_security_logging",
]
IPA_ITEMS = [
    "1. SQL injection",
    "2. OS command injection",
    "3. Path traversal",
    "4. Session management",
    "5. Cross-site scripting",
    "6. Cross-site request forgery",
    "7. HTTP header injection",
    "8. Mail header injection",
    "9. Clickjacking",
    "10. Buffer overflow",
    "11. Access control",
]
SITE_WIDE = ["TLS only", "Password storage", "Login throttling", "Error messages", "Security logging"]
# `tests/x/y.py::name` or the short form `test_module::name` (a module of tests/security).
REFERENCE = re.compile(r"`((?:tests/[\w/]+\.py)|(?:test_\w+))::(\w+)`")


def referenced() -> list[tuple[Path, str]]:
    found = []
    for module, name in REFERENCE.findall(DOC.read_text(encoding="utf-8")):
        path = ROOT / module if module.startswith("tests/") else ROOT / "tests" / "security" / f"{module}.py"
        found.append((path, name))
    return found


def functions_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^#{2,3} ", text, flags=re.MULTILINE)
    return {part.splitlines()[0].strip(): part for part in parts[1:]}


def test_every_test_named_in_the_checklist_exists() -> None:
    missing = []
    for path, name in referenced():
        if not path.exists():
            missing.append(f"{path.relative_to(ROOT)} (no such file)")
        elif name not in functions_of(path):
            missing.append(f"{path.relative_to(ROOT)}::{name}")
    assert referenced(), "the pattern no longer finds the test names"
    assert not missing, "docs/security-checklist.md names tests that do not exist:\n" + "\n".join(missing)


def test_every_item_has_tests() -> None:
    found = sections()
    for item in [*IPA_ITEMS, *SITE_WIDE]:
        heading = next((title for title in found if title.startswith(item)), None)
        assert heading is not None, f"no section for {item!r}"
        assert REFERENCE.search(found[heading]), f"{item!r} names no test"
        assert "ASVS 5.0" in found[heading], f"{item!r} names no ASVS requirement"


def test_every_test_of_the_item_modules_is_in_the_checklist() -> None:
    named = {(path.name, name) for path, name in referenced()}
    missing = []
    for module in ITEM_MODULES:
        path = ROOT / "tests" / "security" / f"{module}.py"
        missing += [f"{module}::{name}" for name in sorted(functions_of(path)) if (path.name, name) not in named]
    assert not missing, "add these to docs/security-checklist.md under their item:\n" + "\n".join(missing)


def test_security_md_links_the_checklist() -> None:
    assert "docs/security-checklist.md" in (ROOT / "SECURITY.md").read_text(encoding="utf-8")
