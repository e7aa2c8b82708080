"""Protocol v1: typed messages, safe codecs, view patches and hashes. No sockets."""

from game.protocol.codec import Codec, decode_json, decode_msgpack, encode
from game.protocol.errors import CloseCode, ErrorCode, ProtocolError, UndecodableFrame
from game.protocol.patch import apply_patch, canonical_json, diff, view_hash

__all__ = [
    "CloseCode",
    "Codec",
    "ErrorCode",
    "ProtocolError",
    "UndecodableFrame",
    "apply_patch",
    "canonical_json",
    "decode_json",
    "decode_msgpack",
    "diff",
    "encode",
    "view_hash",
]
