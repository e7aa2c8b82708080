// The match screen's actions: a move and the pending-move bookkeeping (one move in
// flight, given up after a timeout, sent again with the same id after a reconnect),
// resign, cancel room, rematch, back to the lobby; and bringing a match back in step
// (`sync`, retried, falling back to a full snapshot). Draws only through the
// screens module.

const SYNC_RETRY_MS = 3000;
const MOVE_TIMEOUT_MS = 10000;

/** ctx: the shared parts the composition root (app.js) puts together. */
export function createMatchActions(ctx) {
  const { app, store, conn } = ctx;

  /** The match screen's handlers (see ui/match.js). */
  const handlers = {
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
    notify: ctx.notify,
  };

  /**
   * Back to the lobby. A watched match is unwatched and forgotten. A finished match of
   * ours is kept: the server still sends its patches, and a rematch offer in one of
   * them is shown in the lobby (see offers.js).
   */
  function leaveMatch() {
    const current = app.current;
    if (current) {
      app.left.set(current.match, true);
      if (current.mode === "watch") {
        conn.send({ type: "unwatch", match: current.match });
        app.watching = null;
        store.delete(current.match);
      }
    }
    ctx.screens.setCurrent(null);
    ctx.screens.showLobby();
    document.getElementById("main").focus({ preventScroll: true });
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
    ctx.screens.renderCurrent();
  }

  /** The move `id` was answered (or `id` is undefined: whichever move is pending). */
  function clearPending(id) {
    if (!app.pendingMove || (id !== undefined && app.pendingMove.id !== id)) return;
    clearTimeout(app.pendingMove.timer);
    app.pendingMove = null;
    ctx.screens.renderCurrent();
  }

  /** The view moved past the pending move's version: it was played (or refused). */
  function clearPendingBefore(match, version) {
    if (app.pendingMove?.match === match && version > app.pendingMove.version) clearPending();
  }

  /** The socket closed: the pending move is kept (resent after the welcome), its timeout paused. */
  function pauseMove() {
    if (app.pendingMove) clearTimeout(app.pendingMove.timer);
  }

  function resendMove() {
    const pending = app.pendingMove;
    pending.resent = true;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => clearPending(pending.id), MOVE_TIMEOUT_MS);
    conn.send(pending.msg); // same id: the server acknowledges it once, never applies it twice
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
    ctx.screens.renderCurrent();
  }

  return { handlers, leaveMatch, playMove, clearPending, clearPendingBefore, pauseMove, resendMove, requestSync };
}
