"""The Redis the cluster tests run on: one redis-server, or a local 3-master Cluster."""

from __future__ import annotations

import pytest

from tests.redis_support import (  # noqa: F401  (fixtures)
    RedisClusterProcs,
    RedisServer,
    redis_cluster_fixture,
    redis_fixture,
)


@pytest.fixture(params=["redis", "redis_cluster"])
def backend(request: pytest.FixtureRequest) -> RedisServer | RedisClusterProcs:
    """Each test that asks for it runs twice: on one Redis and on a Cluster."""
    found: RedisServer | RedisClusterProcs = request.getfixturevalue(request.param)
    return found
