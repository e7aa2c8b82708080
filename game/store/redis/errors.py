"""The one error every Redis building block raises when Redis cannot answer."""

from __future__ import annotations

import asyncio

from redis import exceptions as rexc


class StoreUnavailable(Exception):
    """Redis did not answer in time (down, restarting, unreachable, loading, failing
    over). The operation may or may not have been applied: callers retry the same
    command (the version compare makes a repeated commit harmless)."""


class CrossSlotCommit(ValueError):
    """`commit_many` on a Redis Cluster was given matches whose keys hash to different
    slots, so no one script can write them together. Derive a rematch's id with
    `rematch_id(old_id)` so it shares the old match's hash tag."""


UNAVAILABLE: tuple[type[BaseException], ...] = (
    rexc.ConnectionError,  # also BusyLoadingError, AuthenticationError, MaxConnectionsError
    rexc.TimeoutError,
    rexc.ClusterDownError,  # also MasterDownError
    rexc.TryAgainError,
    rexc.ClusterError,
    rexc.RedisClusterException,
    rexc.ReadOnlyError,  # a replica just promoted or demoted
    rexc.OutOfMemoryError,  # Redis refuses writes at its memory limit
    ConnectionResetError,
    OSError,
    asyncio.TimeoutError,
)
"""What redis-py raises when Redis (or the network) is not there: mapped to
`StoreUnavailable`. A `ResponseError` from a script (a bug) is not among them."""
