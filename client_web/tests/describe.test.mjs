import assert from "node:assert/strict";
import { test } from "node:test";
import { describeMove, formatCountdown, incomingRematch, isEmptySeat, landingRow, rematchOfferText, rematchState, resultText, statusText } from "../js/describe.js";
import { useGameFixtures } from "./gamefixtures.mjs";

// the words of tic-tac-toe and connect-four, as the server describes them
useGameFixtures();

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

test("an incoming rematch offer: the other seat offers, we have not answered, the match is over", () => {
  const fin = { ...base, status: "finished", result: { winner: 0, reason: "line", line: [] } };
  assert.equal(incomingRematch({ ...fin, rematch: [false, true] }), true);
  assert.equal(incomingRematch({ ...fin, you: 1, rematch: [true, false] }), true);
  assert.equal(incomingRematch({ ...fin, rematch: [true, true] }), false); // accepted
  assert.equal(incomingRematch({ ...fin, rematch: [true, false] }), false); // our own offer
  assert.equal(incomingRematch({ ...fin, rematch: [false, false] }), false);
  assert.equal(incomingRematch({ ...fin, you: null, rematch: [false, true] }), false); // spectator
  assert.equal(incomingRematch({ ...base, rematch: [false, true] }), false); // not over
  assert.equal(incomingRematch(undefined), false);
  assert.equal(rematchOfferText({ ...fin, rematch: [false, true] }), "Bob offers a rematch");
  assert.equal(rematchOfferText({ ...fin, you: 1, players: [{ ...players[0], name: "" }, players[1]] }), "Red offers a rematch");
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

test("aborted: says why (no first move, a player left, a room closed)", () => {
  const aborted = (changes, you = 0) => resultText({ ...base, status: "finished", turn: null, you, result: { winner: null, reason: "aborted", line: [] }, ...changes });
  // Deadline before anyone moved: seat 0's first move was due.
  assert.deepEqual(aborted({ moves: [] }), { title: "Match aborted", detail: "You did not make a first move in time", outcome: "neutral" });
  assert.equal(aborted({ moves: [] }, 1).detail, "Ada did not make a first move in time");
  // One side moved: the other one's first move was due; never "no first move was made".
  assert.equal(aborted({ moves: [3] }).detail, "Bob did not make a first move in time");
  assert.equal(aborted({ moves: [3] }, null).detail, "Bob did not make a first move in time");
  // Grace ran out before both had moved: the player who left is named.
  const gone = [players[0], { ...players[1], online: false }];
  assert.equal(aborted({ moves: [3], players: gone }).detail, "Bob left before both sides had moved");
  assert.equal(aborted({ moves: [], players: [{ ...players[0], online: false }, players[1]] }).detail, "You left before both sides had moved");
  // A bot is never "offline".
  assert.equal(aborted({ moves: [], players: [players[0], { name: "Easy bot", online: false, bot: true, grace: null }] }).detail, "You did not make a first move in time");
  // A room that expired or was cancelled before anyone joined.
  const empty = { name: "", online: false, bot: false, grace: null };
  const room = aborted({ moves: [], players: [players[0], empty] });
  assert.deepEqual(room, { title: "Room closed", detail: "No one joined the room", outcome: "neutral" });
  assert.equal(statusText({ ...base, status: "finished", result: { winner: null, reason: "aborted", line: [] }, players: [players[0], empty] }), "Room closed");
  for (const r of [aborted({ moves: [] }), aborted({ moves: [3] }), room]) assert.doesNotMatch(r.detail, /no first move was made/i);
});

test("empty seat: the server's placeholder, not a player who went offline", () => {
  const empty = { name: "", online: false, bot: false, grace: null };
  assert.equal(isEmptySeat({ ...base, players: [players[0], empty] }, 1), true);
  assert.equal(isEmptySeat({ ...base, players: [players[0], empty] }, 0), false);
  assert.equal(isEmptySeat({ ...base, players: [players[0], { ...players[1], online: false }] }, 1), false);
  assert.equal(isEmptySeat({ ...base, players: [players[0]] }, 1), true);
});
