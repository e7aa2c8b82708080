// Words for what is on the board: seat names, moves, status and result lines,
// countdowns. Pure functions of a view, importable in Node (used by the UI and the
// screen-reader announcements). What is particular to a game (its title, seat labels,
// cell names, the sentence for a move, a pass and its own results) comes from the
// server's metadata (gamemeta.js); until that has arrived the wording is generic.

import { gameMeta } from "./gamemeta.js";

const capital = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** End a phrase with a full stop unless it already has one. */
const sentence = (text) => (!text || /[.!?…]$/.test(text) ? text : `${text}.`);

/** `template` with each `{name}` of `values` filled in (unknown names are left). */
export function fillTemplate(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (values[name] === undefined || values[name] === null ? whole : String(values[name])));
}

/** The game's display name ("Othello"), or its id with a capital until the server says. */
export function gameTitle(game) {
  return gameMeta(game)?.title ?? capital(game ? String(game) : "");
}

/** The server's label for `seat` ("X", "Red", "Black"), or "Player 1" / "Player 2". */
export function seatLabel(game, seat) {
  return gameMeta(game)?.seats?.[seat] ?? `Player ${seat + 1}`;
}

/** The player's chosen name, or the seat label. */
export function playerName(view, seat) {
  const name = view.players?.[seat]?.name;
  return name ? String(name) : seatLabel(view.game, seat);
}

/** "you" for the viewer's own seat, else the player's name. */
export function who(view, seat) {
  return view.you === seat ? "You" : playerName(view, seat);
}

/** Human name of a board cell: the server's name for it, else "row R, column C". */
export function cellName(game, cell) {
  const meta = gameMeta(game);
  const named = meta?.cells?.[cell];
  if (named) return named;
  if (meta?.cols) return `row ${Math.floor(cell / meta.cols) + 1}, column ${(cell % meta.cols) + 1}`;
  return `cell ${cell + 1}`;
}

/**
 * Which seat made move number `index`. Seats alternate, seat 0 first; a pass (a
 * `null` in `moves`) counts as the turn of the seat that was passed over, so the
 * alternation holds in games with passes too.
 */
export function seatOfMove(index) {
  return index % 2;
}

/** The {cell} and {column} of a move's sentence (column 1-based). */
function moveValues(meta, move) {
  if (meta?.move === "column") return { move, column: move + 1, cell: `column ${move + 1}` };
  return { move, cell: cellName(meta?.id, move), column: meta?.cols ? (move % meta.cols) + 1 : undefined };
}

/** "Red dropped a stone in column 4." / "X took the center." / "White had no legal move." */
export function describeMove(view, index) {
  const move = view.moves?.[index];
  if (move === undefined) return "";
  const seat = seatOfMove(index);
  const mover = view.you === seat ? "You" : `${playerName(view, seat)} (${seatLabel(view.game, seat)})`;
  const meta = gameMeta(view.game);
  if (move === null) return sentence(fillTemplate(meta?.sentences.pass ?? "{mover} had no legal move and passed", { mover }));
  const fallback = meta ? "{mover} played {cell}" : "{mover} played {move}";
  return sentence(fillTemplate(meta?.sentences.move ?? fallback, { mover, ...moveValues(meta, move) }));
}

/** The main status line under the players. */
export function statusText(view) {
  if (view.status === "waiting") return "Waiting for an opponent to join…";
  if (view.status === "finished") return resultText(view).title;
  if (view.turn === null || view.turn === undefined) return "";
  if (view.you === null || view.you === undefined) {
    return `${playerName(view, view.turn)} (${seatLabel(view.game, view.turn)}) to move`;
  }
  if (view.turn === view.you) return "Your turn";
  return `Waiting for ${playerName(view, view.turn)}…`;
}

/**
 * The server's filler for a seat nobody took (the guest's seat of a private room):
 * no name, offline, not a bot, no grace time. Real players always have a name.
 */
export function isEmptySeat(view, seat) {
  const p = view.players?.[seat];
  return !p || (!p.name && !p.online && !p.bot && (p.grace === null || p.grace === undefined));
}

/** A match ended `aborted` because its room closed (expired or cancelled) before anyone joined. */
export function isClosedRoom(view) {
  return view.result?.reason === "aborted" && (isEmptySeat(view, 0) || isEmptySeat(view, 1));
}

/**
 * Why a match was aborted. The server aborts a match when the turn deadline or a
 * dropped player's grace time passes before both seats have moved, and closes a room
 * nobody joined (it expired, or its host cancelled it). The final view keeps who was
 * offline, so a player who left is named; otherwise the seat whose first move was due.
 */
function abortedReason(view) {
  if (isClosedRoom(view)) return "no one joined the room";
  const gone = [0, 1].find((seat) => {
    const p = view.players?.[seat];
    return p && !p.online && !p.bot;
  });
  if (gone !== undefined) return `${who(view, gone)} left before both sides had moved`;
  const moves = view.moves?.length ?? 0;
  if (moves < 2) return `${who(view, seatOfMove(moves))} did not make a first move in time`;
  return "the match was called off";
}

// The reasons every game shares; a game's own (line, draw, score) are the server's.
const REASONS = {
  resign: (view, winner) => `${who(view, 1 - winner)} resigned`,
  timeout: (view, winner) => `${who(view, 1 - winner)} ran out of time`,
  abandoned: (view, winner) => `${who(view, 1 - winner)} left the match`,
  aborted: abortedReason,
  adjudicated: () => "the server's operator decided the match",
};

// Until the server's sentences arrive (or for a game that has none for a reason).
const GENERIC_RESULTS = {
  line: "a full line",
  draw: "the board is full",
  score: "{winner_score} to {loser_score}",
};

/**
 * The game's own words for how the match ended (`result.reason` line / draw / score),
 * or null. In a draw {winner} is seat 0 and {loser} seat 1.
 */
function gameReason(view, reason) {
  const own = gameMeta(view.game)?.sentences.results ?? {};
  const template = Object.hasOwn(own, reason) ? own[reason] : Object.hasOwn(GENERIC_RESULTS, reason) ? GENERIC_RESULTS[reason] : null;
  if (!template) return null;
  const { winner, score } = view.result;
  const w = winner === 0 || winner === 1 ? winner : 0;
  return fillTemplate(template, {
    winner: who(view, w),
    loser: who(view, 1 - w),
    winner_score: score?.[w],
    loser_score: score?.[1 - w],
  });
}

/**
 * {title, detail, outcome}: outcome is "win" / "loss" for a player, "draw", or
 * "neutral" for a spectator's view of a decided match (and aborted matches).
 */
export function resultText(view) {
  const result = view.result;
  if (!result) return { title: "", detail: "", outcome: "neutral" };
  const { winner, reason } = result;
  if (reason === "aborted") {
    const title = isClosedRoom(view) ? "Room closed" : "Match aborted";
    return { title, detail: capital(REASONS.aborted(view)), outcome: "neutral" };
  }
  if (winner === null || winner === undefined) {
    // a game may word its draws apart from the reason they share (othello: a count, `score`)
    const own = gameMeta(view.game)?.sentences.results ?? {};
    const why = reason === "adjudicated" ? REASONS.adjudicated() : gameReason(view, Object.hasOwn(own, "draw") ? "draw" : reason) ?? gameReason(view, "draw");
    return { title: "It's a draw", detail: capital(why), outcome: "draw" };
  }
  const because = Object.hasOwn(REASONS, reason) ? REASONS[reason](view, winner) : gameReason(view, reason) ?? String(reason ?? "");
  const detail = capital(because);
  if (view.you === winner) return { title: "You won!", detail, outcome: "win" };
  if (view.you === 0 || view.you === 1) return { title: "You lost", detail, outcome: "loss" };
  return {
    title: `${playerName(view, winner)} (${seatLabel(view.game, winner)}) wins`,
    detail,
    outcome: "neutral",
  };
}

/** "0:27", "1:05"; never negative. */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

/**
 * The rematch button: {label, pressed, disabled, note}. `rematch` is [seat0, seat1]
 * offers; the viewer's own offer makes the button pressed (waiting for the other).
 */
export function rematchState(view) {
  const offers = view.rematch ?? [false, false];
  const me = view.you;
  if (view.status !== "finished" || (me !== 0 && me !== 1)) {
    return { label: "Rematch", pressed: false, disabled: true, note: "" };
  }
  const mine = Boolean(offers[me]);
  const theirs = Boolean(offers[1 - me]);
  // An opponent who had left when the match ended (closed the page, or abandoned it)
  // cannot answer: no offer to them, unless they came back and offered themselves.
  const opp = view.players?.[1 - me];
  if (opp && !opp.online && !opp.bot && !theirs) {
    const note = `${playerName(view, 1 - me)} has left.`;
    return { label: mine ? "Rematch offered" : "Rematch", pressed: mine, disabled: true, note };
  }
  if (mine) return { label: "Rematch offered", pressed: true, disabled: true, note: `Waiting for ${playerName(view, 1 - me)} to accept…` };
  if (theirs) return { label: "Accept rematch", pressed: false, disabled: false, note: `${playerName(view, 1 - me)} wants a rematch!` };
  return { label: "Rematch", pressed: false, disabled: false, note: "" };
}

/**
 * Does the other seat offer a rematch the viewer has not answered yet? Only in a
 * finished match the viewer plays in.
 */
export function incomingRematch(view) {
  const me = view?.you;
  if (view?.status !== "finished" || (me !== 0 && me !== 1)) return false;
  const offers = view.rematch ?? [false, false];
  return Boolean(offers[1 - me]) && !offers[me];
}

/** "Ada offers a rematch" (the lobby's notice of an offer). */
export function rematchOfferText(view) {
  return `${playerName(view, 1 - view.you)} offers a rematch`;
}

/** The row a stone dropped into `col` lands in (a game with gravity; row 0 at the top), or -1. */
export function landingRow(board, col, rows = 6, cols = 7) {
  for (let row = rows - 1; row >= 0; row--) {
    if (board[row * cols + col] === null || board[row * cols + col] === undefined) return row;
  }
  return -1;
}

/**
 * Why a click on the board at `move` plays nothing, in a few words (or "" when there is
 * nothing to say, e.g. the match is over). `state`: what the page knows beyond the
 * view: {connected, syncing, pending}.
 */
export function blockedMoveText(view, move, { connected = true, syncing = false, pending = false } = {}) {
  const me = view?.you;
  if (me !== 0 && me !== 1) return "You are watching this match.";
  if (view.status === "waiting") return "The match starts when someone joins.";
  if (view.status !== "active") return "";
  if (!connected) return "Not connected: wait a moment.";
  if (syncing) return "Catching up with the match…";
  if (pending) return "Your move is on its way.";
  if (view.turn !== me) return `Not your turn: ${playerName(view, view.turn)} is to move.`;
  const board = view.board ?? [];
  const meta = gameMeta(view.game);
  if (meta?.move === "column") {
    if (landingRow(board, move, meta.rows, meta.cols) < 0) return "That column is full.";
  } else if (board[move] !== null && board[move] !== undefined) {
    return "That square is taken.";
  }
  return "That move is not allowed.";
}
