"""docs/protocol.md is checked, not trusted: every JSON example is a valid message (or
view) under the `/api/protocol` schema, every msgpack dump is its JSON twin packed, the
worked examples compute, the generated sections are current, every error and close
code is documented, and the transcript is what a fresh server does today."""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

import httpx
import jsonschema
import msgpack
import pytest

from game.games import all_games
from game.protocol.errors import CloseCode, ErrorCode
from game.protocol.messages import CLIENT_TYPES
from game.protocol.patch import apply_patch, canonical_json, view_hash
from tests.support import ROOT, ServerProcess, load_script

DOC_PATH = ROOT / "docs" / "protocol.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)\n```$", re.DOTALL | re.MULTILINE)


gen = load_script(ROOT / "docs" / "gen_protocol_examples.py")
DOC = DOC_PATH.read_text()
SECTIONS: dict[str, str] = gen.sections_of(DOC)


def blocks(text: str) -> list[tuple[str, str]]:
    return [(found[1], found[2]) for found in FENCE.finditer(text)]


@pytest.fixture(scope="module")
def schemas(server: ServerProcess) -> dict[str, Any]:
    """The schema as the running server publishes it."""
    published = httpx.get(f"{server.http}/api/protocol", timeout=10).json()
    client = jsonschema.Draft202012Validator(published["client"])
    server_side = jsonschema.Draft202012Validator(published["server"])
    view = jsonschema.Draft202012Validator(
        {"$ref": "#/$defs/View", "$defs": published["server"]["$defs"]})
    server_types = set(published["server"]["x-discriminator"]["mapping"])
    return {"client": client, "server": server_side, "view": view, "server_types": server_types}


def check_message(message: Any, schemas: dict[str, Any]) -> str:
    """Validate one protocol message by its type's side; returns the side."""
    assert isinstance(message, dict) and isinstance(message.get("type"), str), message
    kind = message["type"]
    if kind in CLIENT_TYPES:
        schemas["client"].validate(message)
        return "client"
    assert kind in schemas["server_types"], f"unknown message type {kind!r}"
    schemas["server"].validate(message)
    if kind == "snapshot":
        assert view_hash(message["view"]) == message["hash"], "snapshot hash"
    return "server"


def test_every_json_example_is_a_valid_message_or_view(schemas: dict[str, Any]) -> None:
    found = 0
    for lang, body in blocks(DOC):
        if lang != "json":
            continue
        value = json.loads(body)
        if isinstance(value, dict) and "type" in value:
            check_message(value, schemas)
        else:
            schemas["view"].validate(value)  # the only other JSON the document shows
        found += 1
    assert found > 30


def test_every_message_type_has_a_json_and_a_msgpack_example(schemas: dict[str, Any]) -> None:
    pairs = 0
    covered = set()
    listed = blocks(DOC)
    for index, (lang, body) in enumerate(listed):
        if lang != "msgpack":
            continue
        twin_lang, twin = listed[index - 1]
        assert twin_lang == "json", f"msgpack block {index} does not follow a JSON block"
        message = json.loads(twin)
        packed = bytes.fromhex(body.replace("\n", " "))
        assert packed == msgpack.packb(message, use_bin_type=True)
        assert msgpack.unpackb(packed, raw=False) == message
        covered.add(message["type"])
        pairs += 1
    assert covered == set(CLIENT_TYPES) | schemas["server_types"]
    assert pairs >= len(covered)


def test_the_worked_hash_example() -> None:
    section = SECTIONS["hash example"]
    (view_lang, view_text), (text_lang, canonical_text) = blocks(section)
    assert (view_lang, text_lang) == ("json", "text")
    view = json.loads(view_text)
    canonical = canonical_json(view)
    assert canonical.decode("utf-8") == canonical_text
    assert canonical_text == json.dumps(view, sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False)
    crc = zlib.crc32(canonical)
    assert f"Those are {len(canonical)} UTF-8 bytes." in section
    assert f"`{crc}` (hex `0x{crc:08x}`)" in section
    assert 0 <= crc < 2**32 and view_hash(view) == crc


def test_the_worked_patch_example(schemas: dict[str, Any]) -> None:
    section = SECTIONS["patch example"]
    before, patch, after = (json.loads(body) for _, body in blocks(section))
    check_message(patch, schemas)
    assert f"The view at version {patch['version'] - 1}:" in section
    assert apply_patch(before, patch["ops"]) == after
    assert view_hash(after) == patch["hash"]
    assert f"whose CRC-32 is `{patch['hash']}`" in section
    assert {op["op"] for op in patch["ops"]} >= {"add", "replace"}


def test_the_generated_sections_are_current_and_filled() -> None:
    for name, text in gen.static_sections().items():
        assert SECTIONS[name] == text, f"section {name!r} is stale: run the generator"
    assert all(body.strip() for body in SECTIONS.values()), "an empty generated section"
    assert set(SECTIONS) == set(gen.static_sections()) | {
        f"example {key}" for key in gen.EXAMPLE_KEYS} | {
        "hash example", "patch example", "errors", "transcript"}


@pytest.mark.parametrize("game", [game.name for game in all_games()])
def test_every_registered_game_is_described(game: str) -> None:
    """docs/protocol.md and the registry agree: each game has its generated sections,
    and they say what the registry says (its levels, seats, sentences, reasons)."""
    current = gen.static_sections()
    for kind in ("game", "board", "position", "finish"):
        name = f"{kind} {game}"
        assert name in SECTIONS, f"docs/protocol.md has no `gen:{name}` section: add it " \
                                 "after the game's paragraph and run the generator"
        assert SECTIONS[name] == current[name], f"{name!r} is stale: run the generator"
    listed = DOC[DOC.index("## The view"):DOC.index("## Patches and hashes")]
    assert listed.index(f"<!-- gen:game {game} -->") < listed.index(f"<!-- gen:board {game} -->")


def test_every_error_code_and_close_code_is_documented(schemas: dict[str, Any]) -> None:
    errors_table = DOC[DOC.index("## Errors"):DOC.index("## Close codes")]
    for code in ErrorCode:
        assert f"| `{code.value}` |" in errors_table, code
    close_table = DOC[DOC.index("## Close codes"):DOC.index("## Clocks")]
    for close in CloseCode:
        assert f"| {int(close)} |" in close_table, close
    real = gen.parse_transcript(blocks(SECTIONS["errors"])[0][1])
    for line in real:
        assert check_message(line.message, schemas) == "server"
    shown = {line.message["code"] for line in real}
    assert shown == {code.value for code in ErrorCode} - {"unavailable"}


def transcript() -> list[Any]:
    (lang, body), = blocks(SECTIONS["transcript"])
    assert lang == "text"
    return list(gen.parse_transcript(body))


def test_the_transcript_is_valid_and_in_step(schemas: dict[str, Any]) -> None:
    views: dict[tuple[str, str], dict[str, Any]] = {}
    versions: dict[tuple[str, str], int] = {}
    asked: dict[str, list[Any]] = {}
    for line in transcript():
        if line.arrow == "#":
            continue
        side = check_message(line.message, schemas)
        assert side == ("client" if line.arrow == "→" else "server"), line
        message = line.message
        if line.arrow == "→":
            asked.setdefault(line.who, []).append(message["id"])
            continue
        if "ref" in message and message["type"] != "patch":
            assert message["ref"] in asked[line.who], message
        key = (line.who, message.get("match", ""))
        if message["type"] == "snapshot":
            views[key], versions[key] = message["view"], message["version"]
        elif message["type"] == "patch" and message["version"] == versions[key] + 1:
            views[key] = apply_patch(views[key], message["ops"])
            versions[key] = message["version"]
            assert view_hash(views[key]) == message["hash"]
        elif message["type"] == "patch":
            assert message["version"] <= versions[key], "a gap in the transcript"
    finals = [view for (who, _), view in views.items() if view["moves"] == gen.GAME_MOVES]
    assert len(finals) == 3  # alice, bob and carol all saw the whole game
    for view in finals:
        assert view["status"] == "finished"
        assert view["result"] == {"winner": 0, "reason": "line", "line": [20, 26, 32, 38]}


@pytest.fixture(scope="module")
def replayed(server: ServerProcess) -> list[Any]:
    """The scripted game played again, against this test module's fresh server."""
    return list(gen.record_game(server.ws))


def test_a_fresh_server_plays_the_transcript_the_same_way(replayed: list[Any]) -> None:
    documented = gen.normalize(transcript())
    again = gen.normalize(replayed)
    for index, (want, got) in enumerate(zip(documented, again, strict=False)):
        assert want == got, f"transcript line {index} differs: run the generator"
    assert len(documented) == len(again)


def test_every_documented_error_is_still_provoked(server: ServerProcess,
                                                  replayed: list[Any]) -> None:
    match = next(line.message["match"] for line in replayed
                 if line.message.get("type") == "room")
    provoked = {line.message["code"] for line in gen.record_extras(server.ws, match) + replayed
                if line.arrow == "←" and line.message["type"] == "error"}
    documented = {line.message["code"]
                  for line in gen.parse_transcript(blocks(SECTIONS["errors"])[0][1])}
    assert documented <= provoked


def http_section() -> str:
    return DOC[DOC.index("## HTTP endpoints"):DOC.index("## Machine-readable schema")]


def test_every_http_endpoint_is_documented() -> None:
    from game.server.http import router

    table = http_section()
    for route in router.routes:
        path = getattr(route, "path", "")
        if "GET" not in getattr(route, "methods", ()) or not route.include_in_schema:  # type: ignore[attr-defined]
            continue
        documented = path.replace("{match_id}", "{match}")
        assert f"`GET {documented}`" in table, f"{path} is not in docs/protocol.md"


def test_the_http_answers_are_the_documented_ones(server: ServerProcess) -> None:
    """Each key a real answer has is named in the section, and `match` is the id."""
    section = http_section()
    answers = {path: httpx.get(f"{server.http}{path}", timeout=10)
               for path in ("/api/games", "/healthz", "/readyz", "/api/matches")}
    assert all(answer.status_code == 200 for answer in answers.values())
    for path in ("/api/games", "/healthz", "/readyz", "/api/matches"):
        for key in answers[path].json():
            assert f'"{key}"' in section, (path, key)
    served = answers["/api/games"].json()["games"]
    assert served == [game.metadata() for game in all_games()]  # the registry, as it is
    for entry in served:
        assert list(entry) == ["id", "title", "rows", "cols", "bot_levels", "seats", "move",
                               "cells", "sentences"]
        for key in (*entry, *entry["sentences"]):
            assert f'"{key}"' in section, key
    missing = httpx.get(f"{server.http}/api/matches/no-such-match", timeout=10)
    assert missing.status_code == 404 and missing.json() == {"detail": "no such match"}
    for key in ("match", "id", "game", "status", "players", "moves", "watchers",
                "started_at", "version", "view"):
        assert f'"{key}"' in section, key
    assert "deprecated alias" in section


def test_the_changes_section_names_the_current_revision(schemas: dict[str, Any]) -> None:
    from game.protocol.schema import REVISION

    changes = DOC[DOC.index("## Changes within v1"):]
    assert f"**Revision {REVISION}**" in changes
    assert f'"revision": {REVISION}' in DOC
