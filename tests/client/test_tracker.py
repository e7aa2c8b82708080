"""The SDK's local views and request bookkeeping without a server: patches applied and
hash-checked, gaps and mismatches repaired with one automatic sync, answers matched to
their commands; and the names code imports from game.client.client still there."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from game.client.errors import ClientClosed, ConnectionLost, ServerError, Stats
from game.client.events import Ack, ErrorEvent, Message, Patch, Snapshot
from game.client.requests import Requests
from game.client.tracker import MatchTracker
from game.client.wire import Outbox, decode, encode
from game.protocol.patch import diff, view_hash


class Recording(Outbox):
    """An outbox with a pretend socket that keeps what is posted."""

    def __init__(self) -> None:
        super().__init__(lambda message: encode("json", message))
        self.ws = object()  # type: ignore[assignment]
        self.posted: list[Message] = []

    def post(self, message: Message) -> None:
        if self.ws is not None:
            self.posted.append(message)


def snapshot(version: int, view: dict[str, Any]) -> Message:
    return {"type": "snapshot", "match": "m", "version": version, "view": view,
            "hash": view_hash(view)}


def patch(version: int, old: dict[str, Any], new: dict[str, Any]) -> Message:
    return {"type": "patch", "match": "m", "version": version, "ops": diff(old, new),
            "hash": view_hash(new)}


def views() -> list[dict[str, Any]]:
    board: list[int | None] = [None] * 9
    out: list[dict[str, Any]] = [{"game": "tictactoe", "you": 0, "turn": 0,
                                  "status": "active", "board": list(board), "moves": []}]
    for n, cell in enumerate((4, 0, 8)):
        board[cell] = n % 2
        out.append({**out[-1], "turn": (n + 1) % 2, "board": list(board),
                    "moves": [*out[-1]["moves"], cell]})
    return out


def tracker() -> tuple[MatchTracker, Requests, Recording, Stats]:
    outbox, stats = Recording(), Stats()
    requests = Requests(outbox)
    return MatchTracker(stats, requests, outbox), requests, outbox, stats


async def test_patches_in_step_are_applied_and_stale_ones_ignored() -> None:
    book, _, outbox, stats = tracker()
    v = views()
    assert isinstance(book.on_snapshot(snapshot(1, v[0])), Snapshot)
    event = book.on_patch(patch(2, v[0], v[1]))
    assert isinstance(event, Patch) and event.view == v[1]
    assert book.on_patch(patch(2, v[0], v[1])) is None  # already have it
    assert book.on_snapshot(snapshot(1, v[0])) is None  # crossed the patch
    assert book.matches["m"].version == 2 and book.order == ["m"]
    assert (stats.patches, stats.snapshots, outbox.posted) == (1, 1, [])
    assert book.started_since(0) == "m" and book.started_since(1) is None


async def test_a_gap_asks_for_the_patches_since_once() -> None:
    book, requests, outbox, stats = tracker()
    v = views()
    book.on_snapshot(snapshot(1, v[0]))
    assert book.on_patch(patch(3, v[1], v[2])) is None
    assert book.on_patch(patch(4, v[2], v[3])) is None  # the sync is still out
    [sync] = outbox.posted
    assert sync["since"] == 1 and requests.automatic == {sync["id"]: "m"}
    assert (stats.gaps, stats.syncs_sent) == (2, 1)
    # the patches were gone: the ack is newer than the view, so ask for a snapshot
    book.on_sync_ack(Ack({}, sync["id"], "m", 4))
    assert outbox.posted[-1] == {"type": "sync", "match": "m", "id": outbox.posted[-1]["id"]}
    assert not book.matches["m"].in_sync
    book.on_snapshot(snapshot(4, v[3]))
    assert book.matches["m"].in_sync and book.matches["m"].view == v[3]


async def test_a_hash_mismatch_asks_for_a_snapshot_and_a_refusal_frees_the_sync() -> None:
    book, requests, outbox, stats = tracker()
    v = views()
    book.on_snapshot(snapshot(1, v[0]))
    wrong = copy.deepcopy(v[1])
    wrong["board"][4] = 1
    assert book.on_patch({**patch(2, v[0], v[1]), "hash": view_hash(wrong)}) is None
    [sync] = outbox.posted
    assert "since" not in sync and stats.hash_mismatches == 1
    refused = ErrorEvent({}, "rate_limited", "", sync["id"], "m")
    book.on_refused(requests.on_error(refused), refused.ref)
    assert book.matches["m"].syncing is None and requests.automatic == {}


async def test_no_socket_no_sync() -> None:
    book, _, outbox, stats = tracker()
    v = views()
    book.on_snapshot(snapshot(1, v[0]))
    outbox.ws = None
    book.on_patch(patch(3, v[1], v[2]))
    assert outbox.posted == [] and stats.syncs_sent == 0
    assert book.matches["m"].syncing is None


async def test_queued_ends_with_a_new_match_of_that_game() -> None:
    book, *_ = tracker()
    book.queued = "tictactoe"
    book.on_snapshot(snapshot(1, views()[0]))
    assert book.queued is None


async def test_answers_find_their_commands() -> None:
    outbox = Recording()
    requests = Requests(outbox)
    move = requests.add({"type": "move", "match": "m", "move": 3})
    play = requests.add({"type": "play_bot", "game": "connect4", "level": "easy"})
    ping = requests.add({"type": "ping", "id": "mine"})
    assert ping.ref == "mine" and move.ref != play.ref
    assert requests.flush() == 3 and requests.flush() == 0
    requests.answer(ping.ref, {"type": "pong", "ref": "mine"})
    assert ping.future.result()["type"] == "pong"
    requests.lost()  # a move may be resent, starting a match may not
    assert isinstance(play.future.exception(), ConnectionLost)
    assert not move.sent and requests.waiting_for("move")
    requests.answer(move.ref, {"type": "error", "code": "illegal_move", "ref": move.ref})
    with pytest.raises(ServerError):
        move.future.result()
    last = requests.add({"type": "unqueue"})
    requests.close(ClientClosed("closed"))
    assert isinstance(last.future.exception(), ClientClosed)


def test_codecs_round_trip() -> None:
    message = {"type": "move", "match": "m", "move": 3, "id": "é"}
    assert decode(encode("json", message)) == decode(encode("msgpack", message)) == message
    with pytest.raises(ValueError):
        decode(b"\x01")


def test_names_stay_importable_from_game_client_client() -> None:
    import game.client
    import game.client.client

    for name in ("NO_RECONNECT", "RESENDABLE", "RETRYABLE", "Backoff", "Client",
                 "ClientClosed", "CodecName", "ConnectionLost", "MatchState",
                 "ServerError", "Stats"):
        assert hasattr(game.client.client, name), name
    for name in game.client.__all__:
        assert hasattr(game.client, name), name
