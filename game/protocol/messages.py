"""Typed wire messages of protocol v1, tagged by `type`.

Client messages are validated strictly (no coercion: a bool is not an int, a
string is not a number, unknown fields are refused). Server messages are
described by models too, so that `/api/protocol` can publish a JSON Schema of
everything on the wire; the hot path builds the same shapes as plain dicts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from game.protocol.errors import ErrorCode, ProtocolError

Ref = Annotated[str, StringConstraints(max_length=64)] | Annotated[
    int, Field(ge=-(2**63), le=2**63 - 1)
]
MatchId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
GameName = Annotated[str, StringConstraints(min_length=1, max_length=32)]

# ---- player names --------------------------------------------------------------------

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
"""Controls (NUL, newlines...), format characters (bidi overrides and isolates
U+202A-U+202E and U+2066-U+2069, zero-width U+200B-U+200F, U+FEFF...) and lone
surrogates: they are removed from names."""
_BLANKS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
"""Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern):
also removed, or a name of only these would look empty."""


def clean_name(raw: str) -> str:
    """A name as shown to others: whitespace runs (of any kind) become one space,
    invisible characters are removed, the ends are trimmed. "" if nothing visible
    is left (marks alone, such as combining accents, are not visible either)."""
    kept = []
    for char in raw:
        if char.isspace():  # a newline or a tab is a space, not nothing
            kept.append(" ")
        elif char not in _BLANKS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            kept.append(char)
    name = " ".join("".join(kept).split())
    if not any(unicodedata.category(char)[0] in "LNPS" for char in name):
        return ""
    return name


def claims_bot_name(name: str, levels: Iterable[str]) -> bool:
    """`name` reads as a built-in bot's name ("<Level> bot"), in any case and width."""
    folded = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return any(folded == f"{level.casefold()} bot" for level in levels)


def _visible_name(raw: str) -> str:
    name = clean_name(raw)
    if not name:
        raise ValueError("a name needs at least one visible character")
    return name


PlayerName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32),
    AfterValidator(_visible_name),
]
Token = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Version = Annotated[int, Field(ge=0, le=2**63 - 1)]


class ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: Ref | None = Field(default=None, description="echoed back as `ref` in the direct answer")


class Hello(ClientMessage):
    """Must come first. A known `token` resumes that player."""

    type: Literal["hello"]
    name: PlayerName | None = None
    token: Token | None = None
    bot: bool = False
    """A program playing: rated only against other bots, on their own leaderboard."""


class Queue(ClientMessage):
    """Quick match: pair with the next player waiting for `game`."""

    type: Literal["queue"]
    game: GameName


class Unqueue(ClientMessage):
    type: Literal["unqueue"]


class CreateRoom(ClientMessage):
    """Open a private room; the answer is `room` with a short code to share.

    `turn_seconds` and `grace_seconds` override the server's clocks for this room.
    """

    type: Literal["create_room"]
    game: GameName
    turn_seconds: Annotated[int, Field(ge=5, le=7 * 86400)] | None = None
    grace_seconds: Annotated[int, Field(ge=5, le=86400)] | None = None
    rated: bool = False
    """The match counts for both players' ratings (quick matches always do)."""


class JoinRoom(ClientMessage):
    type: Literal["join_room"]
    code: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class PlayBot(ClientMessage):
    """Start a match against a built-in bot. `seat` is the human's seat (0 moves first)."""

    type: Literal["play_bot"]
    game: GameName
    level: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    seat: Literal[0, 1] | None = None


class Move(ClientMessage):
    """Play `move` in `match`; `version` is the view version the move was chosen on."""

    type: Literal["move"]
    match: MatchId
    move: Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
    version: Version | None = None


class Resign(ClientMessage):
    type: Literal["resign"]
    match: MatchId


class Rematch(ClientMessage):
    """Offer a rematch, or accept the opponent's offer (seats swap)."""

    type: Literal["rematch"]
    match: MatchId


class Watch(ClientMessage):
    type: Literal["watch"]
    match: MatchId


class Unwatch(ClientMessage):
    type: Literal["unwatch"]
    match: MatchId


class Sync(ClientMessage):
    """Resend the patches after `since`, or a snapshot when they are gone or absent."""

    type: Literal["sync"]
    match: MatchId
    since: Version | None = None


class Ping(ClientMessage):
    type: Literal["ping"]


AnyClientMessage = Annotated[
    Hello | Queue | Unqueue | CreateRoom | JoinRoom | PlayBot | Move | Resign | Rematch
    | Watch | Unwatch | Sync | Ping,
    Field(discriminator="type"),
]
CLIENT_TYPES: frozenset[str] = frozenset(
    m.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for m in (Hello, Queue, Unqueue, CreateRoom, JoinRoom, PlayBot, Move, Resign, Rematch,
              Watch, Unwatch, Sync, Ping)
)
client_adapter: TypeAdapter[AnyClientMessage] = TypeAdapter(AnyClientMessage)


# ---- server to client ---------------------------------------------------------------


class ServerMessage(BaseModel):
    # the published schema allows fields it does not list: clients ignore unknown
    # fields, so a later version may add some (what clients send stays strict)
    model_config = ConfigDict(extra="ignore")


class PlayerView(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    online: bool
    bot: bool = Field(description="a built-in bot of the server plays this seat")
    grace: int | None = Field(description="epoch ms when a dropped player's seat is given up")
    program: bool = Field(
        default=False, description="present (and true) only when the seat's player said "
        "`bot: true` in `hello`: a bot program plays it; absent otherwise")


class ResultView(BaseModel):
    model_config = ConfigDict(extra="ignore")
    winner: Literal[0, 1] | None
    reason: Literal["line", "draw", "score", "resign", "timeout", "abandoned", "aborted",
                    "adjudicated"]
    line: list[int]
    score: list[int] | None = Field(
        default=None, min_length=2, max_length=2,
        description="seat 0's and seat 1's counts (othello's discs), only with reason "
        "`score`; absent otherwise")


class View(BaseModel):
    """What one viewer may see of a match at one version."""

    model_config = ConfigDict(extra="ignore")
    game: str
    status: Literal["waiting", "active", "finished"]
    board: list[Literal[0, 1] | None]
    turn: Literal[0, 1] | None
    you: Literal[0, 1] | None
    legal: list[int]
    players: list[PlayerView]
    deadline: int | None
    watchers: int
    moves: list[int | None] = Field(
        description="the moves in order; null right after a move that made the other "
        "seat pass (othello), so the same seat moves again")
    result: ResultView | None
    rematch: list[bool]


class Welcome(ServerMessage):
    type: Literal["welcome"]
    player: str
    name: str
    token: str = Field(description="secret; send it in `hello` to resume this player")
    matches: list[str]
    ref: Ref | None = None


class Queued(ServerMessage):
    type: Literal["queued"]
    game: str
    ref: Ref | None = None


class Unqueued(ServerMessage):
    type: Literal["unqueued"]
    game: str | None
    ref: Ref | None = None


class Room(ServerMessage):
    type: Literal["room"]
    code: str
    game: str
    match: str
    ref: Ref | None = None


class Snapshot(ServerMessage):
    type: Literal["snapshot"]
    match: str
    version: int
    view: View
    hash: int = Field(ge=0, le=2**32 - 1)
    at: int
    ref: Ref | None = None


class SetOp(BaseModel):
    """`add` or `replace`: always with a `value` (which may be null)."""

    model_config = ConfigDict(extra="ignore")
    op: Literal["add", "replace"]
    path: str
    value: Any


class RemoveOp(BaseModel):
    model_config = ConfigDict(extra="ignore")
    op: Literal["remove"]
    path: str


PatchOp = Annotated[SetOp | RemoveOp, Field(discriminator="op")]


class Patch(ServerMessage):
    type: Literal["patch"]
    match: str
    version: int
    ops: list[PatchOp]
    hash: int = Field(ge=0, le=2**32 - 1)
    at: int


class Ack(ServerMessage):
    type: Literal["ack"]
    ref: Ref | None = None
    match: str
    version: int


class Error(ServerMessage):
    type: Literal["error"]
    code: ErrorCode
    message: str
    ref: Ref | None = None
    match: str | None = None


class Pong(ServerMessage):
    type: Literal["pong"]
    ref: Ref | None = None
    at: int


class Notice(ServerMessage):
    """The server speaks to everyone: it is about to restart or stop (a close with 1012
    follows), or an operator has something to say. Reconnect after `reconnect_ms`, plus
    a little random jitter, with your token; it is no error."""

    type: Literal["notice"]
    reason: Literal["restart", "shutdown", "operator"] = Field(
        description="`restart` and `shutdown`: the server is draining (SIGTERM, SIGINT) and "
        "closes with 1012 shortly; `operator`: a message from whoever runs the server")
    message: str = Field(description="a sentence for people")
    reconnect_ms: int | None = Field(
        None, ge=0, description="when the connection closes, wait this long (plus jitter) "
        "before reconnecting")


AnyServerMessage = Annotated[
    Welcome | Queued | Unqueued | Room | Snapshot | Patch | Ack | Error | Pong | Notice,
    Field(discriminator="type"),
]
server_adapter: TypeAdapter[AnyServerMessage] = TypeAdapter(AnyServerMessage)


def raw_ref(raw: dict[str, Any]) -> str | int | None:
    """The `id` of a raw message if it is a usable ref, so errors can carry it back."""
    ref = raw.get("id")
    if isinstance(ref, bool):
        return None
    if isinstance(ref, str) and len(ref) <= 64:
        return ref
    if isinstance(ref, int) and -(2**63) <= ref < 2**63:
        return ref
    return None


def parse_client(raw: dict[str, Any]) -> AnyClientMessage:
    """Validate a decoded map as a client message; raises ProtocolError."""
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a message needs a string `type`")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind[:32]!r}")
    try:
        return client_adapter.validate_python(raw)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """A short, input-free account of what is wrong (never echoes the payload)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        where = ".".join(str(p) for p in err["loc"][1:]) or "message"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)[:300]
