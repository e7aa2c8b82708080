"""Match records: a record read with the version before it (`known`, what the Redis mode
has at hand) is the same match as one replayed from the start, for every game."""

from __future__ import annotations

import itertools
import random

import pytest

from game.core.match import Match, PlayMove, Seat, TimeControl, handle, new_match
from game.core.records import from_record, to_record
from game.games import all_games

CLOCKS = TimeControl(turn_ms=60_000, first_move_ms=60_000, grace_ms=60_000, room_ttl_ms=60_000)


def _versions(game: str, seed: int) -> list[Match]:
    """Every version of one random game, from the start to the end."""
    rng = random.Random(seed)
    match = new_match("m1", game, CLOCKS, 0, (Seat("a", "A"), Seat("b", "B")))
    versions = [match]
    while match.turn is not None:
        seat = match.seats[match.turn]
        assert seat is not None
        move = rng.choice(list(match.position.legal_moves()))
        match = handle(match, PlayMove(seat.player, move, match.version), 1).match
        versions.append(match)
    return versions


@pytest.mark.parametrize("game", [definition.name for definition in all_games()])
def test_a_record_read_on_its_previous_version_is_the_replayed_match(game: str) -> None:
    for seed in range(3):
        versions = _versions(game, seed)
        assert versions[-1].result is not None
        for before, after in itertools.pairwise(versions):
            record = to_record(after)
            assert from_record(record, before) == from_record(record) == after
        # an unrelated or later `known` is not trusted: the game is replayed
        assert from_record(to_record(versions[3]), versions[-1]) == versions[3]
