"""Hypothesis tests of every parser of input from outside: the roster CSV, uploads (type detection,
image re-encoding, file names), drawing strokes, free text, ids and other values in requests.

Derandomized and bounded (``FUZZ``): the same examples on every run, no example database, no
deadline (CI machines are slow and shared); a failure prints the example to turn into a test.
classnote has no markdown (or other markup) parser: card text is plain text, escaped on output.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, settings
from hypothesis.control import currently_in_test_context

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    # Fixtures (a tenant in the test database) are made once per test, not per example: the
    # parsers under test only read them.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def seen(what: str) -> None:
    """Count WHAT in the statistics (pytest --hypothesis-show-statistics): which paths the examples reach."""
    if currently_in_test_context():
        event(what)
