"""Create the SQLite DB (WAL), a user, one Item, and a logged-in session.

Prints the session key on stdout.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")

import django  # noqa: E402

django.setup()

from benchapp.models import Item  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

Path(settings.DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
call_command("migrate", run_syncdb=True, verbosity=0)
with connection.cursor() as cur:
    cur.execute("PRAGMA journal_mode")
    mode = cur.fetchone()[0]
assert mode == "wal", mode
User.objects.filter(username="bench").delete()
user = User.objects.create_user("bench", password="bench-password-123")
Item.objects.update_or_create(pk=1, defaults={"title": "first item", "body": "x" * 200})
client = Client()
client.force_login(user)
print(client.cookies[settings.SESSION_COOKIE_NAME].value)
