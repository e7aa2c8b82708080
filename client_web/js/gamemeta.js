// What the server says about each game it serves (GET /api/games): title, board
// size, seat labels, whether a move is a cell or a column, cell names, and the
// sentence templates for a move, a pass and each game-specific result. The page has
// no table of games of its own: describe.js and the renderers read this registry,
// and word things generically for a game it does not hold (yet). No DOM here.

const games = new Map();
const listeners = new Set();

const isText = (v) => typeof v === "string" && v.length > 0;
const size = (v) => (Number.isInteger(v) && v > 0 ? v : 0);

function sentencesOf(raw) {
  const results = {};
  for (const [reason, template] of Object.entries(raw?.results ?? {})) {
    if (isText(template)) results[reason] = template;
  }
  return Object.freeze({
    move: isText(raw?.move) ? raw.move : null,
    pass: isText(raw?.pass) ? raw.pass : null,
    results: Object.freeze(results),
  });
}

/** One game object of /api/games, checked and frozen; null if it has no id. */
export function normalGame(raw) {
  if (!raw || !isText(raw.id)) return null;
  const rows = size(raw.rows);
  const cols = size(raw.cols);
  const seats = Array.isArray(raw.seats) && raw.seats.length === 2 && raw.seats.every(isText) ? Object.freeze([...raw.seats]) : null;
  const cells = Array.isArray(raw.cells) && rows * cols > 0 && raw.cells.length === rows * cols ? Object.freeze(raw.cells.map(String)) : null;
  return Object.freeze({
    id: raw.id,
    title: isText(raw.title) ? raw.title : null,
    rows,
    cols,
    seats,
    move: raw.move === "column" ? "column" : "cell",
    cells,
    sentences: sentencesOf(raw.sentences),
    botLevels: Array.isArray(raw.bot_levels) ? Object.freeze(raw.bot_levels.filter(isText)) : null,
  });
}

/**
 * Register the `games` list of a /api/games answer (a game registered again is
 * replaced). Returns the ids registered; listeners hear of them.
 */
export function registerGames(list) {
  const ids = [];
  for (const raw of Array.isArray(list) ? list : []) {
    const game = normalGame(raw);
    if (!game) continue;
    games.set(game.id, game);
    ids.push(game.id);
  }
  if (ids.length) for (const listener of listeners) listener(ids);
  return ids;
}

/** The metadata of `id`, or null while the server has not said (or does not serve it). */
export function gameMeta(id) {
  return games.get(id) ?? null;
}

/** Every registered game, in the order the server listed them first. */
export function registeredGames() {
  return [...games.values()];
}

/** Call `listener(ids)` after each registration; returns a function that stops it. */
export function onGamesRegistered(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Forget every game (for tests). */
export function clearGames() {
  games.clear();
}
