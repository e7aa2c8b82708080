"""Test helpers: real server processes on free ports and a small protocol client.

The client keeps each match's view in step by applying patches itself and checks
every `hash`, so any test that plays through it also proves the patch stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import jsonschema
import msgpack
import websockets
from websockets.asyncio.client import ClientConnection

from game.protocol.patch import apply_patch, view_hash
from game.protocol.schema import strict_server_schema

# stricter than the published schema: no field the server does not list (tests/protocol)
SERVER_SCHEMA = jsonschema.Draft202012Validator(strict_server_schema())

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_root() -> Path:
    """Where `python -m game serve` runs from: this tree, or (for before/after runs)
    another checkout named by GAME_TEST_SERVER_ROOT, whose `game` package it then imports."""
    return Path(os.environ.get("GAME_TEST_SERVER_ROOT", ROOT))


@dataclass
class ServerProcess:
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "game", "serve", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=server_root(),
        )
        deadline = time.monotonic() + 30
        # one client for every poll: a bare httpx.get builds an SSL context each time
        # (about 60 ms of CPU): at 20 polls a second, as much CPU as the server's start
        with httpx.Client(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
                try:
                    if http.get(f"{self.http}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)  # polling a starting process: there is no event to wait on
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.check_sent_messages()
        return code

    def check_sent_messages(self) -> None:
        """Every test server validates what it sends against /api/protocol; fail the
        test that used it if anything did not fit."""
        bad = [line for line in self.logs().splitlines() if "invalid_outgoing_message" in line]
        assert not bad, f"server sent messages outside the schema: {bad[:3]}"

    def logs(self) -> str:
        return self.log_path.read_text()


def start_server(tmp: Path, **settings: Any) -> ServerProcess:
    env = dict(os.environ)
    env.update({"GAME_DB": ":memory:", "GAME_LOG_LEVEL": "info", "GAME_BOT_TIME_BUDGET": "0.2",
                "GAME_VALIDATE_OUTGOING": "true"})
    for key, value in settings.items():
        env[f"GAME_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    server = ServerProcess(free_port(), env, tmp / f"server-{time.monotonic_ns()}.log")
    server.start()
    return server


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """Terminate a helper process a test started (nginx, redis-server) and reap it,
    killing it if it does not go within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def load_script(path: Path) -> ModuleType:
    """Import a script that is not in a package (the docs generators) as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def serving_sqlite(tmp: Path, **settings: Any) -> Iterator[ServerProcess]:
    """A server on a real SQLite file in `tmp` for one test (a fixture's body)."""
    proc = start_server(tmp, db=str(tmp / "game.sqlite3"), **settings)
    try:
        yield proc
    finally:
        proc.stop()


def schema_refs(node: Any) -> list[str]:
    """Every `$ref` string anywhere inside a JSON Schema document."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                found.append(item["$ref"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def advance_clock(server: ServerProcess, ms: int) -> int:
    response = httpx.post(f"{server.http}/_test/clock", json={"ms": ms}, timeout=10)
    response.raise_for_status()
    return int(response.json()["now"])


@dataclass
class Client:
    """A protocol client for tests: sends commands, waits for messages, keeps views."""

    ws: ClientConnection
    codec: str
    inbox: list[dict[str, Any]] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    player: str | None = None
    token: str | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    _counter: int = 0

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                message = json.loads(frame) if isinstance(frame, str) else msgpack.unpackb(frame)
                if isinstance(frame, str):
                    assert self.codec == "json", "text frame on a msgpack connection"
                else:
                    assert self.codec == "msgpack", "binary frame on a JSON connection"
                self._track(message)
                self.inbox.append(message)
                self._arrived.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()
            self._arrived.set()

    def _track(self, message: dict[str, Any]) -> None:
        SERVER_SCHEMA.validate(message)  # every message in every test obeys /api/protocol
        kind, match = message.get("type"), str(message.get("match"))
        if kind == "snapshot":
            self.views[match] = message["view"]
            self.versions[match] = message["version"]
        elif kind == "patch" and match in self.views:
            assert message["version"] == self.versions[match] + 1, "version gap"
            self.views[match] = apply_patch(self.views[match], message["ops"])
            self.versions[match] = message["version"]
        if kind in ("snapshot", "patch") and match in self.views:
            assert view_hash(self.views[match]) == message["hash"], "hash mismatch"

    async def send(self, message: dict[str, Any]) -> None:
        if self.codec == "json":
            await self.ws.send(json.dumps(message))
        else:
            await self.ws.send(msgpack.packb(message))

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send with a fresh id and wait for the direct answer (`ref` == id)."""
        self._counter += 1
        ref = f"r{self._counter}"
        await self.send({**message, "id": ref})
        return await self.expect(lambda m: m.get("ref") == ref)

    async def expect(
        self, predicate: Callable[[dict[str, Any]], bool] | str, timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        """Wait for (and consume) the first message that matches."""
        check = (lambda m: m.get("type") == predicate) if isinstance(predicate, str) else predicate

        async def wait() -> dict[str, Any]:
            while True:
                for index, message in enumerate(self.inbox):
                    if check(message):
                        return self.inbox.pop(index)
                if self.closed.is_set():
                    raise ConnectionError(f"closed with {self.close_code}; inbox {self.inbox}")
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def until_view(
        self, match: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while True:
                view = self.views.get(match)
                if view is not None and predicate(view):
                    return view
                if self.closed.is_set():
                    raise ConnectionError(f"closed with {self.close_code}")
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def hello(self, name: str = "tester", token: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "hello", "name": name}
        if token is not None:
            message["token"] = token
        welcome = await self.request(message)
        assert welcome["type"] == "welcome", welcome
        self.player, self.token = welcome["player"], welcome["token"]
        return welcome

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


@contextlib.asynccontextmanager
async def connect(
    server: ServerProcess, codec: str = "json", **kwargs: Any
) -> AsyncIterator[Client]:
    ws = await websockets.connect(
        server.ws, subprotocols=[f"game.v1.{codec}"], max_size=2**20, **kwargs  # type: ignore[list-item]
    )
    client = Client(ws, codec)
    client.start()
    try:
        yield client
    finally:
        await client.close()


async def play_out(
    players: dict[int, Client], match: str, moves: list[int]
) -> None:
    """Play `moves` in order, each by the seat to move, waiting for both to see it."""
    start = len(players[0].views[match]["moves"])
    for index, move in enumerate(moves):
        seat = players[0].views[match]["turn"]
        mover = players[seat]
        version = mover.versions[match]
        ack = await mover.request({"type": "move", "match": match, "move": move,
                                   "version": version})
        assert ack["type"] == "ack", (ack, mover.views[match], players[0].views[match])
        seen = start + index + 1

        def arrived(view: dict[str, Any], seen: int = seen) -> bool:
            return len(view["moves"]) >= seen

        for client in players.values():
            await client.until_view(match, arrived)


async def seated(
    a: Client, b: Client, game: str, **room: Any
) -> tuple[str, dict[int, Client]]:
    """`a` opens a room (with `room`'s clocks), `b` joins it; once both see the match
    active, its id and the two clients by seat."""
    await a.hello()
    await b.hello()
    opened = await a.request({"type": "create_room", "game": game, **room})
    await b.request({"type": "join_room", "code": opened["code"]})
    match: str = opened["match"]
    for client in (a, b):
        await client.until_view(match, lambda v: v["status"] == "active")
    return match, {a.views[match]["you"]: a, b.views[match]["you"]: b}
