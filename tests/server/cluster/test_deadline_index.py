"""Which commits write the shared deadline index (`moves_deadline_earlier`): only those
that bring the next deadline earlier, finish the match, or hand the turn to a bot."""

from __future__ import annotations

from game.core.match import PlayMove, Presence, Seat, TimeControl, handle, new_match
from game.server.cluster.hub import moves_deadline_earlier

CLOCKS = TimeControl(turn_ms=60_000, first_move_ms=30_000, grace_ms=10_000, room_ttl_ms=60_000)
PEOPLE = (Seat("a", "A"), Seat("b", "B"))


def test_a_move_pushes_the_deadline_later_and_writes_nothing() -> None:
    start = new_match("m", "connect4", CLOCKS, 0, PEOPLE)
    first = handle(start, PlayMove("a", 3, start.version), 1_000).match
    second = handle(first, PlayMove("b", 3, first.version), 2_000).match
    assert second.next_wakeup() is not None and first.next_wakeup() is not None
    assert not moves_deadline_earlier(first, second)


def test_a_grace_period_a_finish_and_a_bots_turn_write_it() -> None:
    start = new_match("m", "connect4", CLOCKS, 0, PEOPLE)
    moved = handle(start, PlayMove("a", 3, start.version), 1_000).match
    offline = handle(moved, Presence("b", False), 1_500).match
    grace_end, turn_end = offline.next_wakeup(), moved.next_wakeup()
    assert grace_end is not None and turn_end is not None
    assert grace_end < turn_end  # the grace ends before the turn would
    assert moves_deadline_earlier(moved, offline)
    match, before = offline, offline
    for index, column in enumerate([4, 3, 4, 3, 5, 3]):  # a's fourth stone in column 3
        before = match
        match = handle(match, PlayMove("ba"[index % 2], column, match.version),
                       2_000 + index).match
    assert match.result is not None and before.result is None
    assert moves_deadline_earlier(before, match)  # finished: the entry is removed
    bot = new_match("m2", "connect4", CLOCKS, 0, (Seat("a", "A"), Seat("bot", "Bot",
                                                                        bot="easy")))
    to_bot = handle(bot, PlayMove("a", 3, bot.version), 1_000).match
    assert moves_deadline_earlier(bot, to_bot)
