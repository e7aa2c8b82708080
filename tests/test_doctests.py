"""The examples in the docstrings of the public modules run, and still say what the code
does: every module of these packages, with or without examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PUBLIC = ("game.rules", "game.games", "game.bots", "game.core", "game.protocol", "game.client")
"""The packages whose modules a caller imports (the server and the stores have no
examples: they are tested by running them)."""


def modules() -> list[str]:
    names = []
    for package in PUBLIC:
        path = importlib.import_module(package).__path__
        names += [package, *(info.name for info in pkgutil.walk_packages(path, f"{package}."))]
    return names


MODULES = modules()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    results = doctest.testmod(importlib.import_module(name), report=True)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed"


def test_the_entry_points_have_examples() -> None:
    """The modules a newcomer starts from show how they are used."""
    for name in ("game.rules", "game.games", "game.games.definition", "game.bots",
                 "game.bots.simple", "game.games.othello.rules", "game.client.bot"):
        assert doctest.testmod(importlib.import_module(name)).attempted > 0, name
    assert "game.games.tictactoe.rules" in MODULES and "game.core.match" in MODULES
