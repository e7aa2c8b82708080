"""uvicorn's HTTP protocol (httptools) with the limits every request keeps, on every path.

uvicorn parses each request before our code sees it: before a WebSocket upgrade reaches
`game.server.native` and before a route runs. On its own it bounds neither the size
nor the time of a request head or body, and it counts no socket against our caps until
the WebSocket handshake. `GuardedHttpProtocol` (passed as `http=` to uvicorn) does:

* a socket is admitted against the connection caps (`Gate`: total and per address)
  when it is accepted; a refused one is answered 403 and closed without reading its
  request. It holds its slot until it is gone, and hands the slot over to the
  WebSocket protocol when it upgrades (`adopt_slot`), so it is never counted twice;
* a socket from a trusted reverse proxy (`trusted_proxies`) counts under no address
  until each request's head names its client (`game.server.forwarded`): the slot moves
  to that address (403 if it is at its cap), whose rate, logs and WebSocket it is then;
* a request head must be complete within `request_head_timeout` of the accept (or of
  the first byte of a later request on a kept-alive socket) and fit in
  `max_request_head_bytes`: 408 or 431 and the socket is closed. The bytes are counted
  as they arrive, before httptools buffers them (it would hold a 30 MB header value
  whole until it ends);
* a body must fit in `max_request_body_bytes` (announced or sent: 413) and be complete
  within `request_body_timeout` of its head (408).

uvicorn's own knobs do not cover this: `timeout_keep_alive` only runs between requests
(and is cancelled by any byte, even a lone CRLF), `h11_max_incomplete_event_size` exists
only for h11, and `limit_concurrency` counts neither upgraded sockets nor requests
whose head is not complete.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from game.server.handshake import http_response
from game.server.session import ENDPOINT_KEY, Gate, Slot
from game.server.settings import Settings

log = structlog.get_logger("game.http")

_IDLE, _HEAD, _BODY, _DONE = 0, 1, 2, 3
"""Between requests, in a request head, in a body, and no more reading (refused,
closed by a limit, or upgraded: the socket belongs to another protocol then)."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """See the module docstring."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        endpoint = app_state.get(ENDPOINT_KEY)
        self._gate: Gate | None = endpoint.gate if endpoint is not None else None
        self._settings: Settings = (endpoint.settings if endpoint is not None
                                    else _default_settings())
        self._address = "unknown"
        """The client's: the socket's peer, or whom a trusted proxy's request names."""
        self._peer = "unknown"
        self._proxied = False
        """The peer is a trusted proxy (`trusted_proxies`): each request names its client."""
        self._slot: Slot | None = None
        self._phase = _DONE
        self._count = 0
        """Head bytes received, or body bytes parsed, of the current request."""
        self._raw = 0
        """Bytes received since the head, framing included."""
        self._deadline: asyncio.TimerHandle | None = None

    # ---- the socket ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.client:
            self._address = str(self.client[0])
        gate = self._gate
        if gate is not None and gate.draining:
            # a drain (SIGTERM) began: nothing new here; try again (elsewhere) shortly
            transport.write(http_response(503, "server restarting", ("Retry-After: 1",)))
            transport.close()
            return
        if gate is not None:
            self._peer = self._address
            self._proxied = gate.proxies.trusts(self._peer)
            self._slot = gate.admit_socket(self._address, proxy=self._proxied)
            if self._slot is None:
                # 403 as for a WebSocket handshake refused by the caps (docs/protocol.md),
                # whichever the request would have been; it is never read
                transport.write(http_response(403, "too many connections"))
                transport.close()
                return
        self._begin(_HEAD, self._settings.request_head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._phase = _DONE
        self._set_deadline(None)
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase == _IDLE:
            self._begin(_HEAD, self._settings.request_head_timeout)  # a next request
        if self._phase == _HEAD:
            self._head_data(data)
        elif self._phase == _BODY:
            self._raw += len(data)
            settings = self._settings
            # chunk sizes and trailers are no body bytes (`on_body`), but are held too
            if self._raw > settings.max_request_body_bytes + settings.max_request_head_bytes:
                self._reject(413, "request body too large")
            else:
                super().data_received(data)

    def _head_data(self, data: bytes) -> None:
        """Feed at most what is left of the head's allowance; past it, 431."""
        room = self._settings.max_request_head_bytes - self._count
        rest = b""
        if len(data) > room:
            data, rest = data[:room], data[room:]
        self._count += len(data)
        if data:
            super().data_received(data)
        if not rest:
            return
        if self._phase == _HEAD:
            self._reject(431, "request head too large")
        elif self._phase != _DONE:
            self.data_received(rest)  # the head ended in `data`: the rest is its body
        # _DONE after an upgrade: like uvicorn, drop what a client sent before our 101

    # ---- parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._phase == _IDLE:  # pipelined: the previous request ended in this chunk
            self._begin(_HEAD, self._settings.request_head_timeout)
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self._phase == _DONE:
            return
        if self._proxied and not self._forwarded():
            return
        if self._gate is not None:
            refusal = self._gate.take_request(self._address)
            if refusal is not None:
                self._reject(429, "too many requests; slow down",
                             (f"Retry-After: {max(1, math.ceil(refusal.retry_after))}",))
                return
        if self._announced_body() > self._settings.max_request_body_bytes:
            self._reject(413, "request body too large")
            return
        self._begin(_BODY, self._settings.request_body_timeout)
        super().on_headers_complete()

    def _forwarded(self) -> bool:
        """A trusted proxy's request: from now on the socket is its client's, under that
        address's cap (403 if it is full), rate and logs, and the app's `client`."""
        gate, slot = self._gate, self._slot
        assert gate is not None and slot is not None
        self._address = address = gate.proxies.client(self._peer, self.headers)
        if not gate.move(slot, address):
            self._reject(403, "too many connections")
            return False
        self.scope["client"] = (address, 0)
        return True

    def on_body(self, body: bytes) -> None:
        if self._phase != _BODY:
            return
        self._count += len(body)
        if self._count > self._settings.max_request_body_bytes:
            self._reject(413, "request body too large")
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._phase != _BODY:
            return
        self._phase = _IDLE
        self._set_deadline(None)
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        """uvicorn's, except that the WebSocket protocol takes over our slot."""
        if self._phase == _DONE:
            return  # refused at its head (403, 429, 413): answered and closing already
        self._phase = _DONE
        self._set_deadline(None)
        self.connections.discard(self)
        head = [self.scope["method"].encode(), b" ", self.url, b" HTTP/1.1\r\n"]
        for name, value in self.scope["headers"]:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        protocol = self.ws_protocol_class(  # type: ignore[call-arg, misc]
            config=self.config, server_state=self.server_state, app_state=self.app_state)
        adopt = getattr(protocol, "adopt_slot", None)
        if self._slot is not None and adopt is not None:
            adopt(self._slot)
            self._slot = None
        else:
            self._release()  # a protocol that counts its sockets itself
        protocol.connection_made(self.transport)
        protocol.data_received(b"".join(head))
        self.transport.set_protocol(protocol)

    def _unsupported_upgrade_warning(self) -> None:
        # uvicorn logs a warning per such request and keeps the socket open with a parser
        # that reads nothing more: answer the request and close instead
        self.shutdown()

    # ---- limits --------------------------------------------------------------------------

    def _announced_body(self) -> int:
        for name, value in self.headers:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # httptools refuses a malformed length itself
        return 0

    def _begin(self, phase: int, timeout: float) -> None:
        self._phase = phase
        self._count = self._raw = 0
        self._set_deadline(timeout)

    def _set_deadline(self, delay: float | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if delay is not None:
            self._deadline = self.loop.call_later(delay, self._expired)

    def _expired(self) -> None:
        self._deadline = None
        if self._phase in (_HEAD, _BODY):
            self._reject(408, "request not complete in time")

    def _reject(self, status: int, reason: str, headers: tuple[str, ...] = ()) -> None:
        """Answer `status` (unless a response is under way) and close the socket."""
        if self._phase == _DONE:
            return
        phase, self._phase = self._phase, _DONE
        self._set_deadline(None)
        if status not in (403, 429):  # the gate logs a refused address once per spell
            log.info("http_request_refused", status=status, reason=reason,
                     address=self._address)
        transport = self.transport
        if transport.is_closing():
            return
        if self._may_answer(phase):
            transport.write(http_response(status, reason, headers))
        transport.close()

    def _may_answer(self, phase: int) -> bool:
        """No response of ours is under way: the app has not started answering the
        request whose body is late, nor is it answering the one before a late head."""
        cycle = self.cycle
        if cycle is None:
            return True
        if phase == _BODY:
            return not cycle.response_started
        return cycle.response_complete

    def _release(self) -> None:
        if self._slot is not None and self._gate is not None:
            self._gate.free(self._slot)
            self._slot = None


_defaults: Settings | None = None


def _default_settings() -> Settings:
    """The limits of an app that has no endpoint (its lifespan did not run)."""
    global _defaults
    if _defaults is None:
        _defaults = Settings()
    return _defaults
