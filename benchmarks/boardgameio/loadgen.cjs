// Load generator for the boardgame.io tic-tac-toe server, measured the way
// `game loadtest` measures ours: K matches at once, each two clients playing random
// legal moves as fast as the server answers (one move in flight per match), a new
// match when one ends; moves per second, and the latency from sending a move to the
// opponent's client holding the new state. Prints one JSON object.
//
//   node benchmarks/boardgameio/loadgen.cjs --url http://127.0.0.1:8000 --matches 100 \
//        --duration 5 --warmup 2 [--server-pid PID] [--stall-timeout 10]
//
// Matches are created and joined through boardgame.io's lobby API, as its clients do.
// Each player is a bare socket.io client (WebSocket only) that speaks boardgame.io's
// socket.io protocol (`sync`, then `update` with a MAKE_MOVE action) without running
// the game's reducer locally, the way `game loadtest` drives our server with a bare
// WebSocket client: the generator must not be what limits the server.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const { io } = require("socket.io-client");

function options(argv) {
  const opts = { url: "http://127.0.0.1:8000", matches: 100, duration: 5, warmup: 2,
    serverPid: null, stallTimeout: 10, seed: 1 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in opts)) throw new Error(`unknown option ${argv[i]}`);
    opts[key] = key === "url" ? argv[i + 1] : Number(argv[i + 1]);
  }
  return opts;
}

// A small seeded generator, so runs choose the same moves (mulberry32).
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cpuTicks(pid) {
  if (pid === null) return null;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, clock ticks (100 Hz)
}

function rssMiB(pid) {
  if (pid === null) return null;
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : null;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// node:http with a keep-alive agent: fetch (undici, web streams) cost the generator
// about a third of its CPU here.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url, body) {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent, headers: {
      "content-type": "application/json", "content-length": Buffer.byteLength(data) } },
    (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) {
          reject(new Error(`${url}: HTTP ${response.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (err) {
          reject(err);
        }
      });
    });
    request.on("error", reject);
    request.end(data);
  });
}

class Run {
  constructor(opts) {
    this.opts = opts;
    this.rand = random(opts.seed);
    this.measuring = false;
    this.stopped = false;
    this.moves = 0;
    this.finished = 0;
    this.latencies = [];
    this.errors = {};
  }

  error(kind) {
    this.errors[kind] = (this.errors[kind] || 0) + 1;
  }

  async startMatch(slot) {
    const base = `${this.opts.url}/games/tictactoe`;
    const { matchID } = await post(`${base}/create`, { numPlayers: 2 });
    const match = { matchID, states: [null, null], pending: null, started: false, done: false,
      progress: performance.now(), sockets: [], credentials: [] };
    for (const playerID of ["0", "1"]) {
      const joined = await post(`${base}/${matchID}/join`, { playerID, playerName: `p${playerID}` });
      match.credentials.push(joined.playerCredentials);
    }
    slot.match = match;
    for (const index of [0, 1]) {
      const socket = io(`${this.opts.url}/tictactoe`, { transports: ["websocket"],
        reconnection: false, forceNew: true });
      match.sockets.push(socket);
      socket.on("connect", () => {
        socket.emit("sync", matchID, String(index), match.credentials[index], 2);
      });
      socket.on("sync", (_id, info) => this.onState(slot, match, index, info.state));
      socket.on("update", (_id, state) => this.onState(slot, match, index, state));
      socket.on("patch", () => this.error("unexpected patch"));
      socket.on("disconnect", (reason) => {
        if (!match.done && !this.stopped) this.error(`disconnect: ${reason}`);
      });
      socket.on("connect_error", () => this.error("connect_error"));
    }
  }

  onState(slot, match, index, state) {
    if (match.done || this.stopped) return;
    match.states[index] = state;
    const pending = match.pending;
    if (pending !== null && pending.by !== index) {
      if (state._stateID < pending.stateID) return;
      match.pending = null;
      match.progress = performance.now();
      if (this.measuring) {
        this.moves += 1;
        this.latencies.push(match.progress - pending.at);
      }
      if (state.ctx.gameover !== undefined) {
        this.endMatch(slot, match);
        return;
      }
      if (state.ctx.currentPlayer === String(index)) this.move(match, index, state);
      return;
    }
    if (!match.started && match.states[0] !== null && match.states[1] !== null) {
      match.started = true;
      this.move(match, 0, match.states[0]);
    }
  }

  move(match, index, state) {
    const free = [];
    state.G.cells.forEach((cell, id) => { if (cell === null) free.push(id); });
    const cell = free[Math.floor(this.rand() * free.length)];
    const playerID = String(index);
    match.pending = { by: index, stateID: state._stateID + 1, at: performance.now() };
    const action = { type: "MAKE_MOVE", payload: { type: "clickCell", args: [cell], playerID,
      credentials: match.credentials[index] } };
    match.sockets[index].emit("update", action, state._stateID, match.matchID, playerID);
  }

  endMatch(slot, match) {
    match.done = true;
    if (this.measuring) this.finished += 1;
    for (const socket of match.sockets) socket.close();
    if (!this.stopped) this.startMatch(slot).catch((err) => this.fail(slot, err));
  }

  fail(slot, err) {
    this.error(`start: ${String(err.message || err).slice(0, 80)}`);
    if (!this.stopped) setTimeout(() => this.startMatch(slot).catch((e) => this.fail(slot, e)), 100);
  }

  watchStalls(slots) {
    const limit = this.opts.stallTimeout * 1000;
    return setInterval(() => {
      const now = performance.now();
      for (const slot of slots) {
        const match = slot.match;
        if (match && !match.done && now - match.progress > limit) {
          this.error("stall");
          this.endMatch(slot, match);
        }
      }
    }, 1000);
  }

  async run() {
    const slots = Array.from({ length: this.opts.matches }, () => ({ match: null }));
    await Promise.all(slots.map((slot) => this.startMatch(slot)));
    const stalls = this.watchStalls(slots);
    await new Promise((resolve) => setTimeout(resolve, this.opts.warmup * 1000));
    const pid = this.opts.serverPid;
    const ticks0 = cpuTicks(pid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    this.measuring = true;
    await new Promise((resolve) => setTimeout(resolve, this.opts.duration * 1000));
    this.measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const ticks1 = cpuTicks(pid);
    const cpu1 = process.cpuUsage(cpu0);
    this.stopped = true;
    clearInterval(stalls);
    for (const slot of slots) {
      const match = slot.match;
      if (match !== null && !match.done) {
        match.done = true;
        for (const socket of match.sockets) socket.close();
      }
    }
    const sorted = Float64Array.from(this.latencies).sort();
    const round = (value) => (value === null ? null : Math.round(value * 1000) / 1000);
    const errorsTotal = Object.values(this.errors).reduce((a, b) => a + b, 0);
    return {
      target: "boardgame.io 0.50.2",
      game: "tictactoe",
      matches: this.opts.matches,
      moves: this.moves,
      moves_per_second: Math.round((this.moves / elapsed) * 10) / 10,
      matches_finished: this.finished,
      latency_ms: {
        count: sorted.length,
        p50_ms: round(percentile(sorted, 0.5)),
        p90_ms: round(percentile(sorted, 0.9)),
        p99_ms: round(percentile(sorted, 0.99)),
        max_ms: round(sorted.length ? sorted[sorted.length - 1] : null),
      },
      errors: { total: errorsTotal, by_kind: this.errors },
      server: pid === null ? null : {
        pid,
        cpu_percent: Math.round(((ticks1 - ticks0) / 100 / elapsed) * 1000) / 10,
        rss_mib: rssMiB(pid),
      },
      generator: {
        processes: 1,
        cpu_percent: [Math.round(((cpu1.user + cpu1.system) / 1e6 / elapsed) * 1000) / 10],
      },
    };
  }
}

async function main() {
  const run = new Run(options(process.argv));
  const result = await run.run();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.errors.total === 0 ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`loadgen failed: ${err.stack || err}\n`);
  process.exit(2);
});
