import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerClock } from "../js/clock.js";
import { ERROR_MESSAGES, closeMessage, friendlyError } from "../js/errors.js";
import { roomCodeFrom, roomLink, isRoomLink } from "../js/links.js";
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

test("storage: room codes and left matches survive a reload, and only live ones are kept", () => {
  const local = fakeStore();
  const s1 = createStorage(() => local, () => fakeStore());
  s1.rooms.set("m1", "ABC123");
  s1.rooms.set("m2", "XYZ789");
  s1.left.set("m3", true);
  const s2 = createStorage(() => local, () => fakeStore()); // after a reload, or in a new tab
  assert.equal(s2.rooms.get("m1"), "ABC123");
  assert.equal(s2.rooms.has("m2"), true);
  assert.equal(s2.left.has("m3"), true);
  assert.equal(s2.left.has("m1"), false);
  assert.equal(s2.rooms.get("nope"), null);
  s2.rooms.keep(new Set(["m2", "m9"])); // the live matches of a welcome
  assert.equal(s1.rooms.has("m1"), false);
  assert.equal(s1.rooms.get("m2"), "XYZ789");
  s2.left.delete("m3");
  assert.equal(s1.left.has("m3"), false);
  assert.equal(local.map.has("playroom.left"), false); // nothing left: no entry
  local.map.set("playroom.rooms", "{not json");
  assert.equal(s1.rooms.get("m2"), null); // a damaged entry is ignored
  s1.rooms.set("m4", "CODE44");
  assert.equal(s1.rooms.get("m4"), "CODE44");
});

test("storage: the id maps stay small", () => {
  const s = createStorage(() => fakeStore(), () => fakeStore());
  for (let i = 0; i < 80; i++) s.left.set(`m${i}`, true);
  assert.equal(s.left.has("m0"), false);
  assert.equal(s.left.has("m79"), true);
  assert.equal(s.left.has("m30"), true);
  assert.equal(s.left.has("m29"), false);
});

test("room links: the code inside a pasted invite link", () => {
  const link = roomLink("K7PQ2M", { origin: "http://127.0.0.1:8000", pathname: "/" });
  assert.equal(link, "http://127.0.0.1:8000/?room=K7PQ2M");
  assert.equal(roomCodeFrom(link), "K7PQ2M");
  assert.equal(roomCodeFrom(`  ${link}\n`), "K7PQ2M");
  assert.equal(roomCodeFrom("https://games.example/play/?lang=en&room=ab12cd#top"), "ab12cd");
  assert.equal(roomCodeFrom("/?room=K7PQ2M"), "K7PQ2M");
  assert.equal(roomCodeFrom("?room=K7PQ2M"), "K7PQ2M");
  assert.equal(roomCodeFrom("http://host/?room=%20K7PQ2M%20"), "K7PQ2M");
  assert.equal(roomCodeFrom("http://host/?room=%E0%A4%A"), "%E0%A4%A"); // bad escape: as written
  assert.equal(roomCodeFrom(" k7pq2m "), "k7pq2m"); // a typed code, trimmed
  assert.equal(roomCodeFrom(""), "");
  assert.equal(roomCodeFrom(undefined), "");
  assert.equal(roomCodeFrom("http://host/?watch=abc"), "http://host/?watch=abc");
  assert.equal(isRoomLink(link), true);
  assert.equal(isRoomLink("K7PQ2M"), false);
  assert.equal(roomLink("AB CD", { origin: "https://x.example", pathname: "/games/" }), "https://x.example/games/?room=AB+CD");
});
