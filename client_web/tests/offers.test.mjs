import assert from "node:assert/strict";
import { test } from "node:test";
import { createOffers } from "../js/controller/offers.js";
import { MatchStates } from "../js/matchstate.js";
import { useGameFixtures } from "./gamefixtures.mjs";

useGameFixtures(); // game titles come from the server's metadata

// The lobby's rematch offers, driven through a fake lobby and request guard.
const players = [
  { name: "Ada", online: true, bot: false, grace: null },
  { name: "Bob", online: true, bot: false, grace: null },
];
const finished = { game: "tictactoe", status: "finished", board: Array(9).fill(null), turn: null, you: 1, legal: [], players, deadline: null, watchers: 0, moves: [], result: { winner: 0, reason: "resign", line: [] }, rematch: [false, false] };

function setup({ screen = "lobby", current = null, grant = true } = {}) {
  const store = new MatchStates({ hash: () => 0 });
  const shown = [];
  const said = [];
  const sent = [];
  const ctx = {
    app: { screen, current, offers: new Set() },
    store,
    announce: (text) => said.push(text),
    lobby: { setOffers: (list) => shown.push(list) },
    lobbyActions: { startRequest: (cmd) => (sent.push(cmd), grant) },
  };
  const offers = createOffers(ctx);
  const view = (id, rematch) => {
    const before = store.get(id)?.view;
    store.applySnapshot({ match: id, version: (store.get(id)?.version ?? 0) + 1, view: { ...finished, rematch } });
    offers.update(id, before, store.get(id).view);
  };
  return { ctx, offers, view, shown, said, sent, last: () => shown.at(-1) };
}

test("the other seat's offer in a match not on screen is listed and announced", () => {
  const t = setup();
  t.view("m1", [false, false]);
  assert.equal(t.shown.length, 0); // nothing to show, nothing drawn
  t.view("m1", [true, false]);
  assert.deepEqual(t.last(), [{ id: "m1", game: "tictactoe", gameTitle: "Tic-tac-toe", opponent: "Ada", text: "Ada offers a rematch" }]);
  assert.deepEqual(t.said, ["Ada offers a rematch"]);
});

test("accept sends rematch through the request guard; the offer goes away", () => {
  const t = setup();
  t.view("m1", [true, false]);
  t.offers.accept("m1");
  assert.deepEqual(t.sent, [{ type: "rematch", match: "m1" }]);
  assert.deepEqual(t.last(), []);
  assert.equal(t.ctx.app.offers.size, 0);
});

test("accept waits while another request is out; unknown matches are not sent", () => {
  const t = setup({ grant: false });
  t.view("m1", [true, false]);
  t.offers.accept("m1");
  assert.equal(t.sent.length, 1);
  assert.equal(t.last().length, 1); // still offered
  t.offers.accept("nope");
  assert.equal(t.sent.length, 1);
});

test("dismiss forgets the offer; an old offer seen again is not listed again", () => {
  const t = setup();
  t.view("m1", [true, false]);
  t.offers.dismiss("m1");
  assert.deepEqual(t.last(), []);
  t.view("m1", [true, false]); // e.g. a snapshot after a sync: not a new offer
  t.offers.refresh();
  assert.deepEqual(t.last(), []);
});

test("an offer answered (here or elsewhere) drops out of the list", () => {
  const t = setup();
  t.view("m1", [true, false]);
  t.view("m1", [true, true]);
  assert.deepEqual(t.last(), []);
});

test("the match on screen shows its own offer; elsewhere only the list changes, silently", () => {
  const onScreen = setup({ screen: "match", current: { match: "m1", mode: "play" } });
  onScreen.view("m1", [true, false]);
  assert.equal(onScreen.ctx.app.offers.size, 0);
  const elsewhere = setup({ screen: "match", current: { match: "m2", mode: "play" } });
  elsewhere.view("m1", [true, false]);
  assert.equal(elsewhere.ctx.app.offers.size, 1);
  assert.deepEqual(elsewhere.said, []);
});

test("our own offer and a spectator's view are not offers", () => {
  const t = setup();
  t.view("m1", [false, true]);
  const store = t.ctx.store;
  store.applySnapshot({ match: "w", version: 1, view: { ...finished, you: null, rematch: [true, false] } });
  t.offers.update("w", undefined, store.get("w").view);
  assert.equal(t.ctx.app.offers.size, 0);
});
