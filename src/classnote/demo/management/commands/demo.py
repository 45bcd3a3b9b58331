from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from classnote.demo.data import create_demo, demo_exists, logins_file


def write_logins(logins: list[tuple[str, str, str, str]]) -> None:
    path = logins_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for row in logins:
            handle.write("\t".join(row) + "\n")


def read_logins() -> list[list[str]]:
    try:
        with open(logins_file(), encoding="utf-8") as handle:
            return [line.rstrip("\n").split("\t") for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def format_logins(rows: list[list[str]]) -> str:
    if not rows:
        return "  (demo logins unknown: the demo data was created elsewhere)"
    lines, shown = [], set()
    for where, role, login, password in rows:
        tenant_role = (where, role)
        if tenant_role in shown:
            continue  # one login per role and school here; all of them are in the file
        shown.add(tenant_role)
        lines.append(f"  {role:16} {login:28} {password:16} {where}")
    lines.append(f"  (every demo login: {logins_file()})")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Create demo tenants, schools, classes, teachers and students (once) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_exists():
            self.stdout.write("Demo data is already there.")
        else:
            write_logins(create_demo())
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        self.stdout.write("Demo logins (role, login, password, where):")
        self.stdout.write(format_logins(read_logins()))
