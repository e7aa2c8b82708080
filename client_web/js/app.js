// Wiring: connection + match states + lobby / match screens. The only module that
// knows all the others; each of them can be tested or replaced on its own.

import { ServerClock } from "./clock.js";
import { Connection, State, defaultUrl } from "./connection.js";
import { closeMessage, friendlyError } from "./errors.js";
import { GAMES, playerName } from "./describe.js";
import { roomLink } from "./links.js";
import { GAP, MISMATCH, MatchStates, OK, UNKNOWN } from "./matchstate.js";
import { createStorage } from "./storage.js";
import { createLobby } from "./ui/lobby.js";
import { createMatchScreen } from "./ui/match.js";
import { createToaster } from "./ui/toast.js";

const DEFAULT_GAMES = Object.entries(GAMES).map(([id, g]) => ({ id, title: g.title, rows: g.rows, cols: g.cols }));
const DEFAULT_LEVELS = ["random", "easy", "medium", "hard"];
const LIVE_REFRESH_MS = 4000;
const SYNC_RETRY_MS = 3000;
const MOVE_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 10000;

const params = new URLSearchParams(location.search);
const storage = createStorage();
const toast = createToaster(document.getElementById("toasts"));
const announcer = document.getElementById("announcer");

function announce(text) {
  // Clear first so that the same sentence twice is still announced.
  announcer.textContent = "";
  setTimeout(() => (announcer.textContent = text), 30);
}

function notify(text, kind = "info") {
  toast(text, { kind });
}

if (params.has("demo")) {
  // Dev-only preview without a server (see js/demo.js).
  import("./demo.js").then((demo) => demo.start(params, { storage, toast, announce }));
} else {
  start();
}

function start() {
  const store = new MatchStates();
  const clock = new ServerClock();
  const app = {
    screen: "lobby",
    current: null, // {match, mode: "play" | "watch"}
    rooms: storage.rooms, // match id -> room code (kept across reloads)
    queued: null, // {game} while searching
    request: null, // {id, timer} while a queue / create_room / join_room / play_bot awaits its answer
    resumeIds: new Set(), // match ids listed by the last welcome
    pendingMove: null, // {id, match, version, msg, resent, timer}
    syncTimers: new Map(),
    left: storage.left, // matches the person chose to leave: never pulled back into them (kept across reloads)
    everReady: false,
    intents: { room: params.get("room"), watch: params.get("watch") },
  };

  const conn = new Connection({
    url: defaultUrl(location),
    getName: () => lobby.getName() || storage.getName(),
    tokenStore: storage.tokenStore,
  });

  // --- screens ------------------------------------------------------------
  const lobby = createLobby(document.getElementById("lobby"), {
    onNameChange(name) {
      storage.setName(name);
      // The name travels in hello: say hello again, unless that would drop a live match.
      if (conn.ready && name && name !== conn.name && liveOwnMatches().length === 0) conn.restart();
    },
    onGameChange: (game) => storage.setGame(game),
    onLevelChange: (level) => storage.setLevel(level),
    onQuickMatch(game) {
      if (app.queued || !startRequest({ type: "queue", game })) return;
      app.queued = { game };
      lobby.setQueue(app.queued);
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
      if (entry) openMatch(id, entry.view.you === null ? "watch" : "play");
    },
  });

  const matchScreen = createMatchScreen(
    document.getElementById("match"),
    {
      onMove: playMove,
      onResign() {
        if (app.current) conn.send({ type: "resign", match: app.current.match });
      },
      onCancelRoom() {
        // The server closes a room nobody joined yet on `resign` (it ends `aborted`).
        if (app.current) conn.send({ type: "resign", match: app.current.match });
      },
      onRematch() {
        if (app.current) conn.send({ type: "rematch", match: app.current.match });
      },
      onLobby: leaveMatch,
      notify,
    },
    announce,
  );

  function rememberName() {
    const name = lobby.getName();
    if (name) storage.setName(name);
  }

  /**
   * Ask to start something (queue, room, bot match), one request at a time: a second
   * click before the answer does nothing. Anything but a quick match leaves the queue.
   */
  function startRequest(cmd) {
    if (app.request) return false;
    rememberName();
    if (cmd.type !== "queue") leaveQueue();
    const id = conn.send(cmd);
    app.request = { id, timer: setTimeout(() => endRequest(id), REQUEST_TIMEOUT_MS) };
    lobby.setBusy(true);
    return true;
  }

  /** The pending request got its answer (or `id` is undefined: any answer will do). */
  function endRequest(id) {
    if (!app.request || (id !== undefined && app.request.id !== id)) return;
    clearTimeout(app.request.timer);
    app.request = null;
    lobby.setBusy(false);
  }

  /** Really leave the quick-match queue (the server keeps us in it until `unqueue`). */
  function leaveQueue() {
    if (!app.queued) return;
    conn.send({ type: "unqueue" });
    app.queued = null;
    lobby.setQueue(null);
  }

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
    matchScreen.hide();
    lobby.show();
    lobby.setQueue(app.queued);
    refreshMine();
    refreshLive();
  }

  function openMatch(id, mode) {
    const wasShowing = app.screen === "match" && app.current?.match === id;
    app.left.delete(id); // back in it by choice
    setCurrent({ match: id, mode });
    app.screen = "match";
    lobby.hide();
    matchScreen.show();
    renderCurrent();
    if (!wasShowing) {
      window.scrollTo({ top: 0 });
      matchScreen.focus();
    }
  }

  function renderCurrent() {
    if (app.screen !== "match" || !app.current) return;
    const entry = store.get(app.current.match);
    if (!entry) return;
    const code = app.rooms.get(entry.match);
    matchScreen.update({
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
    lobby.setMine(mine);
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
    toast("Another match of yours is ready.", { kind: "info", action: { label: "Open", onClick: () => openMatch(id, "play") }, timeout: 10000 });
  }

  function canAutoResume(id) {
    return app.screen === "lobby" && !app.current && !app.queued && !app.intents.room && !app.intents.watch && !app.left.has(id);
  }

  function leaveMatch() {
    const current = app.current;
    if (current) {
      app.left.set(current.match, true);
      const entry = store.get(current.match);
      if (current.mode === "watch") {
        conn.send({ type: "unwatch", match: current.match });
        app.watching = null;
        store.delete(current.match);
      } else if (entry && entry.view.status === "finished") {
        store.delete(current.match);
      }
    }
    setCurrent(null);
    showLobby();
    document.getElementById("main").focus({ preventScroll: true });
  }

  function watch(id) {
    const entry = store.get(id);
    if (entry && entry.view.you !== null && entry.view.you !== undefined) {
      openMatch(id, "play"); // our own match: play it rather than watch it
      return;
    }
    app.watching = id;
    if (entry) openMatch(id, "watch");
    conn.send({ type: "watch", match: id });
  }

  function playMove(move) {
    const current = app.current;
    if (!current || app.pendingMove) return;
    const entry = store.get(current.match);
    if (!entry || entry.syncing || !conn.ready) return;
    const msg = { type: "move", match: entry.match, move, version: entry.version, id: conn.nextId() };
    app.pendingMove = { id: msg.id, match: entry.match, version: entry.version, msg, resent: false, timer: null };
    app.pendingMove.timer = setTimeout(() => clearPending(msg.id), MOVE_TIMEOUT_MS);
    conn.send(msg);
    renderCurrent();
  }

  function clearPending(id) {
    if (!app.pendingMove || (id !== undefined && app.pendingMove.id !== id)) return;
    clearTimeout(app.pendingMove.timer);
    app.pendingMove = null;
    renderCurrent();
  }

  // Ask for what we missed; patches that do not fit are ignored until the answer.
  // No answer in time (the server sends nothing when it has nothing newer, or the
  // answer was lost): ask for a full snapshot.
  function requestSync(match, { full = false } = {}) {
    const cmd = store.beginSync(match, { full });
    conn.send(cmd);
    clearTimeout(app.syncTimers.get(match));
    app.syncTimers.set(
      match,
      setTimeout(() => {
        app.syncTimers.delete(match);
        if (store.isSyncing(match) && conn.ready) requestSync(match, { full: true });
      }, full ? SYNC_RETRY_MS * 2 : SYNC_RETRY_MS),
    );
    renderCurrent();
  }

  // --- server messages ------------------------------------------------------
  conn.on("welcome", (msg) => {
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
    // Forget matches the server no longer lists for us (finished while away).
    for (const entry of store.entries()) {
      const shown = app.current?.match === entry.match;
      if (!shown && entry.view.you !== null && entry.view.status !== "finished" && !app.resumeIds.has(entry.match)) {
        store.delete(entry.match);
      }
    }
    followIntents();
    // Still searching: ask again (the answer may be already_queued, which is fine).
    if (app.queued) conn.send({ type: "queue", game: app.queued.game });
    if (app.pendingMove) resendMove();
    renderCurrent();
    refreshMine();
  });

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
    if (app.intents.room) {
      startRequest({ type: "join_room", code: app.intents.room });
      app.intents.room = null;
      const url = new URL(location.href);
      url.searchParams.delete("room");
      history.replaceState(null, "", url);
    }
    if (app.intents.watch && app.intents.watch !== app.watching) {
      watch(app.intents.watch);
    }
    app.intents.watch = null;
  }

  function resendMove() {
    const pending = app.pendingMove;
    pending.resent = true;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => clearPending(pending.id), MOVE_TIMEOUT_MS);
    conn.send(pending.msg); // same id: the server acknowledges it once, never applies it twice
  }

  conn.on("token_reset", () => {
    // A new identity: matches of the old one are gone.
    store.clear();
    if (app.current?.mode === "play") {
      setCurrent(null);
      if (app.screen === "match") showLobby();
    }
    toast(friendlyError({ code: "bad_token" }), { kind: "info" });
  });

  conn.on("message", (msg, command) => {
    // Answered (or refused); a room stays busy until its snapshot, which follows.
    if (command && msg.type !== "patch" && msg.type !== "room") endRequest(command.id);
    switch (msg.type) {
      case "snapshot":
        return onSnapshot(msg);
      case "patch":
        return onPatch(msg);
      case "ack":
        if (app.pendingMove && msg.ref === app.pendingMove.id) clearPending(msg.ref);
        return;
      case "room":
        app.rooms.set(msg.match, msg.code);
        if (app.current?.match === msg.match) setCurrent(app.current);
        if (store.has(msg.match) && app.current?.match !== msg.match) focusNewMatch(msg.match);
        renderCurrent();
        return;
      case "queued":
        app.queued = { game: msg.game };
        lobby.setQueue(app.queued);
        return;
      case "unqueued":
        app.queued = null;
        lobby.setQueue(null);
        return;
      case "error":
        return onError(msg, command);
      default:
        return;
    }
  });

  function onSnapshot(msg) {
    clock.observe(msg.at, Date.now());
    const known = store.has(msg.match);
    const before = store.get(msg.match)?.view;
    if (store.applySnapshot(msg) === MISMATCH) {
      console.warn(`snapshot hash of match ${msg.match} does not match its view (client canonical JSON differs?)`);
    }
    clearTimeout(app.syncTimers.get(msg.match));
    app.syncTimers.delete(msg.match);
    const view = msg.view;
    if (app.pendingMove?.match === msg.match && msg.version > app.pendingMove.version) clearPending();

    if (app.current?.match === msg.match) {
      if (app.screen !== "match") openMatch(msg.match, app.current.mode);
      else renderCurrent();
      return;
    }
    if (view.you === null || view.you === undefined) {
      if (app.watching === msg.match) openMatch(msg.match, "watch");
      else store.delete(msg.match); // a late answer for a match we stopped watching
      return;
    }
    const resumed = app.resumeIds.has(msg.match);
    if (!known && resumed && view.status === "active" && canAutoResume(msg.match)) {
      // A live game of ours with a clock running and nothing else on screen: go back to it.
      openMatch(msg.match, "play");
      return;
    }
    if (!known && !resumed && view.status !== "finished") {
      endRequest(); // the new match is the answer (a room's snapshot carries no ref)
      // Paired, or another match started (a rematch, a room link): no longer searching.
      // Leave the queue for real; after a pairing the server answers `unqueued` (null).
      leaveQueue();
      focusNewMatch(msg.match);
    } else if (before && before.status === "waiting" && view.status === "active") {
      focusNewMatch(msg.match);
    }
    refreshMine();
  }

  function onPatch(msg) {
    clock.observe(msg.at, Date.now());
    const before = store.get(msg.match)?.view;
    const result = store.applyPatch(msg);
    if (result === OK) {
      const entry = store.get(msg.match);
      if (app.pendingMove?.match === msg.match && entry.version > app.pendingMove.version) clearPending();
      clearTimeout(app.syncTimers.get(msg.match));
      if (app.current?.match === msg.match) renderCurrent();
      else if (before?.status === "waiting" && entry.view.status === "active" && entry.view.you !== null) {
        toast("Your friend joined the room!", { kind: "success" });
        focusNewMatch(msg.match);
      }
      refreshMine();
    } else if (result === GAP || result === MISMATCH) {
      requestSync(msg.match);
    } else if (result === UNKNOWN && app.current?.match === msg.match) {
      requestSync(msg.match);
    }
  }

  const QUIET_ON_RESEND = new Set(["stale_version", "not_your_turn", "match_over", "illegal_move"]);

  function onError(msg, command) {
    const type = command?.type;
    if (type === "move") {
      const wasResent = app.pendingMove?.id === msg.ref && app.pendingMove.resent;
      clearPending(msg.ref);
      if (wasResent && QUIET_ON_RESEND.has(msg.code)) return;
    }
    if (type === "queue" && msg.code === "already_queued") {
      app.queued = { game: command.game };
      lobby.setQueue(app.queued);
      return;
    }
    if (type === "queue" || type === "unqueue") {
      app.queued = null;
      lobby.setQueue(null);
    }
    if (type === "sync" && app.current?.match === command.match && store.get(command.match)?.view.status !== "finished") {
      // We could not get back into the match we were showing: it is gone.
      store.delete(command.match);
      setCurrent(null);
      showLobby();
      toast("That match is over.", { kind: "info" });
      return;
    }
    if (type === "watch" && msg.code === "unknown_match") {
      const id = command.match;
      store.delete(id);
      if (app.watching === id) app.watching = null;
      if (app.current?.match === id) {
        setCurrent(null);
        showLobby();
      }
    }
    toast(friendlyError(msg), { kind: "error", code: msg.code ?? "" });
  }

  // --- connection state -----------------------------------------------------
  const pill = document.querySelector('[data-testid="connection-status"]');
  const pillText = pill.querySelector(".conn-text");
  const banner = document.getElementById("conn-banner");
  const bannerText = banner.querySelector(".conn-banner-text");
  const bannerButton = banner.querySelector('[data-testid="reconnect-button"]');
  let bannerTimer = null;
  let lastClose = null;

  bannerButton.addEventListener("click", () => conn.reconnectNow());

  conn.on("close", (info) => {
    lastClose = info;
    if (app.pendingMove) clearTimeout(app.pendingMove.timer); // kept: resent after the welcome
  });

  function showConnection(info) {
    const { state } = info;
    pill.dataset.state = state;
    banner.dataset.state = state;
    clearInterval(bannerTimer);
    bannerTimer = null;
    const setPill = (text) => (pillText.textContent = text);
    if (state === State.READY) {
      setPill("Online");
      banner.hidden = true;
    } else if (state === State.WAITING) {
      setPill("Offline");
      const why = closeMessage(info.code, info.reason);
      const update = () => {
        const seconds = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
        bannerText.textContent = `${why} Reconnecting${seconds ? ` in ${seconds} s` : ""}…`;
      };
      update();
      bannerTimer = setInterval(update, 500);
      bannerButton.textContent = "Reconnect now";
      bannerButton.hidden = false;
      banner.hidden = !app.everReady && info.attempt === 0;
    } else if (state === State.REPLACED) {
      setPill("Paused");
      bannerText.textContent = `${closeMessage(4009)} Play here instead?`;
      bannerButton.textContent = "Use this tab";
      bannerButton.hidden = false;
      banner.hidden = false;
    } else if (state === State.REFUSED) {
      setPill("Disconnected");
      bannerText.textContent = closeMessage(1008, info.reason);
      bannerButton.textContent = "Reconnect";
      bannerButton.hidden = false;
      banner.hidden = false;
    } else {
      setPill(app.everReady ? "Reconnecting…" : "Connecting…");
      if (app.everReady && lastClose) {
        bannerText.textContent = "Reconnecting…";
        bannerButton.hidden = true;
        banner.hidden = false;
      }
    }
    renderCurrent();
  }

  conn.on("state", showConnection);

  // Come back at once when the network or the tab does.
  window.addEventListener("online", () => {
    if (conn.state === State.WAITING) conn.reconnectNow();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      if (conn.state === State.WAITING) conn.reconnectNow();
      if (app.screen === "lobby") refreshLive();
    }
  });

  // --- HTTP: games and live matches -----------------------------------------
  async function loadGames() {
    let games = DEFAULT_GAMES;
    let levels = DEFAULT_LEVELS;
    try {
      const res = await fetch("/api/games", { headers: { Accept: "application/json" } });
      if (res.ok) {
        const data = await res.json();
        if (Array.isArray(data.games) && data.games.length) games = data.games;
        if (Array.isArray(data.bot_levels) && data.bot_levels.length) levels = data.bot_levels;
      }
    } catch {
      // keep the defaults
    }
    lobby.setGames(games, levels, { game: storage.getGame() ?? undefined, level: storage.getLevel() ?? undefined });
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
      const matches = (Array.isArray(data.matches) ? data.matches : []).slice().sort((a, b) => (b.watchers ?? 0) - (a.watchers ?? 0) || (b.started_at ?? 0) - (a.started_at ?? 0));
      lobby.setLive(matches);
    } catch {
      lobby.setLive([], { error: "Could not load the live matches. Retrying…" });
    } finally {
      liveBusy = false;
    }
  }

  // --- go -------------------------------------------------------------------
  lobby.setName(storage.getName());
  lobby.setGames(DEFAULT_GAMES, DEFAULT_LEVELS, { game: storage.getGame() ?? undefined, level: storage.getLevel() ?? undefined });
  loadGames();
  const saved = storage.getCurrent();
  if (app.intents.watch) setCurrent({ match: app.intents.watch, mode: "watch" });
  else if (saved && !app.intents.room) app.current = saved;
  showLobby();
  conn.start();

  // Handy for debugging in the console; not an API.
  globalThis.__playroom = { app, store, conn, clock };
}
