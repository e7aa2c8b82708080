// Server clock estimate from the `at` field (server epoch ms) of snapshots and patches.
// Pure (local time is passed in), importable in Node.

/**
 * offset = server time - local time. A message's `at` was stamped before it travelled,
 * so each sample underestimates the offset by the one-way latency: keep the largest
 * of the recent samples.
 */
export class ServerClock {
  #samples = [];

  constructor({ keep = 8 } = {}) {
    this.keep = keep;
  }

  /** Record a server timestamp `at` seen at local time `localNow`. */
  observe(at, localNow) {
    if (typeof at !== "number" || !Number.isFinite(at)) return;
    this.#samples.push(at - localNow);
    if (this.#samples.length > this.keep) this.#samples.shift();
  }

  /** Estimated server minus local, in ms (0 before any sample). */
  get offset() {
    return this.#samples.length ? Math.max(...this.#samples) : 0;
  }

  /** Estimated server time at local time `localNow`. */
  now(localNow) {
    return localNow + this.offset;
  }

  /** Milliseconds left until a server-time `deadline` (negative once past), or null. */
  remaining(deadline, localNow) {
    if (typeof deadline !== "number") return null;
    return deadline - this.now(localNow);
  }
}
