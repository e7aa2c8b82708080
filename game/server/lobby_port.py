"""The lobby as the server uses it: quick-match queues and rooms, awaited.

One process keeps them in memory (`LocalLobby`, around the pure `game.core.lobby`);
the Redis mode keeps them in Redis (`game.server.cluster.lobby`), where a pairing or
a room is shared by every process.
"""

from __future__ import annotations

from typing import Protocol

from game.core.lobby import Lobby, Pairing, RoomEntry


class LobbyPort(Protocol):
    async def enqueue(self, player: str, game: str) -> Pairing | None:
        """Queue `player`; a pairing when someone was waiting for the same game.
        Raises `already_queued` when the player waits already."""
        ...

    async def dequeue(self, player: str) -> str | None:
        """Take `player` out of any queue; the game they were waiting for, if any."""
        ...

    async def first_waiting(self, game: str) -> str | None:
        """Who the next player to queue would be paired with, when this process can
        tell (None: nobody, or not known here)."""
        ...

    async def open_room(self, game: str, match: str, owner: str, expires_at: int,
                        address: str) -> RoomEntry: ...

    async def room(self, code: str) -> RoomEntry:
        """The open room with that code; raises `unknown_room`."""
        ...

    async def close_room(self, code: str) -> None: ...

    def forget_room(self, code: str) -> None:
        """Close the room without waiting for it to be closed (a match ended)."""
        ...

    async def open_rooms_at(self, address: str) -> int: ...


class LocalLobby:
    """The lobby of one process: every call is atomic on its event loop."""

    def __init__(self, core: Lobby | None = None) -> None:
        self.core = core or Lobby()

    async def enqueue(self, player: str, game: str) -> Pairing | None:
        return self.core.enqueue(player, game)

    async def dequeue(self, player: str) -> str | None:
        return self.core.dequeue(player)

    async def first_waiting(self, game: str) -> str | None:
        return self.core.first_waiting(game)

    async def open_room(self, game: str, match: str, owner: str, expires_at: int,
                        address: str) -> RoomEntry:
        return self.core.open_room(game, match, owner, expires_at, address)

    async def room(self, code: str) -> RoomEntry:
        return self.core.room(code)

    async def close_room(self, code: str) -> None:
        self.core.close_room(code)

    def forget_room(self, code: str) -> None:
        self.core.close_room(code)

    async def open_rooms_at(self, address: str) -> int:
        return self.core.open_rooms_at(address)
