import assert from "node:assert/strict";
import { test } from "node:test";
import { describeMove, formatCountdown, landingRow, rematchState, resultText, statusText } from "../js/describe.js";

const players = [
  { name: "Ada", online: true, bot: false, grace: null },
  { name: "Bob", online: true, bot: false, grace: null },
];
const base = { game: "connect4", status: "active", board: Array(42).fill(null), turn: 0, you: 0, legal: [], players, deadline: null, watchers: 0, moves: [], result: null, rematch: [false, false] };

test("status line for players, spectators, waiting and finished", () => {
  assert.equal(statusText(base), "Your turn");
  assert.equal(statusText({ ...base, turn: 1 }), "Waiting for Bob…");
  assert.equal(statusText({ ...base, you: null, turn: 1 }), "Bob (Yellow) to move");
  assert.equal(statusText({ ...base, status: "waiting", turn: null }), "Waiting for an opponent to join…");
  assert.equal(statusText({ ...base, status: "finished", turn: null, result: { winner: 0, reason: "line", line: [] } }), "You won!");
});

test("result wording for every reason", () => {
  const fin = (result, you = 0) => resultText({ ...base, status: "finished", you, result });
  assert.deepEqual(fin({ winner: 0, reason: "line", line: [1, 2, 3, 4] }), { title: "You won!", detail: "Four in a row", outcome: "win" });
  assert.deepEqual(fin({ winner: 1, reason: "resign", line: [] }), { title: "You lost", detail: "You resigned", outcome: "loss" });
  assert.deepEqual(fin({ winner: 0, reason: "timeout", line: [] }), { title: "You won!", detail: "Bob ran out of time", outcome: "win" });
  assert.deepEqual(fin({ winner: 0, reason: "abandoned", line: [] }), { title: "You won!", detail: "Bob left the match", outcome: "win" });
  assert.deepEqual(fin({ winner: null, reason: "draw", line: [] }), { title: "It's a draw", detail: "The board is full", outcome: "draw" });
  assert.equal(fin({ winner: null, reason: "aborted", line: [] }).title, "Match aborted");
  assert.deepEqual(fin({ winner: 1, reason: "line", line: [] }, null), { title: "Bob (Yellow) wins", detail: "Four in a row", outcome: "neutral" });
  assert.equal(resultText({ ...base, game: "tictactoe", status: "finished", result: { winner: 0, reason: "line", line: [] } }).detail, "Three in a row");
});

test("moves are described by seat order", () => {
  const view = { ...base, moves: [3, 4] };
  assert.equal(describeMove(view, 0), "You dropped a stone in column 4.");
  assert.equal(describeMove(view, 1), "Bob (Yellow) dropped a stone in column 5.");
  const ttt = { ...base, game: "tictactoe", you: 1, moves: [4, 0] };
  assert.equal(describeMove(ttt, 0), "Ada (X) took the center.");
  assert.equal(describeMove(ttt, 1), "You took the top left.");
});

test("countdown formatting", () => {
  assert.equal(formatCountdown(27_000), "0:27");
  assert.equal(formatCountdown(26_001), "0:27");
  assert.equal(formatCountdown(65_000), "1:05");
  assert.equal(formatCountdown(-5), "0:00");
});

test("rematch button states", () => {
  const fin = { ...base, status: "finished", result: { winner: 0, reason: "line", line: [] } };
  assert.equal(rematchState(base).disabled, true);
  assert.deepEqual(rematchState(fin), { label: "Rematch", pressed: false, disabled: false, note: "" });
  assert.equal(rematchState({ ...fin, rematch: [true, false] }).pressed, true);
  assert.equal(rematchState({ ...fin, rematch: [false, true] }).label, "Accept rematch");
  assert.equal(rematchState({ ...fin, you: null }).disabled, true);
});

test("connect-four landing row (row 0 at the top)", () => {
  const board = Array(42).fill(null);
  assert.equal(landingRow(board, 3), 5);
  board[5 * 7 + 3] = 0;
  board[4 * 7 + 3] = 1;
  assert.equal(landingRow(board, 3), 3);
  for (let r = 0; r < 6; r++) board[r * 7 + 6] = r % 2;
  assert.equal(landingRow(board, 6), -1);
});
