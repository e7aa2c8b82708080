"""docs/adding-a-game.md, followed: gomoku (tests/games/gomoku, quoted whole by the
tutorial) exists only in the test suite. Registered in this process it passes the
checks every game passes; named in GAME_EXTRA_GAMES it is served by a real server
(listed by /api/games, played end to end over the WebSocket by two players, and against
a bot in the server's worker processes) without any other file knowing of it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from game.games import FinishedGame, GameDefinition, get_game, register, unregister
from game.rules import GAMES, UnknownGame
from tests.games import checks
from tests.games.gomoku import FIVE_ACROSS, GAME
from tests.support import (
    ROOT,
    TIMEOUT,
    ServerProcess,
    connect,
    load_script,
    play_out,
    seated,
    start_server,
)

TUTORIAL = ROOT / "docs" / "adding-a-game.md"
PACKAGE = Path(__file__).resolve().parent / "gomoku"
SPEC = "tests.games.gomoku"


# ---- the tutorial quotes the game that is tested ---------------------------------------


def quoted_files() -> dict[str, str]:
    """Each ```python block of the tutorial that starts with `# <path>`, by path."""
    blocks = re.findall(r"^```python\n# (\S+)\n(.*?)^```$", TUTORIAL.read_text(),
                        re.DOTALL | re.MULTILINE)
    return {path: body for path, body in blocks}


def test_the_tutorial_quotes_the_tested_game_whole() -> None:
    quoted = quoted_files()
    for name in ("rules.py", "__init__.py"):
        path = f"game/games/gomoku/{name}"
        assert path in quoted, f"the tutorial does not show {path}"
        assert quoted[path] == (PACKAGE / name).read_text(), \
            f"{path} in the tutorial differs from tests/games/gomoku/{name}"


def test_the_tutorial_lists_every_file_of_the_game() -> None:
    """The table of files the tutorial touches: the game's package (every file of the
    tested copy) and the optional renderer, nothing else."""
    text = TUTORIAL.read_text()
    table = text[:text.index("## 1.")]
    listed = set(re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE))
    package = {f"game/games/gomoku/{path.name}" for path in PACKAGE.glob("*.py")}
    assert listed == package | {"client_web/js/games/gomoku.js"}


# ---- registered in this process: the checks of every game ------------------------------


@pytest.fixture
def gomoku() -> Iterator[GameDefinition]:
    assert "gomoku" not in GAMES  # only this test suite knows the game
    register(GAME)
    try:
        yield GAME
    finally:
        unregister("gomoku")
    assert "gomoku" not in GAMES


def test_registered_it_is_a_game_like_the_others(gomoku: GameDefinition) -> None:
    assert get_game("gomoku") is gomoku and GAMES[-1] == "gomoku"
    checks.check_initial_state(gomoku)
    checks.check_immutable_and_picklable(gomoku)
    for fixture in gomoku.fixtures.finished:
        checks.check_finished_game(gomoku, fixture)
        checks.check_finished_through_the_core(gomoku, fixture)
    for case in gomoku.fixtures.illegal:
        checks.check_illegal(gomoku, case)
    checks.check_illegal_reasons_are_covered(gomoku)
    checks.check_metadata(gomoku)
    for level in gomoku.levels:
        checks.check_bot_level(gomoku, level)


def test_the_docs_generator_describes_it(gomoku: GameDefinition) -> None:
    gen = load_script(ROOT / "docs" / "gen_protocol_examples.py")
    document = gen.fill(gen.add_missing_games(gen.DOC.read_text()), gen.static_sections())
    sections = gen.sections_of(document)
    assert "**Gomoku** (`gomoku`)." in document
    assert "`bot_levels` | `random`, `easy`, `medium` |" in sections["game gomoku"]
    assert "row 8:  72 73 74 75 76 77 78 79 80" in sections["board gomoku"]
    assert '"result": {"line": [0, 1, 2, 3, 4], "reason": "line", "winner": 0}' \
        in sections["finish gomoku"]


def test_registering_twice_and_unknown_names() -> None:
    with pytest.raises(UnknownGame):
        get_game("gomoku")
    register(GAME)
    try:
        assert register(GAME) is GAME  # the same definition again: no change
        other = GameDefinition(GAME.rules, ("A", "B"), "cell", GAME.sentences, GAME.fixtures,
                               GAME.illegal_reasons)
        with pytest.raises(ValueError, match="'gomoku' is already registered"):
            register(other)
    finally:
        unregister("gomoku")


# ---- named in GAME_EXTRA_GAMES: served by a real server ---------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(Path(tmp_path_factory.mktemp("gomoku")), extra_games=SPEC)
    yield proc
    proc.stop()


def test_api_games_lists_it_after_the_built_in_games(server: ServerProcess) -> None:
    games = httpx.get(f"{server.http}/api/games", timeout=10).json()["games"]
    assert [g["id"] for g in games] == [*GAMES, "gomoku"]
    assert games[-1] == GAME.metadata()
    assert games[-1]["bot_levels"] == ["random", "easy", "medium"]
    assert games[-1]["sentences"]["results"]["line"] == "five in a row"


async def test_two_players_play_a_whole_game(server: ServerProcess, codec: str) -> None:
    async with connect(server, codec) as a, connect(server, codec) as b:
        match, players = await seated(a, b, "gomoku")
        start = players[0].views[match]
        assert start["board"] == [None] * 81 and start["legal"] == list(range(81))
        mover = players[0]
        refused = await mover.request({"type": "move", "match": match, "move": 81,
                                       "version": mover.versions[match]})
        assert refused["type"] == "error" and refused["code"] == "illegal_move"
        assert refused["message"].endswith("(out_of_range)")
        await play_out(players, match, list(FIVE_ACROSS))
        for client in players.values():
            view = await client.until_view(match, lambda v: v["status"] == "finished")
            check_finished(view, GAME.fixtures.finished[0])
    listed = httpx.get(f"{server.http}/api/matches/{match}", timeout=10).json()
    check_finished(listed["view"], GAME.fixtures.finished[0])


def check_finished(view: dict[str, object], fixture: FinishedGame) -> None:
    assert view["game"] == "gomoku" and view["status"] == "finished"
    assert view["moves"] == list(fixture.moves)
    assert view["result"] == {"winner": fixture.winner, "reason": "line",
                              "line": list(fixture.line)}
    assert view["board"] == GAME.rules.replay(fixture.moves).board()


async def test_a_whole_game_against_its_bot(server: ServerProcess) -> None:
    """The bot plays in the server's worker processes, which load the game from the
    same GAME_EXTRA_GAMES."""
    async with connect(server) as human:
        await human.hello("gomoku-human")
        await human.send({"type": "play_bot", "game": "gomoku", "level": "medium"})
        match = (await human.expect("snapshot"))["match"]
        while True:
            view = await human.until_view(
                match, lambda v: v["status"] == "finished" or v["turn"] == v["you"],
                TIMEOUT * 4)
            if view["status"] == "finished":
                break
            ack = await human.request({"type": "move", "match": match,
                                       "move": view["legal"][0],
                                       "version": human.versions[match]})
            assert ack["type"] == "ack", ack
    assert view["result"]["reason"] in ("line", "draw")
    final = GAME.rules.replay(view["moves"])
    assert final.is_over and final.board() == view["board"]
    assert view["result"]["winner"] == final.outcome.winner  # type: ignore[union-attr]
    server.check_sent_messages()


def test_a_game_that_does_not_load_stops_the_server_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "GAME_EXTRA_GAMES": "tests.games.no_such_game", "GAME_DB": ":memory:"}
    done = subprocess.run([sys.executable, "-m", "game", "serve", "--port", "0"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "GAME_EXTRA_GAMES" in done.stderr and "no_such_game" in done.stderr
