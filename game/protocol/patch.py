"""Views as JSON data: diffing into RFC 6902 patches, applying them, hashing them.

`diff(old, new)` returns `add` / `replace` / `remove` ops that turn `old` into `new`;
`apply_patch` is its inverse used by clients (and tests); `view_hash` is the CRC-32
of the canonical JSON (sorted keys, no spaces, UTF-8) that proves a client in step.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

import orjson

Op = dict[str, Any]


class PatchError(ValueError):
    """An op that does not apply to the document."""


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 (byte for byte what `json.dumps(sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)` writes, for JSON data with str keys)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def view_hash(view: Any) -> int:
    """CRC-32 of the canonical JSON, as an unsigned 32-bit integer."""
    return zlib.crc32(canonical_json(view))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def diff(old: Any, new: Any, path: str = "") -> list[Op]:
    """The ops that turn `old` into `new` (both JSON data)."""
    ops: list[Op] = []
    diff_into(ops, old, new, path)
    return ops


def diff_into(ops: list[Op], old: Any, new: Any, path: str) -> None:
    """Append to `ops` the ops that turn `old` (at `path`) into `new`."""
    if type(old) is type(new) and old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in new.items():
            sub = f"{path}/{_escape(key)}"
            if key in old:
                diff_into(ops, old[key], value, sub)
            else:
                ops.append({"op": "add", "path": sub, "value": value})
    elif isinstance(old, list) and isinstance(new, list):
        _diff_lists(ops, old, new, path)
    else:
        ops.append({"op": "replace", "path": path, "value": new})


def _diff_lists(ops: list[Op], old: list[Any], new: list[Any], path: str) -> None:
    size, common = len(new), len(old)
    if not new or (not old and size > 1):
        # one op instead of one per element (`legal` emptied or filled as a turn passes)
        ops.append({"op": "replace", "path": path, "value": new})
    elif size == common:
        # one pass in a comprehension; recurse only where elements differ (a board: one cell)
        for index in [i for i, (a, b) in enumerate(zip(old, new, strict=True))
                      if a is not b and (type(a) is not type(b) or a != b)]:
            diff_into(ops, old[index], new[index], f"{path}/{index}")
    elif size > common and new[:common] == old:  # appended to (the move list)
        ops += [{"op": "add", "path": f"{path}/-", "value": value} for value in new[common:]]
    elif size < common and old[:size] == new:  # cut short
        ops.extend({"op": "remove", "path": f"{path}/{index}"}
                   for index in range(common - 1, size - 1, -1))
    else:
        ops.append({"op": "replace", "path": path, "value": new})


def _split(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"bad JSON pointer {path!r}")
    return [_unescape(token) for token in path[1:].split("/")]


def _child(container: Any, token: str) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise PatchError(f"no member {token!r}")
        return container[token]
    if isinstance(container, list):
        return container[_index(container, token, allow_end=False)]
    raise PatchError("path goes through a scalar")


def _index(container: list[Any], token: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"bad array index {token!r}")
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} out of range")
    return index


def apply_patch(doc: Any, ops: list[Op]) -> Any:
    """Apply ops to a deep copy of `doc` and return it; raises PatchError."""
    result = copy.deepcopy(doc)
    for op in ops:
        result = _apply_one(result, op)
    return result


def _apply_one(doc: Any, op: Op) -> Any:
    kind = op.get("op")
    tokens = _split(str(op.get("path", "")))
    if not tokens:
        if kind == "remove":
            raise PatchError("cannot remove the whole document")
        return copy.deepcopy(op.get("value"))
    parent = doc
    for token in tokens[:-1]:
        parent = _child(parent, token)
    last = tokens[-1]
    if kind in ("add", "replace"):
        value = copy.deepcopy(op.get("value"))
        if isinstance(parent, dict):
            if kind == "replace" and last not in parent:
                raise PatchError(f"no member {last!r} to replace")
            parent[last] = value
        elif isinstance(parent, list):
            if kind == "add":
                parent.insert(_index(parent, last, allow_end=True), value)
            else:
                parent[_index(parent, last, allow_end=False)] = value
        else:
            raise PatchError("path goes through a scalar")
    elif kind == "remove":
        if isinstance(parent, dict):
            if last not in parent:
                raise PatchError(f"no member {last!r} to remove")
            del parent[last]
        elif isinstance(parent, list):
            del parent[_index(parent, last, allow_end=False)]
        else:
            raise PatchError("path goes through a scalar")
    else:
        raise PatchError(f"unknown op {kind!r}")
    return doc
