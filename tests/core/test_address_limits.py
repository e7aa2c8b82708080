"""The per-address bookkeeping of issue 15, finding 4, without a server: the new-player
quota (`game.core.quotas`) and the lobby's count of waiting rooms per address. Both
must stay bounded whatever addresses an attacker comes from."""

from __future__ import annotations

import random

import pytest

from game.core.lobby import Lobby
from game.core.quotas import AddressQuota, address_key


def test_a_bucket_per_address_refills_at_the_rate() -> None:
    quota = AddressQuota(per_minute=6, max_addresses=100)
    assert all(quota.take("10.0.0.1", 0.0) is None for _ in range(6))
    first = quota.take("10.0.0.1", 0.0)
    assert first is not None and first.first and first.retry_after == pytest.approx(10.0)
    again = quota.take("10.0.0.1", 1.0)
    assert again is not None and not again.first  # logged once, not per refusal
    assert quota.take("10.0.0.2", 1.0) is None  # other addresses are not affected
    assert quota.take("10.0.0.1", 10.0) is None  # one refilled after 10 s
    assert quota.take("10.0.0.1", 10.0) is not None
    # full again after a minute: a new episode is logged again
    assert all(quota.take("10.0.0.1", 80.0) is None for _ in range(6))
    late = quota.take("10.0.0.1", 80.0)
    assert late is not None and late.first


def test_the_table_stays_bounded_under_address_rotation() -> None:
    quota = AddressQuota(per_minute=2, max_addresses=500)
    rng = random.Random(1)
    for step in range(20_000):
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        quota.take(address, step * 0.001)
        assert len(quota) <= 500
    # once every bucket has refilled, ordinary traffic empties the table again
    for step in range(1000):
        quota.take("192.0.2.1", 1000.0 + step)
    assert len(quota) == 1


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("unknown", "unknown"),
])
def test_address_keys(address: str, key: str) -> None:
    assert address_key(address) == key


def test_waiting_rooms_are_counted_per_address_and_forgotten() -> None:
    lobby = Lobby(random.Random(0))
    rooms = [lobby.open_room("tictactoe", f"m{i}", f"p{i}", 100 + i, "10.0.0.1")
             for i in range(3)]
    other = lobby.open_room("tictactoe", "other", "q", 1000, "10.0.0.2")
    lobby.open_room("tictactoe", "restored", "r", 1000)  # no address: not counted
    assert lobby.open_rooms_at("10.0.0.1") == 3 and lobby.open_rooms_at("10.0.0.2") == 1
    lobby.close_room(rooms[0].code)
    lobby.close_room(rooms[0].code)  # closing twice counts once
    assert lobby.open_rooms_at("10.0.0.1") == 2
    assert [entry.code for entry in lobby.expire_rooms(150)] == [r.code for r in rooms[1:]]
    assert lobby.open_rooms_at("10.0.0.1") == 0
    lobby.close_room(other.code)
    assert lobby.open_rooms_at("10.0.0.2") == 0
    assert lobby._rooms_at == {}  # no address is remembered once its rooms are gone
