// Issue 17's browser rough edges, the pure parts: room codes checked before they are
// sent, a refused hello, why a board click plays nothing, no rematch with someone who left.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Connection, State, memoryTokenStore } from "../js/connection.js";
import { blockedMoveText, rematchState } from "../js/describe.js";
import { helloRefusedText } from "../js/errors.js";
import { normalRoomCode } from "../js/links.js";
import { FakeClock, makeFakeSocket } from "./fakes.mjs";
import { useGameFixtures } from "./gamefixtures.mjs";

useGameFixtures(); // connect-four's moves are columns, as the server says

test("room codes: 6 characters of the server's alphabet, trimmed, in capitals", () => {
  assert.equal(normalRoomCode(" k7mpq2 "), "K7MPQ2");
  assert.equal(normalRoomCode("ABCDEF"), "ABCDEF");
  for (const bad of ["", "ABC", "ABCDEFG", "<script>alert(1)</script>", "‹img src=x>", "ABCDE1", "ABCDEO", "ABCDEI", null, undefined]) {
    assert.equal(normalRoomCode(bad), null, String(bad));
  }
});

function refusedConnection() {
  const clock = new FakeClock();
  const { FakeSocket, sockets } = makeFakeSocket();
  const conn = new Connection({
    url: "ws://test/ws",
    WebSocketImpl: FakeSocket,
    getName: () => "Hard bot",
    tokenStore: memoryTokenStore(),
    timers: { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    now: clock.now,
    random: () => 0.5,
  });
  return { clock, conn, sockets };
}

test("a refused hello stops (no retry) and says why; restart() tries again", () => {
  const { clock, conn, sockets } = refusedConnection();
  const refusals = [];
  const states = [];
  conn.on("hello_refused", (msg) => refusals.push(msg));
  conn.on("state", (info) => states.push(info));
  conn.start();
  sockets[0].open();
  const error = { type: "error", code: "bad_message", message: "that name is a built-in bot's; choose another" };
  sockets[0].receive(error);
  assert.equal(conn.state, State.REFUSED);
  assert.deepEqual(refusals, [error]);
  assert.deepEqual(states.at(-1).refusal, error);
  assert.ok(sockets[0].closedWith, "the socket is closed");
  clock.advance(120_000);
  assert.equal(sockets.length, 1, "the same hello is not said again");
  conn.restart();
  assert.equal(sockets.length, 2);
});

test("the words for a refused hello", () => {
  assert.equal(
    helloRefusedText({ code: "bad_message", message: "name: String should have at most 32 characters" }),
    "The server did not accept your name (String should have at most 32 characters). Pick another name.",
  );
  assert.match(helloRefusedText({ code: "bad_message", message: "name: Value error, a name needs at least one visible character" }), /\(a name needs at least one visible character\)/);
  assert.match(helloRefusedText({ code: "rate_limited" }), /try again/);
});

const c4 = (board, extra = {}) => ({ game: "connect4", status: "active", you: 0, turn: 0, board, players: [{ name: "Ada", online: true }, { name: "Bob", online: true }], ...extra });

test("why a board click plays nothing", () => {
  const empty = Array(42).fill(null);
  const full3 = empty.map((v, i) => (i % 7 === 3 ? i % 2 : null));
  assert.equal(blockedMoveText(c4(empty, { turn: 1 }), 3), "Not your turn: Bob is to move.");
  assert.equal(blockedMoveText(c4(full3), 3), "That column is full.");
  assert.equal(blockedMoveText(c4(empty, { you: null }), 3), "You are watching this match.");
  assert.equal(blockedMoveText(c4(empty, { status: "finished" }), 3), "");
  assert.equal(blockedMoveText(c4(empty), 3, { pending: true }), "Your move is on its way.");
  const ttt = { game: "tictactoe", status: "active", you: 1, turn: 1, board: [0, null, null, null, null, null, null, null, null], players: [] };
  assert.equal(blockedMoveText(ttt, 0), "That square is taken.");
});

test("no rematch with an opponent who had left, unless they offer it themselves", () => {
  const view = { game: "tictactoe", status: "finished", you: 0, rematch: [false, false], players: [{ name: "Ada", online: true }, { name: "Bob", online: false, grace: null }] };
  assert.deepEqual(rematchState(view), { label: "Rematch", pressed: false, disabled: true, note: "Bob has left." });
  assert.equal(rematchState({ ...view, rematch: [false, true] }).disabled, false);
  const bot = { ...view, players: [view.players[0], { name: "Easy bot", online: false, bot: true }] };
  assert.equal(rematchState(bot).disabled, false);
});
