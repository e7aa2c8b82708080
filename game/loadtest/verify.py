"""Proof that a connection is in step: the version chain and, on a sample, the hashes.

Every patch must carry the next version. A tracked connection also keeps the full
view, applies each patch to it and checks the server's CRC-32 of the canonical
JSON, exactly as a real client does before it trusts what it shows.
"""

from __future__ import annotations

from typing import Any

from game.loadtest.stats import Recorder
from game.protocol.patch import PatchError, apply_patch, view_hash


class Follower:
    """One connection's position in one match."""

    __slots__ = ("match", "rec", "version", "view")

    def __init__(self, rec: Recorder, track: bool) -> None:
        self.rec = rec
        self.match: str | None = None
        self.version = -1
        self.view: dict[str, Any] | None = {} if track else None

    def reset(self, match: str | None, track: bool) -> None:
        self.match = match
        self.version = -1
        self.view = {} if track else None

    def snapshot(self, message: dict[str, Any]) -> None:
        self.version = message["version"]
        if self.view is not None:
            self.take(message)

    def patch(self, message: dict[str, Any]) -> None:
        if self.step(message):
            self.apply(message)

    def step(self, message: dict[str, Any]) -> bool:
        """The version chain, checked on arrival (cheap); True when the view must follow
        with `apply` (a tracked connection)."""
        version = message["version"]
        if self.version >= 0 and version != self.version + 1:
            self.rec.error("version_gap")
        self.version = version
        return self.view is not None

    def apply(self, message: dict[str, Any]) -> None:
        """Apply a patch to the kept view and check the hash."""
        if self.view is None:
            return
        try:
            self.view = apply_patch(self.view, message["ops"])
        except PatchError:
            self.rec.error("bad_patch")
            self.view = None
            return
        self._check(message)

    def take(self, message: dict[str, Any]) -> None:
        """Keep a snapshot's view and check the hash."""
        if self.view is not None:
            self.view = message["view"]
            self._check(message)

    def _check(self, message: dict[str, Any]) -> None:
        assert self.view is not None
        if view_hash(self.view) != message["hash"]:
            self.rec.error("hash_mismatch")
            self.view = None
        else:
            self.rec.verified += 1
