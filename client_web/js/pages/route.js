// The pages that need no connection: `?replay=MATCH`, `?player=PLAYER` and
// `?leaderboard=GAME`, and the links to them. Pure.

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The page `params` (URLSearchParams) asks for: {page: "replay", match},
 * {page: "player", player}, {page: "leaderboard", game}, or null for the lobby.
 * A value that cannot be an id still opens its page, which says it found nothing.
 */
export function pageRoute(params) {
  if (params.has("replay")) return { page: "replay", match: params.get("replay") ?? "" };
  if (params.has("player")) return { page: "player", player: params.get("player") ?? "" };
  if (params.has("leaderboard")) return { page: "leaderboard", game: params.get("leaderboard") ?? "" };
  return null;
}

/** Whether `value` can be a match or player id (what the server makes). */
export function isId(value) {
  return ID.test(String(value ?? ""));
}

function link(name, value, extra = {}) {
  const params = new URLSearchParams({ [name]: value, ...extra });
  return `./?${params}`;
}

/** `./?replay=MATCH`, optionally at a ply. */
export function replayLink(match, ply = null) {
  return link("replay", match, ply === null ? {} : { ply: String(ply) });
}

export function playerLink(player) {
  return link("player", player);
}

export function leaderboardLink(game) {
  return link("leaderboard", game);
}
