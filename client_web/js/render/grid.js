// The generic board: any game with a rectangular board gets it when it has no
// renderer of its own (render/index.js). rows x cols cells (data-cell, row-major, row
// 0 at the top) with each seat's pieces, the viewer's legal moves marked, the last
// move and a winning line highlighted. A cell game plays a cell by click, tap or
// Enter / Space on it (arrow keys move between cells); a column game (`move:
// "column"` in the server's metadata) has one button per column (data-col), so a
// click anywhere in a column plays that column.
//
// gridModel() is the pure part (no DOM, tested in Node); render() draws it, building
// the DOM once per container and shape and then updating it in place.

import { cellName, gameTitle, landingRow, seatLabel } from "../describe.js";
import { gameMeta } from "../gamemeta.js";
import { installRoving, setRovingIndex } from "./common.js";

const capital = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** {rows, cols, byColumn} of the view's board: the server's, else a guess from its length. */
export function gridShape(view) {
  const meta = gameMeta(view.game);
  const length = view.board?.length ?? 0;
  if (meta && meta.rows * meta.cols === length && length > 0) {
    return { rows: meta.rows, cols: meta.cols, byColumn: meta.move === "column" };
  }
  const side = Math.round(Math.sqrt(length));
  if (side > 0 && side * side === length) return { rows: side, cols: side, byColumn: false };
  return { rows: 1, cols: Math.max(1, length), byColumn: false };
}

/** The cell of the last piece placed: the last cell played, or the top piece of the last column. */
function lastCell(view, board, { rows, cols, byColumn }) {
  const last = [...(view.moves ?? [])].reverse().find((m) => m !== null && m !== undefined);
  if (last === undefined) return -1;
  if (!byColumn) return last;
  for (let row = 0; row < rows; row++) {
    const cell = row * cols + last;
    if (board[cell] !== null && board[cell] !== undefined) return cell;
  }
  return -1;
}

/**
 * What the grid shows for `view`, without a DOM: {key, rows, cols, byColumn, label,
 * playable (the moves the viewer may make now), cells: [{cell, value, playable,
 * landing, last, win, label}], columns: [{col, playable, label}] (column games)}.
 * options.canPlay: the viewer may move now (else nothing is marked playable).
 */
export function gridModel(view, { canPlay = false } = {}) {
  const shape = gridShape(view);
  const { rows, cols, byColumn } = shape;
  const board = view.board ?? [];
  const legal = new Set(canPlay ? view.legal ?? [] : []);
  const line = new Set(view.result?.line ?? []);
  const last = lastCell(view, board, shape);
  const landing = new Set(byColumn ? [...legal].map((col) => landingRow(board, col, rows, cols) * cols + col) : []);
  const cells = [];
  for (let cell = 0; cell < rows * cols; cell++) {
    const value = board[cell] ?? null;
    const playable = !byColumn && legal.has(cell);
    let label = `${capital(cellName(view.game, cell))}: ${value === null ? "empty" : seatLabel(view.game, value)}`;
    if (line.has(cell)) label += ", winning line";
    if (cell === last) label += ", last move";
    if (playable) label += ". Play here";
    cells.push({ cell, value, playable, landing: landing.has(cell), last: cell === last, win: line.has(cell), label });
  }
  const columns = [];
  for (let col = 0; byColumn && col < cols; col++) {
    const filled = cells.filter((c) => c.cell % cols === col && c.value !== null).length;
    let label = `Column ${col + 1}: ${filled ? `${filled} of ${rows} filled` : "empty"}`;
    if (legal.has(col)) label += ". Play here";
    columns.push({ col, playable: legal.has(col), label });
  }
  const how = byColumn ? "the left and right arrow keys to choose a column" : "the arrow keys to move between squares";
  return {
    key: `${view.game}:${rows}x${cols}:${byColumn ? "column" : "cell"}`,
    rows,
    cols,
    byColumn,
    label: `${gameTitle(view.game)} board, ${rows} by ${cols}. Use ${how} and Enter or Space to play.`,
    playable: [...legal],
    cells,
    columns,
  };
}

// --- DOM -------------------------------------------------------------------------

const state = new WeakMap();

function piece() {
  const span = document.createElement("span");
  span.className = "grid-piece";
  span.setAttribute("aria-hidden", "true");
  return span;
}

function cellButton(cell) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "grid-cell";
  button.dataset.cell = String(cell);
  button.append(piece());
  return button;
}

function columnButton(col, rows, cols) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "grid-col";
  button.dataset.col = String(col);
  for (let row = 0; row < rows; row++) {
    const slot = document.createElement("span");
    slot.className = "grid-cell";
    slot.dataset.cell = String(row * cols + col);
    slot.append(piece());
    button.append(slot);
  }
  return button;
}

/** The arrow keys: within a row (wrapping) and, on a cell grid, within a column. */
function stepper(model) {
  const { rows, cols, byColumn } = model;
  return (i, key, n) => {
    if (byColumn) {
      if (key === "ArrowLeft") return (i + n - 1) % n;
      if (key === "ArrowRight") return (i + 1) % n;
      return key === "Home" ? 0 : key === "End" ? n - 1 : null;
    }
    const r = Math.floor(i / cols);
    const c = i % cols;
    switch (key) {
      case "ArrowLeft": return r * cols + ((c + cols - 1) % cols);
      case "ArrowRight": return r * cols + ((c + 1) % cols);
      case "ArrowUp": return ((r + rows - 1) % rows) * cols + c;
      case "ArrowDown": return ((r + 1) % rows) * cols + c;
      case "Home": return r * cols;
      case "End": return r * cols + cols - 1;
      default: return null;
    }
  };
}

function build(container, model) {
  container.replaceChildren();
  const { rows, cols, byColumn } = model;
  const board = document.createElement("div");
  board.className = `board grid ${byColumn ? "grid-by-column" : "grid-by-cell"}`;
  board.setAttribute("role", "group");
  board.dataset.testid = "board";
  board.style.setProperty("--rows", String(rows));
  board.style.setProperty("--cols", String(cols));
  const targets = [];
  const cells = [];
  for (let i = 0; i < (byColumn ? cols : rows * cols); i++) {
    const target = byColumn ? columnButton(i, rows, cols) : cellButton(i);
    target.addEventListener("click", () => {
      const s = state.get(container);
      if (!s) return;
      if (s.playable.has(i)) s.callbacks.onMove?.(i);
      else s.callbacks.onBlocked?.(i); // say why nothing happens (nothing is sent)
    });
    targets.push(target);
    board.append(target);
  }
  for (const el of board.querySelectorAll(".grid-cell")) cells[Number(el.dataset.cell)] = el;
  const middle = byColumn ? Math.floor((cols - 1) / 2) : Math.floor((rows - 1) / 2) * cols + Math.floor((cols - 1) / 2);
  setRovingIndex(targets, middle);
  installRoving(board, () => targets, stepper(model));
  container.append(board);
  const s = { key: model.key, board, targets, cells, callbacks: {}, playable: new Set() };
  state.set(container, s);
  return s;
}

/**
 * Render `view` into `container`.
 * options: { onMove(move), onBlocked(move) (a click that plays nothing), canPlay (the viewer may move now) }
 */
export function render(container, view, options = {}) {
  const model = gridModel(view, options);
  let s = state.get(container);
  if (!s || !container.contains(s.board) || s.key !== model.key) s = build(container, model);
  s.callbacks = options;
  s.playable = new Set(model.playable);
  s.board.setAttribute("aria-label", model.label);
  s.board.classList.toggle("can-play", s.playable.size > 0);
  s.board.dataset.you = view.you === 0 || view.you === 1 ? String(view.you) : "";
  for (const c of model.cells) {
    const el = s.cells[c.cell];
    el.dataset.value = c.value === null ? "" : String(c.value);
    el.firstElementChild.className = c.value === null ? "grid-piece" : `grid-piece seat${c.value}`;
    el.classList.toggle("playable", c.playable || c.landing);
    el.classList.toggle("last", c.last);
    el.classList.toggle("win", c.win);
    if (!model.byColumn) {
      el.setAttribute("aria-label", c.label);
      el.setAttribute("aria-disabled", c.playable ? "false" : "true");
    }
  }
  for (const c of model.columns) {
    const el = s.targets[c.col];
    el.classList.toggle("playable", c.playable);
    el.setAttribute("aria-label", c.label);
    el.setAttribute("aria-disabled", c.playable ? "false" : "true");
  }
  return s.board;
}

/** Focus the board (its tabbable cell or column). */
export function focus(container) {
  const s = state.get(container);
  if (!s) return;
  const current = s.targets.find((t) => t.tabIndex === 0) ?? s.targets[0];
  setRovingIndex(s.targets, s.targets.indexOf(current));
  current.focus();
}
