"""RELIABILITY.md cases 19-21: floods, readers that never read, idle crowds, churn and
half-open peers; each beside a bystander match. Memory is asserted generously (RSS
growth under 50 MB); speed is measured by benchmarks/bench_abuse.py, not here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.hostile.conftest import serving
from tests.hostile.harness import (
    Bystander,
    HandshakeRefused,
    RawPeer,
    ahealthz,
    player_pair,
    server_rss,
    wait_until,
)
from tests.support import ServerProcess, connect

MB = 2**20


# ---- 19. 1000 messages a second -> rate_limited, then 1008 --------------------------


@pytest.mark.parametrize(("kind", "answer"), [("unqueue", "unqueued"), ("ping", "pong")])
async def test_a_flood_is_rate_limited_then_closed_1008(
    hostile: ServerProcess, kind: str, answer: str
) -> None:
    """Default limits: 100 messages/s, bursts of 200, 1008 after 100 refusals. A ping
    is a message like any other: a ping flood costs the server as much as any flood."""
    async with Bystander(hostile) as bystander, \
            player_pair(hostile, "tictactoe") as (match, seats):
        flooder, opponent = seats[0], seats[1]
        assert flooder.token is not None
        sent = 0
        with contextlib.suppress(ConnectionClosed):
            while sent < 5000 and not flooder.closed.is_set():
                for _ in range(10):
                    await flooder.send({"type": kind, "id": sent})
                    sent += 1
                await asyncio.sleep(0.01)  # pacing: ten every 10 ms is 1000 a second
        await asyncio.wait_for(flooder.closed.wait(), 20)
        assert flooder.close_code == 1008
        answers = [m for m in flooder.inbox if "ref" in m]
        limited = [m for m in answers if m.get("code") == "rate_limited"]
        served = [m for m in answers if m.get("type") == answer]
        assert len(served) >= 200 and len(limited) >= 1, (len(served), len(limited))
        assert all(isinstance(m["ref"], int) for m in limited)  # each carries its ref
        first_limited = min(m["ref"] for m in limited)
        assert all(m["ref"] < first_limited for m in served[:200])
        # the opponent saw the flooder drop, nothing else; the match is intact and the
        # flooder, back with its token, plays on
        await opponent.until_view(match, lambda v: not v["players"][0]["online"])
        assert opponent.views[match]["status"] == "active"
        async with connect(hostile) as back:
            await back.hello(token=flooder.token)
            await back.expect("snapshot")
            ack = await back.request({"type": "move", "match": match, "move": 4,
                                      "version": back.versions[match]})
            assert ack["type"] == "ack"
            await opponent.until_view(match, lambda v: v["moves"] == [4]
                                      and v["players"][0]["online"])
        await bystander.wait_moves(2)


# ---- 20. a spectator that never reads -> 1013 when its queue is full ----------------


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Small send queues and socket buffers, so a reader that never reads fills them
    after a few dozen patches rather than after megabytes of kernel buffering."""
    yield from serving(tmp_path_factory.mktemp("tight"), send_queue_limit=8,
                       send_buffer_bytes=4096, close_timeout=1.0, watchers_flush_ms=20)


def tiny_socket(port: int, host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.bind((host, 0))
    sock.connect(("127.0.0.1", port))
    return sock


async def test_a_spectator_that_never_reads_is_dropped_with_1013(tight: ServerProcess) -> None:
    async with Bystander(tight) as bystander, \
            player_pair(tight, "tictactoe", names=("obs0", "obs1")) as (observed, obs):
        # `observed` stays active throughout: its players see the spectators come and go
        baseline = (await ahealthz(tight))["connections"]
        rss_before = server_rss(tight)
        # two readers that never read: a raw socket and a websockets client whose
        # incoming queue holds one message, both with a 1 KiB receive buffer
        raw = await RawPeer.open(tight, rcvbuf=1024, host="127.0.0.7")
        await raw.send_json({"type": "hello", "name": "raw-sloth"})
        await raw.send_json({"type": "watch", "match": observed})
        lib = await websockets.connect(tight.ws, sock=tiny_socket(tight.port, "127.0.0.7"),
                                       max_queue=1, subprotocols=["game.v1.json"])  # type: ignore[list-item]
        await lib.send('{"type":"hello","name":"lib-sloth"}')
        await lib.send(json.dumps({"type": "watch", "match": observed}))
        await obs[0].until_view(observed, lambda v: v["watchers"] == 2)
        # busy matches, which the sloths watch too, until both are gone
        games = 0
        while not await _connections_are(tight, baseline):
            games += 1
            assert games < 300, "the never-reading spectators were never dropped"
            async with player_pair(tight, "connect4") as (match, seats):
                with contextlib.suppress(OSError, ConnectionClosed):
                    await raw.send_json({"type": "watch", "match": match})
                with contextlib.suppress(ConnectionClosed):
                    await lib.send(json.dumps({"type": "watch", "match": match}))
                turn = 0
                while seats[0].views[match]["status"] == "active":
                    view = seats[0].views[match]
                    mover = seats[view["turn"]]
                    legal = mover.views[match]["legal"]
                    ack = await mover.request({"type": "move", "match": match,
                                               "move": legal[turn % len(legal)],
                                               "version": mover.versions[match]})
                    assert ack["type"] == "ack", ack
                    turn += 1
        # the server-side effect the players see: both spectators left their match
        await obs[0].until_view(observed, lambda v: v["watchers"] == 0)
        await obs[1].until_view(observed, lambda v: v["watchers"] == 0)
        rss_after = server_rss(tight)
        assert rss_after - rss_before < 50 * MB, (rss_before, rss_after)
        # what the raw peer finds when it finally reads: its data, then 1013 or a reset
        assert await raw.close_code() in (1013, None)
        raw.close()
        with contextlib.suppress(ConnectionClosed):
            async for _ in lib:
                pass
        # 1013 if our close frame got through, 1006 if the socket was aborted
        assert lib.close_code in (1013, 1006), lib.close_code
        await bystander.wait_moves(2)
    log = tight.logs()
    assert log.count('"send_queue_full"') >= 2


async def _connections_are(server: ServerProcess, count: int) -> bool:
    return bool((await ahealthz(server))["connections"] == count)


# ---- 21. idle crowds, churn, caps, half-open peers ----------------------------------


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # hundreds of new players and handshakes from one address: the per-address identity
    # and request-rate limits (tested in test_identity_limits.py and
    # test_transport_limits.py) are raised out of the way here
    yield from serving(tmp_path_factory.mktemp("capped"), max_connections_per_address=120,
                       max_connections=300, new_players_per_address_per_minute=1000,
                       http_requests_per_second=1e6, http_request_burst=1e6)


async def open_many(server: ServerProcess, host: str, count: int) -> tuple[list[RawPeer], int]:
    """Open `count` sockets from `host` that say hello and then idle; (open, refused)."""
    results = await asyncio.gather(*(RawPeer.open(server, host=host) for _ in range(count)),
                                   return_exceptions=True)
    peers = [r for r in results if isinstance(r, RawPeer)]
    refused = [r for r in results if isinstance(r, HandshakeRefused)]
    assert all(r.status == 403 for r in refused)
    others = [r for r in results if not isinstance(r, RawPeer | HandshakeRefused)]
    assert not others, others[:3]
    await asyncio.gather(*(p.send_json({"type": "hello", "name": "idle"}) for p in peers))
    return peers, len(refused)


async def test_idle_crowds_and_churn_hold_the_caps_and_give_memory_back(
    capped: ServerProcess,
) -> None:
    async with Bystander(capped) as bystander:
        baseline = (await ahealthz(capped))["connections"]
        rss_before = server_rss(capped)
        crowd, refused = await open_many(capped, "127.0.0.10", 150)
        assert (len(crowd), refused) == (120, 30)  # the per-address cap holds
        more, refused = await open_many(capped, "127.0.0.11", 120)
        assert (len(more), refused) == (120, 0)
        # total cap 300: the bystander's 2 + 240 leave 58
        rest, refused = await open_many(capped, "127.0.0.12", 80)
        assert (len(rest), refused) == (58, 22)
        await wait_until(lambda: _connections_are(capped, baseline + 298), what="hellos")
        await bystander.wait_moves(3)  # a full server still serves its players
        for peer in crowd + more + rest:
            peer.close()
        await wait_until(lambda: _connections_are(capped, baseline), what="crowd gone")
        # churn: 600 connect / hello / leave, fifty at a time
        for _ in range(12):
            peers, refused = await open_many(capped, "127.0.0.13", 50)
            assert refused == 0
            for peer in peers:
                peer.close()
        await wait_until(lambda: _connections_are(capped, baseline), what="churn gone")
        # the caps are free again: a full crowd from the first address fits
        again, refused = await open_many(capped, "127.0.0.10", 120)
        assert refused == 0
        for peer in again:
            peer.close()
        await wait_until(lambda: _connections_are(capped, baseline), what="crowd gone")
        rss_after = server_rss(capped)
        assert rss_after - rss_before < 50 * MB, (rss_before, rss_after)


PING_INTERVAL, PING_TIMEOUT, CLOSE_TIMEOUT, REAP = 1.0, 0.5, 0.5, 0.2


@pytest.fixture(scope="module")
def pinging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(tmp_path_factory.mktemp("pinging"), ping_interval=PING_INTERVAL,
                       ping_timeout=PING_TIMEOUT, close_timeout=CLOSE_TIMEOUT,
                       reap_interval=REAP, max_connections_per_address=6,
                       send_buffer_bytes=4096, hello_timeout=30)


async def test_half_open_peers_are_reaped_within_ping_interval_plus_timeout(
    pinging: ServerProcess,
) -> None:
    bound = PING_INTERVAL + PING_TIMEOUT + CLOSE_TIMEOUT + REAP
    async with Bystander(pinging) as bystander:
        baseline = (await ahealthz(pinging))["connections"]
        host = "127.0.0.20"
        # six peers that never read and never answer a ping: two silent after hello, two
        # that asked for a snapshot flood first (their buffers are full), two that never
        # even said hello
        peers = [await RawPeer.open(pinging, host=host, rcvbuf=1024) for _ in range(6)]
        # the cap is full of ghosts: checked at once, as the first of them is reaped
        # PING_INTERVAL + PING_TIMEOUT after it opened (a slow machine may take that
        # long to set up the match below)
        with pytest.raises(HandshakeRefused):
            await RawPeer.open(pinging, host=host)
        for peer in peers[:4]:
            await peer.send_json({"type": "hello", "name": "ghost"})
        async with player_pair(pinging, "connect4") as (match, _seats):
            for peer in peers[2:4]:
                await peer.send_json({"type": "watch", "match": match})
                for index in range(150):
                    await peer.send_json({"type": "sync", "match": match, "id": index})
        waited = await wait_until(lambda: _connections_are(pinging, baseline),
                                  deadline=bound + 10, what="ghosts reaped")
        freed = await wait_until(lambda: _accepts(pinging, host, 6), deadline=bound + 10,
                                 what="cap freed")
        print(f"reaped after {waited:.2f}s, cap free after {waited + freed:.2f}s "
              f"(ping interval + timeout = {PING_INTERVAL + PING_TIMEOUT}s)")
        for peer in peers:
            peer.close()
        await bystander.wait_moves(3)  # its own pongs kept it alive throughout


async def _accepts(server: ServerProcess, host: str, count: int) -> bool:
    """`count` new sockets from `host` are all accepted (then closed)."""
    peers, refused = await open_many(server, host, count)
    for peer in peers:
        peer.close()
    return refused == 0
