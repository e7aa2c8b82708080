"""Stateful property test of the pure match core (`game.core.match.handle`).

Random sequences of commands from two seated players, a stranger and spectators,
with time moving on, must keep every invariant the server relies on:

* the version never goes down, and grows by exactly one per change;
* nothing any viewer can see changes without a version change;
* the board is the replay of the move history with game.rules;
* a finished match never changes its board, moves or result;
* each viewer's view patched with the ops of `game.core.views.updates` equals its
  fresh view, and the hash of the patched view is the one announced.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from game.core.match import (
    Command,
    Join,
    Match,
    OfferRematch,
    Phase,
    PlayMove,
    Presence,
    Resign,
    Seat,
    SetWatchers,
    Tick,
    TimeControl,
    handle,
    new_match,
)
from game.core.views import VIEWERS, Views, updates, view_for, views_of
from game.protocol.patch import apply_patch, view_hash
from game.rules import GAMES, get_rules

CLOCKS = TimeControl(turn_ms=60_000, first_move_ms=30_000, grace_ms=20_000, room_ttl_ms=600_000)
PLAYERS = ("alice", "bob", "carol")  # carol never holds a seat unless she joins a room
START = 1_800_000_000_000

refs = st.none() | st.integers(0, 3) | st.sampled_from(["a", "b", "0"])
steps = st.sampled_from([0, 1, 999, 1_000, 19_999, 20_000, 29_999, 30_000, 60_000, 600_000])


def test_a_command_at_expiry_bumps_the_version_once() -> None:
    """Expiry and the command it meets are one transition, so one version: the one
    published patch must not skip a version (found by the state machine below)."""
    match = new_match("m", "tictactoe", CLOCKS, START,
                      (Seat("alice", "Alice"), Seat("bob", "Bob")))
    transition = handle(match, OfferRematch("alice"), START + CLOCKS.first_move_ms)
    assert transition.changed
    assert transition.match.version == match.version + 1


class MatchMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.match: Match
        self.now = START
        self.views: Views
        self.frozen: tuple[Any, ...] | None = None
        self.commands = 0

    @initialize(game=st.sampled_from(list(GAMES)), room=st.booleans())
    def start(self, game: str, room: bool) -> None:
        seats = (Seat("alice", "Alice"), None if room else Seat("bob", "Bob"))
        self.match = new_match("m1", game, CLOCKS, self.now, seats)
        self.views = views_of(self.match)

    # ---- the commands ----------------------------------------------------------------

    def apply(self, command: Command) -> None:
        before, views_before = self.match, self.views
        transition = handle(before, command, self.now)
        after = transition.match
        self.commands += 1
        # the version never goes down; it grows by exactly one per change
        if transition.changed:
            grew = after.version - before.version
            assert grew == 1, (command, before.version, after.version)
        else:
            assert after == before, command
        if transition.ack_version is not None:
            assert transition.ack_version <= after.version
        if transition.error is not None:
            assert after.moves == before.moves, command
            assert transition.ack_version is None
        # every viewer's patched view is its fresh view, with the announced hash
        views_after, steps_ = updates(views_before, after)
        for viewer in VIEWERS:
            step = steps_[viewer]
            fresh = view_for(after, viewer)
            assert views_after.of(viewer) == fresh
            patched = apply_patch(views_before.of(viewer), step.ops)
            assert patched == fresh, (viewer, command, step.ops)
            assert view_hash(patched) == step.hash
            if not transition.changed:
                assert fresh == views_before.of(viewer), (viewer, command)
        self.match = after
        self.views = views_after
        if after.result is not None:
            event(f"finished: {after.result.reason.value}")

    @rule(player=st.sampled_from(PLAYERS), pick=st.integers(0, 10), legal=st.booleans(),
          version=st.none() | st.integers(-2, 2), ref=refs)
    def play(self, player: str, pick: int, legal: bool, version: int | None,
             ref: str | int | None) -> None:
        moves = self.match.position.legal_moves()
        move = moves[pick % len(moves)] if legal and moves else pick - 1
        at = None if version is None else max(0, self.match.version + version)
        self.apply(PlayMove(player, move, at, ref))

    @rule(pick=st.integers(0, 10), stale=st.booleans(), ref=refs)
    def play_in_turn(self, pick: int, stale: bool, ref: str | int | None) -> None:
        """The seat to move plays a legal move (on the current version, or a stale one)."""
        turn = self.match.position.to_move
        seat = self.match.seats[turn] if turn is not None else None
        if seat is None:
            return
        moves = self.match.position.legal_moves()
        version = self.match.version - 1 if stale else self.match.version
        self.apply(PlayMove(seat.player, moves[pick % len(moves)], version, ref))

    @rule(player=st.sampled_from(PLAYERS))
    def resign(self, player: str) -> None:
        self.apply(Resign(player))

    @rule(player=st.sampled_from(PLAYERS))
    def rematch(self, player: str) -> None:
        self.apply(OfferRematch(player))

    @rule(player=st.sampled_from(PLAYERS), online=st.booleans())
    def presence(self, player: str, online: bool) -> None:
        self.apply(Presence(player, online))

    @rule(count=st.integers(0, 4))
    def watchers(self, count: int) -> None:
        self.apply(SetWatchers(count))

    @rule(player=st.sampled_from(PLAYERS))
    def join(self, player: str) -> None:
        self.apply(Join(Seat(player, player.title())))

    @rule(step=steps)
    def tick(self, step: int) -> None:
        self.now += step
        self.apply(Tick())

    @rule(step=steps)
    def time_passes(self, step: int) -> None:
        """Time moves on without a tick: the next command finds the deadline passed."""
        self.now += step

    @precondition(lambda self: self.match.phase is Phase.FINISHED)
    @rule()
    def is_final(self) -> None:
        assert self.match.next_wakeup() is None
        assert self.match.turn is None and self.match.deadline is None

    # ---- invariants ------------------------------------------------------------------

    @invariant()
    def board_is_the_replay_of_the_moves(self) -> None:
        if not hasattr(self, "match"):
            return
        played = [m for m in self.match.moves if m is not None]  # None: a pass
        replayed = get_rules(self.match.game).replay(played)
        assert replayed == self.match.position
        assert self.match.position.board() == self.views.shared["board"]
        assert self.views.shared["moves"] == list(self.match.moves)
        if self.match.phase is Phase.FINISHED and self.match.result is not None:
            outcome = replayed.outcome
            if self.match.result.reason.value in ("line", "draw", "score"):
                assert outcome is not None
                assert outcome.winner == self.match.result.winner

    @invariant()
    def a_finished_match_never_changes(self) -> None:
        if not hasattr(self, "match") or self.match.phase is not Phase.FINISHED:
            return
        state = (self.match.position, self.match.moves, self.match.result)
        if self.frozen is None:
            self.frozen = state
        assert state == self.frozen

    @invariant()
    def seats_are_distinct_players(self) -> None:
        if not hasattr(self, "match"):
            return
        players = [s.player for s in self.match.seats if s is not None]
        assert len(players) == len(set(players))
        if self.match.phase is Phase.ACTIVE:
            assert None not in self.match.seats


MatchMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestMatchCore = MatchMachine.TestCase
