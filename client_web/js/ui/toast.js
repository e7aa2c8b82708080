// Toast notifications: short messages at the bottom of the screen. Errors use
// role="alert" so screen readers announce them at once.

import { h } from "./dom.js";

export function createToaster(container) {
  function dismiss(el) {
    if (!el.isConnected || el.classList.contains("leaving")) return;
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 250);
  }

  /**
   * toast("text", {kind: "error" | "info" | "success", action: {label, onClick}, timeout})
   */
  function toast(text, { kind = "info", action = null, timeout = kind === "error" ? 6000 : 4000, code = "" } = {}) {
    // Collapse repeats of the same text.
    for (const el of container.querySelectorAll(".toast")) {
      if (el.dataset.text === text) dismiss(el);
    }
    const el = h(
      "div",
      {
        class: `toast toast-${kind}`,
        role: kind === "error" ? "alert" : "status",
        dataset: { testid: "toast", kind, text, code },
      },
      h("span", { class: "toast-text" }, text),
    );
    if (action) {
      el.append(
        h(
          "button",
          {
            type: "button",
            class: "btn small",
            onclick: () => {
              dismiss(el);
              action.onClick();
            },
          },
          action.label,
        ),
      );
    }
    el.append(h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => dismiss(el) }, "×"));
    container.append(el);
    const toasts = container.querySelectorAll(".toast:not(.leaving)");
    if (toasts.length > 4) dismiss(toasts[0]);
    if (timeout) setTimeout(() => dismiss(el), timeout);
    return el;
  }
  return toast;
}
