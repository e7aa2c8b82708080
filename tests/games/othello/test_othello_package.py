"""The othello package: its rules use only the standard library (and the rules
interface), and importing it does not load the bots. (Its docstring examples run in
tests/test_doctests.py.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import game.games.othello

PACKAGE = Path(game.games.othello.__file__).resolve().parent


def test_rules_use_only_the_standard_library() -> None:
    for name in ("rules.py", "fixtures.py"):  # __init__.py names its bots, imported lazily
        tree = ast.parse((PACKAGE / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top in sys.stdlib_module_names or module in (
                    "game.rules.base", "game.games.definition", "game.games.othello.rules"
                    ), f"{name}: {module}"


def test_importing_the_package_loads_the_rules_only() -> None:
    code = ("import sys, game.games.othello\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith('game.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    loaded = set(out.stdout.strip().split(","))
    assert "game.games.othello.rules" in loaded
    assert not {m for m in loaded if m.startswith(("game.bots", "game.games.othello.bots"))}
