"""The client's copy of every match it plays or watches, in step with the server's
patches: each patch is applied with :func:`game.protocol.patch.apply_patch` and its
``hash`` checked; a version gap is filled with ``sync`` ``since`` and a view out of step
is replaced by a snapshot, one automatic ``sync`` at a time per match."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from game.client.errors import Stats
from game.client.events import Ack, Message, Patch, Ref, Snapshot, View
from game.client.requests import Requests
from game.client.wire import Outbox
from game.protocol.patch import PatchError, apply_patch, view_hash

log = logging.getLogger("game.client")


@dataclass
class MatchState:
    """The client's copy of one match: ``view`` at ``version``, proven by ``hash``."""

    id: str
    version: int
    view: View
    hash: int
    in_sync: bool = True
    syncing: str | None = None  # id of the outstanding sync, if any

    @property
    def finished(self) -> bool:
        return bool(self.view.get("status") == "finished")

    @property
    def my_turn(self) -> bool:
        turn = self.view.get("turn")
        return turn is not None and turn == self.view.get("you")


class MatchTracker:
    """Every match seen (``matches`` by id, ``order`` in the order their first snapshot
    came) and the game this client waits for in the quick-match queue, if any: a new
    match of that game ends the wait."""

    def __init__(self, stats: Stats, requests: Requests, outbox: Outbox) -> None:
        self.matches: dict[str, MatchState] = {}
        self.order: list[str] = []
        self.claimed: set[str] = set()
        """New matches already handed to a caller (so two callers never get the same)."""
        self.queued: str | None = None
        self._stats = stats
        self._requests = requests
        self._outbox = outbox

    def on_snapshot(self, message: Message) -> Snapshot | None:
        match_id, version, view = message["match"], message["version"], message["view"]
        state = self.matches.get(match_id)
        if state is not None and state.in_sync and version < state.version:
            return None  # an older snapshot that crossed newer patches
        if view_hash(view) != message["hash"]:
            self._stats.hash_mismatches += 1
            log.warning("snapshot of %s does not match its hash", match_id)
        if state is None:
            self.matches[match_id] = MatchState(match_id, version, view, message["hash"])
            self.order.append(match_id)
            if view.get("you") is not None and view.get("game") == self.queued:
                self.queued = None
        else:
            state.version, state.view, state.hash = version, view, message["hash"]
            state.in_sync, state.syncing = True, None
        self._stats.snapshots += 1
        return Snapshot(message, match_id, version, view)

    def on_patch(self, message: Message) -> Patch | None:
        match_id, version = message["match"], message["version"]
        state = self.matches.get(match_id)
        if state is None:
            return None  # a match we forgot (a snapshot always comes first otherwise)
        if not state.in_sync or version <= state.version:
            return None  # waiting for a snapshot, or a patch we already have
        if version != state.version + 1:
            self._stats.gaps += 1
            self.resync(match_id, state.version)
            return None
        try:
            view = apply_patch(state.view, message["ops"])
        except PatchError:
            view = None
        if view is None or view_hash(view) != message["hash"]:
            self._stats.hash_mismatches += 1
            log.warning("patch %d of %s is out of step; asking for a snapshot",
                        version, match_id)
            state.in_sync = False
            self.resync(match_id, None)
            return None
        state.version, state.view, state.hash, state.syncing = version, view, message["hash"], None
        self._stats.patches += 1
        return Patch(message, match_id, version, view, message["ops"])

    def on_sync_ack(self, ack: Ack) -> None:
        """The answer to an automatic ``sync`` with ``since``: every missed patch came
        before it. Still behind (the patches were no longer kept)? Ask for a snapshot."""
        if ack.ref is None or ack.ref not in self._requests.automatic:
            return
        state = self.matches.get(ack.match)
        if state is None or state.syncing != ack.ref:
            return
        state.syncing = None
        if state.version < ack.version:
            state.in_sync = False
            self.resync(ack.match, None)

    def on_refused(self, match_id: str | None, ref: Ref | None) -> None:
        """An automatic command about ``match_id`` was refused: a sync may be sent again."""
        state = self.matches.get(match_id) if match_id is not None else None
        if state is not None and state.syncing == ref:
            state.syncing = None

    def resync(self, match_id: str, since: int | None) -> None:
        """Ask for what we missed (``since``: the patches, then an ``ack``) or for a
        snapshot; one request at a time per match."""
        state = self.matches.get(match_id)
        if state is not None and state.syncing is not None:
            return
        if self._outbox.ws is None:
            return  # the reconnect brings snapshots anyway
        ref = self._requests.automatic_id(match_id)
        message: Message = {"type": "sync", "match": match_id, "id": ref}
        if since is not None:
            message["since"] = since
        if state is not None:
            state.syncing = ref
        self._stats.syncs_sent += 1
        self._outbox.post(message)

    def started_since(self, start: int) -> str | None:
        """The first live match of ours after the first ``start`` matches seen that
        no caller has claimed yet."""
        for match_id in self.order[start:]:
            state = self.matches.get(match_id)
            if state is None or match_id in self.claimed:
                continue
            view = state.view
            if view.get("you") is not None and view.get("status") != "finished":
                return match_id
        return None
