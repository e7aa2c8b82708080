import assert from "node:assert/strict";
import { test } from "node:test";
import { Connection, State, defaultUrl, memoryTokenStore } from "../js/connection.js";
import { FakeClock, makeFakeSocket } from "./fakes.mjs";

function setup({ token = null, name = "Ada", random = () => 0.5 } = {}) {
  const clock = new FakeClock();
  const { FakeSocket, sockets } = makeFakeSocket();
  const tokens = memoryTokenStore(token);
  const conn = new Connection({
    url: "ws://test/ws",
    WebSocketImpl: FakeSocket,
    getName: () => name,
    tokenStore: tokens,
    timers: { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    now: clock.now,
    random,
    backoff: { base: 500, factor: 2, max: 8000, jitter: 0.5 },
    pingInterval: 20000,
    idleTimeout: 45000,
  });
  const events = [];
  conn.on("state", (s) => events.push(s));
  const messages = [];
  conn.on("message", (m, cmd) => messages.push([m, cmd]));
  return { clock, conn, sockets, tokens, events, messages, last: () => sockets[sockets.length - 1] };
}

function welcome(ws, extra = {}) {
  ws.receive({ type: "welcome", player: "p1", name: "Ada", token: "tok-1", matches: [], ...extra });
}

test("url and subprotocol", () => {
  assert.equal(defaultUrl({ protocol: "https:", host: "example.org" }), "wss://example.org/ws");
  assert.equal(defaultUrl({ protocol: "http:", host: "localhost:8000" }), "ws://localhost:8000/ws");
  const { conn, sockets } = setup();
  conn.start();
  assert.deepEqual(sockets[0].protocols, ["game.v1.json"]);
});

test("hello first, with name and stored token; welcome stores the new token", () => {
  const { conn, last, tokens, events } = setup({ token: "old" });
  conn.start();
  assert.equal(conn.state, State.CONNECTING);
  last().open();
  assert.deepEqual(last().sent, [{ type: "hello", name: "Ada", token: "old" }]);
  welcome(last());
  assert.equal(conn.state, State.READY);
  assert.equal(tokens.get(), "tok-1");
  assert.equal(conn.player, "p1");
  assert.deepEqual(events.map((e) => e.state), ["connecting", "hello", "ready"]);
});

test("commands wait in a queue until the welcome, then keep their order; ids are unique", () => {
  const { conn, last } = setup();
  const a = conn.send({ type: "queue", game: "connect4" });
  conn.start();
  last().open();
  const b = conn.send({ type: "watch", match: "m1" });
  assert.deepEqual(last().types(), ["hello"]);
  welcome(last());
  assert.deepEqual(last().types(), ["hello", "queue", "watch"]);
  assert.equal(last().sent[1].id, a);
  assert.equal(last().sent[2].id, b);
  assert.notEqual(a, b);
  const c = conn.send({ type: "move", match: "m1", move: 3, version: 2, id: "keep-me" });
  assert.equal(c, "keep-me");
  assert.equal(last().sent[3].id, "keep-me");
});

test("answers come with the command they refer to", () => {
  const { conn, last, messages } = setup();
  conn.start();
  last().open();
  welcome(last());
  const id = conn.send({ type: "move", match: "m", move: 1, version: 1 });
  last().receive({ type: "error", code: "not_your_turn", message: "no", ref: id });
  assert.equal(messages[0][0].code, "not_your_turn");
  assert.equal(messages[0][1].type, "move");
});

test("bad_token: the token is dropped and hello is sent again without it", () => {
  const { conn, last, tokens } = setup({ token: "stale" });
  let reset = 0;
  conn.on("token_reset", () => reset++);
  conn.start();
  last().open();
  last().receive({ type: "error", code: "bad_token", message: "unknown token" });
  assert.equal(tokens.get(), null);
  assert.equal(reset, 1);
  assert.deepEqual(last().sent, [{ type: "hello", name: "Ada", token: "stale" }, { type: "hello", name: "Ada" }]);
  welcome(last(), { token: "fresh" });
  assert.equal(tokens.get(), "fresh");
});

test("reconnects with capped exponential backoff and resumes with the token", () => {
  const { conn, sockets, last, clock, events } = setup();
  conn.start();
  last().open();
  welcome(last());
  last().serverClose(1006);
  assert.equal(conn.state, State.WAITING);
  const delays = [];
  for (let i = 0; i < 6; i++) {
    const waiting = events.filter((e) => e.state === "waiting").at(-1);
    delays.push(waiting.delay);
    const before = sockets.length;
    clock.advance(waiting.delay - 1);
    assert.equal(sockets.length, before, "no retry before the delay");
    clock.advance(1);
    assert.equal(sockets.length, before + 1, "retry after the delay");
    last().serverClose(1006); // fails before opening
  }
  // random() = 0.5 with jitter 0.5 -> 0.75 of the cap: 500, 1000, 2000, 4000, 8000, 8000 ...
  assert.deepEqual(delays, [375, 750, 1500, 3000, 6000, 6000]);
  clock.advance(events.at(-1).delay);
  last().open();
  assert.deepEqual(last().sent[0], { type: "hello", name: "Ada", token: "tok-1" });
});

test("the schedule starts over after a connection that stayed up", () => {
  const { conn, last, clock, events } = setup();
  conn.start();
  last().open();
  welcome(last());
  last().serverClose(1012);
  assert.equal(events.at(-1).delay, 375);
  clock.advance(375);
  last().open();
  welcome(last());
  last().serverClose(1001); // dropped again right away: keep backing off
  assert.equal(events.at(-1).delay, 750);
  clock.advance(750);
  last().open();
  welcome(last());
  clock.advance(10_000); // stable for a while
  last().serverClose(1006);
  assert.equal(events.at(-1).delay, 375);
});

test("4009 (replaced by another tab): no automatic reconnect, until asked", () => {
  const { conn, sockets, last, clock } = setup();
  conn.start();
  last().open();
  welcome(last());
  last().serverClose(4009, "replaced");
  assert.equal(conn.state, State.REPLACED);
  clock.advance(120_000);
  assert.equal(sockets.length, 1);
  conn.reconnectNow();
  assert.equal(sockets.length, 2);
  assert.equal(conn.state, State.CONNECTING);
});

test("1008 (policy): reported, no automatic reconnect", () => {
  const { conn, sockets, last, clock, events } = setup();
  conn.start();
  last().open();
  welcome(last());
  last().serverClose(1008, "rate limited");
  assert.equal(conn.state, State.REFUSED);
  assert.equal(events.at(-1).reason, "rate limited");
  clock.advance(120_000);
  assert.equal(sockets.length, 1);
});

test("heartbeat: pings while ready, drops a silent connection and reconnects", () => {
  const { conn, sockets, last, clock } = setup();
  conn.start();
  last().open();
  welcome(last());
  clock.advance(20_000);
  assert.deepEqual(last().types().slice(-1), ["ping"]);
  last().receive({ type: "pong" });
  clock.advance(20_000);
  clock.advance(20_000);
  clock.advance(20_000); // 60 s since the pong: more than idleTimeout
  assert.equal(sockets[0].closedWith?.code, 1000);
  assert.equal(conn.state, State.WAITING);
  clock.advance(10_000);
  assert.equal(sockets.length, 2);
});

test("a socket that never opens times out and is retried", () => {
  const { conn, sockets, clock } = setup();
  conn.start();
  clock.advance(10_000);
  assert.equal(conn.state, State.WAITING);
  clock.advance(1_000);
  assert.equal(sockets.length, 2);
});

test("restart says hello again at once; stop closes for good", () => {
  const { conn, sockets, last, clock } = setup();
  conn.start();
  last().open();
  welcome(last());
  conn.restart();
  assert.equal(sockets.length, 2);
  assert.equal(sockets[0].closedWith.code, 1000);
  last().open();
  welcome(last());
  conn.stop();
  assert.equal(conn.state, State.STOPPED);
  clock.advance(60_000);
  assert.equal(sockets.length, 2);
});

test("undecodable or typeless messages are ignored, not fatal", () => {
  const { conn, last, messages } = setup();
  let warnings = 0;
  conn.on("warning", () => warnings++);
  conn.start();
  last().open();
  welcome(last());
  last().receive("{not json");
  last().receive({ no: "type" });
  last().receive({ type: "queued", game: "connect4" });
  assert.equal(warnings, 1);
  assert.equal(messages.length, 1);
  assert.equal(conn.state, State.READY);
});

test("messages from an old socket are ignored after a reconnect", () => {
  const { conn, sockets, last, clock, messages } = setup();
  conn.start();
  last().open();
  welcome(last());
  const old = sockets[0];
  old.serverClose(1006);
  clock.advance(1000);
  last().open();
  welcome(last());
  old.receive({ type: "queued", game: "x" });
  assert.equal(messages.length, 0);
});
