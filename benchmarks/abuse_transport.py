"""Round-two abuse phases for the transport (RELIABILITY.md cases 24-26), run by
`bench_abuse.py --round2` against a server with its default settings.

* ping-sloth        - one peer (4 KiB receive buffer) pings with 125-byte payloads and
                      never reads, reconnecting whenever the server cuts it off;
* endless-fragments - one peer sends a text frame without FIN, then empty continuation
                      frames without end, reconnecting whenever cut off;
* slowloris         - 2000 half-sent request heads from one address, while /healthz is
                      asked from another; then the time until the server closed them;
* huge-heads        - a 1 MB head on /, a 100 KB head on /ws, ten 30 MB heads streamed
                      in parallel.

Each stops after about `seconds` (slowloris waits up to 12 s more for the server to
close its sockets) and caps what it sends, so the server before the fix stays under
about 1 GB.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.harness import (
    OP_CONT,
    OP_PING,
    OP_TEXT,
    RawPeer,
    ahealthz_from,
    frame,
    http_socket,
    http_status,
    read_to_end,
)
from tests.support import ServerProcess

MB = 2**20
SETTINGS: dict[str, Any] = {}
Phase = Callable[[float], Awaitable[dict[str, Any]]]
UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade"
           b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


async def _stream(sock: socket.socket, chunk: bytes, limit: int, end: float) -> tuple[int, bool]:
    """Send `chunk` until `limit` bytes or `end`; (bytes sent, cut off by the server)."""
    loop = asyncio.get_running_loop()
    sent = 0
    while sent < limit and time.monotonic() < end:
        try:
            left = max(0.1, end - time.monotonic())
            await asyncio.wait_for(loop.sock_sendall(sock, chunk), left)
        except TimeoutError:
            return sent, False
        except OSError:
            return sent, True
        sent += len(chunk)
    return sent, False


async def _close_code(peer: RawPeer, seconds: float = 3.0) -> str:
    """What the peer finds when it finally reads: a close code, `reset` or `open`."""
    try:
        code = await asyncio.wait_for(peer.close_code(), seconds)
    except (TimeoutError, OSError):
        return "open"
    return "reset" if code is None else str(code)


def _sloth(server: ServerProcess, name: str, opening: bytes, chunk: bytes, limit: int
           ) -> Phase:
    """One abuser at a time from one address, reconnecting when cut off, sending at
    most `limit` bytes in all."""
    async def run(seconds: float) -> dict[str, Any]:
        end = time.monotonic() + seconds
        sent, cuts = 0, []
        codes: dict[str, int] = {}
        while time.monotonic() < end and sent < limit:
            peer = await RawPeer.open(server, host="127.0.8.1", rcvbuf=4096)
            started = time.monotonic()
            try:
                await peer.send_json({"type": "hello", "name": name})
                await peer.send(opening)
                count, cut = await _stream(peer.sock, chunk, limit - sent, end)
                sent += count
                if cut:
                    cuts.append(time.monotonic() - started)
                code = "reset" if cut else await _close_code(peer)
                codes[code] = codes.get(code, 0) + 1
            finally:
                peer.close()
        return {"sent_mb": round(sent / MB, 1), "connections": sum(codes.values()),
                "outcomes": codes,
                "cut_off_after_s": round(max(cuts), 2) if cuts else None}

    return run


def ping_sloth(server: ServerProcess) -> Phase:
    return _sloth(server, "ping-sloth", b"", frame(OP_PING, b"p" * 125) * 1000, 64 * MB)


def endless_fragments(server: ServerProcess) -> Phase:
    return _sloth(server, "fragments", frame(OP_TEXT, b"{", fin=False),
                  frame(OP_CONT, b"", fin=False) * 10_000, 300 * MB)


def slowloris(server: ServerProcess) -> Phase:
    async def run(seconds: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        socks: list[socket.socket] = []
        for _ in range(20):
            batch = await asyncio.gather(*(http_socket(server, "127.0.8.2")
                                           for _ in range(100)), return_exceptions=True)
            socks.extend(s for s in batch if isinstance(s, socket.socket))
        for sock in socks:
            with contextlib.suppress(OSError):
                await loop.sock_sendall(sock, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        health = await _health_during(server, seconds)
        outcomes = await asyncio.gather(*(_outcome(sock, 12.0) for sock in socks))
        for sock in socks:
            sock.close()
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome] = counts.get(outcome, 0) + 1
        return {"opened": len(socks), "outcomes": counts, **health}

    return run


async def _health_during(server: ServerProcess, seconds: float) -> dict[str, Any]:
    """/healthz from another address, every 0.2 s for `seconds`."""
    end = time.monotonic() + seconds
    ok = failed = 0
    slowest = 0.0
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            await asyncio.wait_for(ahealthz_from(server, "127.0.8.3"), 5)
            ok += 1
        except Exception:  # refused, reset or hung: all count as "no answer"
            failed += 1
        slowest = max(slowest, time.monotonic() - started)
        await asyncio.sleep(0.2)  # pacing the probe
    return {"healthz_ok": ok, "healthz_failed": failed, "healthz_max_ms": round(slowest * 1000)}


async def _outcome(sock: socket.socket, seconds: float) -> str:
    """How the server ended a half-sent request: its status, `reset`, or `open`."""
    try:
        answer = await read_to_end(sock, seconds)
    except TimeoutError:
        return "open"
    status = http_status(answer)
    return "reset" if status is None else str(status)


def huge_heads(server: ServerProcess) -> Phase:
    async def run(seconds: float) -> dict[str, Any]:
        big = b"X-Big: " + b"a" * MB + b"\r\n\r\n"
        root = await _answer(server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big)
        ws = await _answer(server, UPGRADE + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        end = time.monotonic() + seconds  # the old server answers the two above slowly
        streams = await asyncio.gather(*(_huge(server, 30 * MB, end) for _ in range(10)))
        return {"head_1mb_on_root": root, "head_100kb_on_ws": ws,
                "streams_cut_off": sum(cut for _, cut in streams),
                "streamed_mb": round(sum(sent for sent, _ in streams) / MB, 1)}

    return run


async def _answer(server: ServerProcess, request: bytes) -> str:
    sock = await http_socket(server, "127.0.8.4")
    try:
        end = time.monotonic() + 20
        sender = asyncio.get_running_loop().create_task(_stream(sock, request, len(request), end))
        try:
            answer = await read_to_end(sock, 20)
        except TimeoutError:
            return "open"
        sender.cancel()
        status = http_status(answer)
        return "reset" if status is None else str(status)
    finally:
        sock.close()


async def _huge(server: ServerProcess, size: int, end: float) -> tuple[int, bool]:
    sock = await http_socket(server, "127.0.8.5")
    try:
        await asyncio.get_running_loop().sock_sendall(
            sock, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        return await _stream(sock, b"a" * 65536, size, end)
    except OSError:
        return 0, True
    finally:
        sock.close()


PHASES: dict[str, Callable[[ServerProcess], Phase]] = {
    "ping-sloth": ping_sloth,
    "endless-fragments": endless_fragments,
    "slowloris": slowloris,
    "huge-heads": huge_heads,
}
