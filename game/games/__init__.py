"""One package per game, and the one registry of every game.

A game is a :class:`GameDefinition` named ``GAME`` in its package: each subpackage of
``game/games/`` (e.g. :mod:`game.games.othello`) is found and registered on first use,
and a game from elsewhere (a plugin, a test's game) joins with :func:`register`, or
with ``GAME_EXTRA_GAMES`` for every process of a server (its bot workers included).
:func:`game.rules.get_rules`, :data:`game.rules.GAMES`, :func:`game.bots.get_bot` and
``GET /api/games`` all read this registry.

>>> from game.games import get_game, names
>>> names()
('tictactoe', 'connect4', 'othello')
>>> get_game("othello").seats
('Black', 'White')
>>> get_game("chess")
Traceback (most recent call last):
    ...
game.rules.base.UnknownGame: unknown game 'chess'; known games: tictactoe, connect4, othello

``GAME_EXTRA_GAMES`` holds ``module`` or ``module:attribute`` names separated by commas
(or a JSON list of them); ``module`` alone means its ``GAME``.  docs/adding-a-game.md
walks through adding a game.
"""

from __future__ import annotations

import json
import os
import pkgutil
import threading
from importlib import import_module
from typing import Final

from game.games.definition import (
    BotFactory,
    FinishedGame,
    Fixtures,
    GameDefinition,
    IllegalCase,
    MoveKind,
    Sentences,
)
from game.rules.base import UnknownGame

__all__ = [
    "EXTRA_GAMES_VARIABLE",
    "BotFactory",
    "FinishedGame",
    "Fixtures",
    "GameDefinition",
    "IllegalCase",
    "MoveKind",
    "Sentences",
    "all_games",
    "get_game",
    "load",
    "names",
    "parse_specs",
    "register",
    "unregister",
]

EXTRA_GAMES_VARIABLE: Final = "GAME_EXTRA_GAMES"
"""The environment variable naming games to register beyond ``game/games/``."""

_games: dict[str, GameDefinition] = {}
_ordered: list[tuple[tuple[GameDefinition, ...], tuple[str, ...]]] = []  # until a change
_loading = threading.RLock()
_loaded = False


def _registry() -> dict[str, GameDefinition]:
    if not _loaded:
        _load_everything()
    return _games


def _load_everything() -> None:
    global _loaded
    with _loading:
        if _loaded:
            return
        _loaded = True  # before importing: a plugin may call register() as it loads
        try:
            for info in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
                if info.ispkg:
                    _add(_definition_in(import_module(info.name), "GAME", info.name), False)
            for spec in parse_specs(os.environ.get(EXTRA_GAMES_VARIABLE, "")):
                load(spec)
        except BaseException:
            _loaded = False  # the next use tries again (and fails again, loudly)
            raise


def _definition_in(module: object, attribute: str, where: str) -> GameDefinition:
    definition = getattr(module, attribute, None)
    if not isinstance(definition, GameDefinition):
        raise TypeError(f"{where} has no GameDefinition called {attribute}")
    return definition


def _add(definition: GameDefinition, replace: bool) -> GameDefinition:
    with _loading:
        known = _games.get(definition.name)
        if known is not None and known is not definition and not replace:
            raise ValueError(f"a game called {definition.name!r} is already registered")
        _games[definition.name] = definition
        _ordered.clear()
    return definition


def register(definition: GameDefinition, *, replace: bool = False) -> GameDefinition:
    """Add ``definition`` to the registry (again: no change) and return it.

    Raises:
        ValueError: another game of that name is registered and ``replace`` is false.
    """
    _registry()
    return _add(definition, replace)


def unregister(name: str) -> GameDefinition:
    """Remove the game called ``name`` and return its definition (for tests).

    Raises:
        UnknownGame: no such game.
    """
    with _loading:
        definition = get_game(name)
        del _games[name]
        _ordered.clear()
    return definition


def load(spec: str) -> GameDefinition:
    """Import ``module`` or ``module:attribute`` and register the definition it names
    (``module`` alone: its ``GAME``).

    Raises:
        ValueError: the module does not import, names no :class:`GameDefinition`, or
            another game of that name is registered.
    """
    module_name, _, attribute = spec.strip().partition(":")
    try:
        definition = _definition_in(import_module(module_name), attribute or "GAME", spec)
        return register(definition)
    except (ImportError, TypeError, ValueError) as exc:
        raise ValueError(f"game {spec!r}: {exc}") from exc


def parse_specs(text: str) -> list[str]:
    """The names in a ``GAME_EXTRA_GAMES`` value: separated by commas, or a JSON list.

    >>> parse_specs("pkg.gomoku, pkg.other:GAME")
    ['pkg.gomoku', 'pkg.other:GAME']
    """
    text = text.strip()
    parts = json.loads(text) if text.startswith("[") else text.split(",")
    if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
        raise ValueError(f"{EXTRA_GAMES_VARIABLE}: a list of module names, not {text!r}")
    return [part.strip() for part in parts if part.strip()]


def get_game(name: str) -> GameDefinition:
    """The definition of the game called ``name``.

    Raises:
        UnknownGame: ``name`` is not a registered game (the message lists them).
    """
    try:
        return _registry()[name]
    except (KeyError, TypeError):
        raise UnknownGame(name, names()) from None


def all_games() -> tuple[GameDefinition, ...]:
    """Every registered game, in the order lists show them (:attr:`~GameDefinition.order`,
    then registration)."""
    return _listing()[0]


def names() -> tuple[str, ...]:
    """The names of :func:`all_games`."""
    return _listing()[1]


def _listing() -> tuple[tuple[GameDefinition, ...], tuple[str, ...]]:
    games = _registry()
    if not _ordered:
        ordered = tuple(sorted(games.values(), key=lambda game: game.order))
        _ordered.append((ordered, tuple(game.name for game in ordered)))
    return _ordered[0]
