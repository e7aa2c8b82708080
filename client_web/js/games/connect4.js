// Connect-four board: 7 column buttons (data-col 0..6), each holding 6 slots
// (data-cell = row * 7 + col, row 0 at the top). Stones sit behind a frame with
// round holes and fall into place when they appear. A click anywhere in a column
// drops a stone there. render() builds once per container, then updates in place.

import { landingRow, seatLabel } from "../describe.js";
import { installRoving, reducedMotion, setRovingIndex } from "../render/common.js";

export const ROWS = 6;
export const COLS = 7;

const state = new WeakMap();

function build(container, callbacks) {
  container.replaceChildren();
  const board = document.createElement("div");
  board.className = "board c4";
  board.setAttribute("role", "group");
  board.setAttribute(
    "aria-label",
    "Connect Four board, 7 columns. Use the left and right arrow keys to choose a column, Enter or Space to drop a stone, or press 1 to 7.",
  );
  board.dataset.testid = "board";
  const frame = document.createElement("div");
  frame.className = "c4-frame";
  const columns = [];
  const slots = [];
  for (let col = 0; col < COLS; col++) {
    const column = document.createElement("button");
    column.type = "button";
    column.className = "c4-col";
    column.dataset.col = String(col);
    column.tabIndex = col === 3 ? 0 : -1;
    for (let row = 0; row < ROWS; row++) {
      const slot = document.createElement("span");
      slot.className = "c4-slot";
      slot.dataset.cell = String(row * COLS + col);
      slot.setAttribute("aria-hidden", "true");
      const stone = document.createElement("span");
      stone.className = "stone";
      slot.append(stone);
      column.append(slot);
      slots[row * COLS + col] = slot;
    }
    column.addEventListener("click", () => {
      const s = state.get(container);
      if (!s) return;
      if (s.playable.has(col)) s.callbacks.onMove?.(col);
      else s.callbacks.onBlocked?.(col); // say why nothing happens (nothing is sent)
    });
    columns.push(column);
    frame.append(column);
  }
  board.append(frame);
  installRoving(board, () => columns, (i, key, n) => {
    switch (key) {
      case "ArrowLeft": return (i + n - 1) % n;
      case "ArrowRight": return (i + 1) % n;
      case "Home": return 0;
      case "End": return n - 1;
      default: return null;
    }
  });
  board.addEventListener("keydown", (event) => {
    // 1..7 drop straight into that column.
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const col = Number(event.key) - 1;
    if (!Number.isInteger(col) || col < 0 || col >= COLS) return;
    event.preventDefault();
    setRovingIndex(columns, col);
    columns[col].focus();
    columns[col].click();
  });
  container.append(board);
  const s = { board, columns, slots, callbacks, cells: Array(ROWS * COLS).fill(null), playable: new Set() };
  state.set(container, s);
  return s;
}

function dropAnimation(slot, row) {
  const stone = slot.firstElementChild;
  if (!stone || typeof stone.animate !== "function") return;
  const distance = slot.offsetTop + slot.offsetHeight; // from above the column's top edge
  const duration = 260 + 55 * row;
  stone.animate(
    [
      { transform: `translateY(${-distance}px)`, easing: "cubic-bezier(.45,0,1,1)" },
      { transform: "translateY(0)", offset: 0.72, easing: "cubic-bezier(0,0,.4,1)" },
      { transform: `translateY(${-Math.min(14, distance * 0.06)}px)`, offset: 0.86, easing: "cubic-bezier(.45,0,1,1)" },
      { transform: "translateY(0)" },
    ],
    { duration },
  );
}

/**
 * Render `view` into `container`.
 * options: { onBlocked(move) (a click that plays nothing), onMove(column), canPlay (the viewer may move now), animate (default true) }
 */
export function render(container, view, options = {}) {
  let s = state.get(container);
  if (!s || !container.contains(s.board)) s = build(container, options);
  s.callbacks = options;
  const animate = options.animate !== false && !reducedMotion();
  const board = view.board ?? [];
  const legal = new Set(options.canPlay ? view.legal ?? [] : []);
  const line = new Set(view.result?.line ?? []);
  s.playable = legal;
  s.board.classList.toggle("can-play", legal.size > 0);
  s.board.classList.toggle("has-line", line.size > 0);
  s.board.dataset.you = view.you === 0 || view.you === 1 ? String(view.you) : "";

  // The last stone played: the top stone of the last column played.
  let lastCell = -1;
  if (view.moves?.length) {
    const col = view.moves[view.moves.length - 1];
    const row = landingRow(board, col, ROWS, COLS) + 1;
    if (row >= 0 && row < ROWS) lastCell = row * COLS + col;
  }

  const dropped = [];
  for (let cell = 0; cell < ROWS * COLS; cell++) {
    const value = board[cell] ?? null;
    const slot = s.slots[cell];
    const stone = slot.firstElementChild;
    if (value !== s.cells[cell]) {
      stone.className = "stone";
      if (value !== null) {
        stone.classList.add(value === 0 ? "seat0" : "seat1");
        if (s.cells[cell] === null) dropped.push(cell);
      }
    }
    slot.dataset.value = value === null ? "" : String(value);
    stone.classList.toggle("win", line.has(cell));
    stone.classList.toggle("last", cell === lastCell);
    slot.classList.remove("landing");
  }
  s.cells = board.slice();

  s.columns.forEach((column, col) => {
    const stones = [];
    for (let row = ROWS - 1; row >= 0; row--) {
      const v = board[row * COLS + col];
      if (v !== null && v !== undefined) stones.push(seatLabel("connect4", v).toLowerCase());
    }
    const playable = legal.has(col);
    const landing = landingRow(board, col, ROWS, COLS);
    if (playable && landing >= 0) s.slots[landing * COLS + col].classList.add("landing");
    column.setAttribute("aria-disabled", playable ? "false" : "true");
    let label = `Column ${col + 1}: `;
    label += stones.length ? `${stones.length} of ${ROWS} filled, bottom to top ${stones.join(", ")}` : "empty";
    if (stones.length === ROWS) label += ", full";
    if (playable) label += ". Drop a stone here";
    column.setAttribute("aria-label", label);
  });

  if (animate) {
    // Only animate the stones that just appeared, not a whole board after a snapshot.
    const few = dropped.length <= 2;
    if (few) for (const cell of dropped) dropAnimation(s.slots[cell], Math.floor(cell / COLS));
  }
  return s.board;
}

/** Focus the board (its tabbable column). */
export function focus(container) {
  const s = state.get(container);
  if (!s) return;
  const current = s.columns.find((c) => c.tabIndex === 0) ?? s.columns[3];
  setRovingIndex(s.columns, s.columns.indexOf(current));
  current.focus();
}
