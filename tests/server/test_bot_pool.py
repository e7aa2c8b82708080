"""The order in which waiting bot turns get a worker (`game.server.bot_pool.FairQueue`)."""

from __future__ import annotations

from game.server.bot_pool import FairQueue


def drain(queue: FairQueue[str]) -> list[str]:
    return [queue.pop() for _ in range(len(queue))]


def test_turns_alternate_between_addresses_then_players() -> None:
    queue: FairQueue[str] = FairQueue()
    for index in range(3):  # one address, two players, pushed first
        queue.push(("flood", "p1"), f"p1-{index}")
        queue.push(("flood", "p2"), f"p2-{index}")
    queue.push(("home", "me"), "mine")
    order = drain(queue)
    assert order.index("mine") <= 1  # one flood turn ahead of it at most
    flood = [turn for turn in order if turn != "mine"]
    assert flood == ["p1-0", "p2-0", "p1-1", "p2-1", "p1-2", "p2-2"]


def test_a_removed_turn_gives_its_place_back() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push(("a", "p"), "gone")
    queue.push(("b", "q"), "kept")
    queue.remove(("a", "p"), "gone")
    queue.remove(("a", "p"), "never queued")
    assert len(queue) == 1
    assert drain(queue) == ["kept"]
    queue.push(("a", "p"), "again")
    assert drain(queue) == ["again"]
