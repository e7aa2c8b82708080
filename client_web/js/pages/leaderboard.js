// The leaderboard page (`?leaderboard=GAME`): the rated players of one game, people
// and bots each in their own pool, the established ones ranked and the provisional
// ones (RD over 110) listed apart. Data from GET /api/leaderboard (one per pool).

import { h } from "../ui/dom.js";
import { gameTitle, pageHead, playerEl } from "./common.js";
import { leaderboardLink } from "./route.js";

const POOLS = [
  { pool: "human", title: "People" },
  { pool: "bot", title: "Bots" },
];

function table(entries, pool, kind) {
  const row = (e) =>
    h(
      "tr",
      { dataset: { testid: "leaderboard-row", player: e.player } },
      h("td", { class: "num" }, e.rank ?? "–"),
      h("th", { scope: "row" }, playerEl({ id: e.player, name: e.name, program: pool === "bot" })),
      h("td", { class: "num", dataset: { testid: "rating" } }, Math.round(e.rating)),
      h("td", { class: "num muted" }, `± ${Math.round(e.rd)}`),
      h("td", { class: "num" }, e.games),
    );
  return h(
    "table",
    { class: "page-table", dataset: { testid: `${kind}-${pool}` } },
    h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "num" }, "#"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "Rating"), h("th", { scope: "col", class: "num" }, "RD"), h("th", { scope: "col", class: "num" }, "Games"))),
    h("tbody", {}, entries.map(row)),
  );
}

function poolSection({ pool, title }, board) {
  const ranked = board?.players ?? [];
  const provisional = board?.provisional ?? [];
  return h(
    "section",
    { class: "card list-card", dataset: { testid: `pool-${pool}` }, "aria-labelledby": `pool-${pool}-title` },
    h("h2", { id: `pool-${pool}-title` }, title),
    ranked.length ? table(ranked, pool, "leaderboard") : h("p", { class: "empty" }, "No established ratings yet."),
    provisional.length ? h("h3", { class: "page-subtitle" }, "Provisional (fewer games, rating still uncertain)") : null,
    provisional.length ? table(provisional, pool, "provisional") : null,
  );
}

/** Show the boards of `game` ({human, bot}: /api/leaderboard answers) in `section`. */
export function createLeaderboard(section, game, boards, games) {
  section.dataset.game = game;
  const tabs = h(
    "nav",
    { class: "page-tabs", "aria-label": "Games" },
    games.map((g) => h("a", { class: "chip", href: leaderboardLink(g.id), "aria-current": g.id === game ? "page" : false }, g.title ?? gameTitle(g.id))),
  );
  section.append(pageHead(`Leaderboard · ${gameTitle(game)}`), tabs, ...POOLS.map((p) => poolSection(p, boards[p.pool])));
  document.title = `Leaderboard · ${gameTitle(game)} · Playroom`;
  section.dataset.ready = "true";
}
