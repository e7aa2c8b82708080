"""Issue 18, Prometheus `/metrics`: what real clients of a real server do shows up in
the exposition, parsed with prometheus-client's own parser. Every figure is read as a
difference between two scrapes, so the tests of this module do not depend on each
other's order; levels (connections, matches) are waited for, as sockets leave the
server's books only once their transport is gone. Who may read it: loopback (or
`metrics_networks`) only, never through a proxy, and nobody when it is turned off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from game.server.settings import Settings
from tests.hostile.conftest import serving
from tests.hostile.harness import OP_TEXT, RawPeer, barrier, frame, wait_until
from tests.support import ServerProcess, connect, play_out, seated

SAMPLE = tuple[str, frozenset[tuple[str, str]]]
TOP_ROW = [0, 3, 1, 4, 2]
"""A tic-tac-toe game seat 0 wins in five moves."""


@dataclass(frozen=True)
class Scrape:
    samples: dict[SAMPLE, float]

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def since(self, before: Scrape, name: str, **labels: str) -> float:
        return self.value(name, **labels) - before.value(name, **labels)


async def scrape(server: ServerProcess) -> Scrape:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{server.http}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples)


async def settles(server: ServerProcess, before: Scrape, name: str, delta: float,
                  **labels: str) -> Scrape:
    """Wait until `name{labels}` has moved by exactly `delta` since `before`."""
    scrapes: list[Scrape] = []

    async def reached() -> bool:
        scrapes.append(await scrape(server))
        return scrapes[-1].since(before, name, **labels) == delta

    await wait_until(reached, what=f"{name}{labels} to move by {delta}")
    return scrapes[-1]


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A SQLite store (real commits), small send buffers and queues (1013 comes soon),
    every move and commit timed."""
    tmp = tmp_path_factory.mktemp("metered")
    yield from serving(tmp, db=str(tmp / "game.sqlite3"), send_buffer_bytes=4096,
                       send_queue_limit=8, hello_timeout=30.0, metrics_timing_sample=1)


async def test_a_match_is_counted_move_by_move(metered: ServerProcess) -> None:
    before = await scrape(metered)
    async with connect(metered, "json") as a, connect(metered, "msgpack") as b, \
            connect(metered, "json") as watcher, connect(metered, "msgpack"):
        match, seats = await seated(a, b, "tictactoe")
        await watcher.hello("watcher")
        await watcher.request({"type": "watch", "match": match})
        # one connection per role and codec: two players, a spectator, one without hello
        during = await settles(metered, before, "game_live_matches", 1,
                               game="tictactoe", status="active")
        for role, codec in (("player", "json"), ("player", "msgpack"),
                            ("spectator", "json"), ("anonymous", "msgpack")):
            assert during.since(before, "game_websocket_connections", role=role,
                                codec=codec) == 1, (role, codec)
        await play_out(seats, match, TOP_ROW)
        await watcher.until_view(match, lambda view: view["status"] == "finished")
        after = await scrape(metered)
    assert after.since(before, "game_moves_total", game="tictactoe") == len(TOP_ROW)
    assert after.since(before, "game_commands_total", type="move") == len(TOP_ROW)
    assert after.since(before, "game_commands_total", type="watch") == 1
    assert after.since(before, "game_move_publish_seconds_count") == len(TOP_ROW)
    assert after.since(before, "game_move_publish_seconds_sum") > 0
    # the room, the join and each move were committed to the SQLite file (at least)
    assert after.since(before, "game_store_commit_seconds_count") >= len(TOP_ROW) + 2
    assert after.since(before, "game_store_commit_seconds_sum") > 0
    assert after.since(before, "game_live_matches", game="tictactoe", status="active") == 0
    # all four closed normally: the peers' 1000, counted once each
    await settles(metered, before, "game_closes_total", 4, code="1000", by="peer")


async def test_errors_are_counted_by_code(metered: ServerProcess) -> None:
    before = await scrape(metered)
    async with connect(metered) as a, connect(metered) as b:
        match, seats = await seated(a, b, "tictactoe")
        mover = seats[0]
        await mover.request({"type": "move", "match": match, "move": 4,
                             "version": mover.versions[match]})
        await seats[1].until_view(match, lambda view: view["moves"] == [4])
        taken = await seats[1].request({"type": "move", "match": match, "move": 4,
                                        "version": seats[1].versions[match]})
        assert taken["code"] == "illegal_move", taken
        unknown = await a.request({"type": "teleport"})
        assert unknown["code"] == "unknown_type", unknown
        after = await scrape(metered)
    assert after.since(before, "game_errors_total", code="illegal_move") == 1
    assert after.since(before, "game_errors_total", code="unknown_type") == 1
    assert after.since(before, "game_errors_total", code="not_your_turn") == 0
    assert after.since(before, "game_moves_total", game="tictactoe") == 1


async def test_a_flood_is_refused_then_closed_1008_and_counted(
    metered: ServerProcess,
) -> None:
    before = await scrape(metered)
    peer = await RawPeer.open(metered, host="127.0.0.41")
    try:
        await peer.send_json({"type": "hello", "name": "flooder"})
        ping = frame(OP_TEXT, json.dumps({"type": "ping"}).encode())
        await peer.send(ping * 3000)  # 200 answered, 100 refused, then 1008
        assert await peer.close_code() == 1008
    finally:
        peer.close()
    after = await settles(metered, before, "game_closes_total", 1, code="1008", by="server")
    assert after.since(before, "game_refusals_total", kind="flood") == 1
    refused = after.since(before, "game_refusals_total", kind="messages")
    assert refused >= 1
    assert after.since(before, "game_errors_total", code="rate_limited") == refused
    assert after.since(before, "game_slow_readers_dropped_total") == 0


async def test_a_reader_that_never_reads_is_counted_as_dropped_1013(
    metered: ServerProcess,
) -> None:
    before = await scrape(metered)
    async with connect(metered) as owner:
        await owner.hello("owner")
        room = await owner.request({"type": "create_room", "game": "connect4"})
        sloth = await RawPeer.open(metered, host="127.0.0.42", rcvbuf=4096)
        try:
            await sloth.send_json({"type": "hello", "name": "sloth"})
            watch = frame(OP_TEXT, json.dumps({"type": "watch", "match": room["match"]})
                          .encode())
            # a snapshot each, read by nobody: the first burst leaves in one write and
            # fills the transport's buffer, so the next one has to wait in the queue
            await sloth.send(watch * 100)

            async def buffered() -> bool:
                return (await scrape(metered)).value("game_send_buffer_bytes") > 4096

            await wait_until(buffered, what="the sloth's transport buffer to fill")
            await sloth.send(watch * 20)
            after = await settles(metered, before, "game_slow_readers_dropped_total", 1)
        finally:
            sloth.close()
        await barrier(owner)  # the owner's own connection is untouched
    assert after.since(before, "game_closes_total", code="1013", by="server") == 1


async def test_a_bot_turn_is_timed(metered: ServerProcess) -> None:
    before = await scrape(metered)
    async with connect(metered) as human:
        await human.hello("human")
        await human.request({"type": "play_bot", "game": "tictactoe", "level": "random",
                             "seat": 1})
        match = next(iter(human.views))
        await human.until_view(match, lambda view: len(view["moves"]) == 1)  # the bot's
        after = await scrape(metered)
    labels = {"game": "tictactoe", "level": "random"}
    assert after.since(before, "game_bot_think_seconds_count", **labels) == 1
    assert after.since(before, "game_bot_think_seconds_sum", **labels) > 0
    assert after.since(before, "game_bot_queue_wait_seconds_count") == 1
    assert after.since(before, "game_bot_turns_total", outcome="ok") == 1
    assert after.since(before, "game_moves_total", game="tictactoe") == 1
    assert after.value("game_bot_workers", state="idle") >= 1


# ---- who may read it -------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Metrics for 127.0.0.1 alone, and a low HTTP request rate (for 429s)."""
    yield from serving(tmp_path_factory.mktemp("guarded"), metrics_networks="127.0.0.1",
                       http_requests_per_second=2, http_request_burst=20)


async def get_from(server: ServerProcess, host: str, path: str = "/metrics",
                   **headers: str) -> int:
    transport = httpx.AsyncHTTPTransport(local_address=host)
    async with httpx.AsyncClient(timeout=10, transport=transport) as http:
        response = await http.get(f"{server.http}{path}", headers=headers)
    return response.status_code


async def test_only_listed_addresses_read_it_and_never_through_a_proxy(
    guarded: ServerProcess,
) -> None:
    assert await get_from(guarded, "127.0.0.1") == 200
    assert await get_from(guarded, "127.0.0.43") == 403  # loopback, but not listed
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        # what a reverse proxy on this machine adds: an outside client, seen from 127.0.0.1
        assert await get_from(guarded, "127.0.0.1", **{header: "203.0.113.9"}) == 403


async def test_http_429_is_counted(guarded: ServerProcess) -> None:
    before = await scrape(guarded)
    statuses = [await get_from(guarded, "127.0.0.44", "/healthz") for _ in range(30)]
    assert statuses.count(429) >= 1, statuses
    after = await scrape(guarded)
    assert after.since(before, "game_refusals_total", kind="http") == statuses.count(429)


async def test_one_move_in_metrics_timing_sample_is_timed(guarded: ServerProcess) -> None:
    """The default `metrics_timing_sample` is 16: the first move is timed, the next 15
    are only counted (no other test moves on this server)."""
    for _ in range(2):
        async with connect(guarded) as a, connect(guarded) as b:
            match, seats = await seated(a, b, "tictactoe")
            await play_out(seats, match, TOP_ROW)
    after = await scrape(guarded)
    assert after.value("game_moves_total", game="tictactoe") == 2 * len(TOP_ROW)
    assert after.value("game_move_publish_seconds_count") == 1


@pytest.fixture(scope="module")
def dark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(tmp_path_factory.mktemp("dark"), metrics_enabled=False)


async def test_metrics_can_be_turned_off(dark: ServerProcess) -> None:
    assert await get_from(dark, "127.0.0.1") == 404
    assert await get_from(dark, "127.0.0.1", "/healthz") == 200


def test_metrics_networks_are_checked_with_the_settings() -> None:
    settings = Settings(db=":memory:", metrics_networks="10.0.0.0/8, ::1")
    assert settings.metrics_networks == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValidationError, match="metrics_networks"):
        Settings(db=":memory:", metrics_networks=["not-an-address"])
