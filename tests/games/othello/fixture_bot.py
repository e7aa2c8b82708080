"""A bot plugin (GAME_BOT_PLUGINS) that plays a fixture game's moves in order, so a test
against a real server knows when the bot's opponent is passed over."""

from __future__ import annotations

from game.games.othello.fixtures import TWO_PASSES


def two_passes(game: str, moves: tuple[int | None, ...], seed: int | None,
               time_budget: float) -> int:
    """The next move of :data:`TWO_PASSES` after ``moves`` (a record: ``None`` = a pass)."""
    assert game == "othello", game
    played = [m for m in moves if m is not None]
    assert played == list(TWO_PASSES.moves[:len(played)]), "the game left the fixture"
    return TWO_PASSES.moves[len(played)]
