# A complete bot with only `websockets` + `msgpack`: random legal moves against a built-in bot.
# Usage: python examples/raw_msgpack_bot.py ws://127.0.0.1:8000/ws
import asyncio
import random
import sys

import msgpack
import websockets


async def main(url):
    async with websockets.connect(url, subprotocols=["game.v1.msgpack"]) as ws:
        await ws.send(msgpack.packb({"type": "hello", "name": "raw-msgpack"}))
        await ws.send(msgpack.packb({"type": "play_bot", "game": "connect4", "level": "random"}))
        moved_at = -1  # how many moves were on the board when we last moved
        async for frame in ws:
            msg = msgpack.unpackb(frame)
            if msg["type"] == "patch":  # to stay short, ask for the whole view (a snapshot);
                # raw_json_bot.py applies the patch and checks its hash instead
                await ws.send(msgpack.packb({"type": "sync", "match": msg["match"]}))
            elif msg["type"] == "error":
                print("error:", msg["code"], msg["message"])
            if msg["type"] != "snapshot":
                continue
            view = msg["view"]
            if view["status"] == "finished":
                winner, reason = view["result"]["winner"], view["result"]["reason"]
                outcome = "draw" if winner is None else "win" if winner == view["you"] else "loss"
                print(f"result: {outcome} by {reason} after {len(view['moves'])} moves")
                return
            if view["legal"] and moved_at != len(view["moves"]):
                moved_at = len(view["moves"])
                move = random.choice(view["legal"])
                await ws.send(msgpack.packb({"type": "move", "match": msg["match"],
                                             "move": move, "version": msg["version"]}))


asyncio.run(main(sys.argv[1]))
