// What follows each `welcome` (the first one and every one after a reconnect): the
// name the server knows, the room codes and left matches pruned to the live matches,
// going back to the match this tab showed, the page address's intents (`?room=`,
// `?watch=`), searching again, the pending move sent again; and a `token_reset`
// (a new identity: the old one's matches are gone).

import { friendlyError } from "../errors.js";

/** ctx: the shared parts the composition root (app.js) puts together. */
export function createWelcomeHandlers(ctx) {
  // Created after the parts it drives (see app.js), so they can be taken at once.
  const { app, store, storage, conn, toast, lobby, screens, lobbyActions, matchActions, offers } = ctx;

  function onWelcome(msg) {
    app.everReady = true;
    app.resumeIds = new Set(msg.matches ?? []);
    if (!lobby.getName() && msg.name) {
      lobby.setName(msg.name);
      storage.setName(msg.name);
    }
    // Room codes and left matches are only worth keeping while the match is live.
    app.rooms.keep(app.resumeIds);
    app.left.keep(app.resumeIds);
    resumeSaved();
    forgetEnded();
    followIntents();
    // Still searching: ask again (the answer may be already_queued, which is fine).
    if (app.queued) conn.send({ type: "queue", game: app.queued.game });
    if (app.pendingMove) matchActions.resendMove();
    screens.renderCurrent();
    screens.refreshMine();
  }

  /** Forget matches the server no longer lists for us (finished while away). */
  function forgetEnded() {
    for (const entry of store.entries()) {
      const shown = app.current?.match === entry.match;
      if (!shown && entry.view.you !== null && entry.view.status !== "finished" && !app.resumeIds.has(entry.match)) {
        store.delete(entry.match);
      }
    }
  }

  /** Back to the match this tab showed (or the last one played, in a new tab). */
  function resumeSaved() {
    // Following a room link beats going back to the last match (still listed in the lobby).
    const saved = app.intents.room ? null : app.current ?? storage.getCurrent();
    if (saved?.room && !app.rooms.has(saved.match) && app.resumeIds.has(saved.match)) app.rooms.set(saved.match, saved.room);
    if (saved?.mode === "watch") {
      app.watching = saved.match;
      conn.send({ type: "watch", match: saved.match });
    } else if (saved?.mode === "play") {
      app.current = { match: saved.match, mode: "play" };
      if (app.resumeIds.has(saved.match)) return; // its snapshot follows
      // It ended while we were away (or before a reload): fetch its final view, shown
      // read-only with its result. An error sends us to the lobby.
      const entry = store.get(saved.match);
      if (!entry || entry.view.status !== "finished") conn.send({ type: "sync", match: saved.match });
    }
  }

  /** `?room=` and `?watch=` of the page's address, used once. */
  function followIntents() {
    if (app.intents.room && app.intents.askName) {
      ctx.nameDialog.ask(conn.name ?? lobby.getName()); // joins once a name is chosen
    } else if (app.intents.room) {
      lobbyActions.startRequest({ type: "join_room", code: app.intents.room });
      app.intents.room = null;
      const url = new URL(location.href);
      url.searchParams.delete("room");
      history.replaceState(null, "", url);
    }
    if (app.intents.watch && app.intents.watch !== app.watching) {
      lobbyActions.watch(app.intents.watch);
    }
    app.intents.watch = null;
  }

  function onTokenReset() {
    // A new identity: matches of the old one are gone.
    store.clear();
    offers.refresh();
    if (app.current?.mode === "play") {
      screens.setCurrent(null);
      if (app.screen === "match") screens.showLobby();
    }
    toast(friendlyError({ code: "bad_token" }), { kind: "info" });
  }

  return { onWelcome, onTokenReset, followIntents };
}
