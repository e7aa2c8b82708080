// Reconnect timing: capped exponential backoff with jitter. Pure (the random source
// is injected), importable in Node.

export const DEFAULT_BACKOFF = Object.freeze({
  base: 500, // first retry after about this many ms
  factor: 2,
  max: 15000, // never wait longer than this
  jitter: 0.5, // fraction of the delay that is randomised
});

/**
 * Delay before retry number `attempt` (0-based): min(max, base * factor^attempt),
 * of which the `jitter` fraction is random: the result is in
 * [cap * (1 - jitter), cap]. `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
  const { base, factor, max, jitter } = { ...DEFAULT_BACKOFF, ...options };
  const cap = Math.min(max, base * Math.pow(factor, Math.max(0, attempt)));
  const j = Math.min(1, Math.max(0, jitter));
  return Math.round(cap * (1 - j) + cap * j * random());
}

/** Stateful schedule: next() returns the next delay, reset() after a good connection. */
export class Backoff {
  #attempt = 0;

  constructor(options = {}, random = Math.random) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
    this.random = random;
  }

  get attempt() {
    return this.#attempt;
  }

  next() {
    const delay = backoffDelay(this.#attempt, this.options, this.random);
    this.#attempt += 1;
    return delay;
  }

  reset() {
    this.#attempt = 0;
  }
}
