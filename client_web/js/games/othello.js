// Othello board: 8x8 green squares (buttons, data-cell = 8 * row + col, row 0 at the
// top), black and white discs that turn over when flipped, the viewer's legal squares
// marked on their turn, the last disc placed marked, the disc counts above the board
// and a note when a side was passed over. render() builds the DOM once per container
// and then updates it in place, so focus and the flip transitions survive updates.
// The look is in css/othello.css.

import { cellName, describeMove, gameTitle, seatLabel } from "../describe.js";
import { installRoving, reducedMotion, setRovingIndex } from "../render/common.js";

export const SIZE = 8;
const CELLS = SIZE * SIZE;
const START = 27; // d4, the first tabbable square before any is playable

const state = new WeakMap();
const capital = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** {0: black discs, 1: white discs} on `board`. */
export function discCounts(board) {
  const counts = [0, 0];
  for (const v of board ?? []) if (v === 0 || v === 1) counts[v] += 1;
  return counts;
}

/** The cell of the last disc placed (passes skipped), or -1. */
export function lastPlaced(moves) {
  for (let i = (moves?.length ?? 0) - 1; i >= 0; i--) if (moves[i] !== null) return moves[i];
  return -1;
}

/**
 * The sentence for a recent pass: when one of the last two entries of `moves` is a
 * `null` (a side was passed over, so the other moved or moves again), else "".
 */
export function passNote(view) {
  const moves = view.moves ?? [];
  for (const i of [moves.length - 1, moves.length - 2]) {
    if (i >= 0 && moves[i] === null) return describeMove(view, i);
  }
  return "";
}

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  node.className = className;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function scoreBar() {
  const bar = el("div", "oth-score");
  const counts = [0, 1].map((seat) => {
    const count = el("div", "oth-count", { "data-seat": String(seat), "data-testid": `disc-count-${seat}` });
    count.append(el("span", `oth-swatch seat${seat}`, { "aria-hidden": "true" }), el("span", "oth-count-label"), el("b", "oth-count-value"));
    return count;
  });
  // the pass is announced by the match screen's live region; this is for the eyes
  const note = el("p", "oth-note", { "data-testid": "pass-note", "aria-hidden": "true" });
  bar.append(counts[0], note, counts[1]);
  return { bar, counts, note };
}

function square(container, cell) {
  const button = el("button", "oth-cell", { type: "button" });
  button.dataset.cell = String(cell);
  button.tabIndex = -1;
  const disc = el("span", "oth-disc", { "aria-hidden": "true" });
  disc.append(el("span", "oth-face oth-black"), el("span", "oth-face oth-white"));
  button.append(disc);
  button.addEventListener("click", () => {
    const s = state.get(container);
    if (!s) return;
    if (s.playable.has(cell)) s.callbacks.onMove?.(cell);
    else s.callbacks.onBlocked?.(cell); // say why nothing happens (nothing is sent)
  });
  return button;
}

function step(i, key) {
  const r = Math.floor(i / SIZE);
  const c = i % SIZE;
  switch (key) {
    case "ArrowLeft": return r * SIZE + ((c + SIZE - 1) % SIZE);
    case "ArrowRight": return r * SIZE + ((c + 1) % SIZE);
    case "ArrowUp": return ((r + SIZE - 1) % SIZE) * SIZE + c;
    case "ArrowDown": return ((r + 1) % SIZE) * SIZE + c;
    case "Home": return r * SIZE;
    case "End": return r * SIZE + SIZE - 1;
    default: return null;
  }
}

function build(container, game) {
  container.replaceChildren();
  const board = el("div", "board oth", { role: "group" });
  board.dataset.testid = "board";
  board.setAttribute(
    "aria-label",
    `${gameTitle(game)} board, 8 by 8. Use the arrow keys to move between squares and Enter or Space to place a disc.`,
  );
  const { bar, counts, note } = scoreBar();
  const grid = el("div", "oth-grid");
  const cells = [];
  for (let cell = 0; cell < CELLS; cell++) {
    cells.push(square(container, cell));
    grid.append(cells[cell]);
  }
  setRovingIndex(cells, START);
  installRoving(grid, () => cells, step);
  board.append(bar, grid);
  container.append(board);
  const s = { board, grid, cells, counts, note, callbacks: {}, values: Array(CELLS).fill(null), playable: new Set() };
  state.set(container, s);
  return s;
}

function updateDisc(s, cell, value, animate) {
  const disc = s.cells[cell].firstElementChild;
  const before = s.values[cell];
  if (value === before) return;
  disc.className = value === null ? "oth-disc" : `oth-disc seat${value}`;
  // a new disc appears face up; only a flipped one turns over
  if (before === null && value !== null && animate) disc.classList.add("placed");
}

function updateCounts(s, view) {
  const counts = discCounts(view.board);
  s.counts.forEach((node, seat) => {
    node.querySelector(".oth-count-label").textContent = seatLabel(view.game, seat);
    node.querySelector(".oth-count-value").textContent = String(counts[seat]);
    node.dataset.count = String(counts[seat]);
    node.classList.toggle("to-move", view.status === "active" && view.turn === seat);
    node.setAttribute("aria-label", `${seatLabel(view.game, seat)}: ${counts[seat]} disc${counts[seat] === 1 ? "" : "s"}`);
  });
  const note = passNote(view);
  s.note.textContent = note;
  s.note.hidden = !note;
}

/**
 * Render `view` into `container`.
 * options: { onMove(cell), onBlocked(cell) (a click that plays nothing), canPlay (the viewer may move now), animate (default true) }
 */
export function render(container, view, options = {}) {
  let s = state.get(container);
  if (!s || !container.contains(s.board)) s = build(container, view.game);
  s.callbacks = options;
  const animate = options.animate !== false && !reducedMotion();
  const board = view.board ?? [];
  const legal = new Set(options.canPlay ? view.legal ?? [] : []);
  const last = lastPlaced(view.moves);
  s.playable = legal;
  s.board.classList.toggle("can-play", legal.size > 0);
  s.board.classList.toggle("still", !animate);
  s.board.dataset.you = view.you === 0 || view.you === 1 ? String(view.you) : "";
  s.board.dataset.status = view.status ?? "";

  s.cells.forEach((button, cell) => {
    const value = board[cell] ?? null;
    updateDisc(s, cell, value, animate);
    button.dataset.value = value === null ? "" : String(value);
    button.classList.toggle("playable", legal.has(cell));
    button.classList.toggle("last", cell === last);
    button.setAttribute("aria-disabled", legal.has(cell) ? "false" : "true");
    let label = `${capital(cellName(view.game, cell))}: ${value === null ? "empty" : seatLabel(view.game, value).toLowerCase()}`;
    if (cell === last) label += ", last move";
    if (legal.has(cell)) label += ". Place a disc here";
    button.setAttribute("aria-label", label);
  });
  s.values = board.slice(0, CELLS);
  updateCounts(s, view);

  // On the viewer's turn the tab stop is a playable square, unless they are on the board.
  if (legal.size && !s.grid.contains(document.activeElement)) {
    const current = s.cells.findIndex((c) => c.tabIndex === 0);
    if (!legal.has(current)) setRovingIndex(s.cells, Math.min(...legal));
  }
  if (!animate) void s.board.offsetWidth; // apply this state without transitions, then allow them again
  s.board.classList.remove("still");
  return s.board;
}

/** Focus the board (its tabbable square). */
export function focus(container) {
  const s = state.get(container);
  if (!s) return;
  const current = s.cells.find((c) => c.tabIndex === 0) ?? s.cells[START];
  setRovingIndex(s.cells, s.cells.indexOf(current));
  current.focus();
}
