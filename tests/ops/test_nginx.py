"""Behind a real reverse proxy (issue 18): Debian's nginx, running docs/deploy/nginx.conf
with its ports and paths substituted, in front of a real server that trusts it.

Whole games are played through it (TLS, both codecs, a browser's Origin), static files
and /healthz come through it, it refuses what the server would refuse, and the
per-address limits count the client that nginx names in X-Forwarded-For, never what a
client writes there itself. Clients connect from distinct loopback addresses (127.0.0.2,
127.0.0.3) so that each is a different client to nginx; 127.0.0.1 is nginx's own
address, the one the server trusts.

Needs `nginx` and `openssl` on PATH (scripts/test installs them); in CI their absence
fails these tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from game.server.settings import Settings
from tests.hostile.harness import assert_clean_logs, wait_until
from tests.server.test_play import C4_DRAW
from tests.support import (
    ROOT,
    Client,
    ServerProcess,
    connect,
    free_port,
    play_out,
    seated,
    start_server,
    stop_process,
)

NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None)
OPENSSL = shutil.which("openssl")
SITE = ROOT / "docs" / "deploy" / "nginx.conf"
IN_CI = bool(os.environ.get("CI"))

CLIENT_A, CLIENT_B = "127.0.0.2", "127.0.0.3"
"""Two clients of nginx; 127.0.0.1 is nginx itself (and trusted)."""
FORGED = "203.0.113.9"


@pytest.fixture(autouse=True)
def _require_nginx() -> None:
    if NGINX is None or OPENSSL is None:
        if IN_CI:
            pytest.fail("nginx / openssl missing: scripts/test installs them")
        pytest.skip("nginx is not installed")


# ---- nginx ---------------------------------------------------------------------------


def site_config(upstream: int, https: int, http: int, cert: Path, key: Path) -> str:
    """docs/deploy/nginx.conf for this test: each directive it changes must be there
    once, so the shipped file cannot drift away from what is tested."""
    lines = SITE.read_text().splitlines()
    for old, new in (
        ("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("ssl_certificate /etc/letsencrypt/live/game.example.org/fullchain.pem;",
         f"ssl_certificate {cert};"),
        ("ssl_certificate_key /etc/letsencrypt/live/game.example.org/privkey.pem;",
         f"ssl_certificate_key {key};"),
    ):
        found = [index for index, line in enumerate(lines) if " ".join(line.split()) == old]
        assert len(found) == 1, f"{SITE} no longer has `{old}` exactly once"
        lines[found[0]] = f"    {new}"
    return "\n".join(lines)


def main_config(directory: Path, site: str) -> str:
    """A whole nginx.conf around the site: every path in `directory`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp dir
    temps = "\n".join(f"    {kind}_temp_path {directory / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {directory / 'nginx.pid'};\n"
            f"error_log {directory / 'error.log'} info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log {directory / 'access.log'};\n{temps}\n{site}\n}}\n")


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    assert OPENSSL is not None
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


@dataclass
class Nginx:
    directory: Path
    https: int
    http: int
    process: subprocess.Popen[bytes] | None = None

    def start(self, conf: str) -> None:
        assert NGINX is not None
        path = self.directory / "nginx.conf"
        path.write_text(conf)
        command = [NGINX, "-p", str(self.directory), "-e", str(self.directory / "error.log"),
                   "-c", str(path)]
        checked = subprocess.run([*command, "-t"], capture_output=True, timeout=30)
        assert checked.returncode == 0, checked.stderr.decode()
        self.process = subprocess.Popen([*command, "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not _listening(self.https):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {self.errors()[-2000:]}")
            time.sleep(0.05)  # polling a starting process: there is no event to wait on

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process, 15)

    def errors(self) -> str:
        log = self.directory / "error.log"
        return log.read_text() if log.exists() else ""


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Proxied(ServerProcess):
    """The game as its players reach it: through nginx, over TLS (`connect` takes it)."""

    @property
    def http(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"wss://127.0.0.1:{self.port}/ws"


@dataclass
class Stack:
    server: ServerProcess
    nginx: Nginx
    front: Proxied
    tls: ssl.SSLContext


@contextlib.contextmanager
def behind_nginx(tmp: Path, **settings: Any) -> Iterator[Stack]:
    """A server that trusts 127.0.0.1, and nginx (docs/deploy/nginx.conf) in front of it."""
    tmp.mkdir(parents=True, exist_ok=True)
    server = start_server(tmp, trusted_proxies=["127.0.0.1"], **settings)
    directory = tmp / "nginx"
    directory.mkdir()
    nginx = Nginx(directory, free_port(), free_port())
    try:
        cert, key = self_signed(directory)
        nginx.start(main_config(directory, site_config(server.port, nginx.https, nginx.http,
                                                       cert, key)))
        front = Proxied(nginx.https, {}, server.log_path)
        yield Stack(server, nginx, front, ssl.create_default_context(cafile=str(cert)))
    finally:
        nginx.stop()
        server.stop()
    assert_clean_logs(server)
    assert "[emerg]" not in nginx.errors() and "[crit]" not in nginx.errors(), nginx.errors()


@contextlib.asynccontextmanager
async def player(stack: Stack, codec: str = "json", host: str = CLIENT_A,
                 forged: str | None = None) -> AsyncIterator[Client]:
    """A client of nginx from `host`, sending a browser's Origin (and, if `forged`, an
    X-Forwarded-For of its own)."""
    headers = {"X-Forwarded-For": forged} if forged else {}
    async with connect(stack.front, codec, ssl=stack.tls, origin=stack.front.http,
                       local_addr=(host, 0), additional_headers=headers) as client:
        yield client


async def refused_status(stack: Stack, host: str, forged: str | None = None) -> int:
    """The HTTP status of a WebSocket handshake through nginx that must be refused."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with player(stack, host=host, forged=forged):
            pass
    return int(refused.value.response.status_code)


def refusals(server: ServerProcess) -> list[dict[str, Any]]:
    events = []
    for line in server.logs().splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if event.get("event") == "connection_refused":
                events.append(event)
    return events


# ---- whole games ---------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_a_whole_game_through_nginx(tmp_path: Path, codec: str) -> None:
    """Two players (each from its own address, with a browser's Origin: nginx must pass
    Host with its port) fill a connect-four board to a draw over wss through nginx; the
    test client checks every patch's version and hash on the way."""
    with behind_nginx(tmp_path) as stack:
        async with player(stack, codec, CLIENT_A) as a, player(stack, codec, CLIENT_B) as b:
            assert a.ws.subprotocol == f"game.v1.{codec}"
            match, seats = await seated(a, b, "connect4")
            await play_out(seats, match, C4_DRAW)
            for client in (a, b):
                view = await client.until_view(match, lambda v: v["status"] == "finished")
                assert view["result"]["reason"] == "draw" and view["moves"] == C4_DRAW
                assert client.versions[match] >= len(C4_DRAW)
        access = stack.nginx.directory / "access.log"

        async def both_logged() -> bool:  # nginx logs a WebSocket once it has ended
            return access.read_text().count('"GET /ws HTTP/1.1" 101') == 2

        await wait_until(both_logged, what="nginx's access log lines for both sockets")


async def test_static_files_and_healthz_through_nginx(tmp_path: Path) -> None:
    with behind_nginx(tmp_path) as stack, httpx.Client(verify=stack.tls, timeout=10) as http:
        page = http.get(f"{stack.front.http}/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        script = http.get(f"{stack.front.http}/js/app.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        health = http.get(f"{stack.front.http}/healthz")
        assert health.status_code == 200 and health.json()["ok"] is True
        plain = http.get(f"http://127.0.0.1:{stack.nginx.http}/healthz")
        assert plain.status_code == 301
        assert plain.headers["location"].startswith("https://127.0.0.1")


async def test_nginx_refuses_what_the_server_would(tmp_path: Path) -> None:
    """Bodies over 64 KiB and heads over nginx's 12 KiB never reach the server."""
    with behind_nginx(tmp_path) as stack, httpx.Client(verify=stack.tls, timeout=10) as http:
        mark = len(stack.server.logs())
        body = http.post(f"{stack.front.http}/api/matches", content=b"x" * (65 * 1024))
        assert body.status_code == 413 and "nginx" in body.text
        head = http.get(f"{stack.front.http}/healthz",
                        headers={f"X-Pad-{index}": "y" * 3000 for index in range(5)})
        assert head.status_code in (400, 494) and "nginx" in head.text
        fits = http.get(f"{stack.front.http}/healthz", headers={"X-Pad": "y" * 3000})
        assert fits.status_code == 200
        assert "http_request_refused" not in stack.server.logs()[mark:]


# ---- the client address: X-Forwarded-For from nginx only -----------------------------


async def test_per_address_cap_counts_the_client_nginx_names(tmp_path: Path) -> None:
    """Cap 2 per address: nginx's own address (every socket's peer) is never capped,
    each client is, and what a client writes in X-Forwarded-For itself is believed only
    if the client is on a trusted address (right-most untrusted entry)."""
    with behind_nginx(tmp_path, max_connections_per_address=2) as stack:
        async with contextlib.AsyncExitStack() as open_sockets:
            first = await open_sockets.enter_async_context(player(stack, host=CLIENT_A))
            await first.hello("a1")
            second = await open_sockets.enter_async_context(player(stack, host=CLIENT_A))
            await second.hello("a2")
            assert await refused_status(stack, CLIENT_A) == 403
            # CLIENT_B claims to be CLIENT_A and FORGED: nginx appends CLIENT_B, the
            # right-most untrusted entry, so the claim changes nothing
            for forged in (CLIENT_A, f"{FORGED}, {CLIENT_A}"):
                other = await open_sockets.enter_async_context(
                    player(stack, host=CLIENT_B, forged=forged))
                await other.hello("b")
            assert await refused_status(stack, CLIENT_B, forged=FORGED) == 403
            # a client on the trusted address is a proxy too: its entry is believed
            assert await refused_status(stack, "127.0.0.1", forged=CLIENT_A) == 403
            trusted = await open_sockets.enter_async_context(
                player(stack, host="127.0.0.1", forged=FORGED))
            await trusted.hello("t")
            # 5 WebSockets through nginx, all from 127.0.0.1 to the server
            assert (await _health(stack))["sockets"] == 5
            await first.close()
            await wait_until(lambda: _admitted(stack, CLIENT_A), what="CLIENT_A's slot freed")
        refused = {event["address"] for event in refusals(stack.server)
                   if event["cap"] == "max_connections_per_address"}
        assert refused == {CLIENT_A, CLIENT_B}, refusals(stack.server)


async def _health(stack: Stack) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=stack.tls, timeout=10) as http:
        response = await http.get(f"{stack.front.http}/healthz")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


async def _admitted(stack: Stack, host: str) -> bool:
    try:
        async with player(stack, host=host) as client:
            await client.hello("again")
    except websockets.InvalidStatus:
        return False
    return True


async def test_the_http_rate_counts_the_client_nginx_names(tmp_path: Path) -> None:
    with behind_nginx(tmp_path, http_request_burst=3, http_requests_per_second=0.01) as stack:

        async def status(host: str, forged: str | None = None) -> int:
            transport = httpx.AsyncHTTPTransport(local_address=host, verify=stack.tls)
            headers = {"X-Forwarded-For": forged} if forged else {}
            async with httpx.AsyncClient(transport=transport, timeout=10) as http:
                return (await http.get(f"{stack.front.http}/healthz", headers=headers)).status_code

        assert [await status(CLIENT_A) for _ in range(3)] == [200] * 3
        assert await status(CLIENT_A) == 429
        assert await status(CLIENT_A, forged=FORGED) == 429  # the claim changes nothing
        assert await status(CLIENT_B, forged=CLIENT_A) == 200
        logged = [line for line in stack.server.logs().splitlines() if "http_rate_limited" in line]
        assert len(logged) == 1 and CLIENT_A in logged[0], logged


# ---- without nginx: a forged header changes nothing ----------------------------------


@pytest.mark.parametrize(("trusted", "host"), [([], "127.0.0.1"), (["127.0.0.1"], CLIENT_A)],
                         ids=["nobody-trusted", "untrusted-peer"])
async def test_a_direct_client_with_a_forged_header_is_counted_as_itself(
    tmp_path: Path, trusted: list[str], host: str,
) -> None:
    """Each socket claims another address: the connection cap, and then the new-player
    limit (which uses the WebSocket's address), still count the real one."""
    server = start_server(tmp_path, trusted_proxies=trusted, max_connections_per_address=2,
                          new_players_per_address_per_minute=2)
    try:

        def direct(index: int) -> contextlib.AbstractAsyncContextManager[Client]:
            return connect(server, local_addr=(host, 0),
                           additional_headers={"X-Forwarded-For": f"198.51.100.{index}"})

        async with contextlib.AsyncExitStack() as open_sockets:
            first = await open_sockets.enter_async_context(direct(1))
            await first.hello("one")
            second = await open_sockets.enter_async_context(direct(2))
            await second.hello("two")
            with pytest.raises(websockets.InvalidStatus) as refused:
                await open_sockets.enter_async_context(direct(3))
            assert refused.value.response.status_code == 403
            await first.close()
            admitted: list[Client] = []

            async def next_admitted() -> bool:
                try:
                    admitted.append(await open_sockets.enter_async_context(direct(4)))
                except websockets.InvalidStatus:
                    return False
                return True

            await wait_until(next_admitted, what="the first socket's slot freed")
            answer = await admitted[0].request({"type": "hello", "name": "three"})
            assert answer["type"] == "error" and answer["code"] == "rate_limited", answer
        events = refusals(server)
        assert events and {event["address"] for event in events} == {host}, events
    finally:
        server.stop()
    assert_clean_logs(server)


def _get(sock: socket.socket, forwarded: str) -> int:
    """One keep-alive GET /healthz on `sock` naming `forwarded`; its status."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: game\r\n"
                 b"X-Forwarded-For: " + forwarded.encode() + b"\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed without a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines
                   if line.lower().startswith("content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed inside a response body"
        body += chunk
    return int(lines[0].split()[1])


def test_a_kept_alive_proxy_socket_counts_each_request_under_its_client(
    tmp_path: Path,
) -> None:
    """A proxy with an upstream keep-alive pool sends different clients' requests on one
    socket: each request moves the socket to its client's count (cap 1 per address), and
    the proxy's own address is never counted, however many sockets it opens."""
    server = start_server(tmp_path, trusted_proxies=["127.0.0.1"], max_connections_per_address=1)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as pooled:
            assert _get(pooled, "192.0.2.1") == 200
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
                assert _get(other, "192.0.2.1") == 403  # the pooled socket is 192.0.2.1's
            assert _get(pooled, "192.0.2.2") == 200  # now 192.0.2.2's: 192.0.2.1 is free
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
                assert _get(other, "192.0.2.1") == 200
                with socket.create_connection(("127.0.0.1", server.port), timeout=10) as third:
                    assert _get(third, "192.0.2.2") == 403
    finally:
        server.stop()
    assert_clean_logs(server)
    assert {event["address"] for event in refusals(server)} == {"192.0.2.1", "192.0.2.2"}


async def test_http_routes_see_the_client_nginx_names_and_a_forger_as_itself(
    tmp_path: Path,
) -> None:
    """The app's `request.client` (what the admin API logs a refused token under) follows
    the same rule: through nginx, the client it names; on a server that trusts nobody (the
    default), a direct peer on 127.0.0.1 as itself, forged header or not (uvicorn's own
    proxy-header support believes 127.0.0.1 by default)."""
    token = "t" * 32
    with behind_nginx(tmp_path / "proxied", admin_token=token) as stack:
        transport = httpx.AsyncHTTPTransport(local_address=CLIENT_A, verify=stack.tls)
        async with httpx.AsyncClient(transport=transport, timeout=10) as http:
            answer = await http.get(f"{stack.front.http}/api/admin/matches",
                                    headers={"X-Forwarded-For": FORGED})
            assert answer.status_code == 401
        assert _admin_refusals(stack.server) == {CLIENT_A}
    server = start_server(tmp_path, admin_token=token)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(f"{server.http}/api/admin/matches",
                                    headers={"X-Forwarded-For": FORGED})
            assert answer.status_code == 401
        assert _admin_refusals(server) == {"127.0.0.1"}
    finally:
        server.stop()


def _admin_refusals(server: ServerProcess) -> set[str]:
    addresses = set()
    for line in server.logs().splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if event.get("event") == "admin_refused":
                addresses.add(str(event["address"]))
    return addresses


def _directive(block: str, name: str) -> str:
    found = re.findall(rf"^\s*{name}\s+([^;]+);", block, re.MULTILINE)
    assert len(found) == 1, f"{name}: {found}"
    return str(found[0]).strip()


def _size(value: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def test_the_shipped_limits_fit_the_servers_defaults() -> None:
    """nginx must wait longer than the server's ping interval plus timeout before it
    calls a quiet WebSocket dead, and refuse no less than the server would."""
    settings = Settings()
    text = SITE.read_text()
    socket_block = text[text.index("location = /ws {"):]
    socket_block = socket_block[:socket_block.index("}")]
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        seconds = int(_directive(socket_block, name).rstrip("s"))
        assert seconds > settings.ping_interval + settings.ping_timeout, name
    assert _directive(socket_block, "proxy_buffering") == "off"
    assert _size(_directive(text, "client_max_body_size")) == settings.max_request_body_bytes
    count, size = _directive(text, "large_client_header_buffers").split()
    assert int(count) * _size(size) < settings.max_request_head_bytes
