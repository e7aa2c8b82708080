"""Matchmaking without I/O: quick-match queues per game and private rooms.

The lobby decides who plays whom; the server creates the matches and tells the
players. All of it runs on one event loop, so each call is atomic: a seat is
never given twice and a waiting player is never lost.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from game.protocol.errors import ErrorCode, ProtocolError

ROOM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ROOM_CODE_LENGTH = 6
_CODES = len(ROOM_ALPHABET) ** ROOM_CODE_LENGTH


@dataclass(frozen=True, slots=True)
class Pairing:
    game: str
    first: str
    second: str


@dataclass(frozen=True, slots=True)
class RoomEntry:
    code: str
    game: str
    match: str
    owner: str
    expires_at: int
    address: str = ""
    """Who opened it, as counted by `open_rooms_at` ("" for rooms restored at start)."""


class Lobby:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.SystemRandom()
        self._queues: dict[str, list[str]] = {}
        self._queued_for: dict[str, str] = {}
        self._rooms: dict[str, RoomEntry] = {}
        self._rooms_at: dict[str, int] = {}  # only addresses with open rooms: bounded

    # ---- quick match -----------------------------------------------------------------

    def enqueue(self, player: str, game: str) -> Pairing | None:
        """Queue `player`; a pairing when someone was waiting for the same game."""
        if player in self._queued_for:
            raise ProtocolError(
                ErrorCode.ALREADY_QUEUED, f"already queued for {self._queued_for[player]}"
            )
        waiting = self._queues.setdefault(game, [])
        if waiting:
            other = waiting.pop(0)
            del self._queued_for[other]
            first, second = (other, player) if self._rng.random() < 0.5 else (player, other)
            return Pairing(game, first, second)
        waiting.append(player)
        self._queued_for[player] = game
        return None

    def dequeue(self, player: str) -> str | None:
        """Take `player` out of any queue; the game they were waiting for, if any."""
        game = self._queued_for.pop(player, None)
        if game is not None:
            self._queues[game].remove(player)
        return game

    def first_waiting(self, game: str) -> str | None:
        """Who the next player to queue for `game` would be paired with."""
        waiting = self._queues.get(game)
        return waiting[0] if waiting else None

    def queued_game(self, player: str) -> str | None:
        return self._queued_for.get(player)

    def waiting(self, game: str) -> tuple[str, ...]:
        return tuple(self._queues.get(game, ()))

    # ---- private rooms ---------------------------------------------------------------

    def open_room(
        self, game: str, match: str, owner: str, expires_at: int, address: str = ""
    ) -> RoomEntry:
        code = self._new_code()
        entry = RoomEntry(code, game, match, owner, expires_at, address)
        self.restore_room(entry)
        return entry

    def restore_room(self, entry: RoomEntry) -> None:
        replaced = self._rooms.get(entry.code)
        if replaced is not None:
            self._forget(replaced)
        self._rooms[entry.code] = entry
        if entry.address:
            self._rooms_at[entry.address] = self._rooms_at.get(entry.address, 0) + 1

    def open_rooms_at(self, address: str) -> int:
        """Rooms still waiting that were opened from `address`."""
        return self._rooms_at.get(address, 0)

    def _new_code(self) -> str:
        while True:
            # one draw for the whole code (each SystemRandom draw is a syscall)
            number = self._rng.randrange(_CODES)
            letters = []
            for _ in range(ROOM_CODE_LENGTH):
                number, digit = divmod(number, len(ROOM_ALPHABET))
                letters.append(ROOM_ALPHABET[digit])
            code = "".join(letters)
            if code not in self._rooms:
                return code

    def room(self, code: str) -> RoomEntry:
        entry = self._rooms.get(normalise_code(code))
        if entry is None:
            raise ProtocolError(ErrorCode.UNKNOWN_ROOM, "no open room has that code")
        return entry

    def close_room(self, code: str) -> RoomEntry | None:
        entry = self._rooms.pop(code, None)
        if entry is not None:
            self._forget(entry)
        return entry

    def _forget(self, entry: RoomEntry) -> None:
        if not entry.address:
            return
        left = self._rooms_at.get(entry.address, 1) - 1
        if left > 0:
            self._rooms_at[entry.address] = left
        else:
            self._rooms_at.pop(entry.address, None)

    def rooms(self) -> tuple[RoomEntry, ...]:
        return tuple(self._rooms.values())

    def expire_rooms(self, now: int) -> list[RoomEntry]:
        gone = [entry for entry in self._rooms.values() if entry.expires_at <= now]
        for entry in gone:
            del self._rooms[entry.code]
            self._forget(entry)
        return gone


def normalise_code(code: str) -> str:
    return code.strip().upper()
