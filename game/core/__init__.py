"""The match core: lifecycle, clocks, views and matchmaking. Sans-I/O: never awaits."""
