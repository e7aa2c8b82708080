// Game metadata in the shape of GET /api/games (one object per game), for the unit
// tests of the words and the boards: the page itself only ever gets it from the server.
import { clearGames, registerGames } from "../js/gamemeta.js";

const TTT_CELLS = ["top left", "top middle", "top right", "middle left", "center", "middle right", "bottom left", "bottom middle", "bottom right"];

export const GAME_FIXTURES = [
  {
    id: "tictactoe",
    title: "Tic-tac-toe",
    rows: 3,
    cols: 3,
    bot_levels: ["random", "easy", "medium", "hard"],
    seats: ["X", "O"],
    move: "cell",
    cells: TTT_CELLS,
    sentences: { move: "{mover} took the {cell}", pass: null, results: { line: "three in a row", draw: "the board is full" } },
  },
  {
    id: "connect4",
    title: "Connect Four",
    rows: 6,
    cols: 7,
    bot_levels: ["random", "easy", "medium", "hard"],
    seats: ["Red", "Yellow"],
    move: "column",
    cells: null,
    sentences: { move: "{mover} dropped a stone in column {column}", pass: null, results: { line: "four in a row", draw: "the board is full" } },
  },
  {
    id: "othello",
    title: "Othello",
    rows: 8,
    cols: 8,
    bot_levels: ["random", "easy", "medium", "hard"],
    seats: ["Black", "White"],
    move: "cell",
    cells: null,
    sentences: {
      move: "{mover} placed a disc on {cell}",
      pass: "{mover} had no legal move and passed",
      results: { score: "{winner} {winner_score}, {loser} {loser_score}", draw: "{winner_score} discs each" },
    },
  },
];

/** Register the fixtures (after forgetting any other game). */
export function useGameFixtures(games = GAME_FIXTURES) {
  clearGames();
  return registerGames(games);
}
