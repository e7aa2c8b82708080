// Shared helpers for the board renderers (DOM only when called, never at import).

export const SVG_NS = "http://www.w3.org/2000/svg";

/** Does the user prefer less motion? (false outside a browser) */
export function reducedMotion() {
  return typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * Roving tabindex over `items` (buttons): exactly one is tabbable; arrow keys move
 * focus with `step(index, key)` returning the next index (or null to ignore the key).
 */
export function setRovingIndex(items, index) {
  items.forEach((el, i) => {
    el.tabIndex = i === index ? 0 : -1;
  });
}

export function installRoving(container, getItems, step) {
  container.addEventListener("keydown", (event) => {
    const items = getItems();
    const current = items.indexOf(document.activeElement);
    if (current < 0) return;
    const next = step(current, event.key, items.length);
    if (next === null || next === undefined || next === current) {
      if (next === current) event.preventDefault();
      return;
    }
    event.preventDefault();
    setRovingIndex(items, next);
    items[next].focus();
  });
  container.addEventListener("focusin", (event) => {
    const items = getItems();
    const index = items.indexOf(event.target);
    if (index >= 0) setRovingIndex(items, index);
  });
}
