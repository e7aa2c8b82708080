from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import ServerProcess, start_server

# No per-example deadline: speed is measured in benchmarks, not in tests, and a shared
# 2-core machine under load made Hypothesis fail correct code on its 200 ms default.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture(params=["json", "msgpack"])
def codec(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server process (uvicorn, in-memory store) shared by a test module."""
    proc = start_server(Path(tmp_path_factory.mktemp("server")))
    yield proc
    proc.stop()
