"""Access is decided in the access modules only (docs/architecture.md, *Who may see what*).

A query that filters on the tenant tree (school, municipality, tenant, class members) outside an
``access.py`` builds its own idea of who may see what. This test reads every module of classnote
and fails on such a ``filter()`` / ``exclude()`` / ``get()``, unless

* it narrows a queryset that an access rule already scoped (``access.readable_classes(user)
  .filter(school=...)`` picks among what the user may see), or
* the place is in ``ALLOWED`` below, with the reason it is not an access decision.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "classnote"
TENANT_LOOKUPS = {
    "school",
    "school_id",
    "municipality",
    "municipality_id",
    "tenant",
    "tenant_id",
    "members",
    "memberships",
}
METHODS = {"filter", "exclude", "get", "get_or_create", "update_or_create"}

# (module path relative to src/classnote, enclosing function) -> why it is not an access decision.
ALLOWED: dict[tuple[str, str], str] = {
    ("demo/data.py", "_data_requests"): "demo data made by the operator's command, not a user's request",
    ("lessons/actions.py", "create_group"): "pupils of the class that get_class_for and teaches() decided",
    ("lessons/queries.py", "class_students"): "the pupils of a lesson's class, after get_lesson_for decided the lesson",
    ("rights/disclosure.py", "write_tenant"): "the whole tenant's export for the operator at contract end (a command)",
    ("rights/retention.py", "graduates_due"): "the nightly retention job, per tenant, on nobody's behalf",
    ("rights/retention.py", "_tenant_structure"): "the nightly job deletes a whole tenant after its contract ended",
    ("rights/retention.py", "run"): "the nightly retention job, per tenant, on nobody's behalf",
    ("roster/reader.py", "plan"): "memberships in the school that get_school_for(manage=True) decided",
    ("tenancy/forms.py", "clean"): "uniqueness of a class name within the school the access check gave the form",
}


def _is_access_call(node: ast.AST, access_names: set[str]) -> bool:
    """Whether the expression calls an access module's function somewhere in its receiver chain."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id.endswith("access")
            ):
                return True
            if isinstance(func, ast.Name) and func.id in access_names:
                return True
    return False


def _tenant_filters(path: Path) -> list[tuple[str, int, str]]:
    tree = ast.parse(path.read_text())
    access_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".access")
        for alias in node.names
    }
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in METHODS
                and any(set((kw.arg or "").split("__")) & TENANT_LOOKUPS for kw in child.keywords)
                and not _is_access_call(child.func.value, access_names)
            ):
                found.append((name, child.lineno, ast.unparse(child)[:120]))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_tenant_filters_are_made_in_the_access_modules_only() -> None:
    offenders, used = [], set()
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if path.name == "access.py" or "/migrations/" in f"/{relative}":
            continue
        for function, line, code in _tenant_filters(path):
            if (relative, function) in ALLOWED:
                used.add((relative, function))
                continue
            offenders.append(f"{relative}:{line} in {function}(): {code}")
    assert not offenders, "tenant filters outside the access modules:\n" + "\n".join(offenders)
    assert not set(ALLOWED) - used, f"allowed places that no longer filter (remove them): {set(ALLOWED) - used}"


def test_the_scan_finds_a_tenant_filter(tmp_path: Path) -> None:
    """The scan itself works: a view building its own school filter is found; one narrowing an
    access rule's queryset is not."""
    sample = tmp_path / "views.py"
    sample.write_text(
        "from classnote.tenancy import access\n"
        "def page(request):\n"
        "    mine = Lesson.objects.filter(school_class__school_id=request.user.school_id)\n"
        "    ok = access.readable_classes(request.user).filter(school=request.user.school)\n"
    )
    found = _tenant_filters(sample)
    assert [(function, line) for function, line, _code in found] == [("page", 3)]
