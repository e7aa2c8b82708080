// The profile page (`?player=PLAYER`): a player's name, whether they are a bot, their
// rating in each game and their recent finished matches, each with a replay link.
// Data from GET /api/players/{player}.

import { h } from "../ui/dom.js";
import { botTag, formatTime, gameTitle, outcomeFor, pageHead, playerEl } from "./common.js";
import { leaderboardLink, replayLink } from "./route.js";

const POOLS = { human: "players", bot: "bots" };
const OUTCOMES = { won: "Won", lost: "Lost", draw: "Draw", aborted: "Aborted" };

function ratingsTable(ratings) {
  if (!ratings.length) return h("p", { class: "empty", dataset: { testid: "no-ratings" } }, "No rated games yet.");
  const row = (r) =>
    h(
      "tr",
      { dataset: { testid: "rating-row", game: r.game, pool: r.pool } },
      h("th", { scope: "row" }, h("a", { href: leaderboardLink(r.game) }, gameTitle(r.game))),
      h("td", { class: "num", dataset: { testid: "rating" } }, Math.round(r.rating)),
      h("td", { class: "num muted" }, `± ${Math.round(r.rd)}`),
      h("td", { class: "num" }, r.games),
      h("td", {}, r.provisional ? h("span", { class: "chip provisional" }, "provisional") : `among ${POOLS[r.pool] ?? r.pool}`),
    );
  return h(
    "table",
    { class: "page-table", dataset: { testid: "ratings" } },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Game"), h("th", { scope: "col", class: "num" }, "Rating"), h("th", { scope: "col", class: "num" }, "RD"), h("th", { scope: "col", class: "num" }, "Games"), h("th", { scope: "col" }, ""))),
    h("tbody", {}, ratings.map(row)),
  );
}

function recentItem(match, player) {
  const seat = (match.players ?? []).findIndex((p) => p?.id === player);
  const opponent = seat === -1 ? null : match.players[1 - seat];
  const outcome = seat === -1 ? "aborted" : outcomeFor(match, seat);
  const moves = match.moves?.length ?? 0;
  return h(
    "li",
    { class: "match-item", dataset: { testid: "recent-game", matchId: match.match, outcome } },
    h("span", { class: `game-icon game-${match.game}`, "aria-hidden": "true" }),
    h(
      "div",
      { class: "match-text" },
      h("div", { class: "match-names" }, h("span", { class: `outcome outcome-${outcome}` }, OUTCOMES[outcome]), " vs ", playerEl(opponent)),
      h("div", { class: "match-meta" }, [gameTitle(match.game), `${moves} move${moves === 1 ? "" : "s"}`, match.rated ? "rated" : null, formatTime(match.ended_at)].filter(Boolean).join(" · ")),
    ),
    h("a", { class: "btn small", href: replayLink(match.match), dataset: { testid: "replay-link" } }, "Replay"),
  );
}

/** Show `data` (a /api/players/{player} answer) in `section`. */
export function createProfile(section, data) {
  const heading = h("span", {}, h("bdi", { class: "name" }, data.name || "Anonymous"), data.bot ? botTag() : null);
  section.dataset.player = data.player;
  section.append(
    pageHead(heading),
    h("p", { class: "page-meta" }, data.bot ? "A bot program: rated against other bots only." : "Rated against other people."),
    h("section", { class: "card list-card", "aria-labelledby": "ratings-title" }, h("h2", { id: "ratings-title" }, "Ratings"), ratingsTable(data.ratings ?? [])),
    h(
      "section",
      { class: "card list-card", "aria-labelledby": "recent-title" },
      h("h2", { id: "recent-title" }, "Recent games"),
      data.recent?.length
        ? h("ul", { class: "match-list", dataset: { testid: "profile-games" } }, data.recent.map((m) => recentItem(m, data.player)))
        : h("p", { class: "empty" }, "No finished games yet."),
    ),
  );
  document.title = `${data.name || "Player"} · Playroom`;
  section.dataset.ready = "true";
}
