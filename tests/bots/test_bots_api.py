"""The bots' public API: levels, errors, reproducibility, worker-process entry point."""

from __future__ import annotations

import multiprocessing
import pickle
import random
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.bots import LEVELS, Bot, UnknownLevel, choose_move, get_bot
from game.rules import GAMES, State, UnknownGame, get_rules

# The placement games these tests were written for (othello's bots: tests/games/othello).
PLACEMENT_GAMES = ("tictactoe", "connect4")


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


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("level", LEVELS)
def test_every_bot_plays_legal_moves_to_the_end(game: str, level: str) -> None:
    bot = get_bot(game, level, seed=3, time_budget=0.02)
    assert isinstance(bot, Bot) and bot.game == game and bot.level == level
    rng = random.Random(4)
    for _ in range(3):
        state = get_rules(game).initial()
        while state.outcome is None:
            move = bot.choose(state) if state.to_move == 0 else rng.choice(state.legal_moves())
            assert type(move) is int and move in state.legal_moves()
            state = state.apply(move)


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


@pytest.mark.parametrize("game", PLACEMENT_GAMES)
@pytest.mark.parametrize("level", LEVELS)
def test_bots_refuse_finished_games_and_other_games(game: str, level: str) -> None:
    bot = get_bot(game, level, seed=1)
    finished = get_rules(game).replay(
        [0, 1, 0, 1, 0, 1, 0] if game == "connect4" else [0, 3, 1, 4, 2]
    )
    with pytest.raises(ValueError, match="over"):
        bot.choose(finished)
    other = get_rules("tictactoe" if game == "connect4" else "connect4").initial()
    with pytest.raises(ValueError, match="cannot play"):
        bot.choose(other)


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("level", ["random", "easy", "medium"])
def test_seeded_bots_are_reproducible(game: str, level: str) -> None:
    rng = random.Random(9)
    positions = [random_position(game, rng, 6) for _ in range(30)]
    a, b = get_bot(game, level, seed=42), get_bot(game, level, seed=42)
    first = [a.choose(s) for s in positions]
    assert first == [b.choose(s) for s in positions]
    c = get_bot(game, level, seed=43)
    if level == "random":
        assert [c.choose(s) for s in positions] != first  # the seed matters


def test_random_bot_covers_every_move() -> None:
    bot = get_bot("connect4", "random", seed=0)
    state = get_rules("connect4").initial()
    assert {bot.choose(state) for _ in range(200)} == set(range(7))


@settings(max_examples=150, deadline=None)
@given(game=st.sampled_from(PLACEMENT_GAMES), seed=st.integers(0, 10_000))
def test_medium_wins_and_blocks(game: str, seed: int) -> None:
    rng = random.Random(seed)
    state = random_position(game, rng, 30 if game == "connect4" else 7)
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
