"""Frames on the socket: the two codecs of protocol v1, and the socket in use with the
messages sent on it without waiting."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Literal

import msgpack
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from game.client.events import Message

CodecName = Literal["json", "msgpack"]


def encode(codec: CodecName, message: Message) -> str | bytes:
    """A text frame for ``json``, a binary frame for ``msgpack``."""
    if codec == "json":
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    data: bytes = msgpack.packb(message, use_bin_type=True)
    return data


def decode(frame: str | bytes) -> Message:
    value = json.loads(frame) if isinstance(frame, str) else msgpack.unpackb(frame, raw=False)
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise ValueError("the server sent something that is not a message")
    return value


class Outbox:
    """The socket in use (``ws``: None until a handshake is done and after it drops),
    and the messages posted on it without waiting for the write."""

    def __init__(self, encode: Callable[[Message], str | bytes]) -> None:
        self.encode = encode
        self.ws: ClientConnection | None = None
        self.paused = False
        """The server announced a restart on ``ws`` (``notice``): nothing new is sent on
        it; what waits goes on the next connection."""
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, message: Message) -> None:
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        await ws.send(self.encode(message))

    def post(self, message: Message) -> None:
        """Send ``message`` on the socket in use, from a task of its own; nothing
        happens when there is no socket, and a socket that closes first drops it."""
        ws = self.ws
        if ws is None or self.paused:
            return

        async def send() -> None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(self.encode(message))

        task = asyncio.get_running_loop().create_task(send())
        # the loop keeps only a weak reference to a task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
