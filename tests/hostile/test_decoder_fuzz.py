"""Fuzzing the decoder: whatever arrives, only our own errors come out.

`decode_json` / `decode_msgpack` then `parse_client` must either return a message or
raise UndecodableFrame (-> close 1007) or ProtocolError (-> an error answer); never
anything else (no RecursionError, no UnicodeError, no OverflowError, no pydantic
ValidationError leaking out).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.protocol.codec import decode_json, decode_msgpack
from game.protocol.errors import ProtocolError, UndecodableFrame
from game.protocol.messages import CLIENT_TYPES, parse_client

FIELDS = ["type", "id", "match", "move", "version", "since", "game", "code", "level", "seat",
          "name", "token", "x"]
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
           | st.text(max_size=12) | st.sampled_from(sorted(CLIENT_TYPES)))
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), inner, max_size=5),
    max_leaves=25,
)
messages = st.dictionaries(st.sampled_from(FIELDS), trees, max_size=6)
msgpack_extras = (st.binary(max_size=8) | st.builds(msgpack.ExtType, st.integers(0, 127),
                                                     st.binary(max_size=4)))
msgpack_trees = st.recursive(
    scalars | msgpack_extras,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.integers(-3, 3) | st.binary(max_size=3),
                      inner, max_size=4),
    max_leaves=25,
)
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_our_errors(decode: Any, frame: Any) -> None:
    with contextlib.suppress(UndecodableFrame, ProtocolError):
        parse_client(decode(frame))


@FUZZ
@given(st.binary(max_size=512))
def test_arbitrary_bytes(data: bytes) -> None:
    only_our_errors(decode_msgpack, data)


@FUZZ
@given(st.text(max_size=512))
def test_arbitrary_text(text: str) -> None:
    only_our_errors(decode_json, text)


@FUZZ
@given(messages)
def test_structured_messages_in_json(raw: dict[str, Any]) -> None:
    # json.dumps writes NaN / Infinity tokens and integers of any size
    only_our_errors(decode_json, json.dumps(raw))


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS) | st.integers(0, 3), msgpack_trees,
                       max_size=6) | msgpack_trees)
def test_structured_messages_in_msgpack(raw: Any) -> None:
    try:
        frame = msgpack.packb(raw, use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return  # not representable in msgpack (ints beyond 64 bits): nothing to send
    only_our_errors(decode_msgpack, frame)


@FUZZ
@given(messages, st.integers(0, 400), st.binary(min_size=1, max_size=4))
def test_corrupted_frames(raw: dict[str, Any], at: int, junk: bytes) -> None:
    text = json.dumps(raw)
    cut = at % (len(text) + 1)
    only_our_errors(decode_json, text[:cut] + junk.decode("latin-1") + text[cut:])
    frame = msgpack.packb(raw, use_bin_type=True) if _packable(raw) else b""
    cut = at % (len(frame) + 1)
    only_our_errors(decode_msgpack, frame[:cut] + junk + frame[cut:])
    only_our_errors(decode_msgpack, frame[:cut])


@FUZZ
@given(st.integers(1, 5000), st.sampled_from(["[", "{\"a\":", "[{\"b\":"]))
def test_deep_nesting_never_recurses(depth: int, opener: str) -> None:
    closer = {"[": "]", "{\"a\":": "}", "[{\"b\":": "}]"}[opener]
    only_our_errors(decode_json, opener * depth + "1" + closer * depth)
    only_our_errors(decode_msgpack, b"\x91" * depth + b"\xc0")
    only_our_errors(decode_msgpack, b"\x81\xa1a" * depth + b"\xc0")


@FUZZ
@given(st.sampled_from(["move", "sync"]), st.text(min_size=1, max_size=64),
       st.integers(-(2**63), 2**63 - 1), st.none() | st.integers(0, 2**63 - 1),
       st.none() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=64))
def test_valid_messages_survive_both_codecs(
    kind: str, match: str, number: int, version: int | None, ref: int | str | None
) -> None:
    raw: dict[str, Any] = {"type": kind, "match": match}
    if kind == "move":
        raw["move"] = number
        if version is not None:
            raw["version"] = version
    elif version is not None:
        raw["since"] = version
    if ref is not None:
        raw["id"] = ref
    for decoded in (decode_json(json.dumps(raw)),
                    decode_msgpack(msgpack.packb(raw, use_bin_type=True))):
        message = parse_client(decoded)
        assert message.model_dump(exclude_none=True) == raw


def _packable(raw: Any) -> bool:
    try:
        msgpack.packb(raw, use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return False
    return True
