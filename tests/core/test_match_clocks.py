"""The match core with an injected clock: every deadline path, without waiting."""

from __future__ import annotations

from game.core.match import (
    Join,
    Match,
    OfferRematch,
    Phase,
    PlayMove,
    Presence,
    Reason,
    Resign,
    Seat,
    Tick,
    TimeControl,
    handle,
    new_match,
    rematch_of,
    shift_clocks,
)
from game.core.records import from_record, to_record
from game.core.views import VIEWERS, updates, view_for, views_of
from game.protocol.patch import apply_patch, view_hash

CLOCKS = TimeControl(turn_ms=10_000, first_move_ms=5_000, grace_ms=3_000, room_ttl_ms=60_000)
T0 = 1_000_000
ALICE, BOB = Seat("alice", "Alice"), Seat("bob", "Bob")


def started(game: str = "tictactoe") -> Match:
    return new_match("m1", game, CLOCKS, T0, (ALICE, BOB))


def play(match: Match, moves: list[int], now: int) -> Match:
    for move in moves:
        seat = match.position.to_move
        assert seat is not None
        player = match.seats[seat].player  # type: ignore[union-attr]
        step = handle(match, PlayMove(player, move), now)
        assert step.error is None, step.error
        match = step.match
    return match


def test_no_first_move_in_time_aborts_without_winner() -> None:
    match = started()
    assert match.phase is Phase.ACTIVE and match.deadline == T0 + 5_000
    assert handle(match, Tick(), T0 + 4_999).changed is False
    step = handle(match, Tick(), T0 + 5_000)
    assert step.changed and step.match.phase is Phase.FINISHED
    assert step.match.result is not None
    assert step.match.result.reason is Reason.ABORTED and step.match.result.winner is None
    assert step.match.version == match.version + 1


def test_second_player_missing_first_move_also_aborts() -> None:
    match = play(started(), [4], T0 + 1_000)
    assert match.deadline == T0 + 1_000 + 5_000
    step = handle(match, Tick(), T0 + 6_000)
    assert step.match.result is not None and step.match.result.reason is Reason.ABORTED


def test_turn_timeout_loses_for_the_seat_to_move() -> None:
    match = play(started(), [4, 0], T0)
    assert match.deadline == T0 + 10_000
    step = handle(match, Tick(), T0 + 10_000)
    assert step.match.result is not None
    assert step.match.result.reason is Reason.TIMEOUT and step.match.result.winner == 1


def test_late_move_is_refused_and_the_timeout_is_applied() -> None:
    match = play(started(), [4, 0], T0)
    step = handle(match, PlayMove("alice", 8), T0 + 10_001)
    assert step.changed and step.error is not None and step.error.code == "match_over"
    assert step.match.result is not None and step.match.result.reason is Reason.TIMEOUT


def test_grace_expiry_abandons_and_the_other_seat_wins() -> None:
    match = play(started(), [4, 0], T0)
    dropped = handle(match, Presence("bob", False), T0 + 1_000).match
    assert dropped.seats[1] is not None and dropped.seats[1].grace == T0 + 4_000
    assert view_for(dropped, 0)["players"][1] == {
        "name": "Bob", "online": False, "bot": False, "grace": T0 + 4_000}
    step = handle(dropped, Tick(), T0 + 4_000)
    assert step.match.result is not None
    assert step.match.result.reason is Reason.ABANDONED and step.match.result.winner == 0


def test_rejoin_just_before_grace_ends_keeps_the_match() -> None:
    match = play(started(), [4, 0], T0)
    dropped = handle(match, Presence("bob", False), T0 + 1_000).match
    back = handle(dropped, Presence("bob", True), T0 + 3_999).match
    assert back.seats[1] is not None and back.seats[1].online and back.seats[1].grace is None
    assert handle(back, Tick(), T0 + 4_000).changed is False
    assert back.phase is Phase.ACTIVE


def test_room_expires_when_nobody_joins() -> None:
    room = new_match("r", "connect4", CLOCKS, T0, (ALICE, None))
    assert room.phase is Phase.WAITING and room.next_wakeup() == T0 + 60_000
    joined = handle(room, Join(BOB), T0 + 1).match
    assert joined.phase is Phase.ACTIVE
    expired = handle(room, Tick(), T0 + 60_000).match
    assert expired.phase is Phase.FINISHED and expired.result is not None
    assert expired.result.reason is Reason.ABORTED


def test_downtime_is_credited_to_every_clock() -> None:
    match = play(started(), [4, 0], T0)
    dropped = handle(match, Presence("bob", False), T0).match
    shifted = shift_clocks(dropped, 60_000)
    assert shifted.deadline == T0 + 70_000
    assert shifted.seats[1] is not None and shifted.seats[1].grace == T0 + 63_000
    assert shifted.seats[0] == dropped.seats[0]


def test_resign_rematch_and_seats_swap() -> None:
    match = play(started(), [4], T0)
    over = handle(match, Resign("alice"), T0).match
    assert over.result is not None and over.result.winner == 1
    offered = handle(over, OfferRematch("bob"), T0)
    assert not offered.rematch_agreed and offered.match.rematch == (False, True)
    agreed = handle(offered.match, OfferRematch("alice"), T0)
    assert agreed.rematch_agreed
    old, fresh = rematch_of(agreed.match, "m2", T0)
    assert old.next_match == "m2"
    assert fresh.seats == (BOB, ALICE) and fresh.phase is Phase.ACTIVE


def test_resign_and_rematch_resent_after_a_lost_ack_are_acked_again() -> None:
    """RELIABILITY 12 for every command with an answer: a resend changes nothing and
    gets the ack again; the same command from the other seat is still refused."""
    over = handle(play(started(), [4], T0), Resign("alice"), T0).match
    again = handle(over, Resign("alice"), T0 + 1)
    assert again.error is None and not again.changed
    assert again.match == over and again.ack_version == over.version
    refused = handle(over, Resign("bob"), T0 + 1)
    assert refused.error is not None and refused.error.code.value == "match_over"
    agreed = handle(handle(over, OfferRematch("bob"), T0).match, OfferRematch("alice"), T0)
    old, _ = rematch_of(agreed.match, "m2", T0)
    for player in ("alice", "bob"):
        resent = handle(old, OfferRematch(player), T0 + 1)
        assert resent.error is None and not resent.changed and not resent.rematch_agreed
        assert resent.ack_version == old.version
    room = new_match("r1", "tictactoe", CLOCKS, T0, (ALICE, None))
    cancelled = handle(room, Resign("alice"), T0).match
    assert cancelled.result is not None and cancelled.result.reason is Reason.ABORTED
    assert handle(cancelled, Resign("alice"), T0 + 1).ack_version == cancelled.version


def test_finished_match_never_changes() -> None:
    over = play(started(), [0, 3, 1, 4, 2], T0)
    assert over.phase is Phase.FINISHED
    for command in (PlayMove("bob", 8), Resign("bob"), Presence("alice", False), Tick()):
        step = handle(over, command, T0 + 10**9)
        assert step.match.moves == over.moves and step.match.result == over.result
        assert step.match.version == over.version


def test_records_round_trip() -> None:
    match = handle(play(started("connect4"), [3, 3, 2], T0), Presence("bob", False), T0).match
    assert from_record(to_record(match)) == match


def test_views_patch_into_each_other() -> None:
    match = started("connect4")
    views = views_of(match)
    for move in (3, 3, 4, 2):
        seat = match.position.to_move
        assert seat is not None
        match = handle(match, PlayMove(match.seats[seat].player, move), T0).match  # type: ignore[union-attr]
        after, steps = updates(views, match)
        for viewer in VIEWERS:
            patched = apply_patch(views.of(viewer), steps[viewer].ops)
            assert patched == after.of(viewer) and view_hash(patched) == steps[viewer].hash
        views = after
    assert views.of(None)["legal"] == [] and views.of(None)["you"] is None


def test_the_generated_record_builder_copies_every_other_field() -> None:
    from dataclasses import replace

    import pytest

    from game.core.match import _moved, _record_builder

    match = handle(play(started("connect4"), [3, 3], T0), Presence("bob", False), T0).match
    built = _moved(match, match.position, (1, 2), 9, 8, (), 123)
    assert built == replace(match, moves=(1, 2), version=9, turn_version=8, recent=(),
                            deadline=123)
    with pytest.raises(TypeError):
        _record_builder("no_such_field")
