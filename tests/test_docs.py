"""Docs stay true: every environment variable the code reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READERS = re.compile(r'env\.(?:string|boolean|integer|number|listing|choice|is_set)\(\s*"([A-Z_]+)"')


def test_every_environment_variable_is_documented() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    read = set()
    for source in (ROOT / "src" / "classnote").rglob("*.py"):
        read |= set(READERS.findall(source.read_text(encoding="utf-8")))
    assert read, "the pattern no longer finds the settings readers"
    missing = sorted(
        name
        for name in read
        if f"`{name}`" not in documented and f"`{name}` /" not in documented and name not in documented
    )
    assert not missing, f"document these in docs/configuration.md: {missing}"
