"""Othello rules: perft, the fixture games, passes, illegal moves, and the bitboards
checked move by move against a plain-list reference implementation."""

from __future__ import annotations

import copy
import os
import pickle
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.games import FinishedGame, IllegalCase
from game.games.othello.fixtures import FINISHED, ILLEGAL, PERFT, TWO_PASSES, WIPEOUT
from game.games.othello.rules import (
    OTHELLO,
    REASONS,
    Othello,
    OthelloState,
    flips,
    legal_mask,
    square,
    square_name,
)
from game.rules import IllegalMove, Outcome, Rules, State

SLOW = os.environ.get("GAME_SLOW_TESTS") == "1"
slow = [
    pytest.mark.slow,
    pytest.mark.skipif(not SLOW, reason="slow: set GAME_SLOW_TESTS=1 to run"),
]

DIRECTIONS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


class Reference:
    """A plain-list othello, written independently of the bitboards."""

    def __init__(self) -> None:
        self.board: list[int | None] = [None] * 64
        self.board[27] = self.board[36] = 1
        self.board[28] = self.board[35] = 0
        self.turn: int | None = 0
        self.passed: int | None = None

    def flipped(self, seat: int, cell: int) -> list[int]:
        if self.board[cell] is not None:
            return []
        out: list[int] = []
        row, col = divmod(cell, 8)
        for dr, dc in DIRECTIONS:
            run = []
            r, c = row + dr, col + dc
            while 0 <= r < 8 and 0 <= c < 8 and self.board[r * 8 + c] == 1 - seat:
                run.append(r * 8 + c)
                r, c = r + dr, c + dc
            if run and 0 <= r < 8 and 0 <= c < 8 and self.board[r * 8 + c] == seat:
                out += run
        return out

    def legal(self, seat: int | None = None) -> tuple[int, ...]:
        seat = self.turn if seat is None else seat
        if seat is None:
            return ()
        return tuple(c for c in range(64) if self.flipped(seat, c))

    def reason(self, move: object) -> str | None:
        """The expected refusal of ``move``, or None if it is legal."""
        if isinstance(move, bool) or not isinstance(move, int):
            return "not_an_int"
        if self.turn is None:
            return "game_over"
        if not 0 <= move < 64:
            return "out_of_range"
        if self.board[move] is not None:
            return "occupied"
        return None if self.flipped(self.turn, move) else "no_flip"

    def play(self, cell: int) -> None:
        seat = self.turn
        assert seat is not None
        flipped = self.flipped(seat, cell)
        assert flipped
        for c in [cell, *flipped]:
            self.board[c] = seat
        self.passed = None
        if self.legal(1 - seat):
            self.turn = 1 - seat
        elif self.legal(seat):
            self.turn, self.passed = seat, 1 - seat
        else:
            self.turn = None

    def outcome(self) -> Outcome | None:
        if self.turn is not None:
            return None
        counts = (self.board.count(0), self.board.count(1))
        winner = None if counts[0] == counts[1] else int(counts[1] > counts[0])
        return Outcome(winner, (), counts)


def check_same(state: OthelloState, ref: Reference) -> None:
    assert state.board() == ref.board
    assert state.to_move == ref.turn
    assert state.passed == ref.passed
    assert state.legal_moves() == ref.legal()
    assert state.outcome == ref.outcome()
    assert state.is_over == (ref.turn is None)
    assert state.ply == 64 - ref.board.count(None) - 4
    assert state.disc_counts() == (ref.board.count(0), ref.board.count(1))


# ---- the interface and the start


def test_metadata_and_start() -> None:
    assert isinstance(OTHELLO, Rules) and isinstance(OTHELLO, Othello)
    assert (OTHELLO.name, OTHELLO.title, OTHELLO.rows, OTHELLO.cols) == (
        "othello", "Othello", 8, 8)
    s = OTHELLO.initial()
    assert isinstance(s, State) and s.rules is OTHELLO and s is OTHELLO.initial()
    board = s.board()
    assert len(board) == 64
    assert board[27] == board[36] == 1 and board[28] == board[35] == 0
    assert board.count(None) == 60
    assert s.to_move == 0 and s.passed is None and s.ply == 0 and s.last_cell is None
    assert s.outcome is None and not s.is_over
    assert s.legal_moves() == (19, 26, 37, 44)  # d3, c4, f5, e6
    assert [square_name(m) for m in s.legal_moves()] == ["d3", "c4", "f5", "e6"]
    check_same(s, Reference())
    b = s.board()
    b[0] = 1
    assert s.board()[0] is None


def test_squares() -> None:
    assert square("a1") == 0 and square("h1") == 7 and square("a8") == 56
    assert square("H8") == 63 and square("f5") == 37
    assert [square_name(square(n)) for n in ("d4", "e5", "b7")] == ["d4", "e5", "b7"]
    assert all(square(square_name(c)) == c for c in range(64))
    for bad in ("i1", "a9", "a0", "", "a10", "11"):
        with pytest.raises(ValueError):
            square(bad)
    for cell in (-1, 64):
        with pytest.raises(ValueError):
            square_name(cell)


def test_first_move_flips_and_renders() -> None:
    s = OTHELLO.initial().apply(37)  # f5 flips e5
    assert s.board()[36] == 0 and s.last_cell == 37
    assert s.to_move == 1 and s.ply == 1 and s.disc_counts() == (4, 1)
    assert str(s).splitlines()[3:5] == ["...OX...", "...XXX.."]
    assert "to_move=1" in repr(s)


def test_outcome_score_defaults_to_none() -> None:
    assert Outcome(0).score is None and Outcome(None, ()).score is None
    assert Outcome(1, (), (20, 44)).score == (20, 44)


# ---- perft


def perft(state: State, depth: int) -> int:
    """States after ``depth`` applied moves (a pass is not a move of its own)."""
    if depth == 0:
        return 1
    return sum(perft(state.apply(m), depth - 1) for m in state.legal_moves())


def perft_bulk(state: State, depth: int) -> int:
    """The same count, the last ply counted with ``len(legal_moves())``."""
    if depth == 1:
        return len(state.legal_moves())
    return sum(perft_bulk(state.apply(m), depth - 1) for m in state.legal_moves())


@pytest.mark.parametrize("depth", range(1, 8))
def test_perft(depth: int) -> None:
    """Every leaf applied: depth 7 takes about 0.6 s here."""
    assert perft(OTHELLO.initial(), depth) == PERFT[depth - 1]


def test_perft_8_counting_the_last_ply() -> None:
    assert perft_bulk(OTHELLO.initial(), 8) == PERFT[7] == 390216


@pytest.mark.parametrize("depth", [pytest.param(8, marks=slow)])
def test_perft_deep(depth: int) -> None:
    """390,216 leaves applied: about 3.5 s here, so behind GAME_SLOW_TESTS=1."""
    assert perft(OTHELLO.initial(), depth) == PERFT[depth - 1]


def test_distinct_positions_and_transpositions() -> None:
    """Different move orders reach equal positions: they compare and hash equal."""
    by_board: dict[tuple[tuple[int | None, ...], int | None], list[OthelloState]] = {}
    level = [OTHELLO.initial()]
    for _ in range(4):
        level = [s.apply(m) for s in level for m in s.legal_moves()]
    for s in level:
        by_board.setdefault((tuple(s.board()), s.to_move), []).append(s)
    assert len(level) == 244 and len(set(level)) == len(by_board) < 244
    groups = [g for g in by_board.values() if len(g) > 1]
    assert groups
    for group in groups:
        assert len(set(group)) == 1 and len({hash(s) for s in group}) == 1


# ---- the fixture games


@pytest.mark.parametrize("game", FINISHED, ids=lambda g: g.name)
def test_fixture_games(game: FinishedGame) -> None:
    state = OTHELLO.initial()
    ref = Reference()
    for move in game.moves:
        assert state.to_move is not None
        state = state.apply(move)
        ref.play(move)
        check_same(state, ref)
    assert state.outcome == Outcome(game.winner, (), game.score)
    assert state.to_move is None and state.legal_moves() == () and state.passed is None
    assert state.winning_moves() == () and state.winning_moves(0) == ()
    assert OTHELLO.replay(game.moves) == state
    assert OTHELLO.record(game.moves) == game.record
    assert [i for i, m in enumerate(game.record) if m is None] == list(game.passes)
    assert OTHELLO.replay(game.record) == state
    assert OTHELLO.record(game.record) == game.record  # idempotent


def test_passes_are_automatic_and_visible() -> None:
    moves = TWO_PASSES.moves
    before = OTHELLO.replay(moves[:57])
    assert before.to_move == 1 and before.passed is None
    after = before.apply(moves[57])  # white's move leaves black without a move
    assert after.passed == 0 and after.to_move == 1
    assert legal_mask(after.black, after.white) == 0
    assert after.legal_moves() == tuple(sorted(after.legal_moves())) != ()
    again = after.apply(moves[58])
    assert again.passed == 0 and again.to_move == 1
    last = again.apply(moves[59])
    assert last.passed is None and last.is_over
    # The same discs with the same side to move are equal, pass or not.
    rebuilt = OthelloState.from_bitboards(after.black, after.white, 1)
    assert rebuilt == after and rebuilt.passed is None and hash(rebuilt) == hash(after)
    passed = OthelloState.from_bitboards(after.black, after.white, 0)
    assert passed == after and passed.passed == 0


def test_misplaced_pass_in_a_record() -> None:
    with pytest.raises(IllegalMove) as info:
        OTHELLO.replay([37, None, 29])
    assert info.value.reason == "not_an_int" and info.value.move is None
    record = TWO_PASSES.record
    with pytest.raises(IllegalMove):
        OTHELLO.replay([*record[:59], None, *record[59:]])  # two nulls for one pass
    with pytest.raises(IllegalMove):
        OTHELLO.record([None])
    # The nulls may be left out.
    assert OTHELLO.replay(TWO_PASSES.moves) == OTHELLO.replay(record)


@pytest.mark.parametrize(
    "case", ILLEGAL, ids=lambda c: f"{len(c.before)}-{c.move!r}-{c.reason}")
def test_illegal_moves(case: IllegalCase) -> None:
    state = OTHELLO.replay(case.before)
    before = (state.board(), state.to_move, hash(state))
    with pytest.raises(IllegalMove) as info:
        state.apply(case.move)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, ValueError)
    assert err.reason == case.reason and err.reason in REASONS
    assert err.move is case.move
    assert repr(case.move) in str(err) and case.reason in str(err)
    assert (state.board(), state.to_move, hash(state)) == before
    if isinstance(case.move, int) and case.reason != "game_over":
        assert case.move not in state.legal_moves()


def test_wipeout_ends_early() -> None:
    state = OTHELLO.replay(WIPEOUT.moves)
    assert state.ply == 9 and state.disc_counts() == (13, 0)
    assert state.outcome == Outcome(0, (), (13, 0))


# ---- value semantics


def test_immutable_pickle_copy() -> None:
    s = OTHELLO.replay(TWO_PASSES.moves[:58])
    assert s.passed == 0
    for attr in ("to_move", "ply", "passed", "_discs", "new_attr"):
        with pytest.raises(AttributeError):
            setattr(s, attr, 5)
    with pytest.raises(AttributeError):
        del s._ply
    for clone in (pickle.loads(pickle.dumps(s)), copy.copy(s), copy.deepcopy(s)):
        assert clone == s and hash(clone) == hash(s)
        assert (clone.board(), clone.to_move, clone.passed, clone.last_cell) == (
            s.board(), s.to_move, s.passed, s.last_cell)
        assert clone.legal_moves() == s.legal_moves()
    over = OTHELLO.replay(WIPEOUT.moves)
    assert pickle.loads(pickle.dumps(over)).outcome == over.outcome
    assert pickle.loads(pickle.dumps(OTHELLO)) is OTHELLO
    assert OTHELLO.initial() != get_other_game_state()


def get_other_game_state() -> State:
    from game.rules import get_rules

    return get_rules("tictactoe").initial()


def test_from_bitboards_checks_its_input() -> None:
    with pytest.raises(ValueError):
        OthelloState.from_bitboards(1, 1)
    with pytest.raises(ValueError):
        OthelloState.from_bitboards(1 << 64, 0)
    with pytest.raises(ValueError):
        OthelloState.from_bitboards(1, 2, 2)
    s = OTHELLO.replay([37, 29])
    assert OthelloState.from_bitboards(s.black, s.white, 0) == s
    empty = OthelloState.from_bitboards(0, 0)
    assert empty.outcome == Outcome(None, (), (0, 0))


# ---- properties over random games


def random_game(rng: random.Random, limit: int = 60) -> list[OthelloState]:
    states = [OTHELLO.initial()]
    while not states[-1].is_over and len(states) <= limit:
        states.append(states[-1].apply(rng.choice(states[-1].legal_moves())))
    return states


@settings(max_examples=120, deadline=None)
@given(st.randoms(use_true_random=False))
def test_random_games_match_the_reference(rng: random.Random) -> None:
    state = OTHELLO.initial()
    ref = Reference()
    moves = 0
    while not state.is_over:
        assert moves < 60
        move = rng.choice(state.legal_moves())
        before = (state.board(), state.to_move, state.passed, hash(state), state.legal_moves())
        changed = set(state.flips(move)) | {move}
        nxt = state.apply(move)
        # apply never mutates
        assert (state.board(), state.to_move, state.passed, hash(state),
                state.legal_moves()) == before
        ref.play(move)
        check_same(nxt, ref)
        assert nxt.last_cell == move
        assert {i for i, (a, b) in enumerate(zip(before[0], nxt.board(), strict=True))
                if a != b} == changed
        state, moves = nxt, moves + 1
    assert state.outcome is not None and state.outcome.score is not None
    count0, count1 = state.outcome.score
    assert count0 + count1 == moves + 4 == state.ply + 4 <= 64
    assert state.outcome.line == ()
    assert state.outcome.winner == (None if count0 == count1 else int(count1 > count0))


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(-3, 66))
def test_illegal_moves_have_the_right_reason(rng: random.Random, move: int) -> None:
    states = random_game(rng, rng.randrange(61))
    ref = Reference()
    state = states[0]
    for s in states[1:]:
        assert s.last_cell is not None
        ref.play(s.last_cell)
        state = s
    expected = ref.reason(move)
    if expected is None:
        assert move in state.legal_moves()
        assert state.apply(move).board()[move] == state.to_move
        return
    with pytest.raises(IllegalMove) as info:
        state.apply(move)
    assert info.value.reason == expected


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_equal_iff_same_discs_and_side_to_move(r1: random.Random, r2: random.Random) -> None:
    a = random_game(r1, r1.randrange(8))[-1]
    b = random_game(r2, r2.randrange(8))[-1]
    same = a.board() == b.board() and a.to_move == b.to_move
    assert (a == b) == same
    if same:
        assert hash(a) == hash(b)
    rebuilt = OthelloState.from_bitboards(a.black, a.white, a.to_move or 0)
    assert rebuilt == a and hash(rebuilt) == hash(a)


@settings(max_examples=100, deadline=None)
@given(st.randoms(use_true_random=False))
def test_winning_moves_match_brute_force(rng: random.Random) -> None:
    states = random_game(rng, 40 + rng.randrange(21))
    state = states[-1]
    if state.is_over:
        assert state.winning_moves() == ()
        return
    me = state.to_move
    assert me is not None
    mine = []
    for m in state.legal_moves():
        o = state.apply(m).outcome
        if o is not None and o.winner == me:
            mine.append(m)
    assert state.winning_moves() == tuple(mine) == state.winning_moves(me)
    # The other seat, as if it were to move.
    other = OthelloState.from_bitboards(state.black, state.white, 1 - me)
    if other.to_move == 1 - me:
        assert state.winning_moves(1 - me) == other.winning_moves()


def test_flips_helper_matches_the_state() -> None:
    s = OTHELLO.replay([37, 29, 21])
    assert s.to_move == 1
    for m in s.legal_moves():
        f = flips(s.white, s.black, 1 << m)
        assert tuple(i for i in range(64) if f >> i & 1) == s.flips(m)
    assert s.flips(0) == () and s.flips(64) == ()


def test_apply_is_fast() -> None:
    """About 10 us per move here; the bound only catches an accidental slow path."""
    state = OTHELLO.initial()
    start = time.perf_counter()
    assert perft(state, 5) == 1396
    assert time.perf_counter() - start < 2.0
