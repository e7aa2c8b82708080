// The lobby's "Recent games" card: the latest finished matches
// (GET /api/matches?status=finished), each with a Replay link, and the links to the
// leaderboard and to the player's own profile. Read again every 20 s while the lobby
// shows, at once when the lobby comes back, and when asked (`refresh`). DOM only when called.

import { h, setText } from "../ui/dom.js";
import * as api from "./api.js";
import { formatTime, gameTitle, metaParts, playerEl, resultParts } from "./common.js";
import { leaderboardLink, playerLink, replayLink } from "./route.js";

const REFRESH_MS = 20000;
const SHOWN = 8;

function item(match) {
  const moves = match.moves?.length ?? 0;
  return h(
    "li",
    { class: "match-item", dataset: { testid: "recent-game", matchId: match.match } },
    h("span", { class: `game-icon game-${match.game}`, "aria-hidden": "true" }),
    h(
      "div",
      { class: "match-text" },
      h("div", { class: "match-names" }, playerEl(match.players?.[0]), " vs ", playerEl(match.players?.[1])),
      h("div", { class: "match-meta" }, metaParts([gameTitle(match.game), resultParts(match), `${moves} move${moves === 1 ? "" : "s"}`, formatTime(match.ended_at)])),
    ),
    h("a", { class: "btn small", href: replayLink(match.match), dataset: { testid: "replay-link" }, "aria-label": `Replay, ${gameTitle(match.game)}` }, "Replay"),
  );
}

/**
 * Mount the card at the end of `lobbyRoot`. `getGame()` is the lobby's game (the
 * leaderboard link opens its board); `fetcher` is `fetch`.
 */
export function createRecentGames(lobbyRoot, { getGame, fetcher = (...args) => fetch(...args) }) {
  const board = h("a", { class: "btn ghost small", href: leaderboardLink("connect4"), dataset: { testid: "leaderboard-link" } }, "Leaderboard");
  const mine = h("a", { class: "btn ghost small", href: "./", hidden: true, dataset: { testid: "profile-link" } }, "Your profile");
  const list = h("ul", { class: "match-list", dataset: { testid: "recent-games" } });
  const empty = h("p", { class: "empty", dataset: { testid: "recent-empty" } }, "No finished games yet.");
  const card = h(
    "section",
    { class: "card list-card recent-card", "aria-labelledby": "recent-title", dataset: { testid: "recent-games-card" } },
    h("div", { class: "list-head" }, h("h2", { id: "recent-title" }, "Recent games"), h("nav", { class: "recent-links", "aria-label": "Ratings" }, board, mine)),
    list,
    empty,
  );
  lobbyRoot.append(card);
  const follow = () => board.setAttribute("href", leaderboardLink(getGame() || "connect4"));
  board.addEventListener("pointerenter", follow);
  board.addEventListener("focus", follow);
  board.addEventListener("click", follow);

  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
    if (lobbyRoot.hidden || document.visibilityState === "hidden") return;
    follow();
    try {
      const data = await api.finished(fetcher, SHOWN);
      const matches = (Array.isArray(data?.matches) ? data.matches : []).filter((m) => typeof m?.match === "string");
      list.replaceChildren(...matches.map(item));
      empty.hidden = matches.length > 0;
      setText(empty, "No finished games yet.");
    } catch {
      empty.hidden = list.children.length > 0;
      setText(empty, "Could not load the recent games.");
    }
  }

  // back in the lobby (after a match): the match that just ended is listed at once
  new MutationObserver(() => {
    if (!lobbyRoot.hidden) refresh();
  }).observe(lobbyRoot, { attributes: true, attributeFilter: ["hidden"] });

  return {
    refresh,
    /** The player this page is (after a welcome): "Your profile" links to them. */
    setPlayer(player) {
      mine.hidden = !player;
      if (player) mine.setAttribute("href", playerLink(player));
    },
  };
}
