"""Generates the checked parts of docs/protocol.md from a real server.

    python docs/gen_protocol_examples.py            # rewrite docs/protocol.md in place
    python docs/gen_protocol_examples.py --static   # only what needs no server

It starts `game serve` on a free port (in-memory store), plays a scripted connect-four
game between two players with a spectator (a drop and a resume, an out-of-turn move, a
`sync`, a rematch), records every message each connection sent and received, and then
a few short sessions that provoke every error code it can. From those recordings it
fills each `<!-- gen:NAME -->` ... `<!-- /gen -->` section of the document: message
examples (JSON, and the msgpack bytes of that JSON as hex), the worked patch and hash
examples, the real error messages, the full transcript; and, without a server, the
board pictures, the settings table and the listings of examples/.

tests/docs/test_protocol_doc.py checks the result: it validates every example against
the `/api/protocol` schema, re-packs every msgpack example, recomputes the worked
examples, regenerates the static sections, and replays the scripted game against a
fresh server comparing the shape of the transcript.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "protocol.md"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from game.games import GameDefinition, all_games, get_game  # noqa: E402
from game.protocol.patch import apply_patch, canonical_json, view_hash  # noqa: E402
from game.rules import get_rules  # noqa: E402

RECV_TIMEOUT = 15.0

# Alice (seat 0, red, X) wins on the rising diagonal 38-32-26-20 with her 6th stone.
GAME_MOVES = [3, 4, 4, 5, 5, 6, 5, 6, 6, 0, 6]
DROP_AFTER = 4  # bob drops and comes back after this many moves
OUT_OF_TURN_AFTER = 2  # bob tries to move on alice's turn after this many moves
SYNC_AFTER = 6  # alice asks for the last two patches again after this many moves


# ---- recording ---------------------------------------------------------------------


@dataclass
class Line:
    """One transcript line: `who` sent (→) or received (←) `message`; or a comment."""

    who: str
    arrow: str
    message: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        if self.arrow == "#":
            return f"# {self.who}"
        text = json.dumps(self.message, ensure_ascii=False, separators=(", ", ": "))
        return f"{self.who} {self.arrow} {text}"


LINE = re.compile(r"^(\w+) (→|←) (\{.*\})$")


def parse_transcript(text: str) -> list[Line]:
    """The lines of a rendered transcript (comments included)."""
    lines = []
    for raw in text.strip().splitlines():
        if raw.startswith("# "):
            lines.append(Line(raw[2:], "#"))
            continue
        found = LINE.match(raw)
        if found is None:
            raise ValueError(f"not a transcript line: {raw!r}")
        lines.append(Line(found[1], found[2], json.loads(found[3])))
    return lines


class Recorder:
    def __init__(self) -> None:
        self.lines: list[Line] = []

    def comment(self, text: str) -> None:
        self.lines.append(Line(text, "#"))


class Conn:
    """A scripted connection that records what it sends and receives, tracks its
    views and checks every hash, and insists on receiving exactly what it expects."""

    def __init__(self, recorder: Recorder, who: str, url: str, codec: str = "json") -> None:
        self.recorder = recorder
        self.who = who
        self.codec = codec
        # entered like a context manager (websockets >= 17.1 warns otherwise), closed by close()
        self.ws: ClientConnection = connect(
            url, subprotocols=[f"game.v1.{codec}"]  # type: ignore[list-item]
        ).__enter__()
        self.views: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, int] = {}
        self.token: str | None = None

    def send(self, message: dict[str, Any], record: bool = True) -> None:
        if record:
            self.recorder.lines.append(Line(self.who, "→", message))
        if self.codec == "json":
            self.ws.send(json.dumps(message, separators=(",", ":"), ensure_ascii=False))
        else:
            self.ws.send(msgpack.packb(message, use_bin_type=True))

    def receive(self, record: bool = True) -> dict[str, Any]:
        frame = self.ws.recv(timeout=RECV_TIMEOUT)
        if self.codec == "json":
            assert isinstance(frame, str), "a binary frame on a JSON connection"
            message: dict[str, Any] = json.loads(frame)
        else:
            assert isinstance(frame, bytes), "a text frame on a msgpack connection"
            message = msgpack.unpackb(frame, raw=False)
        self._track(message)
        if record:
            self.recorder.lines.append(Line(self.who, "←", message))
        return message

    def expect(self, *kinds: str) -> list[dict[str, Any]]:
        got = []
        for kind in kinds:
            message = self.receive()
            if message["type"] != kind:
                raise AssertionError(f"{self.who} expected {kind}, got {message}")
            got.append(message)
        return got

    def _track(self, message: dict[str, Any]) -> None:
        kind, match = message.get("type"), message.get("match")
        if kind == "welcome":
            self.token = message["token"]
        if kind == "snapshot":
            self.views[match] = message["view"]
            self.versions[match] = message["version"]
        elif kind == "patch" and match in self.views:
            if message["version"] <= self.versions[match]:
                return  # resent by a sync
            assert message["version"] == self.versions[match] + 1, "version gap"
            self.views[match] = apply_patch(self.views[match], message["ops"])
            self.versions[match] = message["version"]
        if kind in ("snapshot", "patch"):
            assert view_hash(self.views[match]) == message["hash"], "hash mismatch"

    def close(self) -> None:
        self.ws.close()


def record_game(url: str) -> list[Line]:
    """The scripted connect-four game of the transcript (see the module docstring)."""
    rec = Recorder()
    rec.comment("alice and bob say hello (alice's ids are integers, bob's strings)")
    alice = Conn(rec, "alice", url)
    alice.send({"type": "hello", "name": "alice", "id": 1})
    alice.expect("welcome")
    bob = Conn(rec, "bob", url)
    bob.send({"type": "hello", "name": "bob", "id": "b1"})
    bob.expect("welcome")
    rec.comment("alice opens a private room and shares its code; bob joins")
    alice.send({"type": "create_room", "game": "connect4", "id": 2})
    room, _ = alice.expect("room", "snapshot")
    match = room["match"]
    bob.send({"type": "join_room", "code": room["code"], "id": "b2"})
    bob.expect("snapshot", "ack")
    alice.expect("patch")
    rec.comment("carol watches; the watcher count reaches everyone a moment later")
    carol = Conn(rec, "carol", url)
    carol.send({"type": "hello", "name": "carol", "id": 1})
    carol.expect("welcome")
    carol.send({"type": "watch", "match": match, "id": 2})
    carol.expect("snapshot")
    for conn in (alice, bob, carol):
        conn.expect("patch")
    players = {0: alice, 1: bob}
    ids = {0: iter(range(3, 100)), 1: iter(f"b{n}" for n in range(3, 100))}
    for index, column in enumerate(GAME_MOVES):
        if index == OUT_OF_TURN_AFTER:
            rec.comment("bob tries to move on alice's turn")
            bob.send({"type": "move", "match": match, "move": 0, "version": bob.versions[match],
                      "id": next(ids[1])})
            bob.expect("error")
        if index == DROP_AFTER:
            rec.comment("bob's connection drops; he comes back with his token")
            bob.close()
            alice.expect("patch")
            carol.expect("patch")
            bob = Conn(rec, "bob", url)
            players[1] = bob
            bob.send({"type": "hello", "token": _token(rec, "bob"), "id": next(ids[1])})
            bob.expect("welcome", "snapshot", "patch")
            alice.expect("patch")
            carol.expect("patch")
        if index == SYNC_AFTER:
            rec.comment("alice asks for everything after an older version (sync since)")
            alice.send({"type": "sync", "match": match, "since": alice.versions[match] - 2,
                        "id": next(ids[0])})
            alice.expect("patch", "patch", "ack")
        seat = index % 2
        mover, other = players[seat], players[1 - seat]
        if index == 0:
            rec.comment("the game: each move is answered by a patch to everyone and an ack")
        mover.send({"type": "move", "match": match, "move": column,
                    "version": mover.versions[match], "id": next(ids[seat])})
        mover.expect("patch", "ack")
        other.expect("patch")
        carol.expect("patch")
    rec.comment("alice offers a rematch, bob accepts: a new match with the seats swapped")
    alice.send({"type": "rematch", "match": match, "id": next(ids[0])})
    alice.expect("patch", "ack")
    bob.expect("patch")
    carol.expect("patch")
    bob.send({"type": "rematch", "match": match, "id": next(ids[1])})
    _, snapshot, _ = bob.expect("patch", "snapshot", "ack")
    alice.expect("patch", "snapshot")
    carol.expect("patch")
    rec.comment("carol stops watching; alice checks the line; bob resigns the rematch")
    carol.send({"type": "unwatch", "match": match, "id": 3})
    carol.expect("ack")
    alice.send({"type": "ping", "id": next(ids[0])})
    alice.expect("pong")
    bob.send({"type": "resign", "match": snapshot["match"], "id": next(ids[1])})
    bob.expect("patch", "ack")
    alice.expect("patch")
    for conn in (alice, bob, carol):
        conn.close()
    return rec.lines


def _token(rec: Recorder, who: str) -> str:
    for line in rec.lines:
        if line.who == who and line.message.get("type") == "welcome":
            return str(line.message["token"])
    raise AssertionError("no welcome")


def record_extras(url: str, foreign_match: str) -> list[Line]:
    """Short sessions for the messages and errors the game does not show (msgpack)."""
    rec = Recorder()
    dave = Conn(rec, "dave", url, codec="msgpack")
    dave.send({"type": "queue", "game": "tictactoe", "id": 1})
    dave.expect("error")  # hello_first
    dave.send({"type": "hello", "token": "not-a-token", "id": 2})
    dave.expect("error")  # bad_token
    dave.send({"type": "hello", "name": "dave", "id": 3})
    dave.expect("welcome")
    dave.send({"type": "queue", "game": "tictactoe", "id": 4})
    dave.expect("queued")
    dave.send({"type": "queue", "game": "tictactoe", "id": 5})
    dave.expect("error")  # already_queued
    dave.send({"type": "unqueue", "id": 6})
    dave.expect("unqueued")
    dave.send({"type": "queue", "game": "chess", "id": 7})
    dave.expect("error")  # unknown_game
    dave.send({"type": "dance", "id": 8})
    dave.expect("error")  # unknown_type
    dave.send({"type": "move", "match": foreign_match, "id": 9})
    dave.expect("error")  # bad_message
    dave.send({"type": "join_room", "code": "ZZZZZZ", "id": 10})
    dave.expect("error")  # unknown_room
    dave.send({"type": "watch", "match": "no-such-match", "id": 11})
    dave.expect("error")  # unknown_match
    dave.send({"type": "sync", "match": foreign_match, "id": 12})
    dave.expect("error")  # not_a_player
    dave.send({"type": "play_bot", "game": "tictactoe", "level": "easy", "seat": 1, "id": 13})
    snapshot, _ = dave.expect("snapshot", "patch")  # the bot (seat 0) moves at once
    match = snapshot["match"]
    taken = dave.views[match]["moves"][0]
    dave.send({"type": "move", "match": match, "move": taken, "version": dave.versions[match],
               "id": 14})
    dave.expect("error")  # illegal_move
    free = dave.views[match]["legal"][0]
    dave.send({"type": "move", "match": match, "move": free, "version": 1, "id": 15})
    dave.expect("error")  # stale_version
    dave.send({"type": "resign", "match": match, "id": 16})
    dave.expect("patch", "ack")
    dave.send({"type": "move", "match": match, "move": free, "id": 17})
    dave.expect("error")  # match_over
    dave.close()
    flood = Conn(rec, "flood", url)
    flood.send({"type": "hello", "name": "flood", "id": 0}, record=False)
    flood.receive(record=False)
    refused: list[dict[str, Any]] = []
    sent = 0
    # batches faster than the bucket refills, until the first refusal: a loaded machine
    # handles them more slowly, so no fixed count is sure to outrun the refill; stopping
    # at the first batch with a refusal stays under the refusals that close (1008)
    while not refused and sent < 20_000:
        for _ in range(50):
            sent += 1
            flood.send({"type": "unqueue", "id": sent}, record=False)
        for _ in range(50):  # every message is answered: unqueued, or refused
            message = flood.receive(record=False)
            if message["type"] == "error":
                refused.append(message)
    rec.lines.append(Line("flood", "←", refused[0]))
    flood.close()
    return rec.lines


# ---- a server to record against ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server() -> Iterator[str]:
    """`game serve` on a free port with an in-memory store; yields its ws:// URL."""
    port = _free_port()
    env = {**os.environ, "GAME_DB": ":memory:", "GAME_BOT_TIME_BUDGET": "0.2",
           "GAME_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "game", "serve", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        process.terminate()
        process.wait(timeout=30)


# ---- shapes, for comparing two recordings ------------------------------------------

VOLATILE = {"at", "deadline", "grace", "hash", "token", "player"}


def normalize(lines: list[Line]) -> list[tuple[str, str, Any]]:
    """The lines without what changes from run to run: times (and the ops that only
    move a deadline or grace time), hashes, tokens and the ids of players, matches and
    rooms (each id becomes its order of first appearance)."""
    names: dict[str, str] = {}

    def rename(value: Any, prefix: str) -> str:
        return names.setdefault(f"{prefix}:{value}", f"<{prefix}{len(names) + 1}>")

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for k, v in value.items():
                if k in VOLATILE:
                    out[k] = _kind(v)
                elif k == "match" and isinstance(v, str):
                    out[k] = rename(v, "match")
                elif k == "matches" and isinstance(v, list):
                    out[k] = [rename(m, "match") for m in v]
                elif k == "code" and isinstance(v, str) and v.isupper():
                    out[k] = rename(v, "room")
                elif k == "message" and key is None and isinstance(v, str):
                    out[k] = "<text>"
                elif k == "ops" and isinstance(v, list):
                    # a deadline set in the same millisecond as the last one is no change
                    out[k] = [walk(op) for op in v
                              if str(op.get("path", "")).rsplit("/", 1)[-1] not in VOLATILE]
                else:
                    out[k] = walk(v, k)
            return out
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        return value

    return [(line.who, line.arrow, walk(line.message)) for line in lines if line.arrow != "#"]


def _kind(value: Any) -> str:
    return "<null>" if value is None else f"<{type(value).__name__}>"


# ---- rendering ---------------------------------------------------------------------


def msgpack_hex(message: Any) -> str:
    """The msgpack bytes of a JSON example, as hex, 16 bytes a line."""
    data = msgpack.packb(message, use_bin_type=True).hex(" ")
    groups = data.split(" ")
    return "\n".join(" ".join(groups[i:i + 16]) for i in range(0, len(groups), 16))


def pretty(value: Any, indent: int = 0) -> str:
    """JSON with one member a line, but arrays of scalars and small maps on one line."""
    pad = "  " * indent
    if isinstance(value, dict) and value and len(json.dumps(value)) > 72:
        inner = ",\n".join(f'{pad}  {json.dumps(k)}: {pretty(v, indent + 1)}'
                           for k, v in value.items())
        return "{\n" + inner + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value) \
            and len(json.dumps(value)) > 72:
        inner = ",\n".join(f"{pad}  {pretty(v, indent + 1)}" for v in value)
        return "[\n" + inner + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def example(message: Any) -> str:
    return f"```json\n{pretty(message)}\n```\n\n```msgpack\n{msgpack_hex(message)}\n```"


def board_picture(game: str) -> str:
    """The index of every cell, row 0 at the top (and, for a game whose move is a
    column, where a piece lands first)."""
    definition = get_game(game)
    rows, cols = definition.rules.rows, definition.rules.cols
    width = len(str(rows * cols - 1))
    notes = {0: "   <- top", rows - 1: "   <- bottom: a piece lands here first"} \
        if definition.move == "column" else {}
    out = ["column: " + " ".join(f"{c:>{width}}" for c in range(cols))]
    for r in range(rows):
        cells = " ".join(f"{r * cols + c:>{width}}" for c in range(cols))
        out.append(f"row {r}:  {cells}{notes.get(r, '')}".rstrip())
    return "\n".join(out)


POSITIONS = {"tictactoe": [4, 0, 8], "connect4": [3, 3, 4], "othello": [37, 43]}
"""The moves of each game's `position` example (another game: the first two moves of
its first fixture game)."""


def position_moves(game: str) -> list[int]:
    return POSITIONS.get(game) or list(get_game(game).fixtures.finished[0].moves[:2])


def finish_picture(game: str) -> str:
    """The end of the game's first fixture game as the view shows it, played through
    the core."""
    from game.core.match import PlayMove, Seat, TimeControl, handle, new_match
    from game.core.views import view_for

    fixture = get_game(game).fixtures.finished[0]
    match = new_match("example", game, TimeControl(), 0, (Seat("p0", "a"), Seat("p1", "b")))
    for move in fixture.moves:
        match = handle(match, PlayMove(f"p{match.turn}", move), 0).match
    view = view_for(match, None)
    moves = view["moves"]
    shown = ", ".join(json.dumps(m) for m in moves[-6:])
    passes = moves.count(None)
    about = f"{len(moves)} entries in moves" + (
        f", {passes} of them null: a seat passed over" if passes else "")
    return (f"the end of the fixture game {fixture.name!r} ({about})\n"
            f"\"moves\": [{'..., ' if len(moves) > 6 else ''}{shown}]\n"
            f"\"result\": {json.dumps(view['result'])}")


def _names(values: list[str] | tuple[str, ...], most: int = 9) -> str:
    quoted = [f"`{v}`" for v in values]
    if len(quoted) > most:
        return f"{', '.join(quoted[:3])}, … {quoted[-1]} ({len(quoted)})"
    return ", ".join(quoted) if quoted else "none"


def game_facts(definition: GameDefinition) -> str:
    """What `GET /api/games` and the rules say of a game, as a table."""
    rules = definition.rules
    if definition.move == "column":
        move = (f"a column `0`..`{rules.cols - 1}`; the piece lands in the lowest empty "
                "cell of it")
    else:
        move = f"a cell `0`..`{rules.rows * rules.cols - 1}` (row-major, row 0 at the top)"
    sentences = definition.sentences
    results = "; ".join(f"`{reason}`: `{text}`" for reason, text in sentences.results.items())
    rows = [
        ("`id`, `title`", f"`{definition.name}`, {rules.title}"),
        ("`rows`, `cols`", f"{rules.rows} rows, {rules.cols} columns"),
        ("a move (`move`)", f"`{definition.move}`: {move}"),
        ("`seats`", f"seat 0 {definition.seats[0]}, seat 1 {definition.seats[1]}"),
        ("`cells`", "null (row R, column C)" if definition.cells is None
         else _names(definition.cells)),
        ("`bot_levels`", _names(definition.levels)),
        ("illegal-move reasons", _names(definition.illegal_reasons)),
        ("sentence of a move", f"`{sentences.move}`"),
        ("sentence of a pass", "null (no passes)" if sentences.pass_ is None
         else f"`{sentences.pass_}`"),
        ("result words", results),
    ]
    return "| | |\n|---|---|\n" + "\n".join(f"| {key} | {value} |" for key, value in rows)


def api_games_example() -> str:
    """The real `GET /api/games` entries of tic-tac-toe and connect-four."""
    entries = [get_game(name).metadata() for name in ("tictactoe", "connect4")]
    return "```text\n" + ",\n".join(pretty(entry) for entry in entries) + "\n```"


def position_picture(game: str, moves: list[int]) -> str:
    state = get_rules(game).replay(moves)
    return f"moves {moves}  ->  board (X = seat 0, O = seat 1, . = empty)\n{state}\n" + \
        "board = " + json.dumps(state.board())


SETTINGS = {
    "max_frame_bytes": "largest frame accepted, in bytes (larger: close 1009)",
    "send_queue_limit": "frames queued for a client that does not read (more: close 1013)",
    "hello_timeout": "seconds to say `hello` (else: close 1008)",
    "ping_interval": "seconds between the server's WebSocket pings",
    "ping_timeout": "seconds to answer a WebSocket ping (else: the connection is dropped)",
    "rate_per_second": "messages a second, sustained, per connection",
    "rate_burst": "messages in a burst, per connection",
    "rate_hard_strikes": "refused messages before the connection is closed (1008)",
    "turn_seconds": "seconds for each move after a seat's first",
    "first_move_seconds": "seconds for each seat's first move (missed: `aborted`)",
    "grace_seconds": "seconds a dropped player's seat is kept",
    "room_ttl_seconds": "seconds a private room waits for its second player",
    "watchers_flush_ms": "milliseconds over which watcher-count changes are batched",
    "history_versions": "versions of patches kept per live match for `sync` with `since` "
                        "(the last 4 once it is over)",
    "max_connections_per_address": "connections from one address (more: HTTP 403)",
    "max_live_matches_per_player": "live matches, rooms included, one player may hold "
    "(more: `rate_limited`)",
}


def settings_table() -> str:
    from game.server.settings import Settings

    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for name, meaning in SETTINGS.items():
        default = Settings.model_fields[name].default
        rows.append(f"| `{name}` | `GAME_{name.upper()}` | {default} | {meaning} |")
    return "\n".join(rows)


def listing(path: str) -> str:
    return f"```python\n{(ROOT / path).read_text().rstrip()}\n```"


def hash_example(view: dict[str, Any]) -> str:
    canonical = canonical_json(view)
    crc = zlib.crc32(canonical)
    return (
        "The view (from a real snapshot):\n\n"
        f"```json\n{pretty(view)}\n```\n\n"
        "1. Its canonical JSON: keys sorted, no spaces, non-ASCII kept as UTF-8:\n\n"
        f"```text\n{canonical.decode('utf-8')}\n```\n\n"
        f"2. Those are {len(canonical)} UTF-8 bytes.\n"
        f"3. CRC-32 (zlib / IEEE 802.3, as in PNG and gzip) of the bytes, unsigned: "
        f"`{crc}` (hex `0x{crc:08x}`), which is the `hash` the server sent.\n\n"
        "In Python: `zlib.crc32(json.dumps(view, sort_keys=True, separators=(',', ':'), "
        "ensure_ascii=False).encode())`; in JavaScript: `JSON.stringify` with every "
        "object's keys sorted by code point (JavaScript's default sort compares UTF-16 "
        "units, which differs for characters beyond U+FFFF), UTF-8 encoded with "
        "`TextEncoder`, through any CRC-32 (`examples/raw_json_bot.mjs` has one)."
    )


def patch_example(before: dict[str, Any], version: int, patch: dict[str, Any]) -> str:
    after = apply_patch(before, patch["ops"])
    return (
        f"The view at version {version}:\n\n```json\n{pretty(before)}\n```\n\n"
        f"The next patch:\n\n```json\n{pretty(patch)}\n```\n\n"
        "Applied op by op, it gives the view at version "
        f"{patch['version']}:\n\n```json\n{pretty(after)}\n```\n\n"
        f"whose CRC-32 is `{view_hash(after)}`: the patch's `hash`, so this client is in step."
    )


# ---- picking examples from the recordings ------------------------------------------


def find(lines: list[Line], who: str | None, arrow: str, kind: str,
         where: Callable[[dict[str, Any]], bool] = lambda m: True) -> dict[str, Any]:
    for line in lines:
        if (who is None or line.who == who) and line.arrow == arrow \
                and line.message.get("type") == kind and where(line.message):
            return line.message
    raise LookupError(f"no {arrow} {kind} by {who}")


EXAMPLE_KEYS = (
    "client/hello", "client/hello-resume", "client/queue", "client/unqueue",
    "client/create_room", "client/join_room", "client/play_bot", "client/move",
    "client/resign", "client/rematch", "client/watch", "client/unwatch", "client/sync",
    "client/ping", "server/welcome", "server/queued", "server/unqueued", "server/room",
    "server/snapshot", "server/patch", "server/ack", "server/error", "server/pong",
)


def examples_from(game: list[Line], extras: list[Line]) -> dict[str, Any]:
    """One real message for each `<!-- gen:example KEY -->` of the document."""
    found = _examples(game, extras)
    assert tuple(found) == EXAMPLE_KEYS
    return found


def _examples(game: list[Line], extras: list[Line]) -> dict[str, Any]:
    both = game + extras
    sent, got = "→", "←"
    return {
        "client/hello": find(game, "alice", sent, "hello"),
        "client/hello-resume": find(game, "bob", sent, "hello", lambda m: "token" in m),
        "client/queue": find(extras, "dave", sent, "queue", lambda m: m["id"] == 4),
        "client/unqueue": find(extras, "dave", sent, "unqueue"),
        "client/create_room": find(game, "alice", sent, "create_room"),
        "client/join_room": find(game, "bob", sent, "join_room"),
        "client/play_bot": find(extras, "dave", sent, "play_bot"),
        "client/move": find(game, "alice", sent, "move"),
        "client/resign": find(game, "bob", sent, "resign"),
        "client/rematch": find(game, "alice", sent, "rematch"),
        "client/watch": find(game, "carol", sent, "watch"),
        "client/unwatch": find(game, "carol", sent, "unwatch"),
        "client/sync": find(game, "alice", sent, "sync"),
        "client/ping": find(game, "alice", sent, "ping"),
        "server/welcome": find(game, "alice", got, "welcome"),
        "server/queued": find(extras, "dave", got, "queued"),
        "server/unqueued": find(extras, "dave", got, "unqueued"),
        "server/room": find(game, "alice", got, "room"),
        "server/snapshot": find(extras, "dave", got, "snapshot"),
        "server/patch": find(game, "carol", got, "patch",
                             lambda m: any(op["path"] == "/moves/-" for op in m["ops"])),
        "server/ack": find(game, "alice", got, "ack"),
        "server/error": find(both, None, got, "error", lambda m: m["code"] == "stale_version"),
        "server/pong": find(game, "alice", got, "pong"),
    }


def error_lines(game: list[Line], extras: list[Line]) -> str:
    seen: dict[str, Line] = {}
    for line in game + extras:
        if line.arrow == "←" and line.message.get("type") == "error":
            seen.setdefault(line.message["code"], line)
    return "```text\n" + "\n".join(seen[code].render() for code in sorted(seen)) + "\n```"


# ---- the document ------------------------------------------------------------------

SECTION = re.compile(r"(<!-- gen:(?P<name>[\w/.\- ]+) -->\n)(?P<body>.*?)(<!-- /gen -->)",
                     re.DOTALL)


def static_sections() -> dict[str, str]:
    """The sections that need no server: every registered game's among them."""
    sections = {"api games": api_games_example()}
    for definition in all_games():  # GAME_SECTIONS of each
        game = definition.name
        sections[f"game {game}"] = game_facts(definition)
        sections[f"board {game}"] = f"```text\n{board_picture(game)}\n```"
        sections[f"position {game}"] = \
            f"```text\n{position_picture(game, position_moves(game))}\n```"
        sections[f"finish {game}"] = f"```text\n{finish_picture(game)}\n```"
    return {
        **sections,
        "settings": settings_table(),
        "listing examples/raw_msgpack_bot.py": listing("examples/raw_msgpack_bot.py"),
        "listing examples/sdk_bot.py": listing("examples/sdk_bot.py"),
    }


def recorded_sections(game: list[Line], extras: list[Line]) -> dict[str, str]:
    sections = {f"example {key}": example(message)
                for key, message in examples_from(game, extras).items()}
    snapshot = find(extras, "dave", "←", "snapshot")
    patch = find(extras, "dave", "←", "patch",
                 lambda m: m["match"] == snapshot["match"] and m["version"] == snapshot["version"]
                 + 1)
    sections["hash example"] = hash_example(snapshot["view"])
    sections["patch example"] = patch_example(copy.deepcopy(snapshot["view"]),
                                              snapshot["version"], patch)
    sections["errors"] = error_lines(game, extras)
    sections["transcript"] = "```text\n" + "\n".join(line.render() for line in game) + "\n```"
    return sections


def fill(document: str, sections: dict[str, str]) -> str:
    def replace(found: re.Match[str]) -> str:
        name = found["name"]
        if name not in sections:
            return found[0]
        return f"{found[1]}{sections[name]}\n{found[4]}"

    return SECTION.sub(replace, document)


MORE_GAMES = ("<!-- more games: the generator adds the sections of any other registered game "
              "here -->")
GAME_SECTIONS = ("game", "board", "position", "finish")


def add_missing_games(document: str) -> str:
    """The document with empty sections (filled by :func:`fill`) for every registered
    game it does not describe yet, before the :data:`MORE_GAMES` marker: a new game
    package is documented by running this script, without editing the document."""
    present = sections_of(document)
    added = []
    for definition in all_games():
        if f"game {definition.name}" in present:
            continue
        markers = "\n\n".join(f"<!-- gen:{kind} {definition.name} -->\n<!-- /gen -->"
                              for kind in GAME_SECTIONS)
        added.append(f"**{definition.title}** (`{definition.name}`).\n\n{markers}\n\n")
    return document.replace(MORE_GAMES, "".join(added) + MORE_GAMES, 1)


def sections_of(document: str) -> dict[str, str]:
    return {found["name"]: found["body"].rstrip("\n") for found in SECTION.finditer(document)}


def record(url: str) -> tuple[list[Line], list[Line]]:
    game = record_game(url)
    match = find(game, "alice", "←", "room")["match"]
    return game, record_extras(url, match)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", action="store_true", help="skip the recorded sections")
    parser.add_argument("--url", help="record against this server instead of starting one")
    args = parser.parse_args(argv)
    sections = static_sections()
    if not args.static:
        if args.url:
            sections.update(recorded_sections(*record(args.url)))
        else:
            with running_server() as url:
                sections.update(recorded_sections(*record(url)))
    text = add_missing_games(DOC.read_text())
    missing = set(sections) - set(sections_of(text))
    if missing:
        print(f"sections missing from {DOC}: {sorted(missing)}", file=sys.stderr)
        return 1
    DOC.write_text(fill(text, sections))
    print(f"updated {len(sections)} sections of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
