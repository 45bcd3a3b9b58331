"""The graph of imports between classnote's apps, and its cycles: ``python -m tests.architecture.app_graph``.

Reads every module of ``src/classnote`` (migrations aside) with ``ast`` and prints, per app, the apps
it imports; the cycles (strongly connected components of more than one app) through top-level
imports and through all imports, those made inside functions included; the pairs of apps that
import each other; and every cross-app import made inside a function. ``--domain`` leaves out the
front doors (views, URL configurations, management commands, the API, the entry points), as the
layer contracts of docs/architecture.md do. Imports under ``if TYPE_CHECKING:`` are not counted.
import-linter enforces the rules in ``make lint``; this script shows the picture.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "classnote"
FRONT_DOOR_PARTS = {"views", "urls", "management", "api"}
ENTRY_POINTS = {"urls", "asgi", "wsgi", "cli", "settings", "env", "__main__"}


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join([*here, *([node.module] if node.module else [])])
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def graph(root: Path = SOURCE, *, domain: bool = False) -> tuple[dict, dict, list]:
    apps = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top: dict[str, set[str]] = defaultdict(set)
    every: dict[str, set[str]] = defaultdict(set)
    inside: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = _module(path, root)
        parts = module.split(".")
        app = parts[1] if len(parts) > 1 else ""
        if not app or (domain and (FRONT_DOOR_PARTS & set(parts) or app in ENTRY_POINTS)):
            continue

        def walk(node: ast.AST, in_function: bool, *, app: str = app, module: str = module, path: Path = path) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue
                function = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                if isinstance(child, ast.Import | ast.ImportFrom):
                    for name in _imported(child, module, path.name == "__init__.py"):
                        target = name.split(".")
                        if len(target) > 1 and target[0] == "classnote" and target[1] in apps and target[1] != app:
                            every[app].add(target[1])
                            if function:
                                inside.append((path.relative_to(root.parent).as_posix(), child.lineno, target[1]))
                            else:
                                top[app].add(target[1])
                            break
                walk(child, function)

        walk(ast.parse(path.read_text()), False)
    return top, every, inside


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(edges) | {other for targets in edges.values() for other in targets}):
        if node not in index:
            connect(node)
    return found


def main(argv: list[str]) -> None:
    domain = "--domain" in argv
    top, every, inside = graph(domain=domain)
    print(f"== imports between apps{' (front doors left out)' if domain else ''} ==")
    for app in sorted(top):
        print(f"  {app} -> {', '.join(sorted(top[app] - {'base'})) or '(base only)'}")
    print("== cycles through top-level imports ==", cycles(top) or "none")
    print("== cycles through all imports ==", cycles(every) or "none")
    mutual = sorted({tuple(sorted((a, b))) for a in every for b in every[a] if a in every.get(b, ())})
    print(f"== pairs of apps that import each other: {len(mutual)} ==", mutual or "")
    print(f"== cross-app imports inside functions: {len(inside)} ==")
    for where, line, target in inside:
        print(f"  {where}:{line} -> {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
