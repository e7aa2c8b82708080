"""The match record and the commands: immutable data, no behaviour beyond reading it.

`game.core.match` holds the transition function over these; everything here is
re-exported from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from game.protocol.errors import ProtocolError
from game.rules import State as Position

Ref = str | int


class Phase(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    FINISHED = "finished"


_ALLOWED = {
    Phase.WAITING: frozenset({Phase.ACTIVE, Phase.FINISHED}),
    Phase.ACTIVE: frozenset({Phase.FINISHED}),
    Phase.FINISHED: frozenset(),
}


class InvalidTransition(RuntimeError):
    """A phase change the lifecycle does not allow: a bug, never a client error."""


def advance(current: Phase, to: Phase) -> Phase:
    """Guarded phase change."""
    if to not in _ALLOWED[current]:
        raise InvalidTransition(f"{current} -> {to}")
    return to


class Reason(StrEnum):
    LINE = "line"
    DRAW = "draw"
    SCORE = "score"  # a game decided by count (othello's discs): see Result.score
    RESIGN = "resign"
    TIMEOUT = "timeout"
    ABANDONED = "abandoned"
    ABORTED = "aborted"
    ADJUDICATED = "adjudicated"


@dataclass(frozen=True, slots=True)
class TimeControl:
    """Time limits in milliseconds. `first_move_ms` bounds each seat's first move."""

    turn_ms: int = 60_000
    first_move_ms: int = 30_000
    grace_ms: int = 30_000
    room_ttl_ms: int = 600_000


@dataclass(frozen=True, slots=True)
class Seat:
    player: str
    name: str
    bot: str | None = None
    online: bool = True
    grace: int | None = None
    program: bool = False
    """The player said `bot: true` in `hello`: a program plays this seat (not one of the
    server's built-in bots, which have `bot`, their level)."""


@dataclass(frozen=True, slots=True)
class Result:
    winner: int | None
    reason: Reason
    line: tuple[int, ...] = ()
    score: tuple[int, int] | None = None
    """Seat 0's and seat 1's counts when the reason is `score`, else None."""


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    game: str
    time_control: TimeControl
    created_at: int
    position: Position
    phase: Phase = Phase.WAITING
    seats: tuple[Seat | None, Seat | None] = (None, None)
    moves: tuple[int | None, ...] = ()
    """The record: each move, and None right after a move that made the opponent pass
    (the rules passed it over: the mover is to move again)."""
    version: int = 0
    turn_version: int = 0
    deadline: int | None = None
    result: Result | None = None
    rematch: tuple[bool, bool] = (False, False)
    next_match: str | None = None
    room: str | None = None
    watchers: int = 0
    recent: tuple[tuple[int, Ref, int, int | None, int], ...] = ()
    """(seat, ref, move, chosen-on version, committed version) of recent moves: a command
    resent after a lost ack matches all four and is acked again, not replayed."""
    rated: bool = False
    """Counts for the players' ratings when it ends (quick match, or a room opened
    `rated`); the store rates it only between two humans or two bot programs."""

    def seat_of(self, player: str) -> int | None:
        for index, seat in enumerate(self.seats):
            if seat is not None and seat.player == player:
                return index
        return None

    @property
    def turn(self) -> int | None:
        return self.position.to_move if self.phase is Phase.ACTIVE else None

    def next_wakeup(self) -> int | None:
        """The earliest time at which `Tick` would change this match."""
        if self.phase is not Phase.ACTIVE:
            if self.phase is Phase.FINISHED:
                return None
            return self.created_at + self.time_control.room_ttl_ms
        first = self.deadline
        for seat in self.seats:
            if seat is not None and seat.grace is not None and (first is None
                                                                or seat.grace < first):
                first = seat.grace
        return first


# ---- commands ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlayMove:
    player: str
    move: int
    version: int | None = None
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Resign:
    player: str


@dataclass(frozen=True, slots=True)
class OfferRematch:
    player: str


@dataclass(frozen=True, slots=True)
class Join:
    seat: Seat


@dataclass(frozen=True, slots=True)
class Presence:
    player: str
    online: bool


@dataclass(frozen=True, slots=True)
class SetWatchers:
    count: int


@dataclass(frozen=True, slots=True)
class Tick:
    """Let time pass: fire any deadline at or before `now`."""


@dataclass(frozen=True, slots=True)
class Adjudicate:
    """An operator ends the match: `aborted` (no result, nobody loses) or `adjudicated`
    (to a seat, or a draw with `winner` None)."""

    reason: Reason
    winner: int | None = None


Command = (PlayMove | Resign | OfferRematch | Join | Presence | SetWatchers | Tick
           | Adjudicate)


@dataclass(frozen=True, slots=True)
class Transition:
    match: Match
    changed: bool = False
    ack_version: int | None = None
    error: ProtocolError | None = None
    rematch_agreed: bool = False


RECENT_REFS = 16
