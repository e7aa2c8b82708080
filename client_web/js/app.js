// The page's entry point and composition root: it makes the connection, the match
// store, the screens and the controller parts, hands each the shared `ctx`, and
// connects them to the connection's events. The parts:
//   controller/screens.js       which screen and match are up, the address bar
//   controller/lobbyactions.js  lobby buttons, one request at a time, the queue, HTTP lists
//   controller/matchactions.js  moves and the pending move, resign / rematch, sync
//   controller/offers.js        rematch offers for finished matches not on screen
//   controller/welcome.js       what follows a welcome or a token reset
//   controller/messages.js      the other server messages
//   ui/*.js                     the screens themselves (no sockets, no state)

import { ServerClock } from "./clock.js";
import { Connection, State, defaultUrl } from "./connection.js";
import { createLobbyActions } from "./controller/lobbyactions.js";
import { createMatchActions } from "./controller/matchactions.js";
import { createMessageHandlers } from "./controller/messages.js";
import { createOffers } from "./controller/offers.js";
import { createScreens } from "./controller/screens.js";
import { createWelcomeHandlers } from "./controller/welcome.js";
import { helloRefusedText } from "./errors.js";
import { NOT_A_ROOM_CODE, normalRoomCode } from "./links.js";
import { MatchStates } from "./matchstate.js";
import { createRecentGames } from "./pages/recent.js";
import { pageRoute } from "./pages/route.js";
import { createStorage } from "./storage.js";
import { createConnectionStatus } from "./ui/connstatus.js";
import { createLobby } from "./ui/lobby.js";
import { createMatchScreen } from "./ui/match.js";
import { createNameDialog } from "./ui/namedialog.js";
import { createToaster } from "./ui/toast.js";

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
} else if (pageRoute(params)) {
  // a replay, a profile or a leaderboard: read over HTTP, no connection needed
  import("./pages/index.js").then((pages) => pages.startPage(pageRoute(params), params));
} else {
  start();
}

/**
 * A `?room=` that cannot be a room code is never sent (the server could only answer
 * that it did not understand, and a reload would not help): it leaves the address,
 * and the lobby says what is wrong.
 */
function checkRoomIntent(ctx) {
  const { app } = ctx;
  if (app.intents.room === null) return;
  const code = normalRoomCode(app.intents.room);
  app.intents.room = code;
  if (code) return;
  const url = new URL(location.href);
  url.searchParams.delete("room");
  history.replaceState(null, "", url);
  ctx.lobby.showRoomCodeError(NOT_A_ROOM_CODE);
  ctx.toast(NOT_A_ROOM_CODE, { kind: "error", code: "bad_room_code" });
}

/** The state the controller parts share (see `ctx`). */
function initialState() {
  return {
    screen: "lobby",
    current: null, // {match, mode: "play" | "watch"}
    rooms: storage.rooms, // match id -> room code (kept across reloads)
    queued: null, // {game} while searching
    request: null, // {id, timer} while a queue / create_room / join_room / play_bot / rematch awaits its answer
    resumeIds: new Set(), // match ids listed by the last welcome
    pendingMove: null, // {id, match, version, msg, resent, timer}
    syncTimers: new Map(),
    left: storage.left, // matches the person chose to leave: never pulled back into them (kept across reloads)
    watching: null, // the match id a `watch` was sent for
    offers: new Set(), // finished matches of ours whose rematch offer the lobby lists
    unheld: new Set(), // matches a patch came for with no snapshot held: asked once for one
    everReady: false,
    intents: {
      room: params.get("room"),
      watch: params.get("watch"),
      // Someone who follows an invite link without ever having picked a name is asked
      // for one before joining (else they would join as "Guest NNNN").
      askName: params.has("room") && !storage.getName(),
    },
  };
}

function start() {
  const app = initialState();
  const store = new MatchStates();
  const clock = new ServerClock();
  const ctx = { app, store, clock, storage, toast, announce, notify };
  ctx.conn = new Connection({
    url: defaultUrl(location),
    getName: () => ctx.lobby.getName() || storage.getName(),
    tokenStore: storage.tokenStore,
  });
  const { conn } = ctx;

  // These call one another through ctx, so they may be made in any order.
  ctx.screens = createScreens(ctx);
  ctx.lobbyActions = createLobbyActions(ctx);
  ctx.matchActions = createMatchActions(ctx);
  ctx.offers = createOffers(ctx);
  ctx.lobby = createLobby(document.getElementById("lobby"), ctx.lobbyActions.handlers);
  ctx.recent = createRecentGames(document.getElementById("lobby"), { getGame: () => ctx.lobby.getGame() });
  ctx.matchScreen = createMatchScreen(document.getElementById("match"), ctx.matchActions.handlers, announce);
  ctx.nameDialog = createNameDialog(document.getElementById("name-dialog"), {
    onJoin: (name) => ctx.lobbyActions.joinWithName(name),
    onCancel: () => ctx.lobbyActions.keepRoomForLater(),
  });
  // These take the parts above at once: made last.
  const welcome = createWelcomeHandlers(ctx);
  ctx.welcome = welcome;
  const messages = createMessageHandlers(ctx);

  conn.on("welcome", welcome.onWelcome);
  conn.on("welcome", (msg) => ctx.recent.setPlayer(msg.player));
  conn.on("token_reset", welcome.onTokenReset);
  conn.on("message", messages.onMessage);
  conn.on("hello_refused", (error) => {
    if (error.code !== "rate_limited") ctx.lobby.showNameError(helloRefusedText(error));
  });

  const status = createConnectionStatus(document.querySelector('[data-testid="connection-status"]'), document.getElementById("conn-banner"), {
    onReconnect: () => conn.reconnectNow(),
    retryAt: () => conn.retryAt,
  });
  conn.on("close", (info) => {
    status.noteClose(info);
    ctx.matchActions.pauseMove(); // kept: resent after the welcome
  });
  conn.on("state", (info) => {
    status.show(info, { everReady: app.everReady });
    ctx.screens.renderCurrent();
  });

  // Come back at once when the network or the tab does.
  window.addEventListener("online", () => {
    if (conn.state === State.WAITING) conn.reconnectNow();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      if (conn.state === State.WAITING) conn.reconnectNow();
      if (app.screen === "lobby") ctx.lobbyActions.refreshLive();
    }
  });

  // --- go -------------------------------------------------------------------
  ctx.lobby.setName(storage.getName());
  checkRoomIntent(ctx);
  ctx.lobbyActions.loadGames();
  ctx.recent.refresh();
  const saved = storage.getCurrent();
  if (app.intents.watch) ctx.screens.setCurrent({ match: app.intents.watch, mode: "watch" });
  else if (saved && !app.intents.room) app.current = saved;
  ctx.screens.showLobby();
  conn.start();

  // Handy for debugging in the console; not an API.
  globalThis.__playroom = { app, store, conn, clock, ctx };
}
