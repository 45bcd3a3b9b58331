"""The `classnote` command: Django's management commands (migrate, serve, demo, check, ...)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["classnote", *sys.argv[1:]])
