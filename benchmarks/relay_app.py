"""A minimal FastAPI relay, written the way the FastAPI WebSocket tutorial writes it.

The yardstick for benchmarks/bench_server.py: a pair of clients share a room
(`/ws/{room}`) and every message either sends goes to both, with no parsing, no
game and no state beyond the room. Run it under uvicorn exactly like the game
server (uvloop, httptools, websockets-sansio, no deflate):

    python benchmarks/relay_app.py --port 8100
    game loadtest ws://127.0.0.1:8100/ws --target relay --matches 100

Text frames are relayed as text (JSON), binary frames as binary (msgpack); the
client's offered subprotocol is accepted so both codecs negotiate as they do
against the game server.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect


class ConnectionManager:
    def __init__(self) -> None:
        self.rooms: dict[str, list[WebSocket]] = {}

    async def connect(self, websocket: WebSocket, room: str) -> None:
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol=offered[0] if offered else None)
        self.rooms.setdefault(room, []).append(websocket)

    def disconnect(self, websocket: WebSocket, room: str) -> None:
        members = self.rooms.get(room, [])
        if websocket in members:
            members.remove(websocket)
        if not members:
            self.rooms.pop(room, None)

    async def broadcast_text(self, message: str, room: str) -> None:
        for connection in self.rooms.get(room, []):
            await connection.send_text(message)

    async def broadcast_bytes(self, message: bytes, room: str) -> None:
        for connection in self.rooms.get(room, []):
            await connection.send_bytes(message)


app = FastAPI()
manager = ConnectionManager()


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    return {"ok": True}


@app.websocket("/ws/{room}")
async def websocket_endpoint(websocket: WebSocket, room: str) -> None:
    await manager.connect(websocket, room)
    binary = (websocket.scope.get("subprotocols") or [""])[0].endswith("msgpack")
    try:
        while True:
            if binary:
                await manager.broadcast_bytes(await websocket.receive_bytes(), room)
            else:
                await manager.broadcast_text(await websocket.receive_text(), room)
    except WebSocketDisconnect:
        manager.disconnect(websocket, room)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                ws="websockets-sansio", ws_per_message_deflate=False, ws_max_size=4096,
                log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
