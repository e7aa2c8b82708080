// The admin page's screen: draws what it is given (matches, one match, connections)
// and reports what the operator asks for through `handlers`. It knows nothing of
// HTTP or tokens; js/admin/page.js does.

import { byTestId, h, setText } from "../ui/dom.js";
import { countdown, endChoices, resultText, seatText, shortId } from "./format.js";

/**
 * handlers: onSignIn(token), onSignOut(), onInspect(matchId), onCloseDetail(),
 * onEnd(matchId, choice), onKick(player), onNotice(message), onOlder(), onNewest()
 */
export function createAdminView(root, handlers) {
  const $ = (id) => byTestId(root, id);
  const tokenForm = $("token-form");
  const tokenInput = $("token-input");
  const panels = $("admin-panels");
  const status = $("admin-status");
  const signOut = $("sign-out");
  const detail = $("match-detail");
  const endSelect = $("end-result");
  const confirmRow = $("end-confirm-row");
  const noticeInput = $("notice-input");

  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    if (token) handlers.onSignIn?.(token);
  });
  signOut.addEventListener("click", () => handlers.onSignOut?.());
  $("detail-close").addEventListener("click", () => handlers.onCloseDetail?.());
  $("matches-older").addEventListener("click", () => handlers.onOlder?.());
  $("matches-newest").addEventListener("click", () => handlers.onNewest?.());
  $("end-form").addEventListener("submit", (event) => {
    event.preventDefault();
    confirmRow.hidden = false;
    $("end-confirm").focus();
  });
  $("end-cancel").addEventListener("click", () => (confirmRow.hidden = true));
  $("end-confirm").addEventListener("click", () => {
    confirmRow.hidden = true;
    handlers.onEnd?.(detail.dataset.matchId, endSelect.value);
  });
  $("notice-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = noticeInput.value.trim();
    if (text) handlers.onNotice?.(text);
  });

  const kickButton = (player, name) =>
    h("button", {
      type: "button", class: "btn small danger-ghost", dataset: { testid: "kick-button", player },
      "aria-label": `Kick ${name || player}`, onclick: () => handlers.onKick?.(player),
    }, "Kick");

  function seatCell(seat, now) {
    return h("td", { dataset: { online: seat ? String(seat.online) : "" } }, seatText(seat, now));
  }

  function matchRow(entry, now) {
    const deadline = entry.deadline === null ? "–" : countdown(entry.deadline - now);
    return h("tr", { dataset: { testid: "match-row", matchId: entry.id, status: entry.status } },
      h("td", { title: entry.id }, h("code", {}, shortId(entry.id))),
      h("td", {}, entry.game),
      h("td", {}, entry.room ? `${entry.status} (room ${entry.room})` : entry.status),
      seatCell(entry.players[0], now), seatCell(entry.players[1], now),
      h("td", {}, entry.moves), h("td", {}, entry.watchers), h("td", {}, entry.version),
      h("td", {}, deadline),
      h("td", {}, h("button", {
        type: "button", class: "btn small", dataset: { testid: "inspect-button" },
        onclick: () => handlers.onInspect?.(entry.id),
      }, "Inspect")));
  }

  function connectionItem(conn, label) {
    const where = `${conn.codec}, ${conn.address}${conn.closing ? ", closing" : ""}`;
    return h("li", { dataset: { testid: "connection-item", player: conn.player ?? "" } },
      `${label} (${where}) `, conn.player ? kickButton(conn.player, conn.name) : null);
  }

  function seatItem(seat, now) {
    if (!seat) return h("li", {}, "(empty seat)");
    const label = `Seat ${seat.seat}: ${seatText(seat, now)}`;
    if (seat.connection) return connectionItem(seat.connection, `Seat ${seat.seat}: ${seat.name}`);
    return h("li", { dataset: { testid: "connection-item", player: seat.player } }, label);
  }

  function setEndChoices(summary) {
    const choices = endChoices(summary);
    const values = choices.map((c) => c.value).join("|");
    if (endSelect.dataset.values !== values) {
      const kept = endSelect.value;
      endSelect.replaceChildren(...choices.map((c) => h("option", { value: c.value }, c.label)));
      endSelect.dataset.values = values;
      if (choices.some((c) => c.value === kept)) endSelect.value = kept;
    }
    const over = summary.status === "finished";
    for (const el of [endSelect, $("end-button")]) el.disabled = over;
    if (over) confirmRow.hidden = true;
  }

  return {
    showSignedOut(text = "") {
      panels.hidden = true;
      tokenForm.hidden = false;
      signOut.hidden = true;
      status.dataset.state = "signed-out";
      setText(status, "Signed out");
      if (text) this.message(text, "error");
      tokenInput.focus();
    },
    showSignedIn() {
      tokenForm.hidden = true;
      tokenInput.value = "";
      panels.hidden = false;
      signOut.hidden = false;
      status.dataset.state = "ok";
      setText(status, "Signed in");
    },
    showTrouble(text) {
      status.dataset.state = "error";
      setText(status, text);
    },
    renderMatches(page, now = Date.now()) {
      $("match-list").replaceChildren(...page.matches.map((entry) => matchRow(entry, now)));
      $("match-empty").hidden = page.matches.length > 0;
      setText($("match-total"), `(${page.total})`);
      $("matches-older").hidden = !page.next;
      const refreshed = $("refreshed");
      refreshed.dataset.refreshedAt = String(now);
      setText(refreshed, `updated ${new Date(now).toLocaleTimeString()}`);
      if (status.dataset.state === "error") this.showSignedIn();
    },
    showPaging(paged) {
      $("matches-newest").hidden = !paged;
    },
    renderDetail(data, now = Date.now()) {
      const summary = data.summary;
      detail.hidden = false;
      detail.dataset.matchId = summary.id;
      detail.dataset.status = summary.status;
      detail.dataset.version = String(summary.version);
      setText($("detail-id"), summary.id);
      const result = resultText(summary.result, summary.players);
      const deadline = summary.deadline === null ? "" : `, deadline in ${countdown(summary.deadline - now)}`;
      setText($("detail-summary"), `${summary.game}, ${summary.status}${result ? `: ${result}` : ""}, version ${summary.version}, ${summary.moves} moves${deadline}`);
      $("detail-seats").replaceChildren(...summary.players.map((seat) => seatItem(seat, now)));
      const watchers = data.watchers.map((conn) => connectionItem(conn, conn.name ?? "(no name)"));
      $("detail-watchers").replaceChildren(...(watchers.length ? watchers : [h("li", { class: "muted" }, "None")]));
      setText($("detail-moves"), JSON.stringify(data.moves));
      setText($("detail-record"), JSON.stringify({ record: data.record, view: data.view }, null, 2));
      setEndChoices(summary);
    },
    hideDetail() {
      detail.hidden = true;
      detail.dataset.matchId = "";
      confirmRow.hidden = true;
    },
    renderConnections(page) {
      const rows = page.connections.map((conn) =>
        h("tr", { dataset: { testid: "connection-row", player: conn.player } },
          h("td", { title: conn.player }, h("code", {}, shortId(conn.player))),
          h("td", {}, conn.name ?? ""), h("td", {}, conn.address), h("td", {}, conn.codec),
          h("td", {}, conn.matches.map((m) => shortId(m)).join(", ")),
          h("td", {}, conn.watching.map((m) => shortId(m)).join(", ")),
          h("td", {}, conn.queued), h("td", {}, kickButton(conn.player, conn.name))));
      $("connection-list").replaceChildren(...rows);
      setText($("connection-total"), `(${page.total} players, ${page.anonymous} before hello)`);
    },
    noticeSent() {
      noticeInput.value = "";
    },
    message(text, kind = "info") {
      const el = $("admin-message");
      el.dataset.kind = kind;
      setText(el, text);
    },
  };
}
