"""The fault suite starts its own backends (tests/faults/servers.py) and `classnote serve`
processes, whatever the suite's DATABASE_URL: it runs once, in the first leg of `make test`; a test
marked ``postgres`` (it needs the suite's own database to be PostgreSQL) runs in the second."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        skip = pytest.mark.skip(reason="the fault suite runs once, in the embedded default's leg of `make test`")
        for item in items:
            if "tests/faults/" in str(item.fspath) and not item.get_closest_marker("postgres"):
                item.add_marker(skip)
    else:
        skip = pytest.mark.skip(reason="needs the suite's database to be PostgreSQL: runs in the second leg")
        for item in items:
            if "tests/faults/" in str(item.fspath) and item.get_closest_marker("postgres"):
                item.add_marker(skip)
