"""Drawing strokes (classnote.cards.actions.validate_strokes, classnote.cards.render) under any JSON.

* Any JSON value is either refused with the action's own ActionError or turned into strokes of the
  one stored shape: ``{"c": "#rrggbb", "w": 1..60, "e": bool, "p": [[0..1000, 0..750], ...]}``,
  within the size limits and the render budget; checking them again changes nothing.
* The renderer promises never to raise on stored data, however odd: any JSON value renders.
* The card editor's autosave (``POST /cards/<id>/autosave/``) answers any body with a 4xx or
  success, never a server error — JSON nested thousands deep and 1e999 included (both were 500s).
"""

from __future__ import annotations

import json
import math
import re

from django.test import Client
from hypothesis import example, given, settings
from hypothesis import strategies as st

from classnote.base.errors import ActionError
from classnote.cards import render
from classnote.cards.actions import MAX_POINTS, MAX_STROKES, validate_strokes
from classnote.cards.models import Background, Card
from tests.conftest import Tenant, login_as
from tests.fuzz import FUZZ, seen

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 999, 1000, 1001, 750, 751, -1, 1e308, float("inf"), float("-inf"), float("nan"), True]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.sampled_from(["c", "w", "e", "p", "x"]), children, max_size=5),
    ),
    max_leaves=40,
)
# Mostly plausible parts, so that whole strokes get through often enough to check what comes out.
colours = st.one_of(
    st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True),
    st.sampled_from(["#000000", "#FFFFFF"]),
    st.text(max_size=9),
    numbers,
)
widths = st.one_of(st.integers(1, 60), st.integers(1, 60), numbers, st.text(max_size=4))
coordinates = st.one_of(st.integers(-10, 1100), st.integers(-10, 1100), numbers)
points = st.lists(
    st.one_of(st.tuples(coordinates, coordinates).map(list), st.tuples(coordinates, coordinates).map(list), scalars),
    max_size=8,
)
strokes_like = st.lists(
    st.fixed_dictionaries(
        {"c": colours, "w": widths, "p": points}, optional={"e": st.one_of(st.booleans(), scalars), "x": scalars}
    ),
    max_size=6,
)
# Valid but for values to clamp (off the canvas, fractions, widths beyond 1..60): accepted.
finite = st.one_of(st.integers(-100, 1200), st.floats(-100, 1200, allow_nan=False))
clampable = st.lists(
    st.fixed_dictionaries(
        {
            "c": st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True),
            "w": st.one_of(st.integers(-5, 100), st.floats(0, 100)),
            "p": st.lists(st.tuples(finite, finite).map(list), max_size=10),
        },
        optional={"e": st.booleans()},
    ),
    max_size=5,
)
anything = st.one_of(json_values, strokes_like, clampable)


def assert_stored_shape(strokes: list[dict[str, object]]) -> None:
    assert isinstance(strokes, list) and len(strokes) <= MAX_STROKES
    total = 0
    for stroke in strokes:
        assert set(stroke) == {"c", "w", "e", "p"}
        assert isinstance(stroke["c"], str) and re.fullmatch(r"#[0-9a-f]{6}", stroke["c"])
        assert type(stroke["w"]) is int and 1 <= stroke["w"] <= 60
        assert type(stroke["e"]) is bool
        assert isinstance(stroke["p"], list)
        for point in stroke["p"]:
            x, y = point
            assert type(x) is int and type(y) is int and 0 <= x <= 1000 and 0 <= y <= 750
        total += len(stroke["p"])
        assert all(a != b for a, b in zip(stroke["p"], stroke["p"][1:], strict=False)), "a repeated point"
    assert total <= MAX_POINTS
    assert render.drawing_cost(strokes) <= render.RENDER_BUDGET


@settings(FUZZ, max_examples=300)
@given(anything)
def test_any_json_is_refused_or_becomes_strokes_of_the_stored_shape(value: object) -> None:
    try:
        strokes = validate_strokes(value)
    except ActionError as refusal:
        assert str(refusal)
        seen("refused")
        return
    seen("accepted" if strokes else "accepted (empty)")
    assert_stored_shape(strokes)
    assert validate_strokes(strokes) == strokes
    assert json.loads(json.dumps(strokes, allow_nan=False)) == strokes  # plain JSON: no NaN, no Infinity


@settings(FUZZ, max_examples=60)
@given(anything, st.sampled_from([*Background.values, "", "nope", "../etc"]))
@example([{"p": [[1, 2], [3, 4]], "w": float("inf")}], "")  # was an OverflowError
@example([{"p": [[float("inf"), float("nan")], [10**400, -(10**400)]], "c": "#zzzzzz", "e": "yes"}], "grid")
def test_the_renderer_draws_anything_without_raising(value: object, background: str) -> None:
    png = render.thumbnail_png(value, background, width=64)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def _body(value: object) -> str:
    return json.dumps(value, allow_nan=True)


bodies = st.one_of(
    st.builds(
        lambda v, f: _body({"version": v, "fields": f}),
        numbers,
        st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    ),
    st.builds(lambda s: _body({"version": 1, "fields": {"strokes": s}}), anything),
    json_values.map(_body),
    st.text(max_size=50),
    st.sampled_from(["[" * 50_000, '{"version":' * 20_000, "1e999", '{"version": 1e999, "fields": {}}', "", "null"]),
)


@settings(FUZZ, max_examples=120)
@given(bodies)
def test_autosave_answers_any_body_without_a_server_error(tenant_a: Tenant, body: str) -> None:
    card = Card.objects.filter(owner=tenant_a.student, frozen=False).order_by("pk").first()
    assert card is not None
    client = login_as(Client(raise_request_exception=False), tenant_a.student)
    response = client.post(f"/cards/{card.pk}/autosave/", body, content_type="application/json")
    seen(f"status {response.status_code}")
    assert response.status_code in {200, 400, 409}, (response.status_code, body[:200])
    card.refresh_from_db()
    assert_stored_shape(card.strokes or [])
    assert not math.isnan(card.version)
