"""The authoritative match: a pure transition function over the immutable record.

`handle(match, command, now)` takes a command (who, what) and the time, and
returns a `Transition`: the next match, whether anything changed, and what to
answer the sender. It never awaits and never reads the clock; time is passed in
as epoch milliseconds, so every deadline is testable without waiting. The record
and the commands are in `game.core.model` and re-exported from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

from game.core.model import (
    RECENT_REFS,
    Adjudicate,
    Command,
    InvalidTransition,
    Join,
    Match,
    OfferRematch,
    Phase,
    PlayMove,
    Presence,
    Reason,
    Ref,
    Resign,
    Result,
    Seat,
    SetWatchers,
    Tick,
    TimeControl,
    Transition,
    advance,
)
from game.protocol.errors import ErrorCode, ProtocolError
from game.rules import IllegalMove, Outcome, get_rules

__all__ = [
    "RECENT_REFS",
    "Adjudicate",
    "Command",
    "InvalidTransition",
    "Join",
    "Match",
    "OfferRematch",
    "Phase",
    "PlayMove",
    "Presence",
    "Reason",
    "Ref",
    "Resign",
    "Result",
    "Seat",
    "SetWatchers",
    "Tick",
    "TimeControl",
    "Transition",
    "advance",
    "handle",
    "new_match",
    "rematch_of",
    "shift_clocks",
]

def new_match(
    match_id: str,
    game: str,
    time_control: TimeControl,
    now: int,
    seats: tuple[Seat | None, Seat | None],
) -> Match:
    """A match at version 1; active at once when both seats are taken."""
    match = Match(
        id=match_id,
        game=game,
        time_control=time_control,
        created_at=now,
        position=get_rules(game).initial(),
        seats=seats,
        version=1,
    )
    if seats[0] is not None and seats[1] is not None:
        match = _start(match, now)
    return match


def _start(match: Match, now: int) -> Match:
    return replace(
        match,
        phase=advance(match.phase, Phase.ACTIVE),
        deadline=now + match.time_control.first_move_ms,
        turn_version=match.version,
    )


def _finish(match: Match, result: Result) -> Match:
    seats = tuple(None if s is None else replace(s, grace=None) for s in match.seats)
    return replace(
        match,
        phase=advance(match.phase, Phase.FINISHED),
        result=result,
        deadline=None,
        seats=(seats[0], seats[1]),
    )


def _record_builder(*changed: str) -> Callable[..., Match]:
    """A function `(match, *values) -> Match` that copies `match` with the `changed`
    fields set to `values`: `dataclasses.replace` for the hottest path (one new record
    per move), generated once from the field list, as dataclasses generate __init__,
    so it cannot fall out of step with `Match`. Match has no __post_init__ to skip."""
    names = [f.name for f in fields(Match)]
    unknown = set(changed) - set(names)
    if unknown:
        raise TypeError(f"not fields of Match: {sorted(unknown)}")
    body = [f"def build(match, {', '.join(changed)}):", "    new = _new(Match)"]
    body += [f"    _set(new, {name!r}, {name if name in changed else 'match.' + name})"
             for name in names]
    body.append("    return new")
    scope: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__,
                             "Match": Match}
    exec("\n".join(body), scope)  # trusted: the text is built from our own field names
    built: Callable[..., Match] = scope["build"]
    return built


# Kept for what it is worth: `dataclasses.replace` in `_play` instead costs 5.6 µs more
# per move (+32k instructions, 12 % of the sans-I/O move; about 3.5 % of the whole
# move in the server), measured by `python benchmarks/bench_move_path.py --compare
# <a copy calling replace> --rounds 5 --relay-seconds 0 --moves 100000` (see "Hot-path
# tricks" in docs/performance.md).
_moved = _record_builder("position", "moves", "version", "turn_version", "recent", "deadline")


def _bump(match: Match) -> Match:
    return replace(match, version=match.version + 1)


def handle(match: Match, command: Command, now: int) -> Transition:
    """Apply one command at time `now` (epoch ms). Never raises for client errors."""
    expired = _expire(match, now)
    lapsed = expired is not match
    try:
        result = _dispatch(expired, command, now)
    except ProtocolError as error:
        return Transition(_bump(expired) if lapsed else match, changed=lapsed, error=error)
    if result.changed or not lapsed:
        return result  # one version for the expiry and the command together
    return replace(result, match=_bump(result.match), changed=True)


def _dispatch(match: Match, command: Command, now: int) -> Transition:
    if isinstance(command, PlayMove):
        return _play(match, command, now)
    if isinstance(command, Resign):
        return _resign(match, command)
    if isinstance(command, OfferRematch):
        return _offer_rematch(match, command)
    if isinstance(command, Join):
        return _join(match, command, now)
    if isinstance(command, Presence):
        return _presence(match, command, now)
    if isinstance(command, SetWatchers):
        if command.count == match.watchers or match.phase is Phase.FINISHED:
            return Transition(match)
        return Transition(_bump(replace(match, watchers=command.count)), changed=True)
    if isinstance(command, Adjudicate):
        return _adjudicate(match, command)
    return Transition(match)


def _seat_or_refuse(match: Match, player: str) -> int:
    seat = match.seat_of(player)
    if seat is None:
        raise ProtocolError(ErrorCode.NOT_A_PLAYER, "you hold no seat in this match")
    return seat


def _play(match: Match, cmd: PlayMove, now: int) -> Transition:
    seat = _seat_or_refuse(match, cmd.player)
    ref = cmd.ref
    if ref is not None:
        for entry in match.recent:  # (seat, ref, move, chosen-on version, version)
            if (entry[1] == ref and entry[0] == seat and entry[2] == cmd.move
                    and entry[3] == cmd.version and type(entry[1]) is type(ref)):
                return Transition(match, ack_version=entry[4])
    if match.phase is not Phase.ACTIVE:
        if match.phase is Phase.FINISHED:
            raise ProtocolError(ErrorCode.MATCH_OVER, "the match is over")
        raise ProtocolError(ErrorCode.NOT_YOUR_TURN, "waiting for an opponent to join")
    if cmd.version is not None and not match.turn_version <= cmd.version <= match.version:
        raise _stale(match, cmd.version)
    if match.position.to_move != seat:
        raise ProtocolError(ErrorCode.NOT_YOUR_TURN, "it is not your turn")
    try:
        position = match.position.apply(cmd.move)
    except IllegalMove as exc:
        raise ProtocolError(ErrorCode.ILLEGAL_MOVE, str(exc)) from None
    version = match.version + 1
    recent = match.recent
    if cmd.ref is not None:
        entry = (seat, cmd.ref, cmd.move, cmd.version, version)
        recent = (*recent[-(RECENT_REFS - 1):], entry)
    outcome = position.outcome
    if outcome is None and position.to_move == seat:  # the opponent had no move
        moves: tuple[int | None, ...] = (*match.moves, cmd.move, None)
    else:
        moves = (*match.moves, cmd.move)
    deadline = match.deadline
    if outcome is None:
        time_control = match.time_control
        deadline = now + (time_control.first_move_ms if len(moves) < 2
                          else time_control.turn_ms)
    moved = _moved(match, position, moves, version, version, recent, deadline)
    if outcome is not None:
        moved = _finish(moved, _result_of(outcome))
    return Transition(moved, True, version)


def _result_of(outcome: Outcome) -> Result:
    """A game decided by count ends by `score` (a draw too, when the counts are equal);
    one decided by a line by `line`, or `draw`."""
    if outcome.score is not None:
        return Result(outcome.winner, Reason.SCORE, (), outcome.score)
    reason = Reason.DRAW if outcome.winner is None else Reason.LINE
    return Result(outcome.winner, reason, tuple(outcome.line))


def _stale(match: Match, version: int) -> ProtocolError:
    if version > match.version:
        return ProtocolError(ErrorCode.STALE_VERSION, f"move chosen on version {version}, "
                             f"which this match has not reached (now {match.version})")
    return ProtocolError(ErrorCode.STALE_VERSION, f"move chosen on version {version}; the "
                         f"position changed at version {match.turn_version} (now {match.version})")


def _resign(match: Match, cmd: Resign) -> Transition:
    seat = _seat_or_refuse(match, cmd.player)
    if match.phase is Phase.FINISHED:
        if _ended_by(match, seat):  # resent after a lost ack: acknowledged again
            return Transition(match, ack_version=match.version)
        raise ProtocolError(ErrorCode.MATCH_OVER, "the match is over")
    if match.phase is Phase.WAITING:
        result = Result(None, Reason.ABORTED)
    else:
        result = Result(1 - seat, Reason.RESIGN)
    finished = _bump(_finish(match, result))
    return Transition(finished, changed=True, ack_version=finished.version)


def _ended_by(match: Match, seat: int) -> bool:
    """The match ended by this seat's resignation (or, a room, by its cancelling)."""
    result = match.result
    if result is None:
        return False
    if result.reason is Reason.RESIGN:
        return result.winner == 1 - seat
    return result.reason is Reason.ABORTED and match.seats[1 - seat] is None


def _adjudicate(match: Match, cmd: Adjudicate) -> Transition:
    """An operator's end of a match: one versioned change like any other ending, so
    players and spectators get it as a patch."""
    if match.phase is Phase.FINISHED:
        raise ProtocolError(ErrorCode.MATCH_OVER, "the match is over")
    if cmd.reason is Reason.ABORTED:
        result = Result(None, Reason.ABORTED)
    elif cmd.reason is Reason.ADJUDICATED and match.phase is Phase.ACTIVE:
        if cmd.winner not in (None, 0, 1):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "the winner is seat 0, 1 or null")
        result = Result(cmd.winner, Reason.ADJUDICATED)
    else:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "only a match in play can be adjudicated; "
                            "abort a room still waiting for its second player")
    finished = _bump(_finish(match, result))
    return Transition(finished, changed=True, ack_version=finished.version)


def _offer_rematch(match: Match, cmd: OfferRematch) -> Transition:
    seat = _seat_or_refuse(match, cmd.player)
    if match.phase is not Phase.FINISHED:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a rematch is offered once the match is over")
    if match.rematch[seat]:  # offered already (and maybe agreed): a resend is acked again
        return Transition(match, ack_version=match.version)
    if match.next_match is not None or match.seats[1 - seat] is None:
        raise ProtocolError(ErrorCode.MATCH_OVER, "no rematch is possible for this match")
    offers = [match.rematch[0], match.rematch[1]]
    offers[seat] = True
    other = match.seats[1 - seat]
    if other is not None and other.bot is not None:
        offers[1 - seat] = True
    updated = _bump(replace(match, rematch=(offers[0], offers[1])))
    return Transition(
        updated, changed=True, ack_version=updated.version, rematch_agreed=all(offers)
    )


def _join(match: Match, cmd: Join, now: int) -> Transition:
    if match.seat_of(cmd.seat.player) is not None:
        return Transition(match, ack_version=match.version)
    if match.phase is not Phase.WAITING:
        raise ProtocolError(ErrorCode.UNKNOWN_ROOM, "that room is already full or closed")
    free = 0 if match.seats[0] is None else 1
    seats = (cmd.seat, match.seats[1]) if free == 0 else (match.seats[0], cmd.seat)
    joined = _bump(replace(match, seats=seats))
    if seats[0] is not None and seats[1] is not None:
        joined = _start(joined, now)
    return Transition(joined, changed=True, ack_version=joined.version)


def _presence(match: Match, cmd: Presence, now: int) -> Transition:
    seat = match.seat_of(cmd.player)
    current = match.seats[seat] if seat is not None else None
    if seat is None or current is None or current.online == cmd.online:
        return Transition(match)
    if match.phase is Phase.FINISHED:
        return Transition(match)
    grace = None
    if not cmd.online and match.phase is Phase.ACTIVE:
        grace = now + match.time_control.grace_ms
    updated = replace(current, online=cmd.online, grace=grace)
    seats = (updated, match.seats[1]) if seat == 0 else (match.seats[0], updated)
    return Transition(_bump(replace(match, seats=seats)), changed=True)


def _expire(match: Match, now: int) -> Match:
    """Fire whichever deadline passed first, if any."""
    wakeup = match.next_wakeup()
    if wakeup is None or wakeup > now:
        return match
    if match.phase is Phase.WAITING:
        return _finish(match, Result(None, Reason.ABORTED))
    early = len(match.moves) < 2
    graces = [(s.grace, i) for i, s in enumerate(match.seats) if s and s.grace is not None]
    first_grace = min(graces) if graces else None
    if first_grace is not None and (match.deadline is None or first_grace[0] <= match.deadline):
        dropped = first_grace[1]
        if early:
            return _finish(match, Result(None, Reason.ABORTED))
        return _finish(match, Result(1 - dropped, Reason.ABANDONED))
    if early:
        return _finish(match, Result(None, Reason.ABORTED))
    loser = match.position.to_move
    winner = None if loser is None else 1 - loser
    return _finish(match, Result(winner, Reason.TIMEOUT))


def shift_clocks(match: Match, delta_ms: int) -> Match:
    """Credit `delta_ms` of server downtime to every running deadline."""
    if delta_ms <= 0 or match.phase is not Phase.ACTIVE:
        return match
    seats = tuple(
        s if s is None or s.grace is None else replace(s, grace=s.grace + delta_ms)
        for s in match.seats
    )
    return replace(
        match,
        deadline=None if match.deadline is None else match.deadline + delta_ms,
        seats=(seats[0], seats[1]),
    )


def rematch_of(match: Match, match_id: str, now: int) -> tuple[Match, Match]:
    """The old match pointing at its rematch, and the rematch with seats swapped."""
    fresh = new_match(match_id, match.game, match.time_control, now,
                      (match.seats[1], match.seats[0]))
    return replace(match, next_match=match_id), replace(fresh, rated=match.rated)
