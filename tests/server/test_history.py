"""The patch history kept for `sync since=N`."""

from __future__ import annotations

from game.core.views import Step
from game.server.history import History


def steps(version: int) -> dict[int | None, Step]:
    def step(who: str) -> Step:
        ops = [{"op": "replace", "path": "/turn", "value": f"{who}{version}"}]
        return tuple.__new__(Step, (ops, version * 10 + len(who)))

    return {0: step("a"), 1: step("bb"), None: step("ccc")}


def test_each_viewer_gets_its_own_patches_after_since() -> None:
    history = History(limit=8)
    for version in range(2, 7):
        history.add(version, 1000 + version, steps(version))
    kept = history.since(3, 6, 1)
    assert kept is not None
    assert [(v, at, h) for v, at, _, h in kept] == [(4, 1004, 42), (5, 1005, 52),
                                                     (6, 1006, 62)]
    assert kept[0][2] == [{"op": "replace", "path": "/turn", "value": "bb4"}]
    spectator = history.since(5, 6, None)
    assert spectator is not None and spectator[0][2][0]["value"] == "ccc6"
    assert history.since(6, 6, 0) == []


def test_a_gap_that_is_no_longer_kept_asks_for_a_snapshot() -> None:
    history = History(limit=3)
    for version in range(2, 9):
        history.add(version, 0, steps(version))
    assert len(history) == 3
    assert history.since(5, 8, 0) is not None  # 6, 7 and 8 are kept
    assert history.since(4, 8, 0) is None  # 5 is gone
    assert history.since(9, 8, 0) is None  # from the future
    history.keep_last(1)
    assert history.since(7, 8, 0) is not None and history.since(6, 8, 0) is None
    assert History(limit=4).since(1, 2, 0) is None  # nothing kept at all
