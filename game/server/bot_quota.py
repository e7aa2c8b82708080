"""How many bot matches one player, and one address, may have in play at once.

Bot searches are the server's scarcest resource (a few worker processes), and a
guest identity costs nothing, so the limit is per player and per address. A player's
bot matches in play are read from the hub (so rematches count too); the ledger here
only remembers which players started bot matches from which address, and forgets a
player once none of theirs is in play. It also tells the scheduler a player's address
when they are offline (`address_of`), so turns are shared fairly between addresses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import Protocol

from game.core.match import Match
from game.protocol.errors import ErrorCode, ProtocolError
from game.server.settings import Settings

SWEEP = 8
"""Oldest players checked on each admission, so the ledger never keeps many idle ones."""


class Served(Protocol):
    @property
    def match(self) -> Match: ...


class Host(Protocol):
    """What the ledger reads from the hub."""

    @property
    def settings(self) -> Settings: ...
    @property
    def player_matches(self) -> Mapping[str, set[str]]: ...
    @property
    def matches(self) -> Mapping[str, Served]: ...


class BotQuota:
    def __init__(self) -> None:
        self._address_of: OrderedDict[str, str] = OrderedDict()  # player -> address
        self._players: dict[str, set[str]] = {}  # address -> players
        self._pending: dict[str, int] = {}  # player -> admissions being created

    def __len__(self) -> int:
        return len(self._address_of)

    def address_of(self, player: str) -> str | None:
        return self._address_of.get(player)

    @contextmanager
    def admit(self, host: Host, player: str, address: str, queued: int) -> Iterator[None]:
        """Count a new bot match for `player` and `address` while the body creates it,
        or refuse it with `rate_limited`."""
        self._check(host, player, address, queued)
        self._forget(player)  # a player counts at the address of their latest match
        self._address_of[player] = address
        self._players.setdefault(address, set()).add(player)
        self._pending[player] = self._pending.get(player, 0) + 1
        try:
            yield
        finally:
            self._pending[player] -= 1
            if not self._pending[player]:
                del self._pending[player]

    def _check(self, host: Host, player: str, address: str, queued: int) -> None:
        settings = host.settings
        self._sweep(host)
        mine = self._in_play(host, player)
        if mine >= settings.max_bot_matches_per_player:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED, f"you already have {mine} bot matches in play; "
                "finish or resign one first")
        ours = sum(self._in_play(host, other) for other in self._alive(host, address))
        if ours >= settings.max_bot_matches_per_address:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED, f"{ours} bot matches are already in play from your "
                "address; finish or resign one first")
        if queued >= settings.bot_queue_limit:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED, "the bots are all busy; try again in a moment")

    def _in_play(self, host: Host, player: str) -> int:
        count = self._pending.get(player, 0)
        for match_id in host.player_matches.get(player, ()):
            served = host.matches.get(match_id)
            if served is not None and any(
                    seat is not None and seat.bot is not None for seat in served.match.seats):
                count += 1
        return count

    def _alive(self, host: Host, address: str) -> list[str]:
        """The players of `address` with bot matches in play, forgetting the others."""
        players = list(self._players.get(address, ()))
        for player in players:
            if not self._in_play(host, player):
                self._forget(player)
        return list(self._players.get(address, ()))

    def _sweep(self, host: Host) -> None:
        for player in list(islice(self._address_of, SWEEP)):
            if self._in_play(host, player):
                self._address_of.move_to_end(player)
            else:
                self._forget(player)

    def _forget(self, player: str) -> None:
        address = self._address_of.pop(player, None)
        players = self._players.get(address) if address is not None else None
        if address is not None and players is not None:
            players.discard(player)
            if not players:
                del self._players[address]
