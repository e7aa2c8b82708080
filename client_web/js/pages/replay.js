// The replay page (`?replay=MATCH`): a finished (or live) match stepped through move
// by move with the game's own board renderer: first / previous / next / last, the
// arrow keys (Home / End), a slider; the ply is kept in the address (`&ply=N`) so a
// link shows the same position. Exports: the match as JSON and, for connect-four,
// the move string of Pascal Pons' test sets. The positions come from the server
// (GET /api/matches/{match}/positions): the page has no rules.

import { describeMove, resultText, seatLabel } from "../describe.js";
import { h, setText, setTextNames } from "../ui/dom.js";
import { gameTitle, formatTime, pageHead, playerEl } from "./common.js";
import { clampPly, exportJson, exportName, plyCount, plyForKey, ponsString, viewAt } from "./replaylogic.js";

function controlButton(testid, label, symbol, onclick) {
  return h("button", { type: "button", class: "btn small", dataset: { testid }, title: label, onclick }, symbol);
}

function download(testid, text, name, type, label) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  return h("a", { class: "btn ghost small", href: url, download: name, dataset: { testid } }, label);
}

function namesOf(data) {
  return (data.players ?? []).map((p) => p?.name).filter(Boolean);
}

function playersLine(data) {
  const seat = (index) =>
    h("span", { class: "replay-seat", dataset: { seat: String(index) } }, h("span", { class: "seat-token", "aria-hidden": "true" }), playerEl(data.players?.[index]), ` (${seatLabel(data.game, index)})`);
  return h("p", { class: "replay-players", dataset: { testid: "replay-players" } }, seat(0), " vs ", seat(1));
}

function exportsBlock(data) {
  const pons = ponsString(data);
  return h(
    "div",
    { class: "replay-exports", dataset: { testid: "replay-exports" } },
    download("export-json", exportJson(data), exportName(data, "json"), "application/json", "Download JSON"),
    pons === null ? null : download("export-pons", `${pons}\n`, exportName(data, "txt"), "text/plain", "Download move string"),
    pons === null ? null : h("code", { class: "pons", dataset: { testid: "pons-string" }, title: "Columns 1 to 7, one digit per move (Pascal Pons' test sets)" }, pons || "(no moves)"),
  );
}

/**
 * Show `data` (a positions answer) in `section`, drawn by `renderer`
 * (render/index.js), starting at `ply` (default: the end).
 */
export function createReplay(section, data, renderer, { ply = null, onPly = () => {} } = {}) {
  const n = plyCount(data);
  let current = clampPly(data, ply ?? n);
  const title = `Replay · ${gameTitle(data.game)}`;
  const when = [formatTime(data.started_at), data.rated ? "rated" : "unrated", data.status === "finished" ? null : "still being played"].filter(Boolean).join(" · ");
  const board = h("div", { class: "board-container replay-board", id: "replay-board", dataset: { testid: "replay-board" } });
  const status = h("p", { class: "replay-status", role: "status", "aria-live": "polite", dataset: { testid: "replay-status" } });
  const counter = h("span", { class: "replay-counter", dataset: { testid: "replay-counter" } });
  const slider = h("input", { type: "range", min: "0", max: String(n), step: "1", value: String(current), class: "replay-slider", "aria-label": "Move", dataset: { testid: "replay-slider" } });
  const buttons = {
    first: controlButton("replay-first", "First position", "« First", () => go(0)),
    prev: controlButton("replay-prev", "Previous move", "‹ Prev", () => go(current - 1)),
    next: controlButton("replay-next", "Next move", "Next ›", () => go(current + 1)),
    last: controlButton("replay-last", "Last position", "Last »", () => go(n)),
  };
  slider.addEventListener("input", () => go(Number(slider.value)));

  section.dataset.matchId = data.match;
  section.dataset.game = data.game;
  section.dataset.plies = String(n);
  section.append(
    pageHead(title),
    h("p", { class: "page-meta" }, when),
    playersLine(data),
    h("div", { class: "board-area" }, board),
    status,
    h("div", { class: "replay-controls", role: "group", "aria-label": "Replay controls" }, buttons.first, buttons.prev, counter, buttons.next, buttons.last),
    slider,
    exportsBlock(data),
  );

  function statusWords(view) {
    if (current === 0) return n ? "The start: no move yet." : "No move was played.";
    let text = `Move ${current} of ${n}: ${describeMove(view, current - 1)}`;
    if (view.status === "finished") {
      const r = resultText(view);
      text += ` ${r.title}.${r.detail ? ` ${r.detail}.` : ""}`;
    }
    return text;
  }

  function draw(animate) {
    const view = viewAt(data, current);
    if (renderer) renderer.render(board, view, { canPlay: false, animate });
    else setText(board, `This page cannot show ${gameTitle(data.game)} yet.`);
    setTextNames(status, statusWords(view), namesOf(data));
    setText(counter, `${current} / ${n}`);
    slider.value = String(current);
    slider.setAttribute("aria-valuetext", `move ${current} of ${n}`);
    buttons.first.disabled = buttons.prev.disabled = current === 0;
    buttons.next.disabled = buttons.last.disabled = current === n;
    section.dataset.ply = String(current);
  }

  function go(ply) {
    const next = clampPly(data, ply);
    if (next === current) return;
    const forward = next === current + 1;
    current = next;
    draw(forward);
    onPly(current);
  }

  // The arrow keys step anywhere on the page, but not where they already mean
  // something: the slider (it steps by itself) and the board's own keys.
  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    if (event.target === slider || board.contains(event.target) || event.target?.isContentEditable) return;
    const ply = plyForKey(data, current, event.key);
    if (ply === null) return;
    event.preventDefault();
    go(ply);
  }
  document.addEventListener("keydown", onKey);

  draw(false);
  section.dataset.ready = "true";
  return {
    go,
    get ply() {
      return current;
    },
  };
}
