"""Views: the incremental hash and the shared diff agree with the plain definitions."""

from __future__ import annotations

import random

import pytest

from game.core.match import (
    Command,
    Phase,
    PlayMove,
    Presence,
    Seat,
    SetWatchers,
    TimeControl,
    handle,
    new_match,
)
from game.core.views import VIEWERS, updates, view_for, views_of
from game.protocol.patch import apply_patch, view_hash
from game.rules import GAMES


@pytest.mark.parametrize("game", list(GAMES))
@pytest.mark.parametrize("seed", range(10))
def test_random_games_keep_every_viewer_in_step(game: str, seed: int) -> None:
    rng = random.Random(seed)
    match = new_match("m", game, TimeControl(), 0, (Seat("a", "Ädä ✓"), Seat("b", 'B "q"')))
    views = views_of(match)
    now = 0
    while match.phase is not Phase.FINISHED:
        now += 10
        roll = rng.random()
        command: Command
        if roll < 0.15:
            command = Presence(rng.choice("ab"), rng.random() < 0.5)
        elif roll < 0.25:
            command = SetWatchers(rng.randrange(5))
        else:
            seat = match.position.to_move
            assert seat is not None
            player = "ab"[seat]
            command = PlayMove(player, rng.choice(match.position.legal_moves()))
        step = handle(match, command, now)
        if not step.changed:
            continue
        match = step.match
        after, steps = updates(views, match)
        for viewer in VIEWERS:
            fresh = view_for(match, viewer)
            assert after.of(viewer) == fresh
            assert apply_patch(views.of(viewer), steps[viewer].ops) == fresh
            assert steps[viewer].hash == view_hash(fresh)
        views = after
