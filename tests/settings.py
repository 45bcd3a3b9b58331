"""Test settings: the real settings module, read with a test environment."""

import os
import tempfile

os.environ.setdefault("CLASSNOTE_ENV", "test")
# Always a fresh data directory per test process (each xdist worker has its own): tests never
# write into the developer's CLASSNOTE_HOME (`make` exports ./var) nor into each other's files.
os.environ["CLASSNOTE_HOME"] = tempfile.mkdtemp(prefix="classnote-test-")

from classnote.settings import *  # noqa: E402, F403

# The embedded default's engine is Django's SQLite backend under classnote's name
# (classnote/core/sqlite): say "in memory" explicitly, as pytest-django recognises only Django's name.
if DATABASES["default"]["ENGINE"] == "classnote.core.sqlite":  # noqa: F405
    DATABASES["default"].setdefault("TEST", {})["NAME"] = ":memory:"  # noqa: F405

# A drawing's picture is rendered off the request thread; a page waits RENDER_WAIT_MS for it, then
# gets a placeholder. Tests that ask for a picture want the picture, however loaded the box is
# (tests/cards/test_drawing_renders.py sets shorter waits where the placeholder is the point).
RENDER_WAIT_MS = 30_000
