"""`/api/protocol` as a bot author meets it: each half a standalone draft 2020-12
document that a JSON Schema validator takes as it is, open to fields a later version
adds to server messages, strict about what clients send; and the server keeps the
promises docs/protocol.md makes about `ref` and names."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema
import msgpack
import pytest
import websockets

from game.protocol.messages import CLIENT_TYPES, ServerMessage
from game.protocol.schema import strict_server_schema
from tests.hostile.harness import wait_until
from tests.support import ROOT, ServerProcess, connect, schema_refs

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SERVER_TYPES = frozenset(
    cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for cls in ServerMessage.__subclasses__()
)
FENCE = re.compile(r"^```json\n(.*?)\n```$", re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def published(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.http}/api/protocol", timeout=10)
    assert response.status_code == 200
    return dict(response.json())


def _pointer(document: dict[str, Any], ref: str) -> Any:
    """Resolve a same-document reference by hand (RFC 6901), inside `document` only."""
    assert ref.startswith("#/"), f"{ref} leaves the document"
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("side", ["client", "server"])
def test_each_half_is_a_standalone_valid_2020_12_document(
    published: dict[str, Any], side: str
) -> None:
    half = published[side]
    assert half["$schema"] == DIALECT
    jsonschema.Draft202012Validator.check_schema(half)  # the meta-schema check
    assert "discriminator" not in json.dumps(half).replace('"x-discriminator"', "")
    refs = schema_refs(half)
    assert refs, "no references at all: the check below would prove nothing"
    for ref in refs:
        assert isinstance(_pointer(half, ref), dict), ref
    # the half alone, copied out of the response, is all a validator needs
    alone = json.loads(json.dumps(half))
    validator = jsonschema.Draft202012Validator(alone)
    kinds = set(alone["x-discriminator"]["mapping"])
    assert kinds == (set(CLIENT_TYPES) if side == "client" else set(SERVER_TYPES))
    for kind, ref in alone["x-discriminator"]["mapping"].items():
        assert _pointer(alone, ref)["properties"]["type"]["const"] == kind
    assert validator.is_valid({"type": "ping"} if side == "client" else
                              {"type": "pong", "at": 1})


def _doc_messages() -> list[dict[str, Any]]:
    found = []
    for body in FENCE.findall((ROOT / "docs" / "protocol.md").read_text()):
        value = json.loads(body)
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            found.append(value)
    return found


def test_real_messages_from_the_doc_validate(published: dict[str, Any]) -> None:
    client = jsonschema.Draft202012Validator(published["client"])
    server = jsonschema.Draft202012Validator(published["server"])
    sides = {"client": 0, "server": 0}
    for message in _doc_messages():
        side = "client" if message["type"] in CLIENT_TYPES else "server"
        (client if side == "client" else server).validate(message)
        sides[side] += 1
    assert sides["client"] >= 13 and sides["server"] >= 10


def test_server_messages_are_open_and_client_messages_strict(
    published: dict[str, Any]
) -> None:
    server = jsonschema.Draft202012Validator(published["server"])
    client = jsonschema.Draft202012Validator(published["client"])
    later = {"type": "pong", "at": 1, "ref": 3, "added_in_a_later_version": {"x": 1}}
    assert server.is_valid(later)
    op = {"op": "replace", "path": "/turn", "value": 1, "from_a_later_version": True}
    assert server.is_valid({"type": "patch", "match": "m", "version": 2, "hash": 0, "at": 1,
                            "ops": [op]})
    assert not jsonschema.Draft202012Validator(strict_server_schema()).is_valid(later)
    assert not client.is_valid({"type": "ping", "added_in_a_later_version": 1})
    assert client.is_valid({"type": "ping", "id": 1})
    for name, definition in published["client"]["$defs"].items():
        if "properties" in definition:
            assert definition["additionalProperties"] is False, name
    for name, definition in published["server"]["$defs"].items():
        assert definition.get("additionalProperties", True) is not False, name


def test_pong_at_and_patch_values_are_required(published: dict[str, Any]) -> None:
    server = jsonschema.Draft202012Validator(published["server"])
    assert not server.is_valid({"type": "pong", "ref": 1})

    def patch(*ops: dict[str, Any]) -> dict[str, Any]:
        return {"type": "patch", "match": "m", "version": 2, "hash": 0, "at": 1,
                "ops": list(ops)}

    assert server.is_valid(patch({"op": "replace", "path": "/deadline", "value": None}))
    assert server.is_valid(patch({"op": "remove", "path": "/players/1"}))
    assert not server.is_valid(patch({"op": "replace", "path": "/turn"}))
    assert not server.is_valid(patch({"op": "add", "path": "/moves/-"}))
    assert not server.is_valid(patch({"op": "move", "path": "/turn", "value": 1}))


async def test_ref_is_absent_without_an_id_and_without_a_valid_one(
    server: ServerProcess,
) -> None:
    async with connect(server) as client:
        await client.send({"type": "ping"})
        pong = await client.expect("pong")
        assert "ref" not in pong and isinstance(pong["at"], int)
        await client.send({"type": "hello", "name": "norefs"})
        assert "ref" not in await client.expect("welcome")
        await client.send({"type": "queue", "game": "tictactoe"})
        assert "ref" not in await client.expect("queued")
        await client.send({"type": "unqueue"})
        assert "ref" not in await client.expect("unqueued")
        for bad_id in (True, "x" * 65, 1.5, 2**64 - 1, [1]):
            await client.send({"type": "ping", "id": bad_id})
            error = await client.expect("error")
            assert error["code"] == "bad_message" and "ref" not in error, (bad_id, error)
        await client.send({"type": "ping", "id": None})  # a null `id` is no `id`
        assert "ref" not in await client.expect("pong")
        assert (await client.request({"type": "ping"}))["ref"] == f"r{client._counter}"


async def test_names_lose_unicode_whitespace_at_the_ends(server: ServerProcess) -> None:
    async with connect(server, "msgpack") as client:
        welcome = await client.hello("\u3000\u00a0\u2003 ada\u2028lovelace\u205f\n\t\u0085")
        assert welcome["name"] == "ada lovelace"


async def test_a_lone_surrogate_is_refused(server: ServerProcess) -> None:
    async with connect(server) as client:
        await client.ws.send('{"type": "hello", "name": "ada\\ud800", "id": 1}')
        error = await client.expect("error")
        # refused while decoding, before its `id` is read: no `ref`
        assert error["code"] == "bad_message" and "ref" not in error, error
        assert (await client.hello("ada"))["name"] == "ada"  # the connection stayed open
    # msgpack strings are UTF-8, which has no surrogates: such bytes are no msgpack at all
    async with websockets.connect(server.ws, subprotocols=["game.v1.msgpack"]) as ws:  # type: ignore[list-item]
        packed = msgpack.packb({"type": "hello", "name": "ada"})
        await ws.send(packed.replace(b"\xa3ada", b"\xa6ada\xed\xa0\x80"))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_http_answers_name_the_match_match(server: ServerProcess) -> None:
    async with connect(server) as client:
        await client.hello("lister")
        snapshot = await client.request({"type": "play_bot", "game": "tictactoe",
                                         "level": "random"})
        match = snapshot["match"]
        entries: list[dict[str, Any]] = []

        async def listed() -> bool:
            async with httpx.AsyncClient() as http:
                page = (await http.get(f"{server.http}/api/matches", timeout=10)).json()
            entries[:] = [entry for entry in page["matches"] if entry.get("match") == match]
            return bool(entries)

        await wait_until(listed, what="the match listed")
        assert entries[0]["id"] == match  # the deprecated alias, still there
        detail = httpx.get(f"{server.http}/api/matches/{match}", timeout=10).json()
        assert detail["match"] == detail["id"] == match
        assert detail["view"]["you"] is None
