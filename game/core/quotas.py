"""Quotas per client address, without I/O: how many new players an address may make.

Time is passed in (seconds, any monotonic origin). The table is bounded: an address
whose bucket has refilled is the same as one never seen and is forgotten, and past
`max_addresses` the least recently seen address is forgotten, so an attacker
rotating through source addresses cannot grow it without bound.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

IPV6_PREFIX = 64
"""IPv6 addresses count per /64: one host is usually given a whole /64."""


def address_key(address: str) -> str:
    """The key an address is counted under: an IPv4 address as is (also when mapped
    into IPv6), an IPv6 address by its /64, anything unparsable as the raw string."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    retry_after: float
    """Seconds until the address may make one more."""
    first: bool
    """The first refusal since the bucket was last full (log it; not the others)."""


class AddressQuota:
    """A token bucket per address key: `burst` at once (default `per_minute`),
    refilled at `per_minute` a minute."""

    def __init__(self, per_minute: float, max_addresses: int, burst: float | None = None
                 ) -> None:
        self.capacity = float(per_minute if burst is None else burst)
        self.rate = per_minute / 60.0
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> Refusal | None:
        """Spend one for `key`; None if allowed, else why not."""
        bucket = self._buckets.get(key)
        self._prune(now, keep=key)
        if bucket is None:
            while len(self._buckets) >= self.max_addresses:
                self._buckets.popitem(last=False)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= self.capacity:
                bucket.warned = False  # refilled: a new episode, worth a new log line
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        first = not bucket.warned
        bucket.warned = True
        return Refusal((1 - bucket.tokens) / self.rate, first)

    def _prune(self, now: float, keep: str) -> None:
        """Forget the least recently seen addresses whose buckets have refilled (two at
        most a call: the table shrinks back as fast as it grows, without a sweep)."""
        buckets = self._buckets
        for _ in range(2):
            oldest = next(iter(buckets), None)
            if oldest is None or oldest == keep or not self._full(buckets[oldest], now):
                return
            del buckets[oldest]

    def _full(self, bucket: _Bucket, now: float) -> bool:
        return bucket.tokens + (now - bucket.stamp) * self.rate >= self.capacity
