"""The `store` fixture: each store test runs on both embedded stores (memory, SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from game.store.base import Store
from game.store.memory import MemoryStore
from game.store.sqlite import SQLiteStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(
        str(tmp_path / "db.sqlite3"))
    await made.open()
    yield made
    await made.close()
