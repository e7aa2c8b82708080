"""Glicko-2 ratings, as in Glickman's "Example of the Glicko-2 system".

Pure: immutable values in, immutable values out, no clock and no I/O. Each rated
game is its own rating period (`rate_game`); `update` is the paper's general form
(several games in one period), which `rate_game` uses with one game. Step numbers
in the comments are the paper's.

>>> a, b = rate_game(Rating(), Rating(), 1.0)
>>> round(a.rating, 2), round(b.rating, 2), round(a.rd, 2)
(1662.31, 1337.69, 290.32)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

INITIAL_RATING = 1500.0
INITIAL_RD = 350.0
INITIAL_VOLATILITY = 0.06
TAU = 0.5
"""The system constant: how fast volatility may change (the paper suggests 0.3 to 1.2)."""
TOLERANCE = 0.000001
"""When the volatility iteration (step 5) stops: the width of its bracket on ln(sigma^2)."""
SCALE = 173.7178
"""Glicko-2 works on (rating - 1500) / 173.7178 and RD / 173.7178 (step 2)."""
PROVISIONAL_RD = 110.0
"""A rating with a larger RD is provisional: shown apart on leaderboards."""
MAX_ITERATIONS = 200
"""A guard only: the bracket closes in under 6 steps for usual ratings, and in under 70
for absurd ones (a volatility of 30 instead of 0.06; tested)."""
_MIN_INFORMATION = 1e-100
"""A floor on 1/v (step 3), reached only by absurd inputs (a rating gap of some 40000
points): it keeps v, delta and delta^2 finite, and changes no result visibly."""


@dataclass(frozen=True, slots=True)
class Rating:
    """A Glicko-2 rating on the familiar scale; the default is a new player's.

    >>> Rating()
    Rating(rating=1500.0, rd=350.0, volatility=0.06)
    """

    rating: float = INITIAL_RATING
    rd: float = INITIAL_RD
    volatility: float = INITIAL_VOLATILITY

    def __post_init__(self) -> None:
        if not math.isfinite(self.rating):
            raise ValueError(f"rating must be finite, not {self.rating}")
        for name, value in (("rd", self.rd), ("volatility", self.volatility)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be finite and positive, not {value}")


def is_provisional(rating: Rating) -> bool:
    """Whether the rating is still too uncertain to rank with the others.

    >>> is_provisional(Rating()), is_provisional(Rating(rd=60.0))
    (True, False)
    """
    return rating.rd > PROVISIONAL_RD


def _g(phi: float) -> float:
    """Step 3: how much an opponent's uncertainty discounts the game."""
    return 1.0 / math.sqrt(1.0 + 3.0 * phi * phi / (math.pi * math.pi))


def _expected(mu: float, mu_j: float, g_j: float) -> tuple[float, float]:
    """Step 3: the expected score E and 1 - E, each computed on its own so that neither
    overflows nor loses all its digits to 1 - E when E is within 1e-16 of 1."""
    small = math.exp(-abs(g_j * (mu - mu_j)))
    low, high = small / (1.0 + small), 1.0 / (1.0 + small)
    return (high, low) if mu >= mu_j else (low, high)


def _check_score(score: float) -> None:
    if not 0.0 <= score <= 1.0:  # also refuses NaN
        raise ValueError(f"a score is 0, 0.5 or 1 (anything in [0, 1]), not {score}")


@dataclass(frozen=True, slots=True)
class _Period:
    """Steps 3 and 4 on the Glicko-2 scale: the estimated variance v and improvement delta,
    and the sum that step 7 adds to mu."""

    v: float
    delta: float
    gain: float


def _period(mu: float, results: Sequence[tuple[Rating, float]]) -> _Period:
    information = 0.0
    gain = 0.0
    for opponent, score in results:
        _check_score(score)
        g_j = _g(opponent.rd / SCALE)
        e_j, rest = _expected(mu, (opponent.rating - INITIAL_RATING) / SCALE, g_j)
        information += g_j * g_j * e_j * rest
        gain += g_j * (score * rest - (1.0 - score) * e_j)  # = g (s - E), exactly
    v = 1.0 / max(information, _MIN_INFORMATION)
    return _Period(v, v * gain, gain)


def _volatility(phi: float, sigma: float, period: _Period, tau: float) -> float:
    """Step 5: the new volatility, by the Illinois algorithm on f(x) = 0, x = ln(sigma'^2)."""
    a = 2.0 * math.log(sigma)
    phi2, v, delta2 = phi * phi, period.v, period.delta * period.delta

    def f(x: float) -> float:
        ex = math.exp(x)
        d = phi2 + v + ex  # the paper's (phi^2 + v + e^x)^2, divided out in two steps
        return (ex / d) * ((delta2 - phi2 - v - ex) / d) / 2.0 - (x - a) / tau**2

    return math.exp(_illinois(f, a, _upper_bracket(f, a, phi2 + v, delta2, tau)) / 2.0)


def _illinois(f: Callable[[float], float], low: float, high: float) -> float:
    """Step 5.4: shrink the bracket [A, B] on the root of f by regula falsi, halving f(A)
    when the same end is kept (the Illinois rule); A when it is narrower than TOLERANCE."""
    f_low, f_high = f(low), f(high)
    if f_high == 0:
        return high
    for _ in range(MAX_ITERATIONS):
        if abs(high - low) <= TOLERANCE:
            return low
        c = low + (low - high) * f_low / (f_high - f_low)
        if c == high:
            # f(B) is 0 next to f(A) to the last bit: B is the root in floating point,
            # and the rule would halve f(A) a thousand times before C moved at all.
            return high
        f_c = f(c)
        # `<=`: an f(C) of exactly 0 makes C the new B, returned by the next round.
        if f_c * f_high <= 0:
            low, f_low = high, f_high
        else:
            f_low /= 2.0
        high, f_high = c, f_c
    return low if abs(f_low) <= abs(f_high) else high


def _upper_bracket(
    f: Callable[[float], float], a: float, phi2_v: float, delta2: float, tau: float
) -> float:
    """Step 5.2: the other end B of the bracket, where f changes sign."""
    if delta2 > phi2_v:
        return math.log(delta2 - phi2_v)
    k = 1
    while f(a - k * tau) < 0:  # f(x) > (a - x) / tau^2 - 1/2 here: ends within a few steps
        k += 1
    return a - k * tau


def update(
    player: Rating, results: Sequence[tuple[Rating, float]], tau: float = TAU
) -> Rating:
    """The player's rating after one rating period of `results` (opponent, score) pairs,
    scores 1 for a win, 0.5 for a draw, 0 for a loss; opponents as they were before it.

    Glickman's worked example (the paper prints 1464.06, from mu' rounded to -0.2069):

    >>> new = update(Rating(1500, 200), [(Rating(1400, 30), 1), (Rating(1550, 100), 0),
    ...                                   (Rating(1700, 300), 0)])
    >>> round(new.rating, 2), round(new.rd, 2), round(new.volatility, 6)
    (1464.05, 151.52, 0.059996)
    """
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be finite and positive, not {tau}")
    if not results:
        return idle(player)
    mu = (player.rating - INITIAL_RATING) / SCALE
    phi = player.rd / SCALE
    period = _period(mu, results)
    sigma = _volatility(phi, player.volatility, period, tau)
    phi_star2 = phi * phi + sigma * sigma  # step 6
    # Step 7, phi' = 1 / sqrt(1/phi*^2 + 1/v), rearranged not to divide by a tiny phi*:
    phi_new = math.sqrt(phi_star2 / (1.0 + phi_star2 / period.v))
    mu_new = mu + phi_new * phi_new * period.gain
    return Rating(INITIAL_RATING + SCALE * mu_new, SCALE * phi_new, sigma)  # step 8


def rate_game(a: Rating, b: Rating, score_a: float) -> tuple[Rating, Rating]:
    """Both players after one game, its own rating period; `score_a` is a's score.
    Each is updated from the other's rating before the game.

    >>> a, b = rate_game(Rating(), Rating(), 0.5)
    >>> a == b, a.rating, round(a.rd, 2)
    (True, 1500.0, 290.32)
    """
    _check_score(score_a)
    return update(a, [(b, score_a)]), update(b, [(a, 1.0 - score_a)])


def idle(rating: Rating, periods: int = 1) -> Rating:
    """The rating after `periods` rating periods without a game: step 6 alone, the RD
    grows by the volatility; it never grows past a new player's (as in Glicko-1).

    >>> round(idle(Rating(1700, 50)).rd, 2), idle(Rating(1700, 349.9)).rd
    (51.07, 350.0)
    """
    if periods < 0:
        raise ValueError(f"periods must be >= 0, not {periods}")
    grown = math.hypot(rating.rd, SCALE * rating.volatility * math.sqrt(periods))
    rd = min(max(rating.rd, INITIAL_RD), grown)
    return Rating(rating.rating, rd, rating.volatility)
