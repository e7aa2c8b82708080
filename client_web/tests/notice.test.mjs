// A restart the server announces (`notice`, then 1012) is a calm pause: commands wait
// for the next welcome, the first retry follows `reconnect_ms` plus jitter, and every
// state event says `restarting` until the welcome.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Connection, State, memoryTokenStore } from "../js/connection.js";
import { FakeClock, makeFakeSocket } from "./fakes.mjs";

function setup(random = () => 0.5) {
  const clock = new FakeClock();
  const { FakeSocket, sockets } = makeFakeSocket();
  const conn = new Connection({
    url: "ws://test/ws",
    WebSocketImpl: FakeSocket,
    tokenStore: memoryTokenStore("tok"),
    timers: { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    now: clock.now,
    random,
    backoff: { base: 500, factor: 2, max: 8000, jitter: 0.5 },
  });
  const events = [];
  conn.on("state", (s) => events.push(s));
  const notices = [];
  conn.on("notice", (n) => notices.push(n));
  const messages = [];
  conn.on("message", (m) => messages.push(m));
  const last = () => sockets[sockets.length - 1];
  conn.start();
  last().open();
  last().receive({ type: "welcome", player: "p1", name: "Ada", token: "tok", matches: [] });
  return { clock, conn, sockets, events, notices, messages, last };
}

const NOTICE = { type: "notice", reason: "restart", message: "restarting", reconnect_ms: 2000 };

test("a notice holds new commands and marks the connection restarting", () => {
  const { conn, last, events, notices, messages } = setup();
  last().receive(NOTICE);
  assert.deepEqual(notices, [NOTICE]);
  assert.deepEqual(messages, [], "a notice is not handed on as a message");
  assert.equal(conn.restarting, true);
  assert.equal(events.at(-1).restarting, true);
  assert.equal(events.at(-1).state, State.READY);
  conn.send({ type: "move", match: "m", move: 3, version: 4 });
  assert.deepEqual(last().types(), ["hello"], "nothing is sent on the socket going away");
  assert.equal(conn.queued, 1);
});

test("after the close, the first retry waits reconnect_ms plus jitter, then resumes", () => {
  const { clock, conn, last, sockets, events } = setup(() => 0.5);
  last().receive(NOTICE);
  const id = conn.send({ type: "move", match: "m", move: 3, version: 4 });
  last().serverClose(1012, "server restarting");
  const waiting = events.at(-1);
  assert.equal(waiting.state, State.WAITING);
  assert.equal(waiting.restarting, true);
  assert.equal(waiting.delay, 2000 + 0.5 * 1000); // wait + random * wait / 2
  clock.advance(2499);
  assert.equal(sockets.length, 1);
  clock.advance(1);
  assert.equal(sockets.length, 2);
  assert.equal(events.at(-1).restarting, true, "still restarting while reconnecting");
  last().open();
  last().receive({ type: "welcome", player: "p1", name: "Ada", token: "tok", matches: [] });
  assert.equal(conn.restarting, false);
  assert.deepEqual(events.at(-1), { state: State.READY, restarting: false });
  assert.deepEqual(last().sent.at(-1), { type: "move", match: "m", move: 3, version: 4, id });
});

test("a refused attempt while the server restarts stays calm", () => {
  const { clock, last, events } = setup(() => 0);
  last().receive(NOTICE);
  last().serverClose(1012);
  clock.advance(2000);
  last().serverClose(1006); // not listening yet
  assert.equal(events.at(-1).state, State.WAITING);
  assert.equal(events.at(-1).restarting, true);
  assert.equal(events.at(-1).delay, 250, "then the usual backoff, from its start");
});

test("a 1012 without a notice is a restart too; an operator's notice is not", () => {
  const { conn, last, events } = setup();
  last().receive({ type: "notice", reason: "operator", message: "maintenance at noon" });
  assert.equal(conn.restarting, false);
  conn.send({ type: "ping" });
  assert.deepEqual(last().types(), ["hello", "ping"], "an operator's notice holds nothing");
  last().serverClose(1012);
  assert.equal(events.at(-1).restarting, true);
});
