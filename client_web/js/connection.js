// The WebSocket connection to the game server: hello / resume with the stored token,
// reconnect with capped exponential backoff, a send queue while not ready, heartbeat.
// A restart the server announces (a `notice`, then a close with 1012) is no error:
// commands wait in the queue from the notice on, the first retry comes after the
// notice's `reconnect_ms` plus jitter, and every state event says `restarting` until
// the next welcome (or `restartPatience` ms), so the page can stay calm.
// It knows the protocol's envelope (hello, welcome, errors, close codes) but nothing of
// matches or the page. Every side effect (socket class, timers, clock, randomness,
// token storage) is injected, so it runs under Node's test runner with fakes; nothing
// touches the DOM.

import { Backoff } from "./backoff.js";
import { Emitter } from "./emitter.js";

export const SUBPROTOCOL = "game.v1.json";

export const State = Object.freeze({
  IDLE: "idle", // not started
  CONNECTING: "connecting", // socket opening
  HELLO: "hello", // open, hello sent, waiting for welcome
  READY: "ready", // welcome received: commands flow
  WAITING: "waiting", // dropped; a retry is scheduled
  REPLACED: "replaced", // closed with 4009 (newer tab): no automatic retry
  REFUSED: "refused", // closed with 1008 (policy), or our hello refused: no automatic retry
  STOPPED: "stopped", // stop() was called
});

export const CLOSE_REPLACED = 4009;
export const CLOSE_POLICY = 1008;
export const CLOSE_RESTARTING = 1012;
const DRAINING = new Set(["restart", "shutdown"]); // notice reasons that announce a close

/** Token store backed by nothing (tests, or when storage is unavailable). */
export function memoryTokenStore(initial = null) {
  let token = initial;
  return {
    get: () => token,
    set: (value) => {
      token = value;
    },
    clear: () => {
      token = null;
    },
  };
}

/** The default endpoint for a page location: ws(s)://host/ws. */
export function defaultUrl(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

const OPEN = 1; // WebSocket.OPEN

export class Connection extends Emitter {
  #ws = null;
  #state = State.IDLE;
  #backoff;
  #queue = [];
  #sent = new Map(); // id -> command, so answers (ref) can be matched to what they answer
  #counter = 0;
  #prefix;
  #retryTimer = null;
  #heartbeatTimer = null;
  #connectTimer = null;
  #lastReceived = 0;
  #readyAt = null;
  #retriedBadToken = false;
  #stopped = false;
  #notice = null; // the restart announced on the current socket
  #restartingSince = null; // since when the server has been restarting, until a welcome

  constructor({
    url,
    WebSocketImpl = globalThis.WebSocket,
    protocols = [SUBPROTOCOL],
    getName = () => "",
    tokenStore = memoryTokenStore(),
    timers = {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle),
    },
    now = () => Date.now(),
    random = Math.random,
    backoff = {},
    pingInterval = 20000,
    idleTimeout = 45000,
    connectTimeout = 10000,
    stableAfter = 5000,
    maxQueue = 100,
    restartPatience = 60000,
  }) {
    super();
    this.url = url;
    this.WebSocketImpl = WebSocketImpl;
    this.protocols = protocols;
    this.getName = getName;
    this.tokenStore = tokenStore;
    this.timers = timers;
    this.now = now;
    this.pingInterval = pingInterval;
    this.idleTimeout = idleTimeout;
    this.connectTimeout = connectTimeout;
    this.stableAfter = stableAfter;
    this.maxQueue = maxQueue;
    this.restartPatience = restartPatience;
    this.random = random;
    this.#backoff = new Backoff(backoff, random);
    // Ids must not repeat across page loads: the server treats a repeated id as a resend.
    this.#prefix = Math.floor(random() * 36 ** 6).toString(36).padStart(6, "0");
    this.player = null;
    this.name = null;
    this.retryAt = null;
  }

  get state() {
    return this.#state;
  }

  get ready() {
    return this.#state === State.READY;
  }

  /** The server said it is restarting (or closed with 1012) and is not back yet. */
  get restarting() {
    return this.#restartingSince !== null && this.now() - this.#restartingSince < this.restartPatience;
  }

  /** Number of commands waiting for the connection to be ready. */
  get queued() {
    return this.#queue.length;
  }

  start() {
    this.#stopped = false;
    if (this.#state === State.IDLE || this.#state === State.STOPPED) this.#open();
  }

  stop() {
    this.#stopped = true;
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) this.#close(ws, 1000, "bye");
    this.#queue = [];
    this.#setState(State.STOPPED);
  }

  /** Retry now (the "Reconnect" / "Use this tab" buttons, coming back online). */
  reconnectNow() {
    if ([State.CONNECTING, State.HELLO, State.READY].includes(this.#state)) return;
    this.#stopped = false;
    this.#clearTimers();
    if (this.#state !== State.WAITING) this.#backoff.reset();
    this.#open();
  }

  /** Drop the current socket and say hello again at once (e.g. after a name change). */
  restart() {
    this.#stopped = false;
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) this.#close(ws, 1000, "restart");
    this.#open();
  }

  /** A fresh command id. */
  nextId() {
    this.#counter += 1;
    return `${this.#prefix}-${this.#counter}`;
  }

  /**
   * Send a command. It gets an `id` unless it has one; returns that id. Before the
   * welcome the command waits in a queue (pings are dropped instead).
   */
  send(message) {
    const msg = { ...message };
    if (msg.id === undefined) msg.id = this.nextId();
    if (this.#state === State.READY && !this.#notice && this.#ws && this.#ws.readyState === OPEN) {
      this.#transmit(msg);
    } else if (msg.type !== "ping") {
      this.#queue.push(msg);
      if (this.#queue.length > this.maxQueue) this.#queue.shift();
    }
    return msg.id;
  }

  /** The command an answer refers to (by its `ref`), if we sent it recently. */
  commandFor(ref) {
    return ref === undefined ? undefined : this.#sent.get(ref);
  }

  // --- internals ---------------------------------------------------------

  #setState(state, detail = {}) {
    this.#state = state;
    this.retryAt = detail.retryAt ?? null;
    this.emit("state", { state, ...detail, restarting: this.restarting });
  }

  // A restart announced: what is sent from now on waits for the next welcome (so
  // nothing is refused or lost by the server going away), and the page says so.
  #onNotice(msg) {
    this.emit("notice", msg);
    if (!DRAINING.has(msg.reason)) return;
    this.#notice = msg;
    this.#restartingSince ??= this.now();
    this.#setState(this.#state);
  }

  #transmit(msg) {
    if (msg.id !== undefined && msg.type !== "ping") {
      this.#sent.set(msg.id, msg);
      if (this.#sent.size > 200) this.#sent.delete(this.#sent.keys().next().value);
    }
    this.#ws.send(JSON.stringify(msg));
  }

  #hello() {
    const hello = { type: "hello" };
    const name = (this.getName() || "").trim();
    if (name) hello.name = name;
    const token = this.tokenStore.get();
    if (token) hello.token = token;
    this.#ws.send(JSON.stringify(hello));
  }

  #open() {
    this.#retriedBadToken = false;
    this.#readyAt = null;
    this.#setState(State.CONNECTING);
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url, this.protocols);
    } catch (err) {
      this.emit("warning", err);
      this.#afterClose(1006, String(err && err.message ? err.message : err));
      return;
    }
    this.#ws = ws;
    this.#connectTimer = this.timers.setTimeout(() => {
      this.#connectTimer = null;
      if (this.#ws === ws && this.#state !== State.READY) this.#abandon(ws, "timed out");
    }, this.connectTimeout);
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#lastReceived = this.now();
      this.#setState(State.HELLO);
      this.#hello();
    };
    ws.onmessage = (event) => {
      if (this.#ws !== ws) return;
      this.#lastReceived = this.now();
      this.#receive(event.data);
    };
    ws.onerror = () => {
      // A close event follows; nothing to do here.
    };
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#afterClose(event.code, event.reason || "");
    };
  }

  #receive(data) {
    if (typeof data !== "string") return; // we negotiated JSON: text frames only
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      this.emit("warning", new Error("undecodable message from server"));
      return;
    }
    if (msg === null || typeof msg !== "object" || typeof msg.type !== "string") return;

    if (msg.type === "welcome") {
      this.#restartingSince = null;
      this.player = msg.player ?? null;
      this.name = msg.name ?? null;
      if (msg.token) this.tokenStore.set(msg.token);
      this.#readyAt = this.now();
      this.#clearConnectTimer();
      this.#setState(State.READY);
      this.#scheduleHeartbeat();
      this.emit("welcome", msg);
      this.#flush();
      return;
    }
    if (msg.type === "error" && msg.code === "bad_token" && this.#state === State.HELLO) {
      // The server forgot us (or the token is bad): start afresh as a new player.
      this.tokenStore.clear();
      this.emit("token_reset", msg);
      if (!this.#retriedBadToken && this.#ws && this.#ws.readyState === OPEN) {
        this.#retriedBadToken = true;
        this.#hello();
      }
      return;
    }
    if (msg.type === "error" && this.#state === State.HELLO) {
      this.#helloRefused(msg);
      return;
    }
    if (msg.type === "pong") return;
    if (msg.type === "notice") {
      this.#onNotice(msg);
      return;
    }
    this.emit("message", msg, this.commandFor(msg.ref));
  }

  #flush() {
    const queue = this.#queue;
    this.#queue = [];
    for (const msg of queue) {
      if (this.#state !== State.READY || !this.#ws) {
        this.#queue.push(msg);
        continue;
      }
      this.#transmit(msg);
    }
  }

  #scheduleHeartbeat() {
    this.#clearHeartbeat();
    this.#heartbeatTimer = this.timers.setTimeout(() => {
      this.#heartbeatTimer = null;
      const ws = this.#ws;
      if (!ws || this.#state !== State.READY) return;
      if (this.now() - this.#lastReceived > this.idleTimeout) {
        this.#abandon(ws, "no answer from server");
        return;
      }
      try {
        ws.send(JSON.stringify({ type: "ping" }));
      } catch {
        // the close event will follow
      }
      this.#scheduleHeartbeat();
    }, this.pingInterval);
  }

  // The server refused our hello (the name: too long, nothing visible, a bot's;
  // or too many new players from this address). Saying the same hello again would be
  // refused again, so no retry: the page says why, and a new name (restart()) or the
  // banner's button (reconnectNow()) tries again.
  #helloRefused(msg) {
    const ws = this.#ws;
    this.#ws = null;
    this.#clearTimers();
    if (ws) this.#close(ws, 1000, "hello refused");
    this.emit("hello_refused", msg);
    this.#setState(State.REFUSED, { code: msg.code, reason: String(msg.message ?? ""), refusal: msg });
  }

  // We gave up on a socket that may never report its close (half-open network).
  #abandon(ws, reason) {
    if (this.#ws !== ws) return;
    this.#ws = null;
    this.#close(ws, 1000, reason);
    this.#afterClose(1006, reason);
  }

  #close(ws, code, reason) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  #afterClose(code, reason) {
    this.#clearTimers();
    const wasStable = this.#readyAt !== null && this.now() - this.#readyAt >= this.stableAfter;
    this.#readyAt = null;
    this.emit("close", { code, reason });
    if (this.#stopped) {
      this.#setState(State.STOPPED, { code, reason });
      return;
    }
    if (code === CLOSE_REPLACED) {
      this.#setState(State.REPLACED, { code, reason });
      return;
    }
    if (code === CLOSE_POLICY) {
      this.#setState(State.REFUSED, { code, reason });
      return;
    }
    const notice = this.#notice;
    this.#notice = null;
    if (notice || code === CLOSE_RESTARTING) this.#restartingSince ??= this.now();
    if (wasStable || notice) this.#backoff.reset();
    const attempt = this.#backoff.attempt;
    const delay = notice ? this.#afterNotice(notice) : this.#backoff.next();
    const retryAt = this.now() + delay;
    this.#retryTimer = this.timers.setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
    this.#setState(State.WAITING, { code, reason, delay, attempt, retryAt });
  }

  // The server's suggested wait, plus up to half as much again (at least 250 ms) of
  // jitter, so that its players do not all come back in the same instant.
  #afterNotice(notice) {
    const wait = Math.max(0, Number(notice.reconnect_ms) || 0);
    return Math.round(wait + this.random() * Math.max(wait / 2, 250));
  }

  #clearConnectTimer() {
    if (this.#connectTimer !== null) this.timers.clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }

  #clearHeartbeat() {
    if (this.#heartbeatTimer !== null) this.timers.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  #clearTimers() {
    this.#clearConnectTimer();
    this.#clearHeartbeat();
    if (this.#retryTimer !== null) this.timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
