"""Safe decoding and encoding of frames in both codecs (JSON text, msgpack binary).

Decoding never trusts the peer: sizes, nesting and numbers are bounded before any
model sees the data, and nothing here can raise RecursionError.
"""

from __future__ import annotations

import json
import math
import threading
from enum import StrEnum
from typing import Any

import msgpack
import orjson

from game.protocol.errors import ErrorCode, ProtocolError, UndecodableFrame

MAX_DEPTH = 8
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
_BRACKET_SCAN_THRESHOLD = 32


class Codec(StrEnum):
    JSON = "json"
    MSGPACK = "msgpack"

    @property
    def subprotocol(self) -> str:
        return f"game.v1.{self.value}"


SUBPROTOCOLS: dict[str, Codec] = {c.subprotocol: c for c in Codec}


class _Rejected:
    """Stands in for a number JSON may carry but our protocol never accepts."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"<rejected {self.why}>"


def _parse_int(text: str) -> int | _Rejected:
    if len(text) > 20:
        return _Rejected("integer too long")
    value = int(text)
    if not MIN_INT <= value <= MAX_INT:
        return _Rejected("integer beyond 64 bits")
    return value


def _parse_float(text: str) -> float | _Rejected:
    value = float(text)
    if math.isinf(value) or math.isnan(value):
        return _Rejected("non-finite number")
    return value


def _parse_constant(text: str) -> _Rejected:
    return _Rejected(f"{text} is not JSON")


_json_decoder = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)


def _json_depth_exceeds(text: str, limit: int) -> bool:
    """Nesting depth of `text`, counted outside strings, without recursion."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _check_tree(value: Any) -> None:
    """Bound depth, reject stand-ins and unencodable strings, iteratively."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise ProtocolError(ErrorCode.BAD_MESSAGE, "message nested too deeply")
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise ProtocolError(ErrorCode.BAD_MESSAGE, "map keys must be strings")
                _check_text(key)
                stack.append((sub, depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                raise ProtocolError(ErrorCode.BAD_MESSAGE, "message nested too deeply")
            stack.extend((sub, depth + 1) for sub in item)
        elif isinstance(item, _Rejected):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, item.why)
        elif isinstance(item, str):
            _check_text(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if not MIN_INT <= item <= MAX_INT:
                raise ProtocolError(ErrorCode.BAD_MESSAGE, "integer beyond 64 bits")
        elif isinstance(item, float) and not math.isfinite(item):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "non-finite number")


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "string is not valid Unicode") from None


def decode_json(text: str) -> dict[str, Any]:
    """Decode one JSON text frame into a message map.

    Raises UndecodableFrame when the text is not JSON at all, ProtocolError
    (`bad_message`) when it is JSON but not an acceptable message map.
    """
    if (
        text.count("[") + text.count("{") > _BRACKET_SCAN_THRESHOLD
        and _json_depth_exceeds(text, MAX_DEPTH)
    ):
        _refuse_deep(text)
    try:
        # orjson accepts a subset of what the careful decoder does (strict JSON, finite
        # numbers, no lone surrogates); integers past 64 bits come back as floats, which
        # no message field accepts. Anything it refuses gets the careful decoder, which
        # tells a bad message from a frame that is not JSON at all.
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            value = _json_decoder.decode(text)
        except (ValueError, RecursionError) as exc:
            raise UndecodableFrame("frame is not valid JSON") from exc
        return _as_message(value)
    return _as_message(value, checked_text=True)


def _refuse_deep(text: str) -> None:
    """Text nested past MAX_DEPTH is never a message: `bad_message` if it is JSON at
    all, UndecodableFrame (close 1007) if not. orjson tells the two apart without
    recursing in Python; past its own depth limit (1024) it stops looking, and such
    text counts as JSON nested too deeply."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if not str(exc).startswith("depth limit exceeded"):
            raise UndecodableFrame("frame is not valid JSON") from exc
    raise ProtocolError(ErrorCode.BAD_MESSAGE, "message nested too deeply")


def _no_ext(code: int, data: bytes) -> Any:
    raise ValueError("msgpack ext types are not accepted")


_MSGPACK_OPTIONS: dict[str, Any] = {
    "raw": False, "strict_map_key": True, "ext_hook": _no_ext, "max_ext_len": 0,
    "use_list": True, "timestamp": 0,
}


def decode_msgpack(data: bytes, max_len: int = 4096) -> dict[str, Any]:
    """Decode one binary frame into a message map, with every length bounded."""
    try:
        value = msgpack.unpackb(
            data, max_str_len=max_len, max_bin_len=max_len, max_array_len=max_len,
            max_map_len=max_len, **_MSGPACK_OPTIONS)
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
        raise UndecodableFrame("frame is not valid msgpack") from exc
    except Exception as exc:  # msgpack raises a handful of private error types
        raise UndecodableFrame("frame is not valid msgpack") from exc
    # strings are strict UTF-8 (raw=False), which cannot hold a lone surrogate
    return _as_message(value, checked_text=True)


def _as_message(value: Any, checked_text: bool = False) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a message must be a map with a type")
    if not (checked_text and _flat_and_bounded(value)):
        _check_tree(value)
    return value


def _flat_and_bounded(value: dict[str, Any]) -> bool:
    """True for the common message (string keys, no nested maps or lists, no floats)
    whose integers fit 64 bits; its strings need no check when the decoder refuses
    lone surrogates (orjson; msgpack with strict UTF-8). Anything else takes the full
    `_check_tree`."""
    for key, item in value.items():
        if type(key) is not str:  # msgpack maps may have bytes keys
            return False
        kind = type(item)
        if kind is int:
            if not MIN_INT <= item <= MAX_INT:
                return False
        elif kind is dict or kind is list or kind is float:
            return False
    return True


def encode_json(message: Any) -> str:
    return orjson.dumps(message).decode("utf-8")


def encode_json_bytes(message: Any) -> bytes:
    """The UTF-8 bytes of `encode_json` (what a text frame carries)."""
    return orjson.dumps(message)




_packers = threading.local()


def encode_msgpack(message: Any) -> bytes:
    # one Packer per thread: building one per message costs more than the packing
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = msgpack.Packer(use_bin_type=True)
    data: bytes = packer.pack(message)
    return data


def encode(message: Any, codec: Codec) -> str | bytes:
    return encode_json(message) if codec is Codec.JSON else encode_msgpack(message)
