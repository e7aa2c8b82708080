"""One package per game: its pure rules, its bots and its test fixtures.

Each subpackage (e.g. :mod:`game.games.othello`) holds everything one game needs; the
registries of :mod:`game.rules` and :mod:`game.bots` list them.
"""
