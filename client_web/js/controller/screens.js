// Which screen is up and which match is current: the lobby or one match, the address
// bar and the tab's saved match that follow the current match, drawing the current
// match from the store, the "Your matches" list, and whether a match that just
// started may take the screen. It draws only through the screens in `ctx.lobby` and
// `ctx.matchScreen`; `location`, `history` and `window` are touched only when called.

import { State } from "../connection.js";
import { playerName } from "../describe.js";
import { roomLink } from "../links.js";

/** ctx: the shared parts the composition root (app.js) puts together. */
export function createScreens(ctx) {
  const { app, store, storage, conn, clock } = ctx;

  function setCurrent(current) {
    app.current = current;
    storage.setCurrent(current ? { ...current, room: app.rooms.get(current.match) ?? null } : null);
    const url = new URL(location.href);
    url.searchParams.delete("room");
    if (current?.mode === "watch") url.searchParams.set("watch", current.match);
    else url.searchParams.delete("watch");
    if (url.href !== location.href) history.replaceState(null, "", url);
  }

  function showLobby() {
    app.screen = "lobby";
    ctx.matchScreen.hide();
    ctx.lobby.show();
    ctx.lobby.setQueue(app.queued);
    refreshMine();
    ctx.offers.refresh();
    ctx.lobbyActions.refreshLive();
  }

  function openMatch(id, mode) {
    const wasShowing = app.screen === "match" && app.current?.match === id;
    app.left.delete(id); // back in it by choice
    setCurrent({ match: id, mode });
    app.screen = "match";
    ctx.lobby.hide();
    ctx.matchScreen.show();
    renderCurrent();
    if (!wasShowing) {
      window.scrollTo({ top: 0 });
      ctx.matchScreen.focus();
    }
  }

  function renderCurrent() {
    if (app.screen !== "match" || !app.current) return;
    const entry = store.get(app.current.match);
    if (!entry) return;
    const code = app.rooms.get(entry.match);
    ctx.matchScreen.update({
      matchId: entry.match,
      version: entry.version,
      view: entry.view,
      room: code ? { code, link: roomLink(code, location) } : null,
      connected: conn.ready,
      offline: offlineText(),
      syncing: entry.syncing,
      pending: Boolean(app.pendingMove && app.pendingMove.match === entry.match),
      serverNow: () => clock.now(Date.now()),
    });
  }

  function offlineText() {
    if (conn.state === State.REPLACED) return "Paused: open in another tab";
    if (conn.state === State.REFUSED) return "Disconnected";
    if (conn.restarting) return "Server restarting, reconnecting…";
    return "Reconnecting…";
  }

  /** The player's own unfinished matches (for the lobby and the rename guard). */
  function liveOwnMatches() {
    return store.entries().filter((e) => e.view.you !== null && e.view.you !== undefined && e.view.status !== "finished");
  }

  function refreshMine() {
    const mine = liveOwnMatches()
      .filter((e) => !(app.screen === "match" && app.current?.match === e.match))
      .map((e) => ({
        id: e.match,
        game: e.view.game,
        status: e.view.status,
        opponent: playerName(e.view, 1 - e.view.you),
        yourTurn: e.view.status === "active" && e.view.turn === e.view.you,
      }));
    ctx.lobby.setMine(mine);
  }

  // A match we just got into: show it unless the person is busy in another live match.
  function focusNewMatch(id) {
    const current = app.current && store.get(app.current.match);
    const busy = app.screen === "match" && current && current.view.status !== "finished" && current.match !== id;
    if (!busy) {
      openMatch(id, "play");
      return;
    }
    refreshMine();
    ctx.toast("Another match of yours is ready.", { kind: "info", action: { label: "Open", onClick: () => openMatch(id, "play") }, timeout: 10000 });
  }

  function canAutoResume(id) {
    return app.screen === "lobby" && !app.current && !app.queued && !app.intents.room && !app.intents.watch && !app.left.has(id);
  }

  return { setCurrent, showLobby, openMatch, renderCurrent, liveOwnMatches, refreshMine, focusNewMatch, canAutoResume };
}
