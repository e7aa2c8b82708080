// Boards by name: a game's own renderer module (js/games/<name>.js) or the generic
// grid, and what the grid and the othello board show, without a DOM.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as connect4 from "../js/games/connect4.js";
import * as othello from "../js/games/othello.js";
import * as tictactoe from "../js/games/tictactoe.js";
import { registerGames } from "../js/gamemeta.js";
import * as grid from "../js/render/grid.js";
import { canDraw, loadRenderer, rendererFor } from "../js/render/index.js";
import { useGameFixtures } from "./gamefixtures.mjs";

useGameFixtures();
// a game the server serves with no renderer module of its own
const GOMOKU = { id: "gomoku", title: "Gomoku", rows: 9, cols: 9, seats: ["Black", "White"], move: "cell", cells: null, sentences: { move: "{mover} played {cell}", pass: null, results: {} } };
const DROP = { id: "drop3", title: "Drop three", rows: 3, cols: 4, seats: ["Red", "Blue"], move: "column", cells: null, sentences: { move: null, pass: null, results: {} } };
registerGames([GOMOKU, DROP]);

test("a game's own module is its renderer; one without a module gets the grid", async () => {
  assert.equal(rendererFor("othello"), null, "nothing is loaded before it is asked for");
  assert.equal(await loadRenderer("othello"), othello);
  assert.equal(await loadRenderer("tictactoe"), tictactoe);
  assert.equal(await loadRenderer("connect4"), connect4);
  assert.equal(await loadRenderer("gomoku"), grid);
  assert.equal(rendererFor("othello"), othello);
  assert.equal(rendererFor("gomoku"), grid);
  // loaded once: the same promise while loading, the same module after
  assert.equal(loadRenderer("drop3"), loadRenderer("drop3"));
  assert.equal(await loadRenderer("drop3"), grid);
});

test("a name that is not a game id never becomes a module path", async () => {
  for (const name of ["../describe", "render/grid", "Othello", "", "a".repeat(40), undefined]) {
    assert.equal(await loadRenderer(name), grid, String(name));
  }
});

test("the page can draw every game the server describes with a rectangular board", () => {
  assert.ok(canDraw("othello") && canDraw("gomoku") && canDraw("connect4"));
  assert.equal(canDraw("unknown"), false);
  registerGames([{ id: "cards", title: "Cards", rows: 0, cols: 0 }]);
  assert.equal(canDraw("cards"), false);
});

const players = [{ name: "Ada" }, { name: "Bob" }];
const gview = (extra = {}) => ({ game: "gomoku", status: "active", board: Array(81).fill(null), turn: 0, you: 0, legal: [], players, moves: [], result: null, ...extra });

test("grid: rows x cols cells with pieces; legal moves playable only when the viewer may play", () => {
  const board = Array(81).fill(null);
  board[40] = 0;
  board[41] = 1;
  const view = gview({ board, moves: [40, 41], legal: [0, 1, 80] });
  const idle = grid.gridModel(view);
  assert.deepEqual([idle.rows, idle.cols, idle.byColumn], [9, 9, false]);
  assert.equal(idle.cells.length, 81);
  assert.deepEqual(idle.playable, []);
  assert.equal(idle.cells.filter((c) => c.playable).length, 0);
  const mine = grid.gridModel(view, { canPlay: true });
  assert.deepEqual(mine.playable, [0, 1, 80]);
  assert.deepEqual(mine.cells.filter((c) => c.playable).map((c) => c.cell), [0, 1, 80]);
  assert.equal(mine.cells[40].value, 0);
  assert.equal(mine.cells[41].last, true);
  assert.equal(mine.cells[40].last, false);
  assert.equal(mine.cells[41].label, "Row 5, column 6: White, last move");
  assert.equal(mine.cells[80].label, "Row 9, column 9: empty. Play here");
  assert.match(mine.label, /^Gomoku board, 9 by 9\. Use the arrow keys/);
});

test("grid: a column game has one target per column; the last piece is the top of the last column", () => {
  const board = Array(12).fill(null);
  board[8 + 1] = 0; // row 2 (bottom), column 1
  board[4 + 1] = 1; // row 1, column 1
  const view = { game: "drop3", status: "active", board, turn: 0, you: 0, legal: [0, 1, 2, 3], players, moves: [1, 1], result: null };
  const m = grid.gridModel(view, { canPlay: true });
  assert.equal(m.byColumn, true);
  assert.deepEqual(m.columns.map((c) => c.label), ["Column 1: empty. Play here", "Column 2: 2 of 3 filled. Play here", "Column 3: empty. Play here", "Column 4: empty. Play here"]);
  assert.equal(m.cells.find((c) => c.last).cell, 5);
  // where a piece dropped into each column would land
  assert.deepEqual(m.cells.filter((c) => c.landing).map((c) => c.cell), [1, 8, 10, 11]);
  assert.equal(m.cells.some((c) => c.playable), false, "columns are played, not cells");
});

test("grid: the shape without metadata is guessed from the board", () => {
  assert.deepEqual(grid.gridShape({ game: "unknown", board: Array(16).fill(null) }), { rows: 4, cols: 4, byColumn: false });
  assert.deepEqual(grid.gridShape({ game: "unknown", board: Array(6).fill(null) }), { rows: 1, cols: 6, byColumn: false });
  assert.deepEqual(grid.gridShape({ game: "connect4", board: Array(42).fill(null) }), { rows: 6, cols: 7, byColumn: true });
});

test("othello: disc counts, the last disc placed (passes skipped), the pass note", () => {
  const board = Array(64).fill(null);
  [27, 28, 35].forEach((c) => (board[c] = 0));
  board[36] = 1;
  assert.deepEqual(othello.discCounts(board), [3, 1]);
  assert.equal(othello.lastPlaced([19, 18, null]), 18);
  assert.equal(othello.lastPlaced([]), -1);
  const view = { game: "othello", status: "active", board, turn: 0, you: 0, players, legal: [], result: null };
  // the seat of index i is i % 2: a null at index 3 is white passed over
  assert.equal(othello.passNote({ ...view, moves: [19, 18, 17, null] }), "Bob (White) had no legal move and passed.");
  assert.equal(othello.passNote({ ...view, moves: [19, 18, null, 9] }), "You had no legal move and passed.");
  assert.equal(othello.passNote({ ...view, moves: [19, null, 9, 10] }), "");
});
