// The bot of raw_json_bot.py in plain JavaScript for Node, with no dependencies and no imports:
// random legal moves against a built-in bot. It keeps the view in step itself: applies each
// patch (JSON Patch add / replace / remove) and checks the CRC-32 of the view's canonical JSON
// against the patch's `hash`. It uses Node's built-in WebSocket (a global from Node 22 on).
// Usage: node examples/raw_json_bot.mjs ws://127.0.0.1:8000/ws
// (on Node 20 or 21: node --experimental-websocket examples/raw_json_bot.mjs ws://...)

function apply(view, ops) {
  const root = { "": view }; // so that the path "" (the whole view) is a key like any other
  for (const op of ops) {
    const keys = op.path.split("/").map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"));
    let last = keys.pop();
    let parent = root;
    for (const key of keys) parent = parent[key]; // "3" indexes an array as well as 3 does
    const list = Array.isArray(parent);
    if (list) last = last === "-" ? parent.length : Number(last);
    if (list && op.op === "add") parent.splice(last, 0, op.value);
    else if (list && op.op === "remove") parent.splice(last, 1);
    else if (op.op === "remove") delete parent[last];
    else parent[last] = op.value;
  }
  return root[""];
}

// Canonical JSON: keys sorted by code point (= by their UTF-8 bytes), no spaces, non-ASCII as is
// (JSON.stringify escapes strings exactly as Python's json.dumps(..., ensure_ascii=False) does).
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

const TABLE = Array.from({ length: 256 }, (_, n) => { // CRC-32, IEEE polynomial (as zlib, PNG)
  for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
  return n;
});

function crc(view) { // the `hash` of a view: CRC-32 (unsigned) of its canonical JSON in UTF-8
  let c = ~0;
  for (const b of new TextEncoder().encode(canonical(view))) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

if (process.argv[2] === "--selftest") { // for the tests: JSON list of views in, a hash a line out
  let input = "";
  for await (const chunk of process.stdin.setEncoding("utf8")) input += chunk;
  for (const view of JSON.parse(input)) console.log(crc(view));
  process.exit(0);
}
if (typeof globalThis.WebSocket === "undefined") {
  console.error("This Node has no global WebSocket (Node 22+ has one). On Node 20 or 21 run:\n"
    + "  node --experimental-websocket examples/raw_json_bot.mjs URL");
  process.exit(2);
}

const url = process.argv[2];
const ws = new WebSocket(url, "game.v1.json");
let view = null, version = 0, movedAt = -1, lastId = 0, finished = false;
const send = (msg) => ws.send(JSON.stringify({ ...msg, id: ++lastId }));

ws.onopen = () => {
  send({ type: "hello", name: "raw-json-js" });
  send({ type: "play_bot", game: "connect4", level: "random" });
};
ws.onerror = () => { console.error(`cannot talk to ${url}`); process.exit(1); };
ws.onclose = () => { if (!finished) { console.error("closed before the end"); process.exit(1); } };
ws.onmessage = ({ data }) => {
  const msg = JSON.parse(data);
  if (msg.type === "error") { // after stale_version or not_your_turn, the next patch shows why
    console.error("error:", msg.code, msg.message);
    if (msg.code !== "stale_version" && msg.code !== "not_your_turn") process.exit(1);
  } else if (msg.type === "snapshot") {
    [view, version] = [msg.view, msg.version];
    play(msg.match);
  } else if (msg.type === "patch" && view !== null && msg.version > version + 1) {
    send({ type: "sync", match: msg.match, since: version }); // we missed some: get them again
  } else if (msg.type === "patch" && view !== null && msg.version === version + 1) {
    try { view = apply(view, msg.ops); } catch { view = null; } // an op that did not apply
    version = msg.version;
    if (view !== null && crc(view) === msg.hash) return play(msg.match);
    console.error(`out of step at version ${version}: asking for a snapshot`);
    view = null; // and ignore this match's patches until it comes
    send({ type: "sync", match: msg.match });
  }
};

function play(match) {
  if (view.status === "finished") {
    const { winner, reason } = view.result;
    const outcome = winner === null ? "draw" : winner === view.you ? "win" : "loss";
    console.log(`result: ${outcome} by ${reason} after ${view.moves.length} moves`);
    finished = true;
    ws.close();
  } else if (view.turn === view.you && view.legal.length > 0 && movedAt !== view.moves.length) {
    movedAt = view.moves.length; // move once per position
    const move = view.legal[Math.floor(Math.random() * view.legal.length)];
    send({ type: "move", match, move, version });
  }
}
