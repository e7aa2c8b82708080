"""Matches as plain JSON records, for stores. Positions are rebuilt by replaying moves."""

from __future__ import annotations

from typing import Any

from game.core.match import Match, Phase, Reason, Result, Seat, TimeControl
from game.rules import State, get_rules

SCHEMA = 1


def _seat_record(seat: Seat | None) -> dict[str, Any] | None:
    if seat is None:
        return None
    return {
        "player": seat.player,
        "name": seat.name,
        "bot": seat.bot,
        "online": seat.online,
        "grace": seat.grace,
        "program": seat.program,
    }


def _seat_from(data: dict[str, Any] | None) -> Seat | None:
    if data is None:
        return None
    # records older than program players have no `program`: a person or a built-in bot
    return Seat(data["player"], data["name"], data["bot"], data["online"], data["grace"],
                bool(data.get("program", False)))


def _score(data: list[int] | None) -> tuple[int, int] | None:
    """A record written before games could end by score has no `score`."""
    return None if data is None else (int(data[0]), int(data[1]))


def to_record(match: Match) -> dict[str, Any]:
    result = match.result
    return {
        "schema": SCHEMA,
        "id": match.id,
        "game": match.game,
        "clocks": {
            "turn_ms": match.time_control.turn_ms,
            "first_move_ms": match.time_control.first_move_ms,
            "grace_ms": match.time_control.grace_ms,
            "room_ttl_ms": match.time_control.room_ttl_ms,
        },
        "created_at": match.created_at,
        "phase": match.phase.value,
        "seats": [_seat_record(s) for s in match.seats],
        "moves": list(match.moves),
        "version": match.version,
        "turn_version": match.turn_version,
        "deadline": match.deadline,
        "result": None
        if result is None
        else {"winner": result.winner, "reason": result.reason.value, "line": list(result.line),
              "score": None if result.score is None else list(result.score)},
        "rematch": list(match.rematch),
        "next_match": match.next_match,
        "room": match.room,
        "watchers": match.watchers,
        "recent": [list(entry) for entry in match.recent],
        "rated": match.rated,
    }


def from_record(data: dict[str, Any], known: Match | None = None) -> Match:
    """The match a record holds. `known`, an earlier version of the same match, saves
    replaying the whole game: only the moves made since are applied to its position."""
    result = data["result"]
    seats = data["seats"]
    return Match(
        id=data["id"],
        game=data["game"],
        time_control=TimeControl(**data["clocks"]),
        created_at=data["created_at"],
        position=_position(data, known),
        phase=Phase(data["phase"]),
        seats=(_seat_from(seats[0]), _seat_from(seats[1])),
        moves=tuple(data["moves"]),
        version=data["version"],
        turn_version=data["turn_version"],
        deadline=data["deadline"],
        result=None
        if result is None
        else Result(result["winner"], Reason(result["reason"]), tuple(result["line"]),
                    _score(result.get("score"))),
        rematch=(bool(data["rematch"][0]), bool(data["rematch"][1])),
        next_match=data["next_match"],
        room=data["room"],
        watchers=data["watchers"],
        recent=tuple(
            (int(s), r, int(m), None if c is None else int(c), int(v))
            for s, r, m, c, v in data["recent"]
        ),
        rated=bool(data.get("rated", False)),  # records older than ratings: unrated
    )


def _position(data: dict[str, Any], known: Match | None) -> State:
    moves: list[int | None] = data["moves"]
    rules = get_rules(data["game"])
    done = 0 if known is None else len(known.moves)
    if known is None or known.game != data["game"] or done > len(moves) \
            or list(known.moves) != moves[:done]:
        return rules.replay(data["moves"])  # passes (None) are the rules' own to read
    position = known.position
    for move in moves[done:]:
        if move is not None:  # a pass the rules made (othello): already in the position
            position = position.apply(move)
    return position
