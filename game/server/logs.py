"""structlog set-up: one JSON event per line for log collectors, or aligned lines for
a person at a terminal (the default when stderr is one), with match and player ids bound.

Our own events are rendered by structlog alone and written as bytes (orjson), which
costs a few microseconds a line instead of the standard library's tens: the server
logs every match it creates and finishes. Records from the standard library's
loggers (uvicorn, asyncio) go through the same processors and renderer, so the
process writes one format only.
"""

from __future__ import annotations

import logging
import os
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


def chosen_format(log_format: str, log_json: bool | None, stream: TextIO) -> str:
    """`console` or `json`: as asked, else as the deprecated log_json said, else console
    for a terminal (a person reads it) and JSON lines for a file, pipe or journal."""
    if log_format in ("console", "json"):
        return log_format
    if log_json is not None:
        return "json" if log_json else "console"
    return "console" if _is_terminal(stream) else "json"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # a closed stream
        return False


def configure_logging(level: str = "info", json_lines: bool = True) -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    tail: list[structlog.typing.Processor] = []
    if json_lines:
        tail.append(structlog.processors.format_exc_info)
        own_renderer: structlog.typing.Processor = structlog.processors.JSONRenderer(_dumps)
        foreign_renderer: structlog.typing.Processor = structlog.processors.JSONRenderer(
            _dumps_text)
    else:
        # the console renderer formats exceptions itself (format_exc_info would
        # flatten them first), as plain tracebacks: rich's would print every local
        # variable, player tokens among them. Colours only for a terminal, never
        # with NO_COLOR.
        colors = _is_terminal(sys.stderr) and "NO_COLOR" not in os.environ
        own_renderer = foreign_renderer = structlog.dev.ConsoleRenderer(
            colors=colors, sort_keys=False, exception_formatter=structlog.dev.plain_traceback)
    _route_stdlib(numeric, foreign_renderer, json_lines)

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


def _route_stdlib(numeric: int, renderer: structlog.typing.Processor,
                  json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    tail = [structlog.processors.format_exc_info] if json_lines else []
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tail,
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
