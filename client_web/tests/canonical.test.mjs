import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJSON, compareCodePoints, quote } from "../js/canonical.js";

// Expected strings computed with Python 3:
//   json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
// and pasted here (as JSON string literals, which are also JS string literals).

test("nested objects: keys sorted at every level, no spaces", () => {
  const obj = { b: [1, { z: null, a: true }], a: { y: false, x: -3 } };
  assert.equal(canonicalJSON(obj), "{\"a\":{\"x\":-3,\"y\":false},\"b\":[1,{\"a\":true,\"z\":null}]}");
});

test("escapes: quotes, backslash, control characters; DEL and slash left alone", () => {
  const obj = { q: 'say "hi"\\ \n\t\r\b\f \x00 \x1f \x7f /' };
  assert.equal(
    canonicalJSON(obj),
    "{\"q\":\"say \\\"hi\\\"\\\\ \\n\\t\\r\\b\\f \\u0000 \\u001f \u007f /\"}",
  );
});

test("unicode is emitted raw (ensure_ascii=False), including U+2028", () => {
  const obj = { name: "Zoë ✓ 日本 😀", é: 1, e: 2, z: "\u2028" };
  assert.equal(
    canonicalJSON(obj),
    "{\"e\":2,\"name\":\"Zo\u00eb \u2713 \u65e5\u672c \ud83d\ude00\",\"z\":\"\u2028\",\"\u00e9\":1}",
  );
});

test("keys sort by code point like Python, not by UTF-16 unit", () => {
  // U+1F600 (a surrogate pair in JS) sorts after U+FB01 in Python.
  const obj = { "\u{1F600}": 1, "\uFB01": 2, a: 3 };
  assert.equal(canonicalJSON(obj), "{\"a\":3,\"\ufb01\":2,\"\ud83d\ude00\":1}");
  assert.ok(compareCodePoints("\u{1F600}", "\uFB01") > 0);
  assert.ok("\u{1F600}" < "\uFB01", "plain JS comparison would get this wrong");
  assert.ok(compareCodePoints("ab", "abc") < 0);
  assert.equal(compareCodePoints("x", "x"), 0);
});

test("empty containers and strings", () => {
  assert.equal(canonicalJSON({ o: {}, l: [], s: "" }), "{\"l\":[],\"o\":{},\"s\":\"\"}");
});

test("integers, including -0 and values beyond 2^53", () => {
  assert.equal(canonicalJSON([0, -0, 9007199254740991, -42, 1e21]), "[0,0,9007199254740991,-42,1000000000000000000000]");
});

test("a full view", () => {
  const view = {
    game: "tictactoe", status: "active", board: [null, 0, null, null, 1, null, null, null, null], turn: 0, you: 0,
    legal: [0, 2, 3, 5, 6, 7, 8],
    players: [
      { name: "Ada", online: true, bot: false, grace: null },
      { name: "Bob ✓", online: true, bot: false, grace: null },
    ],
    deadline: 1700000030000, watchers: 0, moves: [1, 4], result: null, rematch: [false, false],
  };
  assert.equal(
    canonicalJSON(view),
    "{\"board\":[null,0,null,null,1,null,null,null,null],\"deadline\":1700000030000,\"game\":\"tictactoe\",\"legal\":[0,2,3,5,6,7,8],\"moves\":[1,4],\"players\":[{\"bot\":false,\"grace\":null,\"name\":\"Ada\",\"online\":true},{\"bot\":false,\"grace\":null,\"name\":\"Bob \u2713\",\"online\":true}],\"rematch\":[false,false],\"result\":null,\"status\":\"active\",\"turn\":0,\"watchers\":0,\"you\":0}",
  );
});

test("non-JSON data and non-integers are rejected", () => {
  assert.throws(() => canonicalJSON(1.5), TypeError);
  assert.throws(() => canonicalJSON(NaN), TypeError);
  assert.throws(() => canonicalJSON(Infinity), TypeError);
  assert.throws(() => canonicalJSON(undefined), TypeError);
  assert.throws(() => canonicalJSON({ f: () => 1 }), TypeError);
});

test("quote matches JSON.stringify for ordinary text", () => {
  for (const s of ["plain", "tab\there", "q\"b\\", "\u0001\u001f", "ünï😀"]) assert.equal(quote(s), JSON.stringify(s));
});
