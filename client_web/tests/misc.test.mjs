import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerClock } from "../js/clock.js";
import { ERROR_MESSAGES, closeMessage, friendlyError } from "../js/errors.js";
import { createStorage } from "../js/storage.js";

test("server clock: offset from `at`, the largest recent sample wins", () => {
  const clock = new ServerClock({ keep: 3 });
  assert.equal(clock.offset, 0);
  clock.observe(10_500, 10_000); // server 500 ms ahead, seen with no delay
  clock.observe(10_900, 10_600); // 300: this one travelled 200 ms
  assert.equal(clock.offset, 500);
  assert.equal(clock.now(20_000), 20_500);
  assert.equal(clock.remaining(30_500, 20_000), 10_000);
  assert.equal(clock.remaining(null, 20_000), null);
  clock.observe(1, 1);
  clock.observe(2, 2);
  clock.observe(3, 3); // older samples fall out
  assert.equal(clock.offset, 0);
  clock.observe(undefined, 5);
  assert.equal(clock.offset, 0);
});

test("every protocol error code has a friendly sentence", () => {
  const codes = ["bad_message", "unknown_type", "hello_first", "bad_token", "unknown_game", "unknown_match", "unknown_room", "not_a_player", "not_your_turn", "illegal_move", "match_over", "stale_version", "already_queued", "rate_limited"];
  for (const code of codes) {
    assert.ok(ERROR_MESSAGES[code], code);
    assert.equal(friendlyError({ code, message: "raw" }), ERROR_MESSAGES[code]);
  }
  assert.equal(friendlyError({ code: "new_code", message: "Details here" }), "Something went wrong: Details here");
  assert.match(friendlyError({}), /Something went wrong/);
  assert.match(closeMessage(4009), /another tab/);
  assert.match(closeMessage(1008, "too many messages"), /too many messages/);
});

function fakeStore() {
  const map = new Map();
  return { getItem: (k) => (map.has(k) ? map.get(k) : null), setItem: (k, v) => map.set(k, String(v)), removeItem: (k) => map.delete(k), map };
}

test("storage: name and token persist; current match per tab with a fallback for new tabs", () => {
  const local = fakeStore();
  const s1 = createStorage(() => local, () => fakeStore());
  s1.setName("Ada");
  s1.tokenStore.set("tok");
  s1.setCurrent({ match: "m1", mode: "play" });
  assert.equal(s1.getCurrent().match, "m1");
  const s2 = createStorage(() => local, () => fakeStore()); // a new tab
  assert.equal(s2.getName(), "Ada");
  assert.equal(s2.tokenStore.get(), "tok");
  assert.deepEqual(s2.getCurrent(), { match: "m1", mode: "play" });
  s1.setCurrent({ match: "m2", mode: "watch" }); // watching stays in its tab
  assert.equal(s1.getCurrent().match, "m2");
  assert.equal(createStorage(() => local, () => fakeStore()).getCurrent().match, "m1");
  s1.setCurrent(null);
  assert.equal(s1.getCurrent(), null);
  s1.tokenStore.clear();
  assert.equal(s1.tokenStore.get(), null);
});

test("storage works without localStorage (private mode / Node)", () => {
  const broken = () => {
    throw new Error("denied");
  };
  const s = createStorage(broken, broken);
  s.setName("Bo");
  assert.equal(s.getName(), "Bo");
  s.setCurrent({ match: "x", mode: "play" });
  assert.equal(s.getCurrent().match, "x");
});
