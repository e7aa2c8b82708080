"""JSON Schema of every protocol v1 message, generated from the pydantic models.

Each half (`client`, `server`) is a standalone draft 2020-12 document: it names its
dialect in `$schema`, is its own resource (`$id`), and every `#/$defs/...` reference
in it resolves inside it, so a validator can take either half alone. Which message a
`type` selects is recorded in `x-discriminator`, an annotation validators ignore
(pydantic writes OpenAPI's `discriminator`, which JSON Schema does not define).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from game.protocol.messages import client_adapter, server_adapter

DIALECT = "https://json-schema.org/draft/2020-12/schema"
PROTOCOL_ID = "urn:game:protocol:v1"
REVISION = 2
"""Bumped with every change a client can notice within `game.v1` (docs/protocol.md,
"Changes"); a change that breaks clients gets a new subprotocol instead."""


def _standalone(schema: dict[str, Any], side: str) -> dict[str, Any]:
    """`schema` as its own 2020-12 resource, with OpenAPI keywords made annotations."""
    body = _annotate_discriminators(schema)
    return {"$schema": DIALECT, "$id": f"{PROTOCOL_ID}:{side}",
            "title": f"protocol v1: what the {side} sends", **body}


def _annotate_discriminators(node: Any) -> Any:
    """A copy of `node` with every `discriminator` keyword renamed `x-discriminator`."""
    if isinstance(node, dict):
        return {("x-discriminator" if key == "discriminator" else key):
                _annotate_discriminators(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_annotate_discriminators(value) for value in node]
    return node


@cache
def protocol_schema() -> dict[str, Any]:
    """`{"client": schema, "server": schema}`: what each side may send."""
    return {
        "$id": PROTOCOL_ID,
        "title": "Turn-based game protocol v1",
        "revision": REVISION,
        "subprotocols": ["game.v1.json", "game.v1.msgpack"],
        "client": _standalone(client_adapter.json_schema(), "client"),
        "server": _standalone(server_adapter.json_schema(mode="serialization"), "server"),
    }


@cache
def strict_server_schema() -> dict[str, Any]:
    """The server half with every object closed (`additionalProperties: false`): what
    this server sends today, field for field. The published schema leaves objects open
    so that clients accept later additions; tests hold the server to this one, so a
    misspelt or unlisted field it sends is still caught."""
    closed: dict[str, Any] = _closed(protocol_schema()["server"])
    return closed


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(value) for value in node]
    if not isinstance(node, dict):
        return node
    closed = {key: (value if key == "x-discriminator" else _closed(value))
              for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        closed["additionalProperties"] = False
    return closed
