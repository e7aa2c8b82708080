from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.protocol.codec import decode_json, decode_msgpack
from game.protocol.errors import ProtocolError, UndecodableFrame
from game.protocol.messages import parse_client


@pytest.mark.parametrize("text", [
    '{"type":"move","match":"m","move":NaN}',
    '{"type":"move","match":"m","move":1e999}',
    '{"type":"move","match":"m","move":' + "9" * 5000 + "}",
    '{"type":"move","match":"m","move":18446744073709551616}',
    "[" * 1000 + "]" * 1000,
    "[" * 3000 + "]" * 3000,
    '{"a":' * 1000 + "1" + "}" * 1000,
    '"\\ud800"',
    '{"type":"hello","name":"\\ud800"}',
    "[]",
])
def test_hostile_json_is_a_bad_message(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client(decode_json(text))
    assert info.value.code == "bad_message"


@pytest.mark.parametrize("text", [
    "[" * 40,
    "{" * 40,
    '{"type":"ping"' + "[" * 40,
    "[" * 40 + "]" * 39 + "}",
])
def test_deep_text_that_is_not_json_is_undecodable(text: str) -> None:
    """Nested too deeply and not JSON either: the frame does not decode (close 1007)."""
    with pytest.raises(UndecodableFrame):
        decode_json(text)


@pytest.mark.parametrize("data", [
    b"\xdb\xff\xff\xff\xff",  # a str claiming 4 GiB
    b"\xdd\xff\xff\xff\xff",  # an array claiming 4 Gi items
    b"\xc7\x01\x05x",  # an ext type
    b"\x81\x01\x02",  # an int map key
    b"\xa2\xff\xfe",  # invalid UTF-8
    b"\xc1",  # never used
    b"",
])
def test_hostile_msgpack_is_undecodable(data: bytes) -> None:
    with pytest.raises((UndecodableFrame, ProtocolError)):
        parse_client(decode_msgpack(data))


@pytest.mark.parametrize("depth", [20, 1000, 3000])
def test_deep_msgpack_is_refused_without_recursion(depth: int) -> None:
    with pytest.raises((ProtocolError, UndecodableFrame)):
        decode_msgpack(b"\x91" * depth + b"\xc0")


def test_bool_is_not_an_int_and_strings_are_not_numbers() -> None:
    for move in (True, "3", 3.0):
        with pytest.raises(ProtocolError):
            parse_client({"type": "move", "match": "m", "move": move})


@settings(max_examples=300)
@given(st.binary(max_size=256))
def test_arbitrary_bytes_raise_only_our_errors(data: bytes) -> None:
    with contextlib.suppress(UndecodableFrame, ProtocolError):
        parse_client(decode_msgpack(data))


@settings(max_examples=300)
@given(st.text(max_size=256))
def test_arbitrary_text_raises_only_our_errors(text: str) -> None:
    with contextlib.suppress(UndecodableFrame, ProtocolError):
        parse_client(decode_json(text))


int64 = st.integers(-(2**63), 2**64 - 1)
scalars = st.none() | st.booleans() | int64 | st.floats() | st.text(max_size=10)
structured = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


@settings(max_examples=300)
@given(st.dictionaries(
    st.sampled_from(["type", "match", "move", "id", "version", "game", "token", "x"]),
    structured | st.sampled_from(["move", "hello", "queue", "sync"]), max_size=6))
def test_arbitrary_structured_messages_raise_only_our_errors(raw: dict[str, Any]) -> None:
    for frame in (msgpack.packb(raw),):
        with contextlib.suppress(UndecodableFrame, ProtocolError):
            parse_client(decode_msgpack(frame))
