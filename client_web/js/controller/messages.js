// Server messages after the welcome: `snapshot` and `patch` into the match store
// (and what they change on screen: the current match redrawn, a new match opened, a
// sync asked for when a patch does not fit), `ack` of a move, `room`, `queued` /
// `unqueued`, and `error` (the friendly toast, and what a refused command undoes).
// The welcome itself is in welcome.js.

import { friendlyError } from "../errors.js";
import { GAP, MISMATCH, OK, UNKNOWN } from "../matchstate.js";

// Refusals of a move sent again after a reconnect that only say it was played already.
const QUIET_ON_RESEND = new Set(["stale_version", "not_your_turn", "match_over", "illegal_move"]);

/** ctx: the shared parts the composition root (app.js) puts together. */
export function createMessageHandlers(ctx) {
  // Created after the parts it drives (see app.js), so they can be taken at once.
  const { app, store, clock, toast, screens, offers, lobbyActions: requests, matchActions: moves } = ctx;

  /** conn's "message" event: `command` is the command `msg.ref` answers, if any. */
  function onMessage(msg, command) {
    // Answered (or refused); a room stays busy until its snapshot, which follows.
    if (command && msg.type !== "patch" && msg.type !== "room") requests.endRequest(command.id);
    switch (msg.type) {
      case "snapshot":
        return onSnapshot(msg);
      case "patch":
        return onPatch(msg);
      case "ack":
        if (app.pendingMove && msg.ref === app.pendingMove.id) moves.clearPending(msg.ref);
        return;
      case "room":
        return onRoom(msg);
      case "queued":
        return requests.setQueued({ game: msg.game });
      case "unqueued":
        return requests.setQueued(null);
      case "error":
        return onError(msg, command);
      default:
        return;
    }
  }

  function onRoom(msg) {
    app.rooms.set(msg.match, msg.code);
    if (app.current?.match === msg.match) screens.setCurrent(app.current);
    if (store.has(msg.match) && app.current?.match !== msg.match) screens.focusNewMatch(msg.match);
    screens.renderCurrent();
  }

  function onSnapshot(msg) {
    clock.observe(msg.at, Date.now());
    const known = store.has(msg.match);
    const before = store.get(msg.match)?.view;
    if (store.applySnapshot(msg) === MISMATCH) {
      console.warn(`snapshot hash of match ${msg.match} does not match its view (client canonical JSON differs?)`);
    }
    clearTimeout(app.syncTimers.get(msg.match));
    app.syncTimers.delete(msg.match);
    moves.clearPendingBefore(msg.match, msg.version);

    if (app.current?.match === msg.match) {
      if (app.screen !== "match") screens.openMatch(msg.match, app.current.mode);
      else screens.renderCurrent();
      return;
    }
    if (msg.view.you === null || msg.view.you === undefined) {
      if (app.watching === msg.match) screens.openMatch(msg.match, "watch");
      else store.delete(msg.match); // a late answer for a match we stopped watching
      return;
    }
    onOtherOwnSnapshot(msg, known, before);
  }

  /** A snapshot of one of our matches that is not the current one. */
  function onOtherOwnSnapshot(msg, known, before) {
    const view = msg.view;
    const resumed = app.resumeIds.has(msg.match);
    if (!known && resumed && view.status === "active" && screens.canAutoResume(msg.match)) {
      // A live game of ours with a clock running and nothing else on screen: go back to it.
      screens.openMatch(msg.match, "play");
      return;
    }
    if (!known && !resumed && view.status !== "finished") {
      requests.endRequest(); // the new match is the answer (a room's snapshot carries no ref)
      // Paired, or another match started (a rematch, a room link): no longer searching.
      // Leave the queue for real; after a pairing the server answers `unqueued` (null).
      requests.leaveQueue();
      screens.focusNewMatch(msg.match);
    } else if (before && before.status === "waiting" && view.status === "active") {
      screens.focusNewMatch(msg.match);
    }
    offers.update(msg.match, before, view);
    screens.refreshMine();
  }

  function onPatch(msg) {
    clock.observe(msg.at, Date.now());
    const before = store.get(msg.match)?.view;
    const result = store.applyPatch(msg);
    if (result === OK) {
      onPatched(msg.match, before);
    } else if (result === GAP || result === MISMATCH) {
      moves.requestSync(msg.match);
    } else if (result === UNKNOWN && (app.current?.match === msg.match || !app.unheld.has(msg.match))) {
      // A match this page holds no snapshot of changed. For one of ours that ended
      // before a reload it is most likely a rematch offer: ask once for the snapshot
      // (offers.js lists the offer; a spectator's late patch gets dropped with its answer).
      app.unheld.add(msg.match);
      moves.requestSync(msg.match);
    }
  }

  /** A patch of `match` applied, its view before was `before`. */
  function onPatched(match, before) {
    const entry = store.get(match);
    moves.clearPendingBefore(match, entry.version);
    clearTimeout(app.syncTimers.get(match));
    if (app.current?.match === match) screens.renderCurrent();
    else if (before?.status === "waiting" && entry.view.status === "active" && entry.view.you !== null) {
      toast("Your friend joined the room!", { kind: "success" });
      screens.focusNewMatch(match);
    }
    offers.update(match, before, entry.view);
    screens.refreshMine();
  }

  function onError(msg, command) {
    const type = command?.type;
    if (type === "move") {
      const wasResent = app.pendingMove?.id === msg.ref && app.pendingMove.resent;
      moves.clearPending(msg.ref);
      if (wasResent && QUIET_ON_RESEND.has(msg.code)) return;
    }
    if (type === "queue" && msg.code === "already_queued") {
      requests.setQueued({ game: command.game });
      return;
    }
    if (type === "queue" || type === "unqueue") requests.setQueued(null);
    if (type === "sync" && app.current?.match === command.match && store.get(command.match)?.view.status !== "finished") {
      // We could not get back into the match we were showing: it is gone.
      store.delete(command.match);
      screens.setCurrent(null);
      screens.showLobby();
      toast("That match is over.", { kind: "info" });
      return;
    }
    if (type === "watch" && msg.code === "unknown_match") forgetWatched(command.match);
    toast(friendlyError(msg), { kind: "error", code: msg.code ?? "" });
  }

  /** A match we asked to watch does not exist. */
  function forgetWatched(id) {
    store.delete(id);
    if (app.watching === id) app.watching = null;
    if (app.current?.match === id) {
      screens.setCurrent(null);
      screens.showLobby();
    }
  }

  return { onMessage };
}
