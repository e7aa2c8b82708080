// The board of a game, by name: `js/games/<name>.js` when the game has a renderer of
// its own, else the generic grid (grid.js), which draws any rectangular board. A
// renderer module exports `render(container, view, options)` and `focus(container)`
// (see grid.js). Modules load on first use, with a dynamic import, so adding a game
// touches no list here.

import { gameMeta } from "../gamemeta.js";
import * as grid from "./grid.js";

// A game id the server may send; nothing else becomes a module path.
const NAME = /^[a-z][a-z0-9_]{0,31}$/;

const loaded = new Map(); // game -> renderer module
const loading = new Map(); // game -> Promise of it

function isRenderer(mod) {
  return typeof mod?.render === "function" && typeof mod?.focus === "function";
}

/** The renderer of `game` once loaded (see loadRenderer), else null. */
export function rendererFor(game) {
  return loaded.get(game) ?? null;
}

/**
 * The renderer of `game`: its own module, or the grid when it has none (the import
 * fails) or the module is not a renderer. Loaded once; later calls share it.
 */
export function loadRenderer(game) {
  if (loaded.has(game)) return Promise.resolve(loaded.get(game));
  let pending = loading.get(game);
  if (!pending) {
    const own = NAME.test(String(game)) ? import(`../games/${game}.js`) : Promise.reject(new Error(`not a game id: ${game}`));
    pending = own
      .then((mod) => (isRenderer(mod) ? mod : grid), () => grid)
      .then((renderer) => {
        loaded.set(game, renderer);
        loading.delete(game);
        return renderer;
      });
    loading.set(game, pending);
  }
  return pending;
}

/**
 * Can this page draw `game`? Every game the server describes with a rectangular board
 * can (the grid draws it if nothing else does); one it has not described cannot.
 */
export function canDraw(game) {
  const meta = gameMeta(game);
  return Boolean(meta && meta.rows > 0 && meta.cols > 0);
}
