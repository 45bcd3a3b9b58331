"""Test settings: the real settings module, read with a test environment."""

import os
import tempfile

os.environ.setdefault("CLASSNOTE_ENV", "test")
os.environ.setdefault("CLASSNOTE_HOME", tempfile.mkdtemp(prefix="classnote-test-"))

from classnote.settings import *  # noqa: E402, F403
