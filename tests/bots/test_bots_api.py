"""The bots' public API: levels, errors, reproducibility, worker-process entry point."""

from __future__ import annotations

import multiprocessing
import pickle
import random
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.bots import LEVELS, NoBot, UnknownLevel, choose_move, get_bot, levels_of
from game.bots.simple import move_weights
from game.games import GameDefinition, all_games
from game.rules import State, UnknownGame, get_rules
from tests.games import checks

LEVELS_BY_GAME = [(game, level) for game in all_games() for level in game.levels]
WEAKER = [(game, level) for game, level in LEVELS_BY_GAME if level != "hard"]
# the games whose medium level is the shared one, which wins and blocks in one
SHARED_MEDIUM = [game.name for game, level in WEAKER if level == "medium"
                 and type(get_bot(game.name, "medium")).__module__ == "game.bots.simple"]


def random_position(game: str, rng: random.Random, max_plies: int) -> State:
    """A running position reached by random play."""
    while True:
        state = get_rules(game).initial()
        for _ in range(rng.randrange(max_plies + 1)):
            if state.outcome is not None:
                break
            state = state.apply(rng.choice(state.legal_moves()))
        if state.outcome is None:
            return state


def test_levels() -> None:
    assert LEVELS == ("random", "easy", "medium", "hard")


@pytest.mark.parametrize(("game", "level"), LEVELS_BY_GAME,
                         ids=[f"{g.name}-{level}" for g, level in LEVELS_BY_GAME])
def test_every_bot_plays_legal_moves_to_the_end(game: GameDefinition, level: str) -> None:
    checks.check_bot_level(game, level)


@pytest.mark.parametrize("game", all_games(), ids=lambda g: g.name)
def test_levels_are_known_and_missing_ones_are_refused(game: GameDefinition) -> None:
    assert levels_of(game.name) == game.levels
    assert set(game.levels) <= set(LEVELS)
    assert list(game.levels) == [level for level in LEVELS if level in game.levels]
    for level in set(LEVELS) - set(game.levels):
        with pytest.raises(NoBot, match=f"{game.name} has no {level!r} bot"):
            get_bot(game.name, level)


def test_unknown_level() -> None:
    with pytest.raises(ValueError) as info:
        get_bot("connect4", "impossible")
    assert isinstance(info.value, UnknownLevel)
    for level in LEVELS:
        assert level in str(info.value)
    assert "impossible" in str(info.value)


def test_unknown_game() -> None:
    with pytest.raises(UnknownGame):
        get_bot("chess", "easy")


@pytest.mark.parametrize(("game", "level"), WEAKER,
                         ids=[f"{g.name}-{level}" for g, level in WEAKER])
def test_seeded_bots_are_reproducible(game: GameDefinition, level: str) -> None:
    rng = random.Random(9)
    positions = [random_position(game.name, rng, 6) for _ in range(30)]
    a, b = get_bot(game.name, level, seed=42), get_bot(game.name, level, seed=42)
    first = [a.choose(s) for s in positions]
    assert first == [b.choose(s) for s in positions]
    c = get_bot(game.name, level, seed=43)
    if level == "random":
        assert [c.choose(s) for s in positions] != first  # the seed matters


def test_random_bot_covers_every_move() -> None:
    bot = get_bot("connect4", "random", seed=0)
    state = get_rules("connect4").initial()
    assert {bot.choose(state) for _ in range(200)} == set(range(7))


@settings(max_examples=150, deadline=None)
@given(game=st.sampled_from(SHARED_MEDIUM), seed=st.integers(0, 10_000))
def test_medium_wins_and_blocks(game: str, seed: int) -> None:
    rng = random.Random(seed)
    rules = get_rules(game)
    state = random_position(game, rng, rules.rows * rules.cols * 3 // 4)
    me = state.to_move
    assert me is not None
    move = get_bot(game, "medium", seed=seed).choose(state)
    wins, threats = state.winning_moves(), state.winning_moves(1 - me)
    if wins:
        assert move in wins
    elif threats:
        assert move in threats
    if wins or threats:
        easy = get_bot(game, "easy", seed=seed).choose(state)
        if wins:
            assert easy in wins


def test_medium_avoids_handing_over_a_win() -> None:
    """Without wins or threats, medium never plays under an opponent's winning spot."""
    rng = random.Random(11)
    checked = 0
    while checked < 40:
        state = random_position("connect4", rng, 30)
        me = state.to_move
        assert me is not None
        if state.winning_moves() or state.winning_moves(1 - me):
            continue
        bad = {m for m in state.legal_moves() if state.apply(m).winning_moves()}
        if not bad or len(bad) == len(state.legal_moves()):
            continue
        bot = get_bot("connect4", "medium", seed=checked)
        assert all(bot.choose(state) not in bad for _ in range(10))
        checked += 1


def test_choose_move_matches_the_bots() -> None:
    moves = [3, 3, 2]
    for seed in range(10):
        state = get_rules("connect4").replay(moves)
        for level in ("random", "easy", "medium"):
            assert choose_move("connect4", level, moves, seed) == get_bot(
                "connect4", level, seed
            ).choose(state)
    assert choose_move("tictactoe", "hard", [0, 4, 8], seed=1) in (1, 3, 5, 7)
    assert choose_move("connect4", "hard", (3, 2, 3, 2, 3), time_budget=0.05) == 3
    with pytest.raises(ValueError):
        choose_move("connect4", "medium", [0, 1, 0, 1, 0, 1, 0])


def test_choose_move_runs_in_a_spawned_worker_process() -> None:
    assert pickle.loads(pickle.dumps(choose_move)) is choose_move
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        block = pool.submit(choose_move, "connect4", "hard", (3, 2, 3, 2, 3), None, 0.1)
        first = pool.submit(choose_move, "connect4", "hard", (), None, 0.05)
        ttt = pool.submit(choose_move, "tictactoe", "medium", [0, 3, 1], 5, None)
        assert block.result(timeout=60) == 3
        assert first.result(timeout=60) == 3
        assert ttt.result(timeout=60) == 2


def test_move_weights_of_the_shared_medium_bot() -> None:
    assert move_weights("connect4") == (1, 2, 3, 4, 3, 2, 1)  # the centre column first
    assert move_weights("tictactoe") == (2, 1, 2, 1, 3, 1, 2, 1, 2)  # its own: lines
    for game in all_games():
        weights = move_weights(game.name)
        assert len(weights) == game.moves and min(weights) >= 1
    rings = move_weights("othello")  # the default for cells: rings around the centre
    assert rings[27] == 4 and rings[0] == 1 and rings[9] == 2
