"""The listening socket, bound before anything else starts.

`game serve` binds it before the store is opened, so a port in use (or a host that is
not this machine's) is refused in one line with nothing opened or written; uvicorn
then serves on this very socket, so no other process can take the port in between.
"""

from __future__ import annotations

import errno
import socket

from game.server.settings import Settings

BACKLOG = 2048  # uvicorn's default
_REASONS = {
    errno.EADDRINUSE: "address already in use: another process listens there (stop it, or "
                      "choose another --port)",
    errno.EACCES: "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
    errno.EADDRNOTAVAIL: "not an address of this machine (choose another --host)",
}


class ListenError(Exception):
    """The socket could not be bound; the message is one line for the operator."""


def listen(settings: Settings, reuse_port: bool = False) -> socket.socket:
    """A socket bound to `settings.host` and `settings.port`, already listening: from
    here on the port is ours, and connections wait in the backlog until the app
    serves them. With `reuse_port`, one of the `--workers` sockets sharing the port
    (SO_REUSEPORT): the kernel spreads new connections over them."""
    return _bound(settings, reuse_port, BACKLOG)


def reserve(settings: Settings) -> socket.socket:
    """The port of `--workers`, bound but not listening (no connection waits on it):
    bound like `listen`'s, so a port in use is the same one line, and only then marked
    SO_REUSEPORT, so that the workers' sockets (`listen(reuse_port=True)`) may join it
    but a second server started by mistake with its own `--workers` may not."""
    sock = _bound(settings, False, None)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def _bound(settings: Settings, reuse_port: bool, backlog: int | None) -> socket.socket:
    where = f"{settings.host}:{settings.port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM,
            flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on {where}: host {settings.host!r} is unknown "
                          f"({error.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        # a restart may bind while the last run's connections are in TIME_WAIT
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if backlog is not None:
            sock.listen(backlog)
    except OSError as error:
        sock.close()
        reason = _REASONS.get(error.errno or 0, error.strerror or str(error))
        raise ListenError(f"cannot listen on {where}: {reason}") from None
    return sock


def url_of(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on host:port."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"
