"""An authoritative multiplayer turn-based game server over WebSockets."""

__version__ = "0.1.0"
