"""Key names, designed for Redis Cluster: everything one script touches shares a
`{hash tag}`.

- A match's keys (record, patch history, pub/sub channel, watcher counts, bot leases)
  are tagged with the match's *tag*: its id up to the first `.`. A rematch's id is
  `rematch_id(old)`, `<old tag>.<random>`, so the agreeing offer on the old match and
  the new match are written by one script on one slot, atomically.
- A game's ratings in one pool (players' ratings, leaderboards, rated-match markers)
  share `{rt:<game>:<pool>}`, so one script updates both players of a match.
- Quick-match queues of every game share `{lobby}` (so "already queued for another
  game" is one atomic check); presence and deadlines are spread over tagged buckets.
"""

from __future__ import annotations

import secrets
import zlib

SEPARATOR = "."
"""Splits a match id into its hash tag and the rest (not in `token_urlsafe` output)."""


def match_tag(match_id: str) -> str:
    """The hash tag of a match: its id up to the first `.` (the whole id if none)."""
    return match_id.split(SEPARATOR, 1)[0]


def rematch_id(old_id: str) -> str:
    """A fresh id for the rematch of `old_id` that shares its hash tag (and slot)."""
    return f"{match_tag(old_id)}{SEPARATOR}{secrets.token_urlsafe(6)}"


def bucket_of(name: str, buckets: int) -> int:
    """Which of `buckets` tagged buckets `name` belongs to (stable across processes)."""
    return zlib.crc32(name.encode()) % buckets


def _plain(part: str, what: str) -> str:
    if not part or "{" in part or "}" in part:
        raise ValueError(f"bad {what}: {part!r}")
    return part


class Keys:
    """Every key name under one namespace (several deployments may share a Redis)."""

    __slots__ = ("ns",)

    def __init__(self, namespace: str = "game") -> None:
        self.ns = _plain(namespace, "namespace")

    # ---- one match (all under the match's tag) ------------------------------------------

    def record(self, match_id: str) -> str:
        """Hash: `v` version, `p` phase, `r` JSON record."""
        _plain(match_id, "match id")
        return f"{self.ns}:m:{{{match_tag(match_id)}}}:{match_id}"

    def history(self, match_id: str) -> str:
        """Sorted set of encoded `Patches`, scored by version."""
        return self.record(match_id) + ":h"

    def channel(self, match_id: str, follower: str) -> str:
        """Sharded pub/sub channel of the match's patches for one following process."""
        return self.channel_prefix(match_id) + _plain(follower, "follower")

    def channel_prefix(self, match_id: str) -> str:
        return self.record(match_id) + ":c:"

    def followers(self, match_id: str) -> str:
        """Set of the processes following the match (each gets its patches on its own
        channel, so a process is never sent its own commits)."""
        return self.record(match_id) + ":f"

    def watchers(self, match_id: str) -> str:
        """Hash: process id -> `count:expires_at`."""
        return self.record(match_id) + ":w"

    def bot(self, match_id: str, turn_version: int) -> str:
        """String: the token of the process thinking for the bot on that turn."""
        return self.record(match_id) + f":bot:{turn_version}"

    # ---- global --------------------------------------------------------------------------

    @property
    def live(self) -> str:
        """Sorted set: ids of matches that may be unfinished, scored by when added."""
        return f"{self.ns}:live"

    @property
    def ended(self) -> str:
        """Finished match ids by end time (epoch ms): the history's index."""
        return f"{self.ns}:ended"

    def ended_of(self, game: str | None = None, player: str | None = None) -> str:
        """The history index of one game, one player, or one player's games of one
        game (`ended` when neither): each filter of `finished_matches` reads one index."""
        if game is None and player is None:
            return self.ended
        if player is None:
            return f"{self.ended}:g:{_plain(game or '', 'game')}"
        if game is None:
            return f"{self.ended}:p:{_plain(player, 'player')}"
        return f"{self.ended}:gp:{_plain(game, 'game')}:{_plain(player, 'player')}"

    @property
    def rating_due(self) -> str:
        """Sorted set: ids of finished rated matches whose rating may not be applied yet,
        scored by when added (a superset: see `ratings.py`)."""
        return f"{self.ns}:rating-due"

    def rated_in(self, player: str) -> str:
        """Set of `pool:game` the player may have a rating in (a superset)."""
        return f"{self.ns}:rated-in:{_plain(player, 'player')}"

    @property
    def alive(self) -> str:
        return f"{self.ns}:alive"

    def player(self, token_hash: str) -> str:
        """Hash: `id`, `name` of the player whose token hashes to `token_hash`."""
        return f"{self.ns}:player:{_plain(token_hash, 'token hash')}"

    def player_id(self, player_id: str) -> str:
        """String: the token hash of the player with this id (for `/api/players/{id}`)."""
        return f"{self.ns}:player-id:{_plain(player_id, 'player id')}"

    def inbox(self, player: str) -> str:
        """Sharded channel of notices to one player (see `feed.Inbox`)."""
        return f"{self.ns}:inbox:{{{_plain(player, 'player')}}}"

    # ---- ratings of one game in one pool (all under `{rt:<game>:<pool>}`) -----------------

    def ratings_tag(self, game: str, pool: str) -> str:
        """One slot for a pool's ratings, leaderboards and rated-match markers, so one
        script rates both players and marks the match, on a Cluster too."""
        return f"{self.ns}:{{rt:{_plain(game, 'game')}:{_plain(pool, 'pool')}}}"

    def rating(self, game: str, pool: str, player: str) -> str:
        """Hash: `rating`, `rd`, `volatility`, `games`, `at` of one player."""
        return f"{self.ratings_tag(game, pool)}:p:{_plain(player, 'player')}"

    def board(self, game: str, pool: str, provisional: bool) -> str:
        """Sorted set: player -> minus rating (so that ties list by id, ascending)."""
        return f"{self.ratings_tag(game, pool)}:" + ("provisional" if provisional
                                                     else "established")

    def rated(self, game: str, pool: str) -> str:
        """Sorted set: ids of matches rated in this pool -> when (epoch ms)."""
        return f"{self.ratings_tag(game, pool)}:rated"

    # ---- lobby -----------------------------------------------------------------------------

    def queue(self, game: str) -> str:
        """List: players waiting for `game`, oldest first."""
        return f"{self.ns}:{{lobby}}:q:{_plain(game, 'game')}"

    def lobby_request(self, request: str) -> str:
        """String: the answer given to one enqueue request (for retried calls)."""
        return f"{self.ns}:{{lobby}}:r:{_plain(request, 'request')}"

    @property
    def queued(self) -> str:
        """Hash: player -> `game:expires_at` for every queued player."""
        return f"{self.ns}:{{lobby}}:queued"

    def room(self, code: str) -> str:
        """Hash of an open private room, expiring with it."""
        return f"{self.ns}:room:{_plain(code, 'room code')}"

    def rooms_at(self, address: str) -> str:
        """Sorted set: codes of rooms opened from `address`, scored by expiry."""
        return f"{self.ns}:rooms-at:{_plain(address, 'address')}"

    # ---- buckets -----------------------------------------------------------------------------

    def presence(self, bucket: int) -> str:
        """Prefix of one presence bucket's keys (see `presence.py`)."""
        return f"{self.ns}:{{presence:{bucket}}}"

    def deadlines(self, bucket: int) -> str:
        """Sorted set of one deadline bucket: member -> due time (epoch ms)."""
        return f"{self.ns}:{{deadlines:{bucket}}}"
