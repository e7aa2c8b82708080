"""A live match's recent patches, kept for `sync since=N`.

Each version's three patches (seat 0, seat 1, spectators) are kept as one JSON bytes
object: an object the cyclic GC never scans and that frees at once, where the ops
themselves (a dozen small containers a version, kept for the whole match) cost
collections and cold frees. They are decoded only when a client asks for them.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson

from game.core.views import Step, Viewer

_INDEX: dict[Viewer, int] = {0: 0, 1: 2, None: 4}

Patch = tuple[int, int, list[dict[str, Any]], int]
"""(version, at, ops, hash) of one viewer's patch."""


def encode_steps(steps: dict[Viewer, Step]) -> bytes:
    """One version's three patches as one JSON array: (ops, hash) of seat 0, seat 1
    and the spectators."""
    seat0, seat1, spectators = steps[0], steps[1], steps[None]
    return orjson.dumps((seat0.ops, seat0.hash, seat1.ops, seat1.hash,
                         spectators.ops, spectators.hash))


def decode_steps(blob: bytes) -> dict[Viewer, Step]:
    """The inverse of `encode_steps`."""
    record = orjson.loads(blob)
    return {viewer: Step(record[index], record[index + 1]) for viewer, index in _INDEX.items()}


class History:
    __slots__ = ("_entries",)

    def __init__(self, limit: int) -> None:
        self._entries: deque[tuple[int, int, bytes]] = deque(maxlen=limit)

    def add(self, version: int, at: int, steps: dict[Viewer, Step]) -> None:
        self._entries.append((version, at, encode_steps(steps)))

    def add_blob(self, version: int, at: int, blob: bytes) -> None:
        """Add a version's patches already encoded as `encode_steps` does (the Redis
        mode receives them so from the committing process)."""
        self._entries.append((version, at, blob))

    def keep_last(self, count: int) -> None:
        """Forget all but the last `count` versions (once a match is over: its patches
        are rarely asked for again, and freeing them now, while they are still in the
        CPU's caches, is cheaper than when the match leaves the finished cache)."""
        while len(self._entries) > count:
            self._entries.popleft()

    def since(self, since: int, current: int, viewer: Viewer) -> list[Patch] | None:
        """One viewer's patches after version `since` up to `current`, or None when
        some of them are no longer kept (the client then needs a snapshot)."""
        if since == current:
            return []
        entries = self._entries
        if since > current or not entries or since + 1 < entries[0][0]:
            return None
        index = _INDEX[viewer]
        patches: list[Patch] = []
        for version, at, blob in entries:
            if version > since:
                record = orjson.loads(blob)
                patches.append((version, at, record[index], record[index + 1]))
        return patches

    def __len__(self) -> int:
        return len(self._entries)
