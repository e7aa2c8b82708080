import assert from "node:assert/strict";
import { test } from "node:test";
import { GAP, IGNORED, MISMATCH, MatchStates, OK, STALE, UNKNOWN, viewHash } from "../js/matchstate.js";

// A view and the patch to its next version, with hashes computed by the server's
// Python code (game.protocol.patch.view_hash / diff).
const VIEW = {
  game: "tictactoe", status: "active", board: [null, 0, null, null, 1, null, null, null, null], turn: 0, you: 0,
  legal: [0, 2, 3, 5, 6, 7, 8],
  players: [
    { name: "Ada", online: true, bot: false, grace: null },
    { name: "Bob ✓", online: true, bot: false, grace: null },
  ],
  deadline: 1700000030000, watchers: 0, moves: [1, 4], result: null, rematch: [false, false],
};
const VIEW_HASH = 118039833;
const OPS = [
  { op: "replace", path: "/board/2", value: 0 },
  { op: "replace", path: "/turn", value: 1 },
  ...[6, 5, 4, 3, 2, 1, 0].map((i) => ({ op: "remove", path: `/legal/${i}` })),
  { op: "replace", path: "/players/1/online", value: false },
  { op: "replace", path: "/players/1/grace", value: 1700000060000 },
  { op: "add", path: "/moves/-", value: 2 },
];
const NEXT_HASH = 2654587816;

const snapshot = (version = 3) => ({ type: "snapshot", match: "m1", version, view: VIEW, hash: VIEW_HASH, at: 1700000000000 });
const patch = (version = 4, extra = {}) => ({ type: "patch", match: "m1", version, ops: OPS, hash: NEXT_HASH, at: 1700000001000, ...extra });

test("view hash equals the server's", () => {
  assert.equal(viewHash(VIEW), VIEW_HASH);
});

test("snapshot then patch: ok, version and view advance", () => {
  const s = new MatchStates();
  assert.equal(s.applySnapshot(snapshot()), OK);
  assert.equal(s.get("m1").version, 3);
  assert.equal(s.applyPatch(patch()), OK);
  const e = s.get("m1");
  assert.equal(e.version, 4);
  assert.equal(e.view.turn, 1);
  assert.deepEqual(e.view.moves, [1, 4, 2]);
  assert.deepEqual(e.view.legal, []);
  assert.equal(e.view.players[1].grace, 1700000060000);
  assert.equal(VIEW.turn, 0, "the snapshot's view object is not mutated");
});

test("a version gap is reported and nothing changes", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  assert.equal(s.applyPatch(patch(5)), GAP);
  assert.equal(s.get("m1").version, 3);
  assert.deepEqual(s.beginSync("m1"), { type: "sync", match: "m1", since: 3 });
  assert.ok(s.isSyncing("m1"));
});

test("a hash mismatch is reported and nothing changes", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  assert.equal(s.applyPatch(patch(4, { hash: 12345 })), MISMATCH);
  assert.equal(s.get("m1").version, 3);
  assert.equal(s.get("m1").view.turn, 0);
  // Ops that do not apply count as a mismatch too.
  assert.equal(s.applyPatch(patch(4, { ops: [{ op: "replace", path: "/nope/1", value: 1 }] })), MISMATCH);
});

test("old or duplicate patches are stale", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  s.applyPatch(patch());
  assert.equal(s.applyPatch(patch()), STALE);
  assert.equal(s.applyPatch(patch(2)), STALE);
  assert.equal(s.get("m1").version, 4);
});

test("while a sync is outstanding, patches that do not fit are ignored", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  assert.equal(s.applyPatch(patch(6)), GAP);
  s.beginSync("m1");
  assert.equal(s.applyPatch(patch(7)), IGNORED);
  assert.equal(s.applyPatch(patch(9)), IGNORED);
  // The resent patch that fits applies and ends the sync.
  assert.equal(s.applyPatch(patch(4)), OK);
  assert.equal(s.isSyncing("m1"), false);
});

test("a snapshot answers a sync", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  s.applyPatch(patch(8));
  s.beginSync("m1");
  assert.equal(s.applySnapshot(snapshot(8)), OK);
  assert.equal(s.isSyncing("m1"), false);
  assert.equal(s.get("m1").version, 8);
});

test("repeated mismatches escalate to a snapshot request (no since)", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  s.applyPatch(patch(4, { hash: 1 }));
  assert.deepEqual(s.beginSync("m1"), { type: "sync", match: "m1", since: 3 });
  s.applyPatch(patch(4, { hash: 1 }));
  assert.deepEqual(s.beginSync("m1"), { type: "sync", match: "m1" });
  s.applySnapshot(snapshot(5));
  assert.equal(s.get("m1").mismatches, 0);
});

test("beginSync can ask for a full snapshot", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  assert.deepEqual(s.beginSync("m1", { full: true }), { type: "sync", match: "m1" });
  assert.ok(s.isSyncing("m1"));
});

test("a snapshot whose hash we cannot reproduce is kept but reported", () => {
  const s = new MatchStates();
  assert.equal(s.applySnapshot({ ...snapshot(), hash: 99 }), MISMATCH);
  assert.equal(s.get("m1").version, 3);
});

test("patches for unknown matches", () => {
  const s = new MatchStates();
  assert.equal(s.applyPatch(patch()), UNKNOWN);
  assert.deepEqual(s.beginSync("zz"), { type: "sync", match: "zz" });
});

test("several matches are independent; delete and clear", () => {
  const s = new MatchStates();
  s.applySnapshot(snapshot());
  s.applySnapshot({ ...snapshot(1), match: "m2" });
  assert.equal(s.applyPatch({ ...patch(), match: "m2" }), GAP);
  assert.equal(s.applyPatch(patch()), OK);
  assert.deepEqual(s.ids().sort(), ["m1", "m2"]);
  s.delete("m1");
  assert.equal(s.has("m1"), false);
  s.clear();
  assert.equal(s.entries().length, 0);
});

test("messages without a hash are accepted (nothing to prove)", () => {
  const s = new MatchStates();
  assert.equal(s.applySnapshot({ ...snapshot(), hash: undefined }), OK);
  assert.equal(s.applyPatch({ ...patch(), hash: undefined }), OK);
});
