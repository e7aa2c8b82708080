"""`solve`: Pascal Pons' published scores, and consistency of the exact values."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.bots import solve
from game.games.connect4.rules import Connect4State
from game.games.connect4.solver import Solver
from game.rules import get_rules

DATA = Path(__file__).resolve().parents[2] / "data" / "connect4-pons"
C4 = get_rules("connect4")
TTT = get_rules("tictactoe")


def load(name: str) -> list[tuple[str, int]]:
    lines = (DATA / name).read_text().split("\n")
    return [(moves, int(score)) for moves, score in (ln.split() for ln in lines if ln.strip())]


def position(moves: str) -> Connect4State:
    state = C4.replay(int(c) - 1 for c in moves)
    assert isinstance(state, Connect4State)
    return state


def check_set(name: str, limit: int | None = None) -> None:
    rows = load(name)
    assert len(rows) == 1000
    wrong = [
        (moves, score, got)
        for moves, score in rows[:limit]
        if (got := solve(position(moves))) != score
    ]
    assert wrong == []


def test_end_easy_every_line() -> None:
    """Test_L3_R1 (End-Easy): all 1000 published scores."""
    check_set("Test_L3_R1")


def test_middle_easy_every_line() -> None:
    """Test_L2_R1 (Middle-Easy): all 1000 published scores."""
    check_set("Test_L2_R1")


def test_middle_medium_sample() -> None:
    """Test_L2_R2 (Middle-Medium): the first 5 lines (about 0.5 s each)."""
    check_set("Test_L2_R2", limit=5)


@pytest.mark.parametrize(("moves", "score"), [("4455", 18), ("44455554221", -15)])
def test_readme_examples(moves: str, score: int) -> None:
    assert solve(position(moves)) == score


def test_scores_are_consistent_with_children() -> None:
    """score = max over moves of -score(child); a winning move scores (43 - ply) // 2."""
    for moves, score in load("Test_L2_R1")[:40]:
        state = position(moves)
        values = []
        for col in state.legal_moves():
            child = state.apply(col)
            if child.outcome is not None and child.outcome.winner is not None:
                values.append((43 - state.ply) // 2)
            else:
                values.append(-solve(child))
        assert max(values) == score, moves


def test_best_moves_hold_the_score() -> None:
    solver = Solver()
    for moves, score in load("Test_L2_R1")[100:130]:
        state = position(moves)
        got, best = solver.best_moves(state.position, state.mask, state.ply)
        assert got == score and best
        for col in state.legal_moves():
            child = state.apply(col)
            if child.outcome is not None:
                assert col in best and score == (43 - state.ply) // 2
            else:
                assert (solve(child) == -score) == (col in best), (moves, col)


def test_weak_solve_gives_the_sign() -> None:
    solver = Solver()
    for moves, score in load("Test_L2_R1")[200:300]:
        state = position(moves)
        weak = solver.solve(state.position, state.mask, state.ply, weak=True)
        assert weak == (score > 0) - (score < 0)


def test_finished_connect4_games() -> None:
    won = C4.replay([0, 1, 0, 1, 0, 1, 0])  # red wins with its 4th stone
    assert solve(won) == 4 - 22
    drawn = C4.replay(int(c) for c in "436014551150160155104632660465204242223333")
    assert solve(drawn) == 0


def test_tictactoe_values() -> None:
    assert solve(TTT.initial()) == 0
    assert solve(TTT.replay([0, 4, 8])) == 0  # O must take an edge, and then it holds
    assert solve(TTT.replay([0, 1])) == 1  # O's edge reply to a corner loses
    assert solve(TTT.replay([0, 1, 4])) == -1
    assert solve(TTT.replay([0, 3, 1, 4, 2])) == -1  # finished: X won
    assert solve(TTT.replay([0, 1, 2, 4, 3, 5, 7, 6, 8])) == 0  # finished: draw


def test_solve_rejects_other_objects() -> None:
    with pytest.raises(TypeError):
        solve("4455")  # type: ignore[arg-type]
