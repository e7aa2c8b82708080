"""The othello package: its docstring examples run, its rules use only the standard
library (and :mod:`game.rules.base`), and importing it does not load the bots."""

from __future__ import annotations

import ast
import doctest
import subprocess
import sys
from pathlib import Path

import game.games.othello
import game.games.othello.bots
import game.games.othello.fixtures
import game.games.othello.rules

PACKAGE = Path(game.games.othello.__file__).resolve().parent


def test_docstring_examples() -> None:
    for module in (game.games.othello, game.games.othello.rules, game.games.othello.bots,
                   game.games.othello.fixtures):
        failed, tried = doctest.testmod(module)
        assert failed == 0 and tried > 0, module.__name__


def test_rules_use_only_the_standard_library() -> None:
    for name in ("rules.py", "fixtures.py", "__init__.py"):
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
                    "game.rules.base", "game.games.othello.rules"), f"{name}: {module}"


def test_importing_the_package_loads_the_rules_only() -> None:
    code = ("import sys, game.games.othello\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith('game.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    loaded = set(out.stdout.strip().split(","))
    assert "game.games.othello.rules" in loaded
    assert not {m for m in loaded if m.startswith(("game.bots", "game.games.othello.bots"))}
