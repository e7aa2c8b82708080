"""Stateful property test of the lobby (`game.core.lobby.Lobby`) against a model.

Queues, pairings, rooms, cancellations and disconnects in any order: a player is
never seated twice (never paired with itself, never twice from one queue entry),
a waiting player is never lost, and nobody is left behind in a queue as a ghost.
"""

from __future__ import annotations

import random

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from game.core.lobby import ROOM_ALPHABET, ROOM_CODE_LENGTH, Lobby, RoomEntry
from game.protocol.errors import ErrorCode, ProtocolError

PLAYERS = [f"p{i}" for i in range(6)]
GAMES = ["tictactoe", "connect4"]


class LobbyMachine(RuleBasedStateMachine):
    codes = Bundle("codes")

    def __init__(self) -> None:
        super().__init__()
        self.lobby = Lobby(random.Random(0))
        self.queued: dict[str, str] = {}  # the model: player -> game, in arrival order
        self.rooms: dict[str, RoomEntry] = {}
        self.seated: dict[str, int] = {}  # how many matches each player was paired into
        self.entries = 0  # queue entries taken so far
        self.pairings = 0
        self.cancelled = 0

    def waiting(self, game: str) -> list[str]:
        return [player for player, wanted in self.queued.items() if wanted == game]

    # ---- quick match -----------------------------------------------------------------

    @rule(player=st.sampled_from(PLAYERS), game=st.sampled_from(GAMES))
    def enqueue(self, player: str, game: str) -> None:
        if player in self.queued:
            try:
                self.lobby.enqueue(player, game)
            except ProtocolError as error:
                assert error.code is ErrorCode.ALREADY_QUEUED
            else:
                raise AssertionError("queued twice")
            return
        waiting = self.waiting(game)
        pairing = self.lobby.enqueue(player, game)
        self.entries += 1
        if not waiting:
            assert pairing is None
            self.queued[player] = game
            return
        assert pairing is not None and pairing.game == game
        assert {pairing.first, pairing.second} == {waiting[0], player}  # first come first
        assert pairing.first != pairing.second
        del self.queued[waiting[0]]
        self.pairings += 1
        for seated in (pairing.first, pairing.second):
            self.seated[seated] = self.seated.get(seated, 0) + 1

    @rule(player=st.sampled_from(PLAYERS))
    def cancel_or_disconnect(self, player: str) -> None:
        game = self.queued.pop(player, None)
        assert self.lobby.dequeue(player) == game
        self.cancelled += game is not None
        assert self.lobby.dequeue(player) is None  # a second disconnect finds nothing

    # ---- rooms -----------------------------------------------------------------------

    @rule(target=codes, owner=st.sampled_from(PLAYERS), game=st.sampled_from(GAMES),
          expires=st.integers(0, 100))
    def open_room(self, owner: str, game: str, expires: int) -> str:
        entry = self.lobby.open_room(game, f"match-{len(self.rooms)}", owner, expires)
        assert entry.code not in self.rooms
        assert len(entry.code) == ROOM_CODE_LENGTH
        assert set(entry.code) <= set(ROOM_ALPHABET)
        self.rooms[entry.code] = entry
        return entry.code

    @rule(code=codes, lower=st.booleans())
    def find_room(self, code: str, lower: bool) -> None:
        asked = f"  {code.lower()} " if lower else code
        if code in self.rooms:
            assert self.lobby.room(asked) == self.rooms[code]
        else:
            try:
                self.lobby.room(asked)
            except ProtocolError as error:
                assert error.code is ErrorCode.UNKNOWN_ROOM
            else:
                raise AssertionError("a closed room was found")

    @rule(code=codes)
    def close_room(self, code: str) -> None:
        assert self.lobby.close_room(code) == self.rooms.pop(code, None)

    @rule(now=st.integers(0, 100))
    def expire_rooms(self, now: int) -> None:
        gone = {entry.code for entry in self.lobby.expire_rooms(now)}
        expected = {code for code, entry in self.rooms.items() if entry.expires_at <= now}
        assert gone == expected
        for code in gone:
            del self.rooms[code]

    # ---- invariants ------------------------------------------------------------------

    @invariant()
    def queues_match_the_model(self) -> None:
        for game in GAMES:
            # nobody lost, no ghost, order kept
            assert list(self.lobby.waiting(game)) == self.waiting(game)
        for player in PLAYERS:
            assert self.lobby.queued_game(player) == self.queued.get(player)

    @invariant()
    def each_queue_entry_seats_at_most_once(self) -> None:
        # each pairing consumed two entries; the others were cancelled or still wait
        assert 2 * self.pairings + len(self.queued) + self.cancelled == self.entries
        assert sum(self.seated.values()) == 2 * self.pairings

    @invariant()
    def rooms_match_the_model(self) -> None:
        assert {entry.code: entry for entry in self.lobby.rooms()} == self.rooms


LobbyMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50,
                                          deadline=None)
TestLobby = LobbyMachine.TestCase
