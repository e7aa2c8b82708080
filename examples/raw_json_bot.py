# A complete bot with only the standard library + `websockets`: random legal moves against a
# built-in bot. It keeps the view in step itself: applies each patch (JSON Patch add / replace /
# remove) and checks the CRC-32 of the view's canonical JSON against the patch's `hash`.
# Usage: python examples/raw_json_bot.py ws://127.0.0.1:8000/ws
import asyncio
import json
import random
import sys
import zlib

import websockets


def apply(view, ops):
    root = {"": view}  # so that the path "" (the whole view) is a key like any other
    for op in ops:
        *keys, last = [k.replace("~1", "/").replace("~0", "~") for k in op["path"].split("/")]
        parent = root
        for key in keys:
            parent = parent[int(key) if isinstance(parent, list) else key]
        if isinstance(parent, list):
            last = len(parent) if last == "-" else int(last)
        if isinstance(parent, list) and op["op"] == "add":
            parent.insert(last, op["value"])
        elif op["op"] == "remove":
            del parent[last]
        else:
            parent[last] = op["value"]
    return root[""]


def crc(view):  # the `hash` of a view: CRC-32 of its canonical JSON
    canonical = json.dumps(view, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return zlib.crc32(canonical.encode("utf-8"))


async def main(url):
    async with websockets.connect(url, subprotocols=["game.v1.json"]) as ws:
        await ws.send(json.dumps({"type": "hello", "name": "raw-json"}))
        await ws.send(json.dumps({"type": "play_bot", "game": "connect4", "level": "random"}))
        view, version, moved_at = None, None, -1
        async for frame in ws:
            msg = json.loads(frame)
            if msg["type"] == "error":
                print("error:", msg["code"], msg["message"])
            if msg["type"] == "snapshot":
                view, version = msg["view"], msg["version"]
            elif msg["type"] == "patch" and view is not None and msg["version"] == version + 1:
                view, version = apply(view, msg["ops"]), msg["version"]
                if crc(view) != msg["hash"]:  # out of step: ask for a snapshot
                    view = None
                    await ws.send(json.dumps({"type": "sync", "match": msg["match"]}))
            elif msg["type"] == "patch" and view is not None and msg["version"] > version + 1:
                await ws.send(json.dumps({"type": "sync", "match": msg["match"], "since": version}))
            if view is None or msg["type"] not in ("snapshot", "patch"):
                continue
            if view["status"] == "finished":
                winner, reason = view["result"]["winner"], view["result"]["reason"]
                outcome = "draw" if winner is None else "win" if winner == view["you"] else "loss"
                print(f"result: {outcome} by {reason} after {len(view['moves'])} moves")
                return
            if view["legal"] and moved_at != len(view["moves"]):
                moved_at = len(view["moves"])
                move = random.choice(view["legal"])
                await ws.send(json.dumps({"type": "move", "match": msg["match"], "move": move,
                                          "version": version}))


asyncio.run(main(sys.argv[1]))
