// Tic-tac-toe board: 3x3 buttons (data-cell 0..8), X / O drawn as animated SVG strokes,
// the winning line struck through. render() builds the DOM once per container and
// then updates it in place, so focus and animations survive updates.

import { cellName, seatLabel } from "../describe.js";
import { SVG_NS, installRoving, reducedMotion, setRovingIndex } from "../render/common.js";

const state = new WeakMap();

function markSvg(seat) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("mark", seat === 0 ? "mark-x" : "mark-o");
  if (seat === 0) {
    for (const [x1, y1, x2, y2] of [[20, 20, 80, 80], [80, 20, 20, 80]]) {
      const line = document.createElementNS(SVG_NS, "line");
      Object.entries({ x1, y1, x2, y2, pathLength: 100 }).forEach(([k, v]) => line.setAttribute(k, v));
      svg.append(line);
    }
  } else {
    const circle = document.createElementNS(SVG_NS, "circle");
    Object.entries({ cx: 50, cy: 50, r: 31, pathLength: 100 }).forEach(([k, v]) => circle.setAttribute(k, v));
    svg.append(circle);
  }
  return svg;
}

function build(container, callbacks) {
  container.replaceChildren();
  const board = document.createElement("div");
  board.className = "board ttt";
  board.setAttribute("role", "group");
  board.setAttribute("aria-label", "Tic-tac-toe board. Use the arrow keys to move between squares and Enter or Space to play.");
  board.dataset.testid = "board";
  const cells = [];
  for (let i = 0; i < 9; i++) {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.className = "ttt-cell";
    cell.dataset.cell = String(i);
    cell.tabIndex = i === 4 ? 0 : -1;
    const ghost = document.createElement("span");
    ghost.className = "ttt-ghost";
    ghost.setAttribute("aria-hidden", "true");
    cell.append(ghost);
    cell.addEventListener("click", () => {
      const s = state.get(container);
      if (!s) return;
      if (s.playable.has(i)) s.callbacks.onMove?.(i);
      else s.callbacks.onBlocked?.(i); // say why nothing happens (nothing is sent)
    });
    cells.push(cell);
    board.append(cell);
  }
  const strike = document.createElementNS(SVG_NS, "svg");
  strike.setAttribute("viewBox", "0 0 3 3");
  strike.setAttribute("aria-hidden", "true");
  strike.classList.add("strike");
  board.append(strike);
  installRoving(board, () => cells, (i, key) => {
    const r = Math.floor(i / 3);
    const c = i % 3;
    switch (key) {
      case "ArrowLeft": return r * 3 + ((c + 2) % 3);
      case "ArrowRight": return r * 3 + ((c + 1) % 3);
      case "ArrowUp": return ((r + 2) % 3) * 3 + c;
      case "ArrowDown": return ((r + 1) % 3) * 3 + c;
      case "Home": return r * 3;
      case "End": return r * 3 + 2;
      default: return null;
    }
  });
  container.append(board);
  const s = { board, cells, strike, callbacks, board_: Array(9).fill(null), playable: new Set(), lineKey: "" };
  state.set(container, s);
  return s;
}

/**
 * Render `view` into `container`.
 * options: { onBlocked(move) (a click that plays nothing), onMove(cell), canPlay (the viewer may move now), animate (default true) }
 */
export function render(container, view, options = {}) {
  let s = state.get(container);
  if (!s || !container.contains(s.board)) s = build(container, options);
  s.callbacks = options;
  const animate = options.animate !== false && !reducedMotion();
  const board = view.board ?? [];
  const legal = new Set(options.canPlay ? view.legal ?? [] : []);
  const line = new Set(view.result?.line ?? []);
  const last = view.moves?.length ? view.moves[view.moves.length - 1] : null;
  s.playable = legal;
  s.board.classList.toggle("can-play", legal.size > 0);
  s.board.classList.toggle("has-line", line.size > 0);
  s.board.dataset.you = view.you === 0 || view.you === 1 ? String(view.you) : "";

  s.cells.forEach((cell, i) => {
    const value = board[i] ?? null;
    const had = s.board_[i];
    if (value !== had) {
      cell.querySelector(".mark")?.remove();
      if (value !== null) {
        const mark = markSvg(value);
        if (animate) mark.classList.add("enter");
        cell.append(mark);
      }
    }
    cell.dataset.value = value === null ? "" : String(value);
    cell.classList.toggle("win", line.has(i));
    cell.classList.toggle("last", i === last && value !== null);
    const playable = legal.has(i);
    cell.setAttribute("aria-disabled", playable ? "false" : "true");
    const content = value === null ? "empty" : seatLabel("tictactoe", value);
    let label = `${cellName("tictactoe", i)}: ${content}`;
    if (line.has(i)) label += ", winning line";
    if (playable) label += ". Play here";
    cell.setAttribute("aria-label", label[0].toUpperCase() + label.slice(1));
  });
  s.board_ = board.slice();

  const lineKey = [...line].join(",");
  if (lineKey !== s.lineKey) {
    s.lineKey = lineKey;
    s.strike.replaceChildren();
    const cells = [...line].sort((a, b) => a - b);
    if (cells.length >= 2) {
      const a = cells[0];
      const b = cells[cells.length - 1];
      const stroke = document.createElementNS(SVG_NS, "line");
      const pos = (i) => [(i % 3) + 0.5, Math.floor(i / 3) + 0.5];
      const [x1, y1] = pos(a);
      const [x2, y2] = pos(b);
      // Extend a little past the outer cells' centres.
      const dx = (x2 - x1) * 0.16;
      const dy = (y2 - y1) * 0.16;
      Object.entries({ x1: x1 - dx, y1: y1 - dy, x2: x2 + dx, y2: y2 + dy, pathLength: 100 }).forEach(([k, v]) =>
        stroke.setAttribute(k, v),
      );
      if (board[a] !== null && board[a] !== undefined) stroke.classList.add(board[a] === 0 ? "seat0" : "seat1");
      if (animate) stroke.classList.add("enter");
      s.strike.append(stroke);
    }
  }
  return s.board;
}

/** Focus the board (its tabbable cell). */
export function focus(container) {
  const s = state.get(container);
  if (!s) return;
  const current = s.cells.find((c) => c.tabIndex === 0) ?? s.cells[4];
  setRovingIndex(s.cells, s.cells.indexOf(current));
  current.focus();
}
