"""Checks every game must pass, written once over a GameDefinition and its fixtures.

tests/rules/test_rules_api.py and tests/bots/test_bots_api.py run them for every
registered game; tests/games/test_tutorial_game.py runs them for the tutorial's game,
which only the test suite registers. A new game gets them without editing a test.
"""

from __future__ import annotations

import copy
import pickle
import random

import pytest

from game.bots import Bot, get_bot
from game.core.match import PlayMove, Seat, TimeControl, handle, new_match
from game.core.views import view_for
from game.games import FinishedGame, GameDefinition, IllegalCase, all_games
from game.rules import REASONS, IllegalMove, Outcome, State, get_rules


def check_initial_state(game: GameDefinition) -> None:
    rules = game.rules
    assert get_rules(game.name) is rules and rules.name == game.name
    state = rules.initial()
    assert state.to_move == 0 and state.ply == 0 and state.outcome is None and not state.is_over
    assert state.rules is rules
    board = state.board()
    assert len(board) == rules.rows * rules.cols and set(board) <= {None, 0, 1}
    legal = state.legal_moves()
    assert legal and list(legal) == sorted(set(legal)) and set(legal) <= set(range(game.moves))
    board[0] = 1 if board[0] is None else None  # board() is a fresh list
    assert state.board() != board


def check_immutable_and_picklable(game: GameDefinition) -> None:
    rules = game.rules
    state = rules.replay(game.fixtures.finished[0].moves[:3])
    before = (state.board(), state.to_move, state.ply)
    for attr in ("to_move", "ply", "outcome", "_ply", "new_attr"):
        with pytest.raises(AttributeError):
            setattr(state, attr, 5)
    with pytest.raises(AttributeError):
        del state._ply
    with pytest.raises(AttributeError):
        state.__dict__  # noqa: B018
    state.apply(state.legal_moves()[0])
    assert (state.board(), state.to_move, state.ply) == before
    for clone in (pickle.loads(pickle.dumps(state)), copy.copy(state), copy.deepcopy(state)):
        assert clone == state and hash(clone) == hash(state)
        assert clone.board() == state.board() and clone.to_move == state.to_move
    assert pickle.loads(pickle.dumps(rules)) is rules
    for other in all_games():
        if other.name != game.name:
            assert rules.initial() != other.rules.initial()


def check_finished_game(game: GameDefinition, fixture: FinishedGame) -> None:
    """The fixture's moves end the game with its result, each seat moving in turn (or
    again after the other was passed over, where the record has a ``None``)."""
    state: State = game.rules.initial()
    for index, move in enumerate(fixture.moves):
        assert state.to_move is not None and move in state.legal_moves(), (index, move)
        state = state.apply(move)
    assert state.outcome == Outcome(fixture.winner, fixture.line, fixture.score)
    assert state.to_move is None and state.legal_moves() == () and state.winning_moves() == ()
    check_turns(game, fixture)


def check_turns(game: GameDefinition, fixture: FinishedGame) -> None:
    """Along the record, the seat to move changes after every move, except that after a
    ``None`` (a pass) the same seat moves again."""
    state: State = game.rules.initial()
    expected = 0
    for entry in fixture.record:
        if entry is None:
            expected = 1 - expected  # the seat due was passed over
            assert state.to_move == expected
            continue
        assert state.to_move == expected, (entry, state.to_move)
        state = state.apply(entry)
        expected = 1 - expected


def check_finished_through_the_core(game: GameDefinition, fixture: FinishedGame) -> None:
    """The core plays the fixture as a match: the view's result and moves are the
    fixture's (what a server sends)."""
    match = new_match("m", game.name, TimeControl(), 0, (Seat("p0", "a"), Seat("p1", "b")))
    for move in fixture.moves:
        match = handle(match, PlayMove(f"p{match.turn}", move), 0).match
    view = view_for(match, None)
    assert view["status"] == "finished" and view["moves"] == fixture.record
    result = {"winner": fixture.winner, "reason": fixture.reason, "line": list(fixture.line)}
    if fixture.score is not None:
        result["score"] = list(fixture.score)
    assert view["result"] == result
    assert view["board"] == game.rules.replay(fixture.moves).board()


def check_illegal(game: GameDefinition, case: IllegalCase) -> None:
    state = game.rules.replay(case.before)
    before = (state.board(), state.to_move, hash(state))
    with pytest.raises(IllegalMove) as info:
        state.apply(case.move)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, ValueError) and err.move is case.move
    assert err.reason == case.reason and case.reason in game.illegal_reasons
    assert repr(case.move) in str(err) and f"({case.reason})" in str(err)
    assert (state.board(), state.to_move, hash(state)) == before
    if isinstance(case.move, int) and not isinstance(case.move, bool):
        assert case.move not in state.legal_moves()
        with pytest.raises(IllegalMove) as replayed:
            game.rules.replay([*case.before, case.move])
        assert replayed.value.reason == case.reason


def check_illegal_reasons_are_covered(game: GameDefinition) -> None:
    """Every reason the game names has a fixture; the shared ones mean the same
    everywhere (:data:`game.rules.REASONS`)."""
    assert {case.reason for case in game.fixtures.illegal} == set(game.illegal_reasons)
    assert {"not_an_int", "game_over", "out_of_range"} <= set(game.illegal_reasons)
    for reason in game.illegal_reasons:
        assert reason in REASONS or (reason.isidentifier() and reason.islower()), reason


def check_metadata(game: GameDefinition) -> None:
    """The /api/games entry: the fields the browser reads, with sentences that fill."""
    entry = game.metadata()
    assert list(entry) == ["id", "title", "rows", "cols", "bot_levels", "seats", "move",
                           "cells", "sentences"]
    assert entry["id"] == game.name and entry["bot_levels"] == list(game.levels)
    assert len(entry["seats"]) == 2 and all(entry["seats"]) and entry["move"] in ("cell", "column")
    cells = entry["cells"]
    assert cells is None or (len(cells) == game.rules.rows * game.rules.cols
                             and len(set(cells)) == len(cells))
    sentences = entry["sentences"]
    assert set(sentences) == {"move", "pass", "results"}
    filled = sentences["move"].format(mover="Ann", cell=game.cell_name(0), column=1)
    assert "Ann" in filled and "{" not in filled
    if sentences["pass"] is not None:
        assert "Ann" in sentences["pass"].format(mover="Ann", cell="", column=0)
    reasons = {fixture.reason for fixture in game.fixtures.finished}
    assert reasons <= set(sentences["results"]), "a result the game gives has no words"
    for template in sentences["results"].values():
        template.format(winner="Ann", loser="Bob", winner_score=3, loser_score=2)


def play_to_the_end(bot: Bot, game: GameDefinition, seat: int, rng: random.Random) -> State:
    """A game between ``bot`` in ``seat`` and random moves; every move checked legal."""
    state: State = game.rules.initial()
    while state.outcome is None:
        move = bot.choose(state) if state.to_move == seat else rng.choice(state.legal_moves())
        assert type(move) is int and move in state.legal_moves()
        state = state.apply(move)
    return state


def check_bot_level(game: GameDefinition, level: str) -> None:
    """The level's bot is the game's own, plays legal moves to the end from either seat,
    and refuses a finished game and another game's position."""
    bot = get_bot(game.name, level, seed=3, time_budget=0.02)
    assert isinstance(bot, Bot) and bot.game == game.name and bot.level == level
    rng = random.Random(4)
    for seat in (0, 1):
        assert play_to_the_end(bot, game, seat, rng).is_over
    finished = game.rules.replay(game.fixtures.finished[0].moves)
    with pytest.raises(ValueError, match="over"):
        bot.choose(finished)
    for other in all_games():
        if other.name != game.name:
            with pytest.raises(ValueError, match="cannot play"):
                bot.choose(other.rules.initial())
