"""Reading the code base for the static checks of the security suite (no test here).

The checks look at the syntax tree, not at text, so a comment or a string that mentions
``subprocess`` does not count and an aliased import (``import subprocess as sp``) does."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "classnote"
TEMPLATES = SRC / "templates"
STATIC_JS = SRC / "core" / "static" / "classnote"


@dataclass(frozen=True)
class Finding:
    path: str  # relative to src/classnote, e.g. "core/views.py"
    line: int
    what: str

    def __str__(self) -> str:
        return f"src/classnote/{self.path}:{self.line}: {self.what}"


def python_files(root: Path = SRC) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def dotted(node: ast.AST) -> str:
    """`a.b.c` for an attribute chain or a name; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the module or object it stands for (`sp` -> `subprocess`, `run` -> `subprocess.run`)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def resolved_calls(tree: ast.Module) -> Iterator[tuple[ast.Call, str]]:
    """Every call with the full dotted name of what it calls, imports resolved (`sp.run` -> `subprocess.run`)."""
    names = imported_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if not name:
                continue
            head, _, rest = name.partition(".")
            full = names.get(head, head)
            yield node, f"{full}.{rest}" if rest else full


def is_constant_string(node: ast.AST) -> bool:
    """A literal string (possibly implicitly concatenated): nothing from outside can be in it."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def built_string(node: ast.AST) -> str:
    """How a string argument was built, if from pieces: "f-string", "%", "+", ".format()"; else ""."""
    if isinstance(node, ast.JoinedStr):
        return "f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return "% formatting"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return "+ concatenation"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return f".{node.func.attr}()"
    return ""
