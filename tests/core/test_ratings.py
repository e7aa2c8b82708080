"""Glicko-2 (`game.core.ratings`) against Glickman's worked example, a game between two
new players computed by hand, a second implementation written here from the paper
(Newton's method instead of the Illinois algorithm), and properties every rating system
must have: symmetry, zero sum between equals, finite values for absurd inputs.

The paper is "Example of the Glicko-2 system", Mark E. Glickman; its printed values
are rounded at each step, so they are checked to the precision printed.
"""

from __future__ import annotations

import doctest
import math
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.core import ratings
from game.core.ratings import (
    PROVISIONAL_RD,
    Rating,
    idle,
    is_provisional,
    rate_game,
    update,
)

SCALE = 173.7178
EXAMPLE_PLAYER = Rating(1500.0, 200.0, 0.06)
EXAMPLE_GAMES = [(Rating(1400.0, 30.0), 1.0), (Rating(1550.0, 100.0), 0.0),
                 (Rating(1700.0, 300.0), 0.0)]


# ---- a second implementation, straight from the paper's formulas ------------------------


def reference(player: Rating, games: Sequence[tuple[Rating, float]], tau: float = 0.5) -> Rating:
    """Steps 2 to 8 as printed, with step 5 solved by Newton's method from x = a (as in
    Glickman's first Glicko-2 paper) instead of the Illinois algorithm."""
    mu, phi, sigma = (player.rating - 1500) / SCALE, player.rd / SCALE, player.volatility
    terms = []
    for opponent, score in games:
        g = 1 / math.sqrt(1 + 3 * (opponent.rd / SCALE) ** 2 / math.pi**2)
        e = 1 / (1 + math.exp(-g * (mu - (opponent.rating - 1500) / SCALE)))
        terms.append((g, e, score))
    v = 1 / sum(g * g * e * (1 - e) for g, e, _ in terms)
    delta = v * sum(g * (s - e) for g, e, s in terms)
    new_sigma = math.exp(newton(math.log(sigma**2), delta**2 - phi**2 - v, phi**2 + v, tau) / 2)
    phi_star = math.sqrt(phi**2 + new_sigma**2)
    new_phi = 1 / math.sqrt(1 / phi_star**2 + 1 / v)
    new_mu = mu + new_phi**2 * sum(g * (s - e) for g, e, s in terms)
    return Rating(SCALE * new_mu + 1500, SCALE * new_phi, new_sigma)


def newton(a: float, d: float, c: float, tau: float) -> float:
    """The root nearest a of f(x) = u (d - u) / (2 (c + u)^2) - (x - a) / tau^2, u = e^x.

    f can have three roots on the paper's bracket after a big upset; the Illinois
    algorithm, started at A = a, finds the one nearest a, and so does this. (Plain
    bisection on the bracket may find another, with an absurd volatility.)"""
    x = a
    for _ in range(100):
        u = math.exp(x)
        f = u * (d - u) / (2 * (c + u) ** 2) - (x - a) / tau**2
        slope = u * ((d - 2 * u) * (c + u) - 2 * u * (d - u)) / (2 * (c + u) ** 3) - 1 / tau**2
        step = f / slope
        x -= step
        if abs(step) < 1e-13:
            break
    return x


def assert_close(got: Rating, want: Rating, rating: float = 1e-5) -> None:
    assert got.rating == pytest.approx(want.rating, abs=rating)
    assert got.rd == pytest.approx(want.rd, abs=rating)
    # Step 5 stops when its bracket on ln(sigma^2) is under 1e-6 wide.
    assert got.volatility == pytest.approx(want.volatility, rel=1e-6)


# ---- Glickman's worked example -----------------------------------------------------------


def test_the_papers_step_3_values() -> None:
    printed = [(0.9955, 0.639), (0.9531, 0.432), (0.7242, 0.303)]
    for (opponent, _), (g_printed, e_printed) in zip(EXAMPLE_GAMES, printed, strict=True):
        g = ratings._g(opponent.rd / SCALE)
        e, rest = ratings._expected(0.0, (opponent.rating - 1500) / SCALE, g)
        assert round(g, 4) == g_printed
        assert round(e, 3) == e_printed
        assert e + rest == pytest.approx(1.0, abs=1e-15)


def test_the_papers_variance_and_improvement() -> None:
    period = ratings._period(0.0, EXAMPLE_GAMES)
    # Printed 1.7785 and -0.4834, from E and g rounded to 3 and 4 places first.
    assert period.v == pytest.approx(1.7785, abs=1e-3)
    assert period.delta == pytest.approx(-0.4834, abs=1e-3)


def test_glickmans_worked_example() -> None:
    new = update(EXAMPLE_PLAYER, EXAMPLE_GAMES)
    # Printed: mu' = -0.2069, phi' = 0.8722, sigma' = 0.05999, r' = 1464.06, RD' = 151.52.
    assert round((new.rating - 1500) / SCALE, 4) == -0.2069
    assert round(new.rd / SCALE, 4) == 0.8722
    assert new.volatility == pytest.approx(0.05999, abs=1e-5)
    assert new.volatility < 0.06
    # 1464.06 is 1500 + 173.7178 * (-0.2069); unrounded mu' gives 1464.0507.
    assert new.rating == pytest.approx(1464.06, abs=0.01)
    assert round(new.rd, 2) == 151.52


def test_worked_example_agrees_with_the_reference() -> None:
    assert_close(update(EXAMPLE_PLAYER, EXAMPLE_GAMES), reference(EXAMPLE_PLAYER, EXAMPLE_GAMES))


# ---- two new players ---------------------------------------------------------------------


def test_a_game_between_two_new_players() -> None:
    # By hand: phi = 350 / 173.7178 = 2.014762; g(phi) = 1 / sqrt(1 + 3 phi^2 / pi^2)
    # = 0.669069; E = 0.5 (equal ratings); v = 1 / (g^2 * 0.25) = 8.935475;
    # delta = v * g * (1 - 0.5) = 2.989226 (the loser: -2.989226). delta^2 = 8.935475 is
    # below phi^2 + v = 12.994741, so B = a - tau; step 5 gives sigma' = 0.0599997;
    # phi* = sqrt(phi^2 + sigma'^2) = 2.015655; phi' = 1 / sqrt(1/phi*^2 + 1/v) = 1.671210;
    # mu' = phi'^2 * g * 0.5 = 0.934337; r' = 1500 + 173.7178 * 0.934337 = 1662.31 and
    # RD' = 173.7178 * 1.671210 = 290.32; the loser 1500 - 162.31 = 1337.69.
    winner, loser = rate_game(Rating(), Rating(), 1.0)
    assert round(winner.rating, 2) == 1662.31
    assert round(loser.rating, 2) == 1337.69
    assert round(winner.rd, 2) == round(loser.rd, 2) == 290.32
    assert winner.volatility == loser.volatility == pytest.approx(0.0599997, abs=1e-7)
    assert winner.rating - 1500 == pytest.approx(1500 - loser.rating, abs=1e-9)
    assert_close(winner, reference(Rating(), [(Rating(), 1.0)]))
    assert_close(loser, reference(Rating(), [(Rating(), 0.0)]))


def test_a_draw_between_equals_moves_no_rating_and_lowers_rd() -> None:
    for player in (Rating(), Rating(1830.0, 75.0, 0.05)):
        a, b = rate_game(player, player, 0.5)
        assert a == b
        assert a.rating == player.rating
        assert a.rd < player.rd
        assert a.volatility <= player.volatility  # a result as expected: less volatile


# ---- properties --------------------------------------------------------------------------

usual = st.builds(Rating, st.floats(500, 2800), st.floats(30, 350), st.floats(0.03, 0.1))
scores = st.sampled_from([0.0, 0.5, 1.0])


@given(usual, usual, scores)
def test_rate_game_mirrors_the_other_way_round(a: Rating, b: Rating, score: float) -> None:
    new_a, new_b = rate_game(a, b, score)
    assert rate_game(b, a, 1.0 - score) == (new_b, new_a)


@given(usual, usual, scores)
def test_update_agrees_with_the_reference(a: Rating, b: Rating, score: float) -> None:
    assert_close(update(a, [(b, score)]), reference(a, [(b, score)]))


@given(usual, st.lists(st.tuples(usual, scores), min_size=1, max_size=8))
def test_a_period_of_several_games_agrees_with_the_reference(
    player: Rating, games: list[tuple[Rating, float]]
) -> None:
    assert_close(update(player, games), reference(player, games))


@given(st.floats(500, 2800), st.floats(500, 2800), st.floats(30, 350), st.floats(0.03, 0.1),
       scores)
def test_between_equally_sure_players_what_one_wins_the_other_loses(
    rating_a: float, rating_b: float, rd: float, volatility: float, score: float
) -> None:
    a, b = Rating(rating_a, rd, volatility), Rating(rating_b, rd, volatility)
    new_a, new_b = rate_game(a, b, score)
    assert new_a.rating - a.rating == pytest.approx(b.rating - new_b.rating, abs=1e-6)
    assert new_a.rd == pytest.approx(new_b.rd, rel=1e-9)


@given(usual, usual)
def test_winning_beats_drawing_beats_losing(a: Rating, b: Rating) -> None:
    win, draw, loss = (update(a, [(b, s)]) for s in (1.0, 0.5, 0.0))
    assert win.rating > a.rating > loss.rating
    assert win.rating > draw.rating > loss.rating


# ---- absurd inputs -----------------------------------------------------------------------

wild = st.builds(
    Rating,
    st.floats(-1e9, 1e9),
    st.floats(1e-9, 1e9),
    st.floats(1e-9, 100.0),
)


def finite(rating: Rating) -> bool:
    return all(map(math.isfinite, (rating.rating, rating.rd, rating.volatility)))


def count_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times each volatility iteration evaluates f, recorded as it runs."""
    steps: list[int] = []
    illinois = ratings._illinois

    def counted(f: Callable[[float], float], low: float, high: float) -> float:
        calls = [0]

        def counted_f(x: float) -> float:
            calls[0] += 1
            return f(x)

        root = illinois(counted_f, low, high)
        steps.append(calls[0])
        return root

    monkeypatch.setattr(ratings, "_illinois", counted)
    return steps


@settings(max_examples=300)
@given(wild, wild, st.floats(0.0, 1.0), st.floats(0.05, 2.0))
def test_absurd_inputs_converge_to_finite_values(
    a: Rating, b: Rating, score: float, tau: float
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        steps = count_steps(monkeypatch)
        new = update(a, [(b, score)], tau)
    assert finite(new)
    assert steps and max(steps) < ratings.MAX_ITERATIONS  # closed, not stopped by the guard


@pytest.mark.parametrize("gap", [5_000.0, 50_000.0, 1e6, 1e9])
@pytest.mark.parametrize("rd", [1e-9, 1e-3, 30.0, 350.0])
@pytest.mark.parametrize("score", [0.0, 0.5, 1.0])
def test_huge_gaps_and_tiny_rds(
    gap: float, rd: float, score: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = count_steps(monkeypatch)
    strong, weak = Rating(1500.0 + gap, rd, 0.06), Rating(1500.0 - gap, rd, 0.06)
    new_strong, new_weak = rate_game(strong, weak, score)
    assert finite(new_strong) and finite(new_weak)
    assert max(steps) < ratings.MAX_ITERATIONS
    assert new_strong.rating <= strong.rating + 1e-6  # nothing left to win
    assert new_weak.rating >= weak.rating - 1e-6  # nothing left to lose
    if score == 1.0:
        # The expected result teaches nothing: only step 6's growth of the RD remains.
        assert new_strong.rating == pytest.approx(strong.rating, abs=1e-6)
        assert new_strong.volatility == pytest.approx(0.06, rel=1e-6)
        assert new_strong.rd == pytest.approx(math.hypot(rd, 0.06 * SCALE), rel=1e-6)


def test_a_lopsided_game_keeps_its_information() -> None:
    # 7000 points apart, 1 - E is under 1e-17: computed as 1 - E it would be 0 or noise.
    z = 7000.0 / SCALE  # g(0) = 1 for an opponent with no uncertainty left
    period = ratings._period(z, [(Rating(1500.0, 1e-9), 1.0)])
    assert period.v == pytest.approx((1 + math.exp(-z)) ** 2 / math.exp(-z), rel=1e-9, abs=0)
    assert period.gain == pytest.approx(math.exp(-z) / (1 + math.exp(-z)), rel=1e-9, abs=0)


def test_an_opponent_without_information_is_not_a_division_by_zero() -> None:
    new = update(Rating(1500.0, 30.0), [(Rating(1e9, 1e9), 0.0)])
    assert finite(new)
    assert new.rating == pytest.approx(1500.0, abs=1e-3)


# ---- values, idle periods, provisional ---------------------------------------------------


@pytest.mark.parametrize("fields", [
    (math.nan, 350.0, 0.06), (math.inf, 350.0, 0.06), (1500.0, 0.0, 0.06),
    (1500.0, -1.0, 0.06), (1500.0, math.inf, 0.06), (1500.0, 350.0, 0.0),
    (1500.0, 350.0, math.nan),
])
def test_a_rating_refuses_values_the_formulas_cannot_take(
    fields: tuple[float, float, float],
) -> None:
    with pytest.raises(ValueError):
        Rating(*fields)


@pytest.mark.parametrize("score", [-0.1, 1.5, math.nan])
def test_scores_outside_zero_to_one_are_refused(score: float) -> None:
    with pytest.raises(ValueError):
        rate_game(Rating(), Rating(), score)
    with pytest.raises(ValueError):
        update(Rating(), [(Rating(), score)])


@pytest.mark.parametrize("tau", [0.0, -0.5, math.inf, math.nan])
def test_tau_must_be_positive(tau: float) -> None:
    with pytest.raises(ValueError):
        update(Rating(), [(Rating(), 1.0)], tau)


def test_ratings_are_immutable_values() -> None:
    rating = Rating()
    with pytest.raises(AttributeError):
        rating.rating = 1600.0  # type: ignore[misc]
    assert rating == Rating(1500.0, 350.0, 0.06)
    assert hash(rating) == hash(Rating())


def test_provisional_means_rd_over_110() -> None:
    assert PROVISIONAL_RD == 110.0
    assert is_provisional(Rating())
    assert is_provisional(Rating(rd=110.01))
    assert not is_provisional(Rating(rd=110.0))


def test_a_period_without_games_only_grows_the_rd() -> None:
    player = Rating(1720.0, 60.0, 0.07)
    later = idle(player)
    assert (later.rating, later.volatility) == (player.rating, player.volatility)
    assert later.rd == pytest.approx(SCALE * math.sqrt((60.0 / SCALE) ** 2 + 0.07**2))
    assert update(player, []) == later
    assert idle(player, 0) == player
    assert idle(player, 5).rd == pytest.approx(
        SCALE * math.sqrt((60.0 / SCALE) ** 2 + 5 * 0.07**2))


def test_idle_never_makes_a_player_less_known_than_a_new_one() -> None:
    assert idle(Rating(1720.0, 340.0), 1000).rd == 350.0
    assert idle(Rating()).rd == 350.0
    assert idle(Rating(rd=400.0)).rd == 400.0  # already above: left as it is, not lowered
    with pytest.raises(ValueError):
        idle(Rating(), -1)


def test_the_docstring_examples() -> None:
    failed, tried = doctest.testmod(ratings)
    assert tried >= 8
    assert failed == 0
