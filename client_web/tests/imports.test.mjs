import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";

// Every module but the page's entry point (app.js wires the page up when loaded) must
// import in Node, without a DOM: nothing may touch document/window at import time.
const root = new URL("../js/", import.meta.url);

function modules(dir, prefix = "") {
  return readdirSync(new URL(prefix, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? modules(dir, `${prefix}${d.name}/`) : d.name.endsWith(".js") ? [`${prefix}${d.name}`] : [],
  );
}

test("all modules except app.js import without a DOM", async () => {
  const names = modules(root).filter((n) => n !== "app.js");
  assert.ok(names.length >= 15, names.join(", "));
  assert.equal(typeof globalThis.document, "undefined");
  for (const name of names) await import(new URL(name, root));
});

// The parts app.js is made of (it imports them all): each must import on its own too.
const CONTROLLER = [
  "controller/screens.js",
  "controller/lobbyactions.js",
  "controller/matchactions.js",
  "controller/offers.js",
  "controller/welcome.js",
  "controller/messages.js",
  "ui/connstatus.js",
];

test("app.js's parts import without a DOM and export their factories", async () => {
  const names = modules(root);
  for (const name of CONTROLLER) {
    assert.ok(names.includes(name), `${name} is missing`);
    const mod = await import(new URL(name, root));
    assert.ok(Object.values(mod).some((value) => typeof value === "function" && value.name.startsWith("create")), name);
  }
});
