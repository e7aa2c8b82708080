"""The client address behind trusted proxies (game.server.forwarded): the right-most
X-Forwarded-For entry that is not a trusted proxy, and only from a trusted peer; and
the `trusted_proxies` setting. tests/ops/test_nginx.py checks the same through nginx and
a real server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from game.server.forwarded import TrustedProxies
from game.server.settings import Settings

PROXIES = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])


def xff(*values: str) -> list[tuple[bytes, bytes]]:
    return [(b"host", b"game.example.org"), *((b"x-forwarded-for", v.encode()) for v in values)]


@pytest.mark.parametrize(("peer", "headers", "client"), [
    # an untrusted peer is the client, whatever it claims
    ("192.0.2.1", xff("203.0.113.9"), "192.0.2.1"),
    ("192.0.2.1", xff(), "192.0.2.1"),
    # one trusted proxy: what it appended
    ("127.0.0.1", xff("192.0.2.7"), "192.0.2.7"),
    # a forged prefix: the right-most untrusted entry wins, not the left-most
    ("127.0.0.1", xff("203.0.113.9, 192.0.2.7"), "192.0.2.7"),
    ("127.0.0.1", xff("203.0.113.9", "192.0.2.7"), "192.0.2.7"),  # two header lines
    # a chain of trusted proxies is skipped
    ("127.0.0.1", xff("203.0.113.9, 192.0.2.7, 10.1.2.3, 10.4.5.6"), "192.0.2.7"),
    # a client on a trusted address is itself a proxy: its claim is believed
    ("127.0.0.1", xff("203.0.113.9, 127.0.0.1"), "203.0.113.9"),
    # all trusted: the left-most (the proxy's own request); no header: the peer
    ("127.0.0.1", xff("10.1.2.3, 10.4.5.6"), "10.1.2.3"),
    ("127.0.0.1", xff(), "127.0.0.1"),
    # ports and IPv6 spellings are normalised
    ("127.0.0.1", xff("192.0.2.7:5555"), "192.0.2.7"),
    ("fd00::1", xff("[2001:DB8::1]:443"), "2001:db8::1"),
    ("::ffff:127.0.0.1", xff("::ffff:192.0.2.7"), "192.0.2.7"),
    # garbage right of the trusted entries: a misconfigured proxy, counted as itself
    ("127.0.0.1", xff("192.0.2.7, unknown"), "127.0.0.1"),
    ("127.0.0.1", xff("192.0.2.7, , 10.1.2.3"), "192.0.2.7"),
])
def test_the_client_is_the_rightmost_untrusted_entry(
    peer: str, headers: list[tuple[bytes, bytes]], client: str,
) -> None:
    assert PROXIES.client(peer, headers) == client


def test_nobody_is_trusted_by_default() -> None:
    nobody = TrustedProxies(Settings().trusted_proxies)
    assert not nobody and not nobody.trusts("127.0.0.1")
    assert nobody.client("127.0.0.1", xff("203.0.113.9")) == "127.0.0.1"


@pytest.mark.parametrize(("value", "parsed"), [
    ('["127.0.0.1", "10.0.0.0/8"]', ["127.0.0.1/32", "10.0.0.0/8"]),
    ("127.0.0.1, ::1", ["127.0.0.1/32", "::1/128"]),
    ("", []),
])
def test_trusted_proxies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, parsed: list[str],
) -> None:
    monkeypatch.setenv("GAME_TRUSTED_PROXIES", value)
    assert Settings().trusted_proxies == parsed


@pytest.mark.parametrize("value", ['["nginx"]', "10.0.0.0/33", '{"a": 1}', "[1]"])
def test_a_bad_trusted_proxy_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(trusted_proxies=value)
    assert "trusted_proxies" in str(error.value)
