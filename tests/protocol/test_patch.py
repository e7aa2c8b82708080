from __future__ import annotations

import json
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.protocol.patch import PatchError, apply_patch, canonical_json, diff, view_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(alphabet="ab/~c", max_size=4), inner, max_size=5),
    max_leaves=30,
)


@given(json_values, json_values)
def test_diff_then_apply_reproduces_the_target(old: Any, new: Any) -> None:
    assert apply_patch(old, diff(old, new)) == new


@given(json_values)
def test_apply_never_mutates_its_input(doc: Any) -> None:
    before = json.dumps(doc)
    apply_patch(doc, [{"op": "replace", "path": "", "value": 1}])
    assert json.dumps(doc) == before


def test_hash_is_crc32_of_sorted_compact_utf8() -> None:
    view = {"b": [1, None], "a": "é"}
    text = '{"a":"é","b":[1,null]}'
    assert canonical_json(view) == text.encode("utf-8")
    assert view_hash(view) == zlib.crc32(text.encode("utf-8"))


def test_list_append_uses_dash_and_pointer_escaping() -> None:
    assert diff({"moves": [1]}, {"moves": [1, 2]}) == [
        {"op": "add", "path": "/moves/-", "value": 2}]
    assert diff({"a/b": 1}, {"a/b": 2}) == [{"op": "replace", "path": "/a~1b", "value": 2}]


@pytest.mark.parametrize("op", [
    {"op": "replace", "path": "/missing", "value": 1},
    {"op": "remove", "path": "/x/5"},
    {"op": "add", "path": "/x/07", "value": 1},
    {"op": "move", "path": "/x"},
    {"op": "add", "path": "x", "value": 1},
])
def test_bad_ops_are_refused(op: dict[str, Any]) -> None:
    with pytest.raises(PatchError):
        apply_patch({"x": [1]}, [op])
