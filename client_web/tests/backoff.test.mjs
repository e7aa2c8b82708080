import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff, DEFAULT_BACKOFF, backoffDelay } from "../js/backoff.js";

const opts = { base: 500, factor: 2, max: 15000, jitter: 0.5 };

test("doubles from the base and is capped (no jitter drawn: random() = 1 gives the cap)", () => {
  const top = () => 0.9999999;
  const delays = [0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, opts, top));
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
});

test("jitter keeps each delay within [cap * (1 - jitter), cap]", () => {
  assert.deepEqual([0, 1, 5].map((n) => backoffDelay(n, opts, () => 0)), [250, 500, 7500]);
  for (let n = 0; n < 12; n++) {
    for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
      const cap = Math.min(15000, 500 * 2 ** n);
      const d = backoffDelay(n, opts, () => r);
      assert.ok(d >= cap / 2 && d <= cap, `attempt ${n} r ${r}: ${d}`);
    }
  }
});

test("no jitter gives the exact schedule; full jitter can be tiny", () => {
  assert.equal(backoffDelay(3, { ...opts, jitter: 0 }, () => 0.5), 4000);
  assert.equal(backoffDelay(3, { ...opts, jitter: 1 }, () => 0), 0);
});

test("Backoff counts attempts and resets", () => {
  let r = 0.5;
  const b = new Backoff(opts, () => r);
  assert.equal(b.attempt, 0);
  assert.deepEqual([b.next(), b.next(), b.next()], [375, 750, 1500]);
  assert.equal(b.attempt, 3);
  b.reset();
  assert.equal(b.attempt, 0);
  r = 0;
  assert.equal(b.next(), 250);
});

test("defaults are sane", () => {
  assert.ok(DEFAULT_BACKOFF.max <= 30000);
  assert.ok(DEFAULT_BACKOFF.base > 0 && DEFAULT_BACKOFF.factor > 1);
});
