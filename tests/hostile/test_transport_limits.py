"""RELIABILITY.md cases 24-26: the transport below the protocol, each beside a bystander.

24. pings from a peer that never reads: every control frame costs a token of the rate
    limit (1008 past the hard limit), and the pongs we owe count against the send
    queue (1013);
25. a fragmented message that never ends: at most `max_frames_per_message` frames
    (1008), and every fragment costs a token;
26. request heads sent slowly or huge, and bodies: counted against the caps from the
    accept, a deadline and a size for heads (408, 431) and bodies (408, 413), on every
    path and in both WebSocket modes; the caps fitted under the open-file limit; a
    request rate per address (429), so API pollers cannot take the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hostile.conftest import serving
from tests.hostile.harness import (
    OP_CONT,
    OP_PING,
    OP_TEXT,
    Bystander,
    HandshakeRefused,
    RawPeer,
    ahealthz_from,
    frame,
    http_socket,
    http_status,
    read_to_end,
    server_rss,
)
from tests.support import ServerProcess, start_server

MB = 2**20
CAP = 20  # max_connections_per_address of these servers
FRAMES = 32  # the default max_frames_per_message
HEAD_TIMEOUT = 1.5
PING = frame(OP_PING, b"p" * 125)
UPGRADE = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade"
           "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


@pytest.fixture(scope="module")
def transport(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Default limits but a small per-address cap and short request deadlines."""
    yield from serving(tmp_path_factory.mktemp("transport"), max_connections_per_address=CAP,
                       request_head_timeout=HEAD_TIMEOUT, request_body_timeout=HEAD_TIMEOUT,
                       hello_timeout=30.0)


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """No rate limit to speak of, small send buffers: only the send queue is left."""
    yield from serving(tmp_path_factory.mktemp("unlimited"), rate_per_second=1e6,
                       rate_burst=1e6, send_buffer_bytes=4096, send_queue_limit=32,
                       hello_timeout=30.0)


async def hello_peer(server: ServerProcess, host: str, rcvbuf: int | None = None) -> RawPeer:
    peer = await RawPeer.open(server, host=host, rcvbuf=rcvbuf)
    await peer.send_json({"type": "hello", "name": f"raw-{host}"})
    return peer


async def flood(peer: RawPeer, chunk: bytes, limit: int, seconds: float = 10.0) -> int:
    """Send `chunk` again and again, never reading, until `limit` bytes, `seconds`, or
    the server cuts the connection; the bytes sent."""
    loop = asyncio.get_running_loop()
    sent, start = 0, time.monotonic()
    while sent < limit and time.monotonic() - start < seconds:
        try:
            await asyncio.wait_for(loop.sock_sendall(peer.sock, chunk), seconds)
        except (OSError, TimeoutError):
            break
        sent += len(chunk)
    return sent


# ---- 24. pings from a peer that never reads ----------------------------------------


async def test_a_ping_flood_is_closed_1008_by_the_rate_limit(transport: ServerProcess) -> None:
    async with Bystander(transport):
        rss_before = server_rss(transport)
        peer = await hello_peer(transport, "127.0.0.30", rcvbuf=4096)
        try:
            await peer.send(PING * 3000)  # not reading a byte meanwhile
            assert await peer.close_code() == 1008
        finally:
            peer.close()
        sloth = await hello_peer(transport, "127.0.0.31", rcvbuf=4096)
        try:
            await flood(sloth, PING * 1000, 40 * MB)
        finally:
            sloth.close()
        assert server_rss(transport) - rss_before < 60 * MB


async def test_pongs_owed_to_a_peer_that_never_reads_count_against_the_send_queue(
    unlimited: ServerProcess,
) -> None:
    async with Bystander(unlimited):
        rss_before = server_rss(unlimited)
        peer = await hello_peer(unlimited, "127.0.0.32", rcvbuf=4096)
        try:
            await peer.send(PING * 3000)  # 3000 pongs owed, 32 may wait
            assert await peer.close_code() == 1013
        finally:
            peer.close()
        assert server_rss(unlimited) - rss_before < 60 * MB


# ---- 25. a fragmented message that never ends ----------------------------------------


async def test_a_message_that_never_ends_is_closed_1008_at_the_frame_limit(
    transport: ServerProcess,
) -> None:
    start = frame(OP_TEXT, b"{", fin=False)
    empty = frame(OP_CONT, b"", fin=False)
    async with Bystander(transport):
        rss_before = server_rss(transport)
        peer = await hello_peer(transport, "127.0.0.33")
        try:
            await peer.send(start + empty * (FRAMES + 8))
            assert await peer.close_code() == 1008
        finally:
            peer.close()
        # 50 MB of them (8 million frames) cost no memory: past the limit the server
        # hangs up, discarding what still comes unparsed until the close deadline
        streamer = await hello_peer(transport, "127.0.0.34")
        try:
            await streamer.send(start)
            await flood(streamer, empty * 10_000, 50 * MB)
        finally:
            streamer.close()
        assert server_rss(transport) - rss_before < 30 * MB


async def test_every_fragment_costs_a_token_of_the_rate_limit(transport: ServerProcess) -> None:
    # 150 pings in three frames each: within the burst as messages (200), not as frames
    ping = (frame(OP_TEXT, b'{"type":', fin=False) + frame(OP_CONT, b'"ping",', fin=False)
            + frame(OP_CONT, b'"id":1}'))
    async with Bystander(transport):
        peer = await hello_peer(transport, "127.0.0.35")
        try:
            await peer.send(ping * 150)
            assert await peer.close_code() == 1008
        finally:
            peer.close()


# ---- 26. slow, huge and unfinished HTTP requests ------------------------------------


async def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send what the server may refuse to read (a reset ends it quietly)."""
    with contextlib.suppress(OSError):
        await asyncio.get_running_loop().sock_sendall(sock, data)


async def answer_to(server: ServerProcess, host: str, request: bytes) -> int | None:
    """The status the server answers `request` with before it closes the socket; the
    request is sent while the answer is read, as a client streaming it would."""
    sock = await http_socket(server, host)
    try:
        sender = asyncio.get_running_loop().create_task(send_quietly(sock, request))
        answer = await read_to_end(sock)
        sender.cancel()
        return http_status(answer)
    finally:
        sock.close()


async def test_half_sent_request_heads_are_capped_per_address_and_timed_out(
    transport: ServerProcess,
) -> None:
    host = "127.0.0.40"
    async with Bystander(transport):
        socks = [await http_socket(transport, host) for _ in range(CAP + 10)]
        try:
            for sock in socks:
                await send_quietly(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            assert (await ahealthz_from(transport, "127.0.0.41"))["ok"]  # others get in
            answers = await asyncio.gather(*(read_to_end(sock) for sock in socks))
        finally:
            for sock in socks:
                sock.close()
        statuses = [http_status(answer) for answer in answers]
        assert statuses.count(408) == CAP, statuses  # the admitted ones, at their deadline
        assert statuses.count(403) == 10, statuses  # the ones beyond the cap, at once
        assert (await ahealthz_from(transport, "127.0.0.41"))["ok"]
        # every slot is free again, and an upgraded socket counts once, not twice
        peers = [await RawPeer.open(transport, host=host) for _ in range(CAP)]
        try:
            with pytest.raises(HandshakeRefused) as refused:
                await RawPeer.open(transport, host=host)
            assert refused.value.status == 403
        finally:
            for peer in peers:
                peer.close()


async def stream_head(server: ServerProcess, host: str, size: int) -> int:
    """Send a request head with one `size`-byte header, 64 KiB at a time, until the
    server cuts it; the bytes that went out."""
    sock = await http_socket(server, host)
    loop = asyncio.get_running_loop()
    sent = 0
    try:
        await loop.sock_sendall(sock, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        chunk = b"a" * 65536
        while sent < size:
            await asyncio.wait_for(loop.sock_sendall(sock, chunk), 10)
            sent += len(chunk)
    except (OSError, TimeoutError):
        pass
    finally:
        sock.close()
    return sent


async def test_huge_request_heads_are_answered_431_and_closed(transport: ServerProcess) -> None:
    host = "127.0.0.42"
    async with Bystander(transport):
        big = b"X-Big: " + b"a" * MB + b"\r\n\r\n"
        status = await answer_to(transport, host, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big)
        assert status == 431
        ws_head = UPGRADE.encode() + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        assert await answer_to(transport, host, ws_head) == 431
        rss_before = server_rss(transport)
        sent = await asyncio.gather(*(stream_head(transport, host, 30 * MB) for _ in range(10)))
        assert max(sent) < 30 * MB, sent  # every one was cut off long before its end
        assert server_rss(transport) - rss_before < 60 * MB


async def test_request_bodies_are_bounded_in_size_and_time(transport: ServerProcess) -> None:
    host = "127.0.0.43"
    # the test hook reads a JSON body (it answers 404 unless test_clock is on)
    head = b"POST /_test/clock HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
    async with Bystander(transport):
        assert await answer_to(transport, host, head % (100 * MB)) == 413
        assert await answer_to(transport, host, head % 100 + b"only ten b") == 408


# ---- 26. the same limits in the ASGI mode -------------------------------------------


@pytest.fixture(scope="module")
def asgi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(tmp_path_factory.mktemp("asgi"), websocket="asgi",
                       max_connections_per_address=3, request_head_timeout=HEAD_TIMEOUT)


async def test_the_asgi_mode_keeps_the_same_http_limits(asgi: ServerProcess) -> None:
    host = "127.0.0.44"
    ws_head = UPGRADE.encode() + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    assert await answer_to(asgi, host, ws_head) == 431
    assert await answer_to(asgi, host, UPGRADE.encode()) == 408  # never finished
    peers = [await RawPeer.open(asgi, host=host) for _ in range(3)]
    try:
        with pytest.raises(HandshakeRefused) as refused:  # counted once each, not twice
            await RawPeer.open(asgi, host=host)
        assert refused.value.status == 403
        assert (await ahealthz_from(asgi, "127.0.0.45"))["ok"]
    finally:
        for peer in peers:
            peer.close()


# ---- file descriptors ----------------------------------------------------------------


def test_the_connection_caps_are_fitted_under_the_open_file_limit(tmp_path: Path) -> None:
    server = start_server(tmp_path, max_connections=10_000_000)
    try:
        events = [json.loads(line) for line in server.logs().splitlines()
                  if line.startswith("{")]
        chosen = [e for e in events if e.get("event") == "file_limit"]
        assert chosen, "the server did not log the open-file limit it chose"
        assert any(e.get("event") == "connection_caps_lowered" for e in events)
        limit = chosen[0]
        assert limit["max_connections"] + limit["max_http_connections"] + limit["reserved"] \
            <= limit["open_files"]
    finally:
        server.stop()


# ---- 26 (and finding 7). pollers of the HTTP API from one address ----------------------


async def test_api_pollers_from_one_address_are_rate_limited_429(tmp_path: Path) -> None:
    """Sixteen pollers on one address ask for the match list as fast as they can: past
    the per-address request rate they get 429 with Retry-After (before any route runs),
    another address is still answered, and the bystander keeps playing."""
    rate, burst = 20, 40
    server = start_server(tmp_path, http_requests_per_second=rate, http_request_burst=burst)
    try:
        async with Bystander(server) as bystander:
            statuses: dict[int, int] = {}
            retry_after: set[str] = set()
            local = httpx.AsyncHTTPTransport(local_address="127.0.0.9")

            async def poller(http: httpx.AsyncClient) -> None:
                for _ in range(30):
                    response = await http.get(f"{server.http}/api/matches")
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code == 429:
                        retry_after.add(response.headers.get("retry-after", ""))

            started = time.monotonic()
            async with httpx.AsyncClient(timeout=10, transport=local) as http:
                await asyncio.gather(*(poller(http) for _ in range(16)))
            elapsed = time.monotonic() - started
            answered = statuses.get(200, 0)
            assert statuses.get(429, 0) > 0, statuses
            assert set(statuses) <= {200, 429}, statuses
            assert answered <= burst + rate * elapsed + 1, (statuses, elapsed)
            assert retry_after and all(value.isdigit() for value in retry_after), retry_after
            # the limit is the poller's address's alone
            assert (await ahealthz_from(server, "127.0.0.10"))["ok"]
            await bystander.wait_moves(2)
    finally:
        server.stop()
