"""The pure layers import no I/O framework (DESIGN.md, "Layers")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GAME = Path(__file__).resolve().parents[1] / "game"
FORBIDDEN = {"fastapi", "starlette", "uvicorn", "redis", "websockets", "asyncio", "sqlite3",
             "aiosqlite", "socket", "httpx", "game.server", "game.store", "game.client"}
PURE = ["rules", "games", "protocol", "core"]


def imported_modules(path: Path) -> set[str]:
    """What `path` imports when it runs (imports for type checkers only left out)."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {id(node) for block in ast.walk(tree)
                   if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
                   for statement in block.body for node in ast.walk(statement)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


@pytest.mark.parametrize("layer", PURE)
def test_pure_layers_import_no_io(layer: str) -> None:
    offenders = {
        f"{path.relative_to(GAME)}: {name}"
        for path in (GAME / layer).rglob("*.py")
        for name in imported_modules(path)
        if _forbidden(name)
    }
    assert not offenders


def test_rules_use_only_the_standard_library() -> None:
    """The rules interface, the registry of games, and each game's rules and fixtures
    (its bots may use game.bots)."""
    games = GAME / "games"
    paths = [*(GAME / "rules").rglob("*.py"), *games.glob("*.py"), *games.glob("*/rules.py"),
             *games.glob("*/fixtures.py")]
    assert len(paths) > 8
    for path in paths:
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top == "game", f"{path}: {name}"
            assert not name.startswith("game.") or name.startswith(
                ("game.rules", "game.games")), f"{path}: {name}"


def test_importing_the_core_loads_no_io_framework() -> None:
    code = (
        "import sys, game.rules, game.protocol, game.core.match, game.core.views, "
        "game.core.lobby, game.core.records\n"
        "game.rules.get_rules('othello')\n"
        "bad = [m for m in ('fastapi', 'starlette', 'uvicorn', 'redis', 'asyncio') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
