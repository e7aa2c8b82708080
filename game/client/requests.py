"""Answers matched to their commands: every command the client sends carries an ``id``,
and the server's direct answer (or ``error``) carries it back as ``ref``."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from game.client.errors import RESENDABLE, RETRYABLE, ClientClosed, ConnectionLost, ServerError
from game.client.events import ErrorEvent, Message, Ref
from game.client.wire import Outbox


@dataclass
class Pending:
    """A command waiting for its answer; ``sent`` is false while it waits for a socket
    (or for a retry)."""

    ref: Ref
    message: Message
    future: asyncio.Future[Message]
    sent: bool = False


class Requests:
    """The commands waiting for an answer, and the commands the client sent on its own
    (``watch`` again, automatic ``sync``) with the match each is about."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._pending: dict[Ref, Pending] = {}
        self.automatic: dict[Ref, str] = {}
        self._prefix = secrets.token_hex(4)
        self._counter = 0
        self._timers: set[asyncio.TimerHandle] = set()

    def next_id(self) -> str:
        self._counter += 1
        return f"{self._prefix}-{self._counter}"

    def automatic_id(self, match_id: str) -> str:
        ref = self.next_id()
        self.automatic[ref] = match_id
        return ref

    def add(self, message: Message) -> Pending:
        """Wait for the answer to ``message``, which is given an ``id`` if it has none."""
        ref = message.get("id")
        if ref is None:
            ref = self.next_id()
            message = {**message, "id": ref}
        pending = Pending(ref, message, asyncio.get_running_loop().create_future())
        self._pending[ref] = pending
        return pending

    def discard(self, pending: Pending) -> None:
        # a caller's own ``id`` may be in use again by a newer command by now
        if self._pending.get(pending.ref) is pending:
            del self._pending[pending.ref]

    def waiting_for(self, kind: str) -> bool:
        return any(p.message["type"] == kind for p in self._pending.values())

    def flush(self) -> int:
        """Send, on the socket just opened, every command that waits for one (or lost
        its answer and may be resent); returns how many."""
        count = 0
        for pending in list(self._pending.values()):
            if not pending.sent and not pending.future.done():
                pending.sent = True
                count += 1
                self._outbox.post(pending.message)
        return count

    def answer(self, ref: Ref, message: Message) -> None:
        if message["type"] != "error":
            self.automatic.pop(ref, None)  # on_error takes those that were refused
        pending = self._pending.get(ref)
        if pending is None or pending.future.done():
            return
        if message["type"] == "error" and message.get("code") in RETRYABLE:
            return  # on_error sends it again later
        self._pending.pop(ref, None)
        if message["type"] == "error":
            pending.future.set_exception(ServerError(message))
        else:
            pending.future.set_result(message)

    def on_error(self, event: ErrorEvent) -> str | None:
        """Retry a command refused for now; return the match of an automatic command."""
        if event.ref is None:
            return None
        match_id = self.automatic.pop(event.ref, None)
        pending = self._pending.get(event.ref)
        if pending is not None and event.code in RETRYABLE:
            pending.sent = False
            self._retry_later(0.5 if event.code == "rate_limited" else 0.2, event.ref)
        return match_id

    def lost(self) -> None:
        """The socket is gone: resend what is safe later, fail the rest now."""
        for ref, pending in list(self._pending.items()):
            if not pending.sent or pending.future.done():
                continue
            if pending.message["type"] in RESENDABLE:
                pending.sent = False
            else:
                self._pending.pop(ref, None)
                pending.future.set_exception(ConnectionLost(
                    f"connection lost before the answer to {pending.message['type']}"))
        self.automatic.clear()

    def close(self, error: ClientClosed) -> None:
        """Fail every command still waiting with ``error``."""
        for timer in self._timers:
            timer.cancel()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()

    def _retry_later(self, delay: float, ref: Ref) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            self._resend(ref)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    def _resend(self, ref: Ref) -> None:
        pending = self._pending.get(ref)
        outbox = self._outbox
        if (pending is None or pending.future.done() or pending.sent or outbox.ws is None
                or outbox.paused):
            return  # sent with the others once connected again (`flush`)
        pending.sent = True
        self._outbox.post(pending.message)
