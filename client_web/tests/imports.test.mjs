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
