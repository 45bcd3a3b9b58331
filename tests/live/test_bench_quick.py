"""The regression guard of issue 6: the quick *bell* of the classroom benchmark (2 classes of 40)
runs through the real benchmark code against a real `classnote serve`, and its result is kept in
test-artifacts/. It fails on a crash, on a request error or on an event that never arrived —
never on timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.classroom.run import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bell_has_no_errors_and_loses_no_event(tmp_path: Path) -> None:
    out = ROOT / "test-artifacts" / "bench-quick.json"
    # No closed-loop comparison here (it only adds timings); the benchmark's own --quick has one.
    result = main(["--quick", "--compare-seconds", "0", "--work", str(tmp_path), "--out", str(out)])
    assert json.loads(out.read_text(encoding="utf-8"))["runs"], "no result written"
    (bell,) = result["runs"]
    assert bell["errors"] == 0, bell["error_samples"]
    assert bell["lost_events"] == 0
    assert bell["delivery"]["received"] == bell["delivery"]["expected"] == 80
    assert bell["per_request"]["submit"]["count"] == 80
