import assert from "node:assert/strict";
import { test } from "node:test";

import { clampPly, exportJson, exportName, matchRecord, plyCount, plyForKey, ponsString, viewAt } from "../js/pages/replaylogic.js";
import { isId, leaderboardLink, pageRoute, playerLink, replayLink } from "../js/pages/route.js";

// A positions answer (GET /api/matches/{match}/positions) of a 3-move connect-four game.
const empty = Array(42).fill(null);
const after = (cells) => empty.map((_, i) => (i in cells ? cells[i] : null));
const DATA = {
  match: "abc_DEF-123",
  game: "connect4",
  rows: 6,
  cols: 7,
  status: "finished",
  players: [{ id: "p1", name: "Ann", bot: false, program: false }, { id: "p2", name: "Robo", bot: false, program: true }],
  result: { winner: 1, reason: "resign", line: [] },
  started_at: 1,
  rated: true,
  moves: [3, 3, 4],
  positions: [
    { board: empty, turn: 0, last: null },
    { board: after({ 38: 0 }), turn: 1, last: 38 },
    { board: after({ 38: 0, 31: 1 }), turn: 0, last: 31 },
    { board: after({ 38: 0, 31: 1, 39: 0 }), turn: 1, last: 39 },
  ],
};

test("plies are clamped to the replay", () => {
  assert.equal(plyCount(DATA), 3);
  assert.equal(clampPly(DATA, -4), 0);
  assert.equal(clampPly(DATA, 2.7), 2);
  assert.equal(clampPly(DATA, 99), 3);
  assert.equal(clampPly(DATA, "nonsense"), 3);
});

test("the view at a ply: its board and moves, the result only at the end", () => {
  const start = viewAt(DATA, 0);
  assert.deepEqual(start.moves, []);
  assert.equal(start.status, "active");
  assert.equal(start.result, null);
  assert.equal(start.turn, 0);
  const two = viewAt(DATA, 2);
  assert.deepEqual(two.moves, [3, 3]);
  assert.equal(two.board[31], 1);
  assert.equal(two.you, null);
  assert.deepEqual(two.legal, []);
  const end = viewAt(DATA, 3);
  assert.equal(end.status, "finished");
  assert.deepEqual(end.result, DATA.result);
  assert.equal(end.turn, null);
  assert.deepEqual(end.players.map((p) => [p.name, p.program]), [["Ann", false], ["Robo", true]]);
  // a live match's last ply is not an ending
  assert.equal(viewAt({ ...DATA, status: "active", result: null }, 3).status, "active");
});

test("keys step, jump to the ends, and leave other keys alone", () => {
  assert.equal(plyForKey(DATA, 1, "ArrowRight"), 2);
  assert.equal(plyForKey(DATA, 3, "ArrowRight"), 3);
  assert.equal(plyForKey(DATA, 0, "ArrowLeft"), 0);
  assert.equal(plyForKey(DATA, 2, "Home"), 0);
  assert.equal(plyForKey(DATA, 0, "End"), 3);
  assert.equal(plyForKey(DATA, 0, "Enter"), null);
});

test("exports: the match without its positions, and Pons' move string", () => {
  const record = JSON.parse(exportJson(DATA));
  assert.deepEqual(record, matchRecord(DATA));
  assert.equal("positions" in record, false);
  assert.deepEqual(record.moves, [3, 3, 4]);
  assert.equal(ponsString({ ...DATA, moves: [3, 3, 4, 2] }), "4453");
  assert.equal(ponsString(DATA), "445");
  assert.equal(ponsString({ ...DATA, game: "tictactoe" }), null);
  assert.equal(exportName(DATA, "json"), "connect4-abc_DEF-123.json");
  assert.equal(exportName({ ...DATA, match: "a/../b" }, "txt"), "connect4-a____b.txt");
});

test("routes and links of the pages", () => {
  const route = (query) => pageRoute(new URLSearchParams(query));
  assert.deepEqual(route("?replay=abc"), { page: "replay", match: "abc" });
  assert.deepEqual(route("?player=p_1"), { page: "player", player: "p_1" });
  assert.deepEqual(route("?leaderboard=connect4"), { page: "leaderboard", game: "connect4" });
  assert.equal(route("?room=ABCDEF"), null);
  assert.equal(route(""), null);
  assert.equal(isId("b2ScFPB321qM"), true);
  assert.equal(isId("<script>"), false);
  assert.equal(isId(""), false);
  assert.equal(replayLink("m1"), "./?replay=m1");
  assert.equal(replayLink("m1", 4), "./?replay=m1&ply=4");
  assert.equal(playerLink("a b"), "./?player=a+b");
  assert.equal(leaderboardLink("othello"), "./?leaderboard=othello");
});
