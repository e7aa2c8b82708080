// The HTTP answers the pages read (docs/protocol.md, "HTTP endpoints"), and the
// games' metadata registered for the words and the boards. `fetch` is passed in, so
// this imports (and runs) in Node too.

import { registerGames } from "../gamemeta.js";

export class NotFound extends Error {}

/** JSON from `path`; NotFound for a 404, Error for any other failure. */
export async function getJson(fetcher, path) {
  const res = await fetcher(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (res.status === 404) throw new NotFound(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** GET /api/games, registered (gamemeta.js); returns the list of games. */
export async function loadGames(fetcher) {
  const data = await getJson(fetcher, "/api/games");
  const games = Array.isArray(data?.games) ? data.games : [];
  registerGames(games);
  return games;
}

const part = (value) => encodeURIComponent(String(value));

export const positions = (fetcher, match) => getJson(fetcher, `/api/matches/${part(match)}/positions`);
export const profile = (fetcher, player) => getJson(fetcher, `/api/players/${part(player)}`);
export const leaderboard = (fetcher, game, pool) => getJson(fetcher, `/api/leaderboard?game=${part(game)}&pool=${part(pool)}`);

/** The latest finished matches (newest end first). */
export function finished(fetcher, limit = 8) {
  return getJson(fetcher, `/api/matches?status=finished&limit=${part(limit)}`);
}
