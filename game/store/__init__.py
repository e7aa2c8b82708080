"""Stores for matches and players: memory, SQLite (embedded default)."""
