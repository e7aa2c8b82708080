// One renderer per game, chosen by view.game.
import * as connect4 from "./connect4.js";
import * as tictactoe from "./tictactoe.js";

export const renderers = { tictactoe, connect4 };

export function rendererFor(game) {
  return renderers[game] ?? null;
}
