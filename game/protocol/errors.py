"""Stable error codes and WebSocket close codes of protocol v1."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ErrorCode(StrEnum):
    """The `code` of an `error` message. These strings never change meaning."""

    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    HELLO_FIRST = "hello_first"
    BAD_TOKEN = "bad_token"
    UNKNOWN_GAME = "unknown_game"
    UNKNOWN_MATCH = "unknown_match"
    UNKNOWN_ROOM = "unknown_room"
    NOT_A_PLAYER = "not_a_player"
    NOT_YOUR_TURN = "not_your_turn"
    ILLEGAL_MOVE = "illegal_move"
    MATCH_OVER = "match_over"
    STALE_VERSION = "stale_version"
    ALREADY_QUEUED = "already_queued"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses, and what a client should do."""

    GOING_AWAY = 1001  # server stopping: reconnect and resume
    UNDECODABLE = 1007  # a frame that is not JSON / msgpack
    POLICY = 1008  # bad origin, flood, abuse, hello timeout
    TOO_BIG = 1009  # frame over the size limit
    INTERNAL = 1011
    RESTARTING = 1012  # server restarting: reconnect and resume
    TRY_AGAIN_LATER = 1013  # too slow to read its messages
    REPLACED = 4009  # a newer connection of the same player took over


class ProtocolError(Exception):
    """A rejected command: becomes an `error` message; the connection stays open."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UndecodableFrame(Exception):
    """A frame that does not decode at all: the connection is closed with 1007."""
