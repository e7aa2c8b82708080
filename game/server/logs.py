"""structlog set-up: one JSON event per line, with match and player ids bound.

Our own events are rendered by structlog alone and written as bytes (orjson), which
costs a few microseconds a line instead of the standard library's tens: the server
logs every match it creates and finishes. Records from the standard library's
loggers (uvicorn, asyncio) go through the same processors and renderer, so the
process writes one format only.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, BinaryIO, TextIO

import orjson
import structlog

_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _dumps(event: Any, **_: Any) -> bytes:
    return orjson.dumps(event, default=repr)


def _dumps_text(event: Any, **_: Any) -> str:
    return _dumps(event).decode("utf-8")


class NamedBytesLogger(structlog.BytesLogger):
    """A BytesLogger that remembers the name it was created for (`logger` key)."""

    def __init__(self, file: BinaryIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name or "game"


class NamedPrintLogger(structlog.PrintLogger):
    def __init__(self, file: TextIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name or "game"


def configure_logging(level: str = "info", json_lines: bool = True) -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    tail: list[structlog.typing.Processor] = [structlog.processors.format_exc_info]
    if json_lines:
        own_renderer: structlog.typing.Processor = structlog.processors.JSONRenderer(_dumps)
        foreign_renderer: structlog.typing.Processor = structlog.processors.JSONRenderer(
            _dumps_text)
    else:
        own_renderer = foreign_renderer = structlog.dev.ConsoleRenderer(colors=False)
    _route_stdlib(numeric, foreign_renderer)

    def factory(*args: Any) -> Any:
        name = str(args[0]) if args else None
        if json_lines:
            return NamedBytesLogger(sys.stderr.buffer, name)
        return NamedPrintLogger(sys.stderr, name)

    structlog.configure(
        processors=[*_SHARED, *tail, own_renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )


def _route_stdlib(numeric: int, renderer: structlog.typing.Processor) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # uvicorn logs every WebSocket accept at info: too chatty for a game server
    logging.getLogger("uvicorn.error").setLevel(max(numeric, logging.WARNING))
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
