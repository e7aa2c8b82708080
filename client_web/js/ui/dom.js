// Tiny DOM helpers for the UI modules (used only when called, never at import).

/** h("li", {class: "x", dataset: {id: 1}, onclick: fn}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Query by data-testid inside root. */
export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/** "12 s ago" / "3 min ago" */
export function timeAgo(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.round(m / 60)} h ago`;
}

/**
 * A player's name in its own bidi isolate (`<bdi>`): a right-to-left name, or one
 * that ends in digits, cannot reorder the words around it.
 */
export function nameEl(name) {
  return h("bdi", { class: "name" }, String(name ?? ""));
}

/**
 * Set `el` to `text`, each occurrence of one of `names` in it isolated in a `<bdi>`.
 * The children are rebuilt only when the text or the names change.
 */
export function setTextNames(el, text, names = []) {
  if (!el) return;
  const key = JSON.stringify([text, names]);
  if (el.dataset.textKey === key) return;
  el.dataset.textKey = key;
  const wanted = [...new Set(names.filter(Boolean).map(String))].sort((a, b) => b.length - a.length);
  const parts = [];
  let rest = String(text ?? "");
  while (rest) {
    let at = -1;
    let found = "";
    for (const name of wanted) {
      const i = rest.indexOf(name);
      if (i !== -1 && (at === -1 || i < at)) [at, found] = [i, name];
    }
    if (at === -1) break;
    if (at > 0) parts.push(rest.slice(0, at));
    parts.push(nameEl(found));
    rest = rest.slice(at + found.length);
  }
  if (rest) parts.push(rest);
  el.replaceChildren(...parts);
}
