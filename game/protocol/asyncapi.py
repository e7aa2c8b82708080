"""An AsyncAPI 3.0 document of protocol v1, built from the same JSON Schemas as
`/api/protocol` (so the two never disagree).

One channel, the WebSocket endpoint `/ws`, carries every message; the client *sends*
the client messages and *receives* the server messages. Message payload schemas are
the pydantic-generated ones, their `$defs` moved to `components.schemas`.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from game.protocol.schema import REVISION, protocol_schema

_DEFS = "#/$defs/"
_COMPONENTS = "#/components/schemas/"
CONTENT_TYPES = {"": "application/json", ".msgpack": "application/msgpack"}
"""Message key suffix -> content type: every message travels in either codec (text
frames of JSON with `game.v1.json`, binary frames of msgpack with `game.v1.msgpack`),
so each is described once per content type, with the same payload schema."""


def _rewrite_refs(node: Any) -> Any:
    """Point every `$ref` at `components.schemas` instead of `$defs` (iteratively)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(_DEFS):
                item["$ref"] = _COMPONENTS + ref[len(_DEFS):]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return node


def _message_types(side: dict[str, Any]) -> dict[str, str]:
    """`type` value -> schema name, for one side (client or server) of the protocol."""
    mapping = side.get("x-discriminator", {}).get("mapping", {})
    return {kind: ref[len(_DEFS):] for kind, ref in sorted(mapping.items())}


def asyncapi_document(server_url: str = "ws://127.0.0.1:8000") -> dict[str, Any]:
    """The AsyncAPI 3.0 description of protocol v1 (a plain JSON-able dict), with
    `server_url` (e.g. built from the request's Host) as its one server. The schema
    part is built once and shared: do not mutate the result."""
    scheme, _, host = server_url.partition("://")
    server = {"host": host or scheme, "protocol": "wss" if scheme == "wss" else "ws",
              "description": "this server"}
    return {**_document(), "servers": {"this": server}}


@cache
def _document() -> dict[str, Any]:
    schema = copy.deepcopy(protocol_schema())
    components: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channel_messages: dict[str, Any] = {}
    operation_refs: dict[str, list[dict[str, str]]] = {"client": [], "server": []}
    for side in ("client", "server"):
        side_schema = schema[side]
        for name, definition in _rewrite_refs(side_schema.get("$defs", {})).items():
            if name in components and components[name] != definition:
                raise ValueError(f"client and server schemas both define {name!r}")
            components[name] = definition
        for kind, name in _message_types(side_schema).items():
            definition = components[name]
            for suffix, content_type in CONTENT_TYPES.items():
                key = f"{side}.{kind}{suffix}"
                messages[key] = {
                    "name": kind,
                    "title": definition.get("title", name),
                    "summary": (definition.get("description") or f"`{kind}` message").strip(),
                    "contentType": content_type,
                    "payload": {"$ref": _COMPONENTS + name},
                }
                channel_messages[key] = {"$ref": f"#/components/messages/{key}"}
                operation_refs[side].append({"$ref": f"#/channels/game/messages/{key}"})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": schema.get("title", "protocol v1"),
            "version": f"1.{REVISION}",  # the subprotocol, then its revision
            "description": (
                "One WebSocket endpoint. Offer the subprotocol `game.v1.json` (text frames) "
                "or `game.v1.msgpack` (binary frames); both carry the same maps. Every "
                "message has a `type`; a client `id` comes back as `ref` in the direct "
                "answer. Each message is listed twice, once per content type "
                "(`application/json`, `application/msgpack`), with one payload schema. "
                "See docs/protocol.md."
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            "game": {
                "address": "/ws",
                "title": "The game socket",
                "messages": channel_messages,
                "bindings": {"ws": {"bindingVersion": "0.1.0"}},
            },
        },
        "operations": {
            "sendCommand": {
                "action": "send",
                "channel": {"$ref": "#/channels/game"},
                "summary": "What a client may send (`hello` first).",
                "messages": operation_refs["client"],
            },
            "receiveUpdate": {
                "action": "receive",
                "channel": {"$ref": "#/channels/game"},
                "summary": "What the server sends: answers, snapshots, patches, errors.",
                "messages": operation_refs["server"],
            },
        },
        "components": {"schemas": components, "messages": messages},
    }
