"""The opening handshake of RFC 6455 (section 4.2), server side, without I/O.

`read_request` checks an HTTP upgrade request for `/ws` and returns what the server
needs from it, or the HTTP error response to send instead: 404 for another path,
426 for another WebSocket version, 400 for anything else that is not a valid
WebSocket upgrade. The admission policy (origin, caps) is the session's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from http import HTTPStatus

PATH = b"/ws"
MAX_HEAD = 16384
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass(frozen=True)
class Upgrade:
    """A valid upgrade request for our endpoint."""

    key: bytes
    origin: str | None
    host: str | None
    subprotocols: list[str]


class Refused(Exception):
    """The request is answered with an HTTP error, not upgraded."""

    def __init__(self, status: int, reason: str, headers: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers

    def response(self) -> bytes:
        return http_response(self.status, self.reason, self.headers)


def _tokens(values: list[bytes]) -> list[bytes]:
    return [token.strip().lower() for value in values for token in value.split(b",")]


def read_request(head: bytes) -> Upgrade:
    """Parse the request head (without the blank line); raise Refused if it is not a
    WebSocket upgrade we accept."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise Refused(400, "bad request line")
    method, target, _version = parts
    headers: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise Refused(400, "bad header line")
        headers.setdefault(name.lower(), []).append(value.strip())
    if target.split(b"?", 1)[0] != PATH:
        raise Refused(404, "not found")
    if method != b"GET":
        raise Refused(400, "a WebSocket upgrade is a GET")
    if b"websocket" not in _tokens(headers.get(b"upgrade", [])):
        raise Refused(400, "missing Upgrade: websocket")
    if b"upgrade" not in _tokens(headers.get(b"connection", [])):
        raise Refused(400, "missing Connection: Upgrade")
    if headers.get(b"sec-websocket-version") != [b"13"]:
        raise Refused(426, "WebSocket version 13 only", ("Sec-WebSocket-Version: 13",))
    keys = headers.get(b"sec-websocket-key", [])
    if len(keys) != 1 or not _valid_key(keys[0]):
        raise Refused(400, "bad Sec-WebSocket-Key")
    return Upgrade(keys[0], _one(headers, b"origin"), _one(headers, b"host"),
                   [t.decode("latin-1") for t in _tokens_cased(headers)])


def _tokens_cased(headers: dict[bytes, list[bytes]]) -> list[bytes]:
    """Offered subprotocols, in order (they are case-sensitive)."""
    return [token.strip() for value in headers.get(b"sec-websocket-protocol", [])
            for token in value.split(b",") if token.strip()]


def _one(headers: dict[bytes, list[bytes]], name: bytes) -> str | None:
    values = headers.get(name)
    return values[0].decode("latin-1") if values else None


def _valid_key(key: bytes) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def accept_response(key: bytes, subprotocol: str | None) -> bytes:
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())  # RFC 6455 asks for SHA-1
    lines = [b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket",
             b"Connection: Upgrade", b"Sec-WebSocket-Accept: " + accept]
    if subprotocol is not None:
        lines.append(b"Sec-WebSocket-Protocol: " + subprotocol.encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def http_response(status: int, body: str, headers: tuple[str, ...] = ()) -> bytes:
    """A complete response that ends the connection."""
    payload = body.encode("utf-8")
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
             "Content-Type: text/plain; charset=utf-8",
             f"Content-Length: {len(payload)}", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
