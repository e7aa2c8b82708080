// What the replay, profile and leaderboard pages share: the page's frame in <main>
// (the lobby and match screens hidden, the connection pill too: these pages need no
// socket), player names as links in their own bidi isolate, the bot tag, dates and
// result words. Names are always text nodes, never HTML. DOM only when called.

import { gameTitle } from "../describe.js";
import { h, nameEl } from "../ui/dom.js";
import { isId, playerLink } from "./route.js";

/** Replace the lobby with an empty page section (`data-testid` = testid); returns it. */
export function pageFrame(testid, label) {
  const main = document.getElementById("main");
  for (const screen of main.querySelectorAll(":scope > .screen")) screen.hidden = true;
  document.querySelector(".conn-pill")?.setAttribute("hidden", "");
  const section = h("section", { class: "screen page", dataset: { testid }, "aria-label": label });
  main.append(section);
  return section;
}

/** "← Lobby" and the page's heading. */
export function pageHead(title, ...extra) {
  return h(
    "div",
    { class: "page-head" },
    h("a", { class: "btn ghost small back", href: "./", dataset: { testid: "page-lobby-link" } }, h("span", { "aria-hidden": "true" }, "←"), " Lobby"),
    h("h1", { class: "page-title" }, title),
    ...extra,
  );
}

/** The page could not show what was asked for: say so, in words. */
export function pageProblem(section, text) {
  section.append(h("p", { class: "card page-problem", role: "alert", dataset: { testid: "page-problem" } }, text));
  section.dataset.ready = "true";
}

/** Is this player a program? The server's own bots (`bot`) and programs (`program`). */
export function isBot(player) {
  return Boolean(player?.bot || player?.program);
}

export function botTag() {
  return h("span", { class: "bot-tag", title: "a bot" }, "bot");
}

/**
 * A player's name, isolated (`<bdi>`), linked to their profile when they have one
 * (a built-in bot has none), followed by the bot tag for a bot.
 */
export function playerEl(player) {
  const name = nameEl(player?.name || "Anonymous");
  const id = player?.id ?? player?.player;
  const named = !player?.bot && isId(id) ? h("a", { class: "player-link", href: playerLink(id) }, name) : name;
  return h("span", { class: "player-label" }, named, isBot(player) ? botTag() : null);
}

/** "12 Mar 2025, 14:03" in the reader's locale; "" for no time. */
export function formatTime(ms) {
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** How a finished match ended, from one seat's side: "won", "lost", "draw" or "aborted". */
export function outcomeFor(match, seat) {
  const result = match?.result;
  if (!result || result.reason === "aborted") return "aborted";
  if (result.winner === null || result.winner === undefined) return "draw";
  return result.winner === seat ? "won" : "lost";
}

/** "Alice won" (the name isolated), "a draw", "aborted": a finished match's result. */
export function resultParts(match) {
  const outcome = outcomeFor(match, 0);
  if (outcome === "aborted") return ["aborted"];
  if (outcome === "draw") return ["a draw"];
  const winner = match.players?.[match.result.winner];
  return [nameEl(winner?.name || "Anonymous"), " won"];
}

/** `parts` (each a string, a node or a list of them; empty ones left out) joined by " · ". */
export function metaParts(parts) {
  const kept = parts.filter((part) => part !== null && part !== undefined && part !== "" && !(Array.isArray(part) && !part.length));
  return kept.flatMap((part, index) => (index ? [" · ", part] : [part])).flat();
}

export { gameTitle };
