// The pages reached by address that need no connection (`?replay=`, `?player=`,
// `?leaderboard=`, see route.js): each reads the server's HTTP API and draws into its
// own section of <main>. app.js loads this module only for such an address.

import { loadRenderer } from "../render/index.js";
import * as api from "./api.js";
import { pageFrame, pageProblem } from "./common.js";
import { createLeaderboard } from "./leaderboard.js";
import { createProfile } from "./profile.js";
import { createReplay } from "./replay.js";
import { isId, replayLink } from "./route.js";

const fetcher = (...args) => fetch(...args);

async function replay(route, params) {
  const section = pageFrame("replay-page", "Replay");
  if (!isId(route.match)) return pageProblem(section, "That is not a match id: check the link.");
  let data;
  try {
    await api.loadGames(fetcher);
    data = await api.positions(fetcher, route.match);
  } catch (error) {
    return pageProblem(section, error instanceof api.NotFound ? "There is no such match (or it was forgotten)." : "Could not load the match. Reload the page to try again.");
  }
  const renderer = await loadRenderer(data.game);
  const ply = params.has("ply") ? Number(params.get("ply")) : null;
  createReplay(section, data, renderer, {
    ply,
    // the address follows the ply, so a copied link shows this very position
    onPly: (at) => history.replaceState(null, "", replayLink(route.match, at)),
  });
}

async function profile(route) {
  const section = pageFrame("profile-page", "Player");
  if (!isId(route.player)) return pageProblem(section, "That is not a player id: check the link.");
  try {
    await api.loadGames(fetcher).catch(() => []); // titles only: the page works without
    createProfile(section, await api.profile(fetcher, route.player));
  } catch (error) {
    pageProblem(section, error instanceof api.NotFound ? "There is no such player." : "Could not load the player. Reload the page to try again.");
  }
}

async function leaderboard(route) {
  const section = pageFrame("leaderboard-page", "Leaderboard");
  try {
    const games = await api.loadGames(fetcher);
    if (!games.some((g) => g.id === route.game)) return pageProblem(section, "This server has no such game.");
    const [human, bot] = await Promise.all([api.leaderboard(fetcher, route.game, "human"), api.leaderboard(fetcher, route.game, "bot")]);
    createLeaderboard(section, route.game, { human, bot }, games);
  } catch {
    pageProblem(section, "Could not load the leaderboard. Reload the page to try again.");
  }
}

/** Show the page `route` (pageRoute of the address) asks for. */
export function startPage(route, params) {
  const pages = { replay, player: profile, leaderboard };
  return pages[route.page](route, params);
}
