"""JSON Schema of every protocol v1 message, generated from the pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from game.protocol.messages import client_adapter, server_adapter


@cache
def protocol_schema() -> dict[str, Any]:
    """`{"client": schema, "server": schema}`: what each side may send."""
    return {
        "$id": "game.v1",
        "title": "Turn-based game protocol v1",
        "subprotocols": ["game.v1.json", "game.v1.msgpack"],
        "client": client_adapter.json_schema(),
        "server": server_adapter.json_schema(mode="serialization"),
    }
