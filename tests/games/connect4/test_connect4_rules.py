"""Connect-four rules: position counts, every winning line, bitboards vs a plain board."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.games.connect4.rules import Connect4State
from game.rules import State, get_rules

RULES = get_rules("connect4")
ROWS, COLS = 6, 7


def all_lines() -> list[tuple[int, ...]]:
    """The winning lines as sorted public-board cells (row 0 at the top)."""
    lines = []
    for r in range(ROWS):
        for c in range(COLS):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + k * dr, c + k * dc) for k in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLS for rr, cc in cells):
                    lines.append(tuple(sorted(rr * COLS + cc for rr, cc in cells)))
    return lines


LINES = all_lines()
Result = tuple[int | None, tuple[int, ...]]


class Reference:
    """A plain-list connect-four used to check the bitboards."""

    def __init__(self) -> None:
        self.board: list[int | None] = [None] * (ROWS * COLS)
        self.ply = 0
        self.result: Result | None = None

    def play(self, col: int) -> None:
        assert self.result is None
        board, seat = self.board, self.ply % 2
        row = max(r for r in range(ROWS) if board[r * COLS + col] is None)
        board[row * COLS + col] = seat
        self.ply += 1
        cells = {i for line in LINES if all(board[i] == seat for i in line) for i in line}
        if cells:
            self.result = (seat, tuple(sorted(cells)))
        elif self.ply == ROWS * COLS:
            self.result = (None, ())


def reference_play(moves: list[int]) -> tuple[list[int | None], Result | None]:
    ref = Reference()
    for col in moves:
        ref.play(col)
    return ref.board, ref.result


def test_positions_per_ply_match_oeis_a212693() -> None:
    """Distinct positions after n plies, n = 0..7 (finished games are not expanded)."""
    expected = [1, 7, 49, 238, 1120, 4263, 16422, 54859]
    level: set[State] = {RULES.initial()}
    counts = [len(level)]
    for _ in range(len(expected) - 1):
        level = {s.apply(m) for s in level for m in s.legal_moves()}
        counts.append(len(level))
    assert counts == expected


def test_there_are_69_lines() -> None:
    assert len(set(all_lines())) == 69


def _build(line: tuple[int, ...]) -> Connect4State | None:
    """Find a legal game where seat 0 wins by completing exactly ``line``.

    Seeded random games: seat 0 takes a cell of the line whenever one is playable and
    never plays the two cells that would extend the line; seat 1 never plays on the
    line.  The first game that ends with seat 0 completing exactly ``line`` is returned.
    """
    (r0, c0), (r1, c1), (r3, c3) = (divmod(line[i], COLS) for i in (0, 1, 3))
    dr, dc = r1 - r0, c1 - c0
    ends = ((r0 - dr, c0 - dc), (r3 + dr, c3 + dc))
    extension = {r * COLS + c for r, c in ends if 0 <= r < ROWS and 0 <= c < COLS}
    target = set(line)
    rng = random.Random(str(line))
    for _ in range(2000):
        state: State = RULES.initial()
        while state.outcome is None:
            board = state.board()
            cells = {
                col: max(r for r in range(ROWS) if board[r * COLS + col] is None) * COLS + col
                for col in state.legal_moves()
            }
            if state.to_move == 0:
                choices = [c for c, cell in cells.items() if cell in target] or [
                    c for c, cell in cells.items() if cell not in extension
                ]
            else:
                choices = [c for c, cell in cells.items() if cell not in target]
            if not choices:
                break
            state = state.apply(rng.choice(choices))
        outcome = state.outcome
        if outcome is not None and outcome.winner == 0 and outcome.line == line:
            assert isinstance(state, Connect4State)
            return state
    return None


@pytest.mark.parametrize("line", all_lines(), ids=lambda line: "-".join(map(str, line)))
def test_every_line_is_detected(line: tuple[int, ...]) -> None:
    state = _build(line)
    assert state is not None, "no game found that completes this line"
    assert state.outcome is not None and state.outcome.winner == 0
    assert state.outcome.line == line
    assert state.to_move is None and state.legal_moves() == ()
    board = state.board()
    assert all(board[c] == 0 for c in line)


def test_union_of_two_lines() -> None:
    # Red's last stone (row 4, column 5) completes a row and a diagonal at once:
    #   ...O... / ...X... / ...X... / ...OX.O / ..XXXXO / O.XOOOX
    moves = [2, 3, 3, 3, 6, 4, 3, 6, 2, 0, 3, 3, 4, 5, 4, 6, 5]
    state = RULES.replay(moves)
    board, expected = reference_play(moves)
    assert state.outcome is not None and expected is not None
    assert (state.outcome.winner, state.outcome.line) == expected
    assert state.outcome.line == (17, 25, 30, 31, 32, 33, 41)
    assert state.board() == board


def test_gravity_and_orientation() -> None:
    s = RULES.replay([3, 3, 3])
    b = s.board()
    assert b[5 * COLS + 3] == 0 and b[4 * COLS + 3] == 1 and b[3 * COLS + 3] == 0
    assert b.count(None) == 39
    assert s.ply == 3 and s.to_move == 1


def test_full_board_draw() -> None:
    moves = [int(c) for c in "436014551150160155104632660465204242223333"]
    state = RULES.replay(moves)
    board, expected = reference_play(moves)
    assert expected == (None, ())
    assert state.outcome is not None
    assert (state.outcome.winner, state.outcome.line) == (None, ())
    assert state.board() == board and state.ply == 42


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False))
def test_random_games_match_reference(rng: random.Random) -> None:
    state: State = RULES.initial()
    ref = Reference()
    while state.outcome is None:
        col = rng.choice(state.legal_moves())
        ref.play(col)
        state = state.apply(col)
        board, expected = ref.board, ref.result
        assert state.board() == board
        if expected is None:
            assert state.outcome is None
            assert state.legal_moves() == tuple(c for c in range(COLS) if board[c] is None)
        else:
            assert state.outcome is not None
            assert (state.outcome.winner, state.outcome.line) == expected
    rebuilt = Connect4State.from_bitboards(state.position, state.mask)  # type: ignore[attr-defined]
    assert rebuilt == state and rebuilt.outcome == state.outcome


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=30))
def test_winning_moves_match_brute_force(moves: list[int]) -> None:
    state: State = RULES.initial()
    for col in moves:
        if col not in state.legal_moves():
            break
        state = state.apply(col)
    if state.outcome is not None:
        return
    me = state.to_move
    assert me is not None
    outcomes = {c: state.apply(c).outcome for c in state.legal_moves()}
    mine = tuple(c for c, o in outcomes.items() if o is not None and o.winner == me)
    assert state.winning_moves() == mine == state.winning_moves(me)


@pytest.mark.parametrize("seed", range(5))
def test_last_cell_is_the_only_cell_a_move_changes(seed: int) -> None:
    rng = random.Random(seed)
    state: State = get_rules("connect4").initial()
    assert state.last_cell is None
    while not state.is_over:
        before = state.board()
        state = state.apply(rng.choice(state.legal_moves()))
        after = state.board()
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert changed == [state.last_cell]
    assert isinstance(state, Connect4State)
    rebuilt = Connect4State.from_bitboards(state.position, state.mask)
    assert rebuilt.last_cell is None and rebuilt.board() == state.board()


def test_the_start_and_the_turns() -> None:
    s = RULES.initial()
    assert s.board() == [None] * 42 and s.legal_moves() == tuple(range(7))
    seen = []
    while not s.is_over:
        seen.append(s.to_move)
        s = s.apply(s.legal_moves()[0])
    assert seen == [i % 2 for i in range(len(seen))]  # no passes: seats alternate


def test_order_independence() -> None:
    a = RULES.replay([3, 3, 2, 4, 1])
    b = RULES.replay([3, 4, 2, 3, 1])
    assert a == b and hash(a) == hash(b)
    assert a != RULES.replay([3, 3, 1, 4, 2, 5])
    assert a != RULES.replay([4, 3, 3, 2, 1])  # same cells, other colours
    assert len({a, b, RULES.replay([2, 4, 3, 3, 1])}) == 1
    # a finished game too
    w1 = RULES.replay([0, 6, 1, 6, 2, 5, 3])
    w2 = RULES.replay([2, 5, 1, 6, 0, 6, 3])
    assert w1 == w2 and hash(w1) == hash(w2) and w1.outcome == w2.outcome


def test_str_renders_the_board() -> None:
    assert str(RULES.replay([3, 3])).splitlines()[-2:] == ["...O...", "...X..."]
