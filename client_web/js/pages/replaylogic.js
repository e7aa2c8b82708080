// The replay's logic without a DOM: the view a board renderer draws at a given ply of
// a replayed match (GET /api/matches/{match}/positions), the step a key asks for, and
// the two exports (the match as JSON; connect-four's move string). Pure.

/** How many plies the replay has (positions[0] is the start, one per move after it). */
export function plyCount(data) {
  return Math.max(0, (data?.positions?.length ?? 1) - 1);
}

/** `ply` kept within 0..plyCount(data), as an integer. */
export function clampPly(data, ply) {
  const n = plyCount(data);
  const value = Math.trunc(Number(ply));
  if (!Number.isFinite(value)) return n;
  return Math.min(n, Math.max(0, value));
}

/**
 * The view a renderer draws at `ply`: the board after the first `ply` moves, seen
 * by a spectator who may not move. The result (and its winning line) shows only on
 * the last ply of a finished match.
 */
export function viewAt(data, ply) {
  const at = clampPly(data, ply);
  const position = data.positions[at];
  const end = at === plyCount(data) && data.status === "finished";
  return {
    game: data.game,
    board: position.board,
    turn: end ? null : position.turn,
    moves: data.moves.slice(0, at),
    players: (data.players ?? [null, null]).map((p) => ({ name: p?.name ?? "", bot: Boolean(p?.bot), program: Boolean(p?.program), online: true, grace: null })),
    result: end ? data.result : null,
    status: end ? "finished" : "active",
    you: null,
    legal: [],
    rematch: [false, false],
    watchers: 0,
    deadline: null,
  };
}

/** The ply a key goes to from `ply`, or null for a key the replay does not use. */
export function plyForKey(data, ply, key) {
  switch (key) {
    case "ArrowLeft":
      return clampPly(data, ply - 1);
    case "ArrowRight":
      return clampPly(data, ply + 1);
    case "Home":
      return 0;
    case "End":
      return plyCount(data);
    default:
      return null;
  }
}

/** The match as exported: everything the positions answer says but the positions. */
export function matchRecord(data) {
  const { positions, ...match } = data;
  return match;
}

/** The JSON export's text (pretty, with a final newline). */
export function exportJson(data) {
  return `${JSON.stringify(matchRecord(data), null, 2)}\n`;
}

/**
 * A connect-four game as the move string of Pascal Pons' test sets: each move's
 * column, 1-based, one digit each ([3, 3, 4, 2] -> "4453"). null for other games.
 */
export function ponsString(data) {
  if (data?.game !== "connect4") return null;
  return data.moves.map((col) => String(col + 1)).join("");
}

/** A file name for an export: `connect4-MATCH.json`, `connect4-MATCH.txt`. */
export function exportName(data, extension) {
  const safe = String(data.match).replace(/[^A-Za-z0-9_-]/g, "_");
  return `${data.game}-${safe}.${extension}`;
}
