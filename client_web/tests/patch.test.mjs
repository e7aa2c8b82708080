import assert from "node:assert/strict";
import { test } from "node:test";
import { PatchError, applyPatch, escapeToken, parsePointer } from "../js/patch.js";

test("replace, add and remove on objects and arrays", () => {
  const doc = { board: [null, null, null], turn: 0, result: null, players: [{ online: true }, { online: true }] };
  const out = applyPatch(doc, [
    { op: "replace", path: "/board/1", value: 0 },
    { op: "replace", path: "/turn", value: 1 },
    { op: "replace", path: "/players/1/online", value: false },
    { op: "add", path: "/extra", value: { a: [1] } },
    { op: "remove", path: "/result" },
  ]);
  assert.deepEqual(out, { board: [null, 0, null], turn: 1, players: [{ online: true }, { online: false }], extra: { a: [1] } });
});

test("the input document is never mutated and values are copied", () => {
  const doc = { moves: [1, 2], nested: { a: 1 } };
  const value = { deep: [1] };
  const out = applyPatch(doc, [
    { op: "add", path: "/moves/-", value: 3 },
    { op: "replace", path: "/nested/a", value },
  ]);
  assert.deepEqual(doc, { moves: [1, 2], nested: { a: 1 } });
  value.deep.push(2);
  assert.deepEqual(out.nested.a, { deep: [1] });
  assert.notEqual(out.moves, doc.moves);
});

test("'-' appends; add on an index inserts; remove on an index deletes", () => {
  const doc = { l: [10, 20, 30] };
  assert.deepEqual(applyPatch(doc, [{ op: "add", path: "/l/-", value: 40 }]).l, [10, 20, 30, 40]);
  assert.deepEqual(applyPatch(doc, [{ op: "add", path: "/l/1", value: 15 }]).l, [10, 15, 20, 30]);
  assert.deepEqual(applyPatch(doc, [{ op: "add", path: "/l/3", value: 99 }]).l, [10, 20, 30, 99]);
  assert.deepEqual(applyPatch(doc, [{ op: "remove", path: "/l/0" }]).l, [20, 30]);
  // Python's diff removes from the end backwards:
  const legal = { legal: [0, 2, 3, 5, 6, 7, 8] };
  const ops = [6, 5, 4, 3, 2, 1, 0].map((i) => ({ op: "remove", path: `/legal/${i}` }));
  assert.deepEqual(applyPatch(legal, ops).legal, []);
});

test("JSON Pointer escaping: ~1 is '/', ~0 is '~'", () => {
  assert.deepEqual(parsePointer("/a~1b/c~0d/~01"), ["a/b", "c~d", "~1"]);
  assert.deepEqual(parsePointer(""), []);
  assert.deepEqual(parsePointer("/"), [""]);
  const doc = { "a/b": 1, "m~n": 2 };
  assert.deepEqual(applyPatch(doc, [{ op: "replace", path: "/a~1b", value: 3 }, { op: "remove", path: "/m~0n" }]), { "a/b": 3 });
  assert.equal(escapeToken("a/b~c"), "a~1b~0c");
});

test("root path replaces the whole document", () => {
  assert.deepEqual(applyPatch({ a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }]), { b: 2 });
  assert.throws(() => applyPatch({ a: 1 }, [{ op: "remove", path: "" }]), PatchError);
});

test("bad ops are rejected", () => {
  const doc = { l: [1, 2], o: { k: 1 }, n: 5 };
  const bad = [
    { op: "move", from: "/l/0", path: "/l/1" },
    { op: "test", path: "/n", value: 5 },
    { op: "copy", from: "/n", path: "/m" },
    { path: "/n", value: 1 },
    { op: "replace", path: "/missing", value: 1 },
    { op: "remove", path: "/missing" },
    { op: "replace", path: "/l/2", value: 1 },
    { op: "remove", path: "/l/2" },
    { op: "add", path: "/l/3", value: 1 },
    { op: "add", path: "/l/01", value: 1 },
    { op: "add", path: "/l/-1", value: 1 },
    { op: "replace", path: "/l/-", value: 1 },
    { op: "replace", path: "/n/x", value: 1 },
    { op: "add", path: "/nope/x", value: 1 },
    { op: "add", path: "n", value: 1 },
    { op: "add", path: "/o/a~2", value: 1 },
    { op: "replace", path: "/n" },
    { op: "add", path: 5, value: 1 },
    "not an op",
    null,
  ];
  for (const op of bad) {
    assert.throws(() => applyPatch(doc, [op]), PatchError, JSON.stringify(op));
  }
  assert.throws(() => applyPatch(doc, "nope"), PatchError);
  assert.deepEqual(doc, { l: [1, 2], o: { k: 1 }, n: 5 }, "failed patches leave the input alone");
});

test("__proto__ is an ordinary key", () => {
  const out = applyPatch({}, [{ op: "add", path: "/__proto__", value: { polluted: true } }]);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ["__proto__"]);
  assert.equal({}.polluted, undefined);
});
