"""The machine-readable protocol: `/api/protocol` from a real server is valid JSON Schema
and covers every message type; the AsyncAPI 3.0 document is built from the same schemas."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from game.protocol import messages
from game.protocol.asyncapi import asyncapi_document
from game.protocol.schema import protocol_schema
from tests.support import ServerProcess, schema_refs

SERVER_TYPES = frozenset(
    cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for cls in messages.ServerMessage.__subclasses__()
)


def types_in(side: dict[str, Any]) -> set[str]:
    """The `type` constant of every alternative of a side's union."""
    found = set()
    for alternative in side["oneOf"]:
        name = alternative["$ref"].rsplit("/", 1)[-1]
        found.add(side["$defs"][name]["properties"]["type"]["const"])
    assert found == set(side["x-discriminator"]["mapping"])
    return found


@pytest.fixture(scope="module")
def published(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/api/protocol", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


def test_api_protocol_is_valid_json_schema_for_every_message(published: dict[str, Any]) -> None:
    assert set(published) >= {"client", "server"}
    for side in ("client", "server"):
        jsonschema.Draft202012Validator.check_schema(published[side])
    assert types_in(published["client"]) == set(messages.CLIENT_TYPES)
    assert types_in(published["server"]) == set(SERVER_TYPES)
    wanted = {"welcome", "queued", "unqueued", "room", "snapshot", "patch", "ack", "error", "pong"}
    assert wanted <= SERVER_TYPES
    assert published == json.loads(json.dumps(protocol_schema()))


def test_the_schema_tells_good_messages_from_bad(published: dict[str, Any]) -> None:
    client = jsonschema.Draft202012Validator(published["client"])
    assert client.is_valid({"type": "move", "match": "m1", "move": 3, "version": 4, "id": 1})
    assert not client.is_valid({"type": "move", "match": "m1", "move": "3"})
    assert not client.is_valid({"type": "hello", "colour": "red"})
    server = jsonschema.Draft202012Validator(published["server"])
    assert server.is_valid({"type": "error", "code": "stale_version", "message": "…", "ref": 1})
    assert not server.is_valid({"type": "error", "code": "no_such_code", "message": "…"})


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_asyncapi_document_describes_every_message() -> None:
    document = asyncapi_document("wss://games.example:8443")
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"] == {"this": {"host": "games.example:8443", "protocol": "wss",
                                            "description": "this server"}}
    json.dumps(document)  # plain JSON data
    for ref in schema_refs(document):
        _resolve(document, ref)  # every reference resolves inside the document
    sent = {_resolve(document, m["$ref"])["$ref"]
            for m in document["operations"]["sendCommand"]["messages"]}
    received = {_resolve(document, m["$ref"])["$ref"]
                for m in document["operations"]["receiveUpdate"]["messages"]}
    listed = document["components"]["messages"]
    assert {listed[ref.rsplit("/", 1)[-1]]["name"] for ref in sent} == set(messages.CLIENT_TYPES)
    assert {listed[ref.rsplit("/", 1)[-1]]["name"] for ref in received} == set(SERVER_TYPES)
    for ref in sent | received:  # each message in both codecs, one payload schema
        assert {"application/json", "application/msgpack"} == {
            message["contentType"] for message in listed.values()
            if message["name"] == listed[ref.rsplit("/", 1)[-1]]["name"]
            and message["payload"] == listed[ref.rsplit("/", 1)[-1]]["payload"]}
    assert document["channels"]["game"]["address"] == "/ws"
    schemas = document["components"]["schemas"]
    for message in document["components"]["messages"].values():
        payload = _resolve(document, message["payload"]["$ref"])
        standalone = {**payload, "components": {"schemas": schemas}}
        jsonschema.Draft7Validator.check_schema(standalone)
    move = {**_resolve(document, "#/components/schemas/Move"), "components": document["components"]}
    validator = jsonschema.Draft7Validator(move)
    assert validator.is_valid({"type": "move", "match": "m", "move": 1})
    assert not validator.is_valid({"type": "move", "match": "m"})
