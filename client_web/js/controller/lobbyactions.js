// The lobby's actions: what its buttons ask for, turned into commands; the
// one-request-at-a-time guard of the start buttons (quick match, room, join, bot,
// accepting a rematch) and the quick-match queue; watching and resuming a match; and
// the lobby's data fetched over HTTP (games and bot levels, the live matches,
// refreshed every few seconds). Draws only through `ctx.lobby`.

import { State } from "../connection.js";
import { registerGames } from "../gamemeta.js";
import { canDraw } from "../render/index.js";

export const DEFAULT_LEVELS = ["random", "easy", "medium", "hard"];
const LIVE_REFRESH_MS = 4000;
const REQUEST_TIMEOUT_MS = 10000;
const GAMES_RETRY_MS = 5000;

/** ctx: the shared parts the composition root (app.js) puts together. */
export function createLobbyActions(ctx) {
  const { app, store, storage, conn } = ctx;

  /** The lobby screen's handlers (see ui/lobby.js). */
  const handlers = {
    onNameChange(name) {
      storage.setName(name);
      if (!name || name === conn.name) return;
      // The last hello was refused (its name): try again with this one.
      if (conn.state === State.REFUSED) conn.restart();
      else if (!conn.ready) return; // the next hello carries it
      // The name travels in hello: say hello again, unless that would drop a live
      // match for a moment; then it is said before the next match starts.
      else if (!renameNow()) ctx.notify("Your new name will show from your next match.");
    },
    onGameChange: (game) => storage.setGame(game),
    onLevelChange: (level) => storage.setLevel(level),
    onQuickMatch(game) {
      if (app.queued || !startRequest({ type: "queue", game })) return;
      app.queued = { game };
      ctx.lobby.setQueue(app.queued);
    },
    onCancelQueue: leaveQueue,
    onCreateRoom: (game) => startRequest({ type: "create_room", game }),
    onJoinRoom: (code) => startRequest({ type: "join_room", code: code.trim() }),
    onPlayBot: (game, level) => startRequest({ type: "play_bot", game, level }),
    onWatch(id) {
      watch(id);
    },
    onResume(id) {
      const entry = store.get(id);
      if (entry) ctx.screens.openMatch(id, entry.view.you === null ? "watch" : "play");
    },
    onAcceptRematch: (id) => ctx.offers.accept(id),
    onDismissRematch: (id) => ctx.offers.dismiss(id),
  };

  function rememberName() {
    const name = ctx.lobby.getName();
    if (name) storage.setName(name);
  }

  /**
   * Say hello again with the lobby's name if the server knows us by another one and
   * no live match of ours would be interrupted. Commands sent meanwhile wait for the
   * welcome. Returns whether it did.
   */
  function renameNow() {
    const name = ctx.lobby.getName();
    if (!conn.ready || !name || name === conn.name || ctx.screens.liveOwnMatches().length) return false;
    conn.restart();
    return true;
  }

  /**
   * Ask to start something (queue, room, bot match, rematch), one request at a time: a
   * second click before the answer does nothing. Anything but a quick match leaves the
   * queue.
   */
  function startRequest(cmd) {
    if (app.request) return false;
    rememberName();
    if (cmd.type !== "queue") leaveQueue();
    renameNow(); // a name changed during a live match: the new match gets it
    const id = conn.send(cmd);
    app.request = { id, timer: setTimeout(() => endRequest(id), REQUEST_TIMEOUT_MS) };
    ctx.lobby.setBusy(true);
    return true;
  }

  /** The pending request got its answer (or `id` is undefined: any answer will do). */
  function endRequest(id) {
    if (!app.request || (id !== undefined && app.request.id !== id)) return;
    clearTimeout(app.request.timer);
    app.request = null;
    ctx.lobby.setBusy(false);
  }

  /** Really leave the quick-match queue (the server keeps us in it until `unqueue`). */
  function leaveQueue() {
    if (!app.queued) return;
    conn.send({ type: "unqueue" });
    app.queued = null;
    ctx.lobby.setQueue(null);
  }

  /** The queue as the server says it is: `{game}` while searching, or null. */
  function setQueued(queued) {
    app.queued = queued;
    ctx.lobby.setQueue(queued);
  }

  function watch(id) {
    const entry = store.get(id);
    if (entry && entry.view.you !== null && entry.view.you !== undefined) {
      ctx.screens.openMatch(id, "play"); // our own match: play it rather than watch it
      return;
    }
    app.watching = id;
    if (entry) ctx.screens.openMatch(id, "watch");
    conn.send({ type: "watch", match: id });
  }

  // --- HTTP: games and live matches -----------------------------------------

  function showGames(games, levels) {
    // a game the server serves but this page cannot draw (no rectangular board) is for bots and the SDK
    games = games.filter((g) => canDraw(g.id));
    ctx.lobby.setGames(games, levels, { game: storage.getGame() ?? undefined, level: storage.getLevel() ?? undefined });
  }

  /**
   * The server's games (the page's HTML lists the first ones until then): their
   * metadata goes to gamemeta.js, for the words and the boards. Tried again until it comes.
   */
  async function loadGames() {
    let data = null;
    try {
      const res = await fetch("/api/games", { headers: { Accept: "application/json" } });
      if (res.ok) data = await res.json();
    } catch {
      // tried again below
    }
    if (!Array.isArray(data?.games) || !data.games.length) {
      setTimeout(loadGames, GAMES_RETRY_MS);
      return;
    }
    registerGames(data.games);
    showGames(data.games, Array.isArray(data.bot_levels) && data.bot_levels.length ? data.bot_levels : DEFAULT_LEVELS);
    refreshLive(); // the live list shows only games known here
  }

  /**
   * Each match once, by its id (`match`; `id` is its older name): a list read while
   * matches start and end may hold one twice, and a row per id is what the lobby keys on.
   */
  function uniqueMatches(matches) {
    const seen = new Map();
    for (const m of matches) {
      const id = m?.match ?? m?.id;
      if (typeof id === "string" && !seen.has(id)) seen.set(id, { ...m, id });
    }
    return [...seen.values()];
  }

  let liveTimer = null;
  let liveBusy = false;
  async function refreshLive() {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(refreshLive, LIVE_REFRESH_MS);
    if (app.screen !== "lobby" || document.visibilityState === "hidden" || liveBusy) return;
    liveBusy = true;
    try {
      const res = await fetch("/api/matches", { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!res.ok) throw new Error(String(res.status));
      const data = await res.json();
      const drawable = (Array.isArray(data.matches) ? data.matches : []).filter((m) => canDraw(m?.game));
      const matches = uniqueMatches(drawable).sort((a, b) => (b.watchers ?? 0) - (a.watchers ?? 0) || (b.started_at ?? 0) - (a.started_at ?? 0));
      // the first page of the list (newest first); `total` counts every live match
      ctx.lobby.setLive(matches, { total: Number.isInteger(data.total) ? data.total : undefined });
    } catch {
      ctx.lobby.setLive([], { error: "Could not load the live matches. Retrying…" });
    } finally {
      liveBusy = false;
    }
  }

  /**
   * The invite link's name dialog chose `name`: say hello again with it if it is new
   * (the next welcome joins the room), else join now.
   */
  function joinWithName(name) {
    app.intents.askName = false;
    if (name) {
      storage.setName(name);
      ctx.lobby.setName(name);
    }
    if (name && name !== conn.name) conn.restart();
    else if (conn.ready) ctx.welcome.followIntents();
  }

  /** "Not now": no join; the code waits in "Have a code?". */
  function keepRoomForLater() {
    const code = app.intents.room;
    app.intents.askName = false;
    app.intents.room = null;
    if (code) ctx.lobby.setRoomCode(code);
    const url = new URL(location.href);
    url.searchParams.delete("room");
    history.replaceState(null, "", url);
  }

  return { handlers, joinWithName, keepRoomForLater, startRequest, endRequest, leaveQueue, setQueued, watch, loadGames, refreshLive };
}
