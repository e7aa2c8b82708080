// The words come from the server's game metadata (gamemeta.js), with generic wording
// until it has arrived: describe.js keeps no table of games of its own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { blockedMoveText, cellName, describeMove, fillTemplate, gameTitle, resultText, seatLabel, statusText } from "../js/describe.js";
import { clearGames, gameMeta, normalGame, onGamesRegistered, registerGames, registeredGames } from "../js/gamemeta.js";
import { GAME_FIXTURES, useGameFixtures } from "./gamefixtures.mjs";

const players = [
  { name: "Ada", online: true, bot: false, grace: null },
  { name: "Bob", online: true, bot: false, grace: null },
];
const view = (game, extra = {}) => ({ game, status: "active", board: [], turn: 0, you: 0, legal: [], players, moves: [], result: null, rematch: [false, false], ...extra });
const finished = (game, result, you = 0) => view(game, { status: "finished", turn: null, you, result: { line: [], ...result } });

test("before any metadata: generic titles, seats, cells, moves and results", () => {
  clearGames();
  assert.equal(gameTitle("othello"), "Othello");
  assert.equal(seatLabel("othello", 0), "Player 1");
  assert.equal(seatLabel("othello", 1), "Player 2");
  assert.equal(cellName("othello", 19), "cell 20");
  assert.equal(statusText(view("othello", { you: null, turn: 1 })), "Bob (Player 2) to move");
  assert.equal(describeMove(view("othello", { moves: [19, 18] }), 1), "Bob (Player 2) played 18.");
  assert.equal(describeMove(view("othello", { moves: [19, null] }), 1), "Bob (Player 2) had no legal move and passed.");
  assert.deepEqual(resultText(finished("othello", { winner: 1, reason: "score", score: [20, 44] })), { title: "You lost", detail: "44 to 20", outcome: "loss" });
  assert.equal(resultText(finished("connect4", { winner: 0, reason: "line" })).detail, "A full line");
  assert.equal(resultText(finished("connect4", { winner: null, reason: "draw" })).detail, "The board is full");
  // the reasons every game shares stay in describe.js
  assert.equal(resultText(finished("othello", { winner: 0, reason: "resign" })).detail, "Bob resigned");
  assert.equal(resultText(finished("othello", { winner: 0, reason: "timeout" })).detail, "Bob ran out of time");
  assert.equal(blockedMoveText(view("othello", { board: [0] }), 0), "That square is taken.");
});

test("registered metadata: title, seat labels, cell names (the server's, else row and column)", () => {
  useGameFixtures();
  assert.equal(gameTitle("connect4"), "Connect Four");
  assert.equal(seatLabel("othello", 0), "Black");
  assert.equal(seatLabel("tictactoe", 1), "O");
  assert.equal(cellName("tictactoe", 4), "center");
  assert.equal(cellName("othello", 19), "row 3, column 4");
  assert.equal(cellName("othello", 63), "row 8, column 8");
  assert.equal(statusText(view("othello", { you: null, turn: 1 })), "Bob (White) to move");
});

test("move sentences from templates: {mover}, {cell}, {column} (1-based), passes", () => {
  useGameFixtures();
  const oth = view("othello", { you: 1, moves: [19, 18, 17, null, 9] });
  assert.equal(describeMove(oth, 0), "Ada (Black) placed a disc on row 3, column 4.");
  assert.equal(describeMove(oth, 1), "You placed a disc on row 3, column 3.");
  // a pass is the turn of the seat passed over: seats still alternate by index
  assert.equal(describeMove(oth, 3), "You had no legal move and passed.");
  assert.equal(describeMove(oth, 4), "Ada (Black) placed a disc on row 2, column 2.");
  assert.equal(describeMove(view("connect4", { moves: [0, 6] }), 1), "Bob (Yellow) dropped a stone in column 7.");
  assert.equal(describeMove(view("tictactoe", { moves: [8] }), 0), "You took the bottom right.");
  assert.equal(describeMove(oth, 9), "");
});

test("a game's own results from its templates: score with both counts, a drawn count", () => {
  useGameFixtures();
  const won = finished("othello", { winner: 1, reason: "score", score: [20, 44] }, 1);
  assert.deepEqual(resultText(won), { title: "You won!", detail: "You 44, Ada 20", outcome: "win" });
  const watched = finished("othello", { winner: 0, reason: "score", score: [40, 24] }, null);
  assert.deepEqual(resultText(watched), { title: "Ada (Black) wins", detail: "Ada 40, Bob 24", outcome: "neutral" });
  // a drawn count: the game's own words for a draw, else those of the reason
  const drawn = finished("othello", { winner: null, reason: "score", score: [32, 32] });
  assert.deepEqual(resultText(drawn), { title: "It's a draw", detail: "32 discs each", outcome: "draw" });
  registerGames([{ ...GAME_FIXTURES[2], sentences: { ...GAME_FIXTURES[2].sentences, results: { score: "{winner} {winner_score}, {loser} {loser_score}" } } }]);
  assert.equal(resultText(drawn).detail, "You 32, Bob 32");
  useGameFixtures();
  assert.equal(resultText(finished("tictactoe", { winner: 0, reason: "line" })).detail, "Three in a row");
  // a reason the game has no sentence for, and names of Object's own properties, are not templates
  assert.equal(resultText(finished("othello", { winner: 0, reason: "line" })).detail, "A full line");
  assert.equal(resultText(finished("othello", { winner: 0, reason: "toString" })).detail, "ToString");
});

test("a click that plays nothing: a full column for column games, a taken square for cell games", () => {
  useGameFixtures();
  const full = Array(42).fill(null).map((_, i) => (i % 7 === 2 ? 0 : null));
  assert.equal(blockedMoveText(view("connect4", { board: full }), 2), "That column is full.");
  assert.equal(blockedMoveText(view("connect4", { board: full }), 3), "That move is not allowed.");
  const oth = Array(64).fill(null);
  oth[27] = 1;
  assert.equal(blockedMoveText(view("othello", { board: oth }), 27), "That square is taken.");
  assert.equal(blockedMoveText(view("othello", { board: oth }), 0), "That move is not allowed.");
});

test("templates: known placeholders filled, unknown ones left as they are", () => {
  assert.equal(fillTemplate("{mover} to {column} ({x})", { mover: "You", column: 3 }), "You to 3 ({x})");
  assert.equal(fillTemplate("{a}{a}", { a: 0 }), "00");
});

test("the registry: checks each game, replaces a game registered again, tells listeners", () => {
  clearGames();
  const heard = [];
  const stop = onGamesRegistered((ids) => heard.push(ids));
  assert.deepEqual(registerGames([{ title: "no id" }, null, ...GAME_FIXTURES]), ["tictactoe", "connect4", "othello"]);
  assert.deepEqual(heard, [["tictactoe", "connect4", "othello"]]);
  assert.deepEqual(registeredGames().map((g) => g.id), ["tictactoe", "connect4", "othello"]);
  registerGames([{ ...GAME_FIXTURES[2], title: "Reversi" }]);
  assert.equal(gameTitle("othello"), "Reversi");
  assert.equal(registeredGames().length, 3);
  stop();
  registerGames([{ id: "gomoku", rows: 9, cols: 9 }]);
  assert.equal(heard.length, 2);
  assert.equal(gameMeta("nope"), null);
  useGameFixtures();
});

test("a game object with missing or wrong fields gets safe defaults", () => {
  const g = normalGame({ id: "gomoku", rows: 9, cols: "9", seats: ["Black"], move: "diagonal", cells: ["a1"], sentences: { move: 3, results: { line: "five in a row", draw: "" } } });
  assert.equal(g.rows, 9);
  assert.equal(g.cols, 0);
  assert.equal(g.seats, null);
  assert.equal(g.move, "cell");
  assert.equal(g.cells, null);
  assert.deepEqual(g.sentences, { move: null, pass: null, results: { line: "five in a row" } });
  assert.ok(Object.isFrozen(g));
  assert.equal(normalGame({ id: "" }), null);
});
