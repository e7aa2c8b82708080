"""Which client a request comes from when a reverse proxy we trust forwarded it.

Behind nginx every socket's peer is the proxy, so per-address limits keyed on the peer
would put every player under one address. A proxy names the client in
`X-Forwarded-For`, appending the address of whoever connected to it; but the header
arrives with whatever the client itself put there first, so only entries written by
trusted proxies mean anything. The rule (the standard one, as uvicorn and nginx's
`real_ip_recursive` apply it): the socket's peer must be trusted, then walk the header
from the right and take the first address that is not itself a trusted proxy. A peer
that is not trusted is the client, whatever it sends.

An entry there that is not an IP address means a misconfigured proxy (a client's
garbage can only end up right of the trusted entries if a trusted proxy passed it on
unchecked): the peer is then the client, and the operator is told once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import structlog

log = structlog.get_logger("game.http")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HEADER = b"x-forwarded-for"


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """`trusted_proxies` as networks: an address is a network of one (ValueError if
    an entry is neither)."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]


def parse_address(entry: str) -> IPAddress | None:
    """One X-Forwarded-For entry: an address, with or without a port (`1.2.3.4:5`,
    `[::1]:5`), or None if it is none of these."""
    entry = entry.strip()
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        ip = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class TrustedProxies:
    """The `trusted_proxies` setting, and the client address of a request."""

    __slots__ = ("_networks", "_warned")

    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = parse_networks(entries)
        self._warned = False

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: str) -> bool:
        """Is this socket peer a proxy whose X-Forwarded-For we believe?"""
        if not self._networks:
            return False
        ip = parse_address(address)
        return ip is not None and self._trusted(ip)

    def _trusted(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self._networks)

    def client(self, peer: str, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The client address of a request whose socket peer is `peer` (header names in
        lower case, as uvicorn keeps them). Without a trusted peer, the peer."""
        if not self.trusts(peer):
            return peer
        entries = [entry for name, value in headers if name == HEADER
                   for entry in value.decode("latin-1").split(",") if entry.strip()]
        found: IPAddress | None = None
        for entry in reversed(entries):
            ip = parse_address(entry)
            if ip is None:
                self._unusable(peer, entry)
                return peer
            found = ip
            if not self._trusted(ip):
                break
        # all trusted: the left-most is where the request came from (a proxy's own)
        return peer if found is None else str(found)

    def _unusable(self, peer: str, entry: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("forwarded_for_unusable", proxy=peer, entry=entry.strip()[:100],
                        hint="the trusted proxy must set X-Forwarded-For to "
                        "$proxy_add_x_forwarded_for; counting the proxy's address instead")
