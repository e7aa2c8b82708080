// Words for what is on the board: seat names, moves, status and result lines,
// countdowns. Pure functions of a view, importable in Node (used by the UI and the
// screen-reader announcements).

export const GAMES = Object.freeze({
  tictactoe: { title: "Tic-tac-toe", rows: 3, cols: 3, seats: ["X", "O"], line: "three in a row" },
  connect4: { title: "Connect Four", rows: 6, cols: 7, seats: ["Red", "Yellow"], line: "four in a row" },
});

export function gameTitle(game) {
  return GAMES[game]?.title ?? game;
}

/** "X" / "O" for tic-tac-toe, "Red" / "Yellow" for connect-four. */
export function seatLabel(game, seat) {
  return GAMES[game]?.seats[seat] ?? `Player ${seat + 1}`;
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

const TTT_CELLS = ["top left", "top middle", "top right", "middle left", "center", "middle right", "bottom left", "bottom middle", "bottom right"];

/** Human name of a board cell. */
export function cellName(game, cell) {
  if (game === "tictactoe") return TTT_CELLS[cell] ?? `cell ${cell + 1}`;
  const cols = GAMES[game]?.cols ?? 7;
  return `row ${Math.floor(cell / cols) + 1}, column ${(cell % cols) + 1}`;
}

/** Which seat made move number `index` (seats alternate, seat 0 first). */
export function seatOfMove(index) {
  return index % 2;
}

/** "Red dropped a stone in column 4." / "X took the center." */
export function describeMove(view, index) {
  const move = view.moves?.[index];
  if (move === undefined) return "";
  const seat = seatOfMove(index);
  const mover = view.you === seat ? "You" : `${playerName(view, seat)} (${seatLabel(view.game, seat)})`;
  if (view.game === "connect4") return `${mover} dropped a stone in column ${move + 1}.`;
  if (view.game === "tictactoe") return `${mover} took the ${cellName(view.game, move)}.`;
  return `${mover} played ${move}.`;
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

const REASONS = {
  line: (view, winner) => `${GAMES[view.game]?.line ?? "a full line"}`,
  draw: () => "the board is full",
  resign: (view, winner) => `${who(view, 1 - winner)} resigned`,
  timeout: (view, winner) => `${who(view, 1 - winner)} ran out of time`,
  abandoned: (view, winner) => `${who(view, 1 - winner)} left the match`,
  aborted: abortedReason,
  adjudicated: () => "the server's operator decided the match",
};

/**
 * {title, detail, outcome}: outcome is "win" / "loss" for a player, "draw", or
 * "neutral" for a spectator's view of a decided match (and aborted matches).
 */
export function resultText(view) {
  const result = view.result;
  if (!result) return { title: "", detail: "", outcome: "neutral" };
  const { winner, reason } = result;
  const capital = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
  if (reason === "aborted") {
    const title = isClosedRoom(view) ? "Room closed" : "Match aborted";
    return { title, detail: capital(REASONS.aborted(view)), outcome: "neutral" };
  }
  if (winner === null || winner === undefined) {
    const why = reason === "adjudicated" ? REASONS.adjudicated() : REASONS.draw();
    return { title: "It's a draw", detail: capital(why), outcome: "draw" };
  }
  const because = REASONS[reason] ? REASONS[reason](view, winner) : String(reason ?? "");
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

/** The row a stone dropped into `col` lands in (connect-four; row 0 at the top), or -1. */
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
  const { rows, cols } = GAMES.connect4;
  const taken = view.game === "connect4" ? landingRow(board, move, rows, cols) < 0 : board[move] !== null && board[move] !== undefined;
  if (taken) return view.game === "connect4" ? "That column is full." : "That square is taken.";
  return "That move is not allowed.";
}
