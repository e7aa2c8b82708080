// Rematch offers for the player's finished matches that are not on screen (they went
// back to the lobby, or into another match). The server keeps sending such a match's
// patches, so when one (or a snapshot) shows the other seat offering, the offer is
// listed in the lobby with Accept (sends `rematch`; the new match opens when its
// snapshot arrives) and Dismiss. Draws only through `ctx.lobby`.

import { gameTitle, incomingRematch, playerName, rematchOfferText } from "../describe.js";

/** ctx: the shared parts the composition root (app.js) puts together. */
export function createOffers(ctx) {
  const { app, store } = ctx;
  const offered = app.offers; // match ids with an offer to show, oldest first

  /** The open offers, as the lobby lists them; offers that went away are dropped. */
  function current() {
    const list = [];
    for (const id of offered) {
      const view = store.get(id)?.view;
      if (!view || !incomingRematch(view) || app.current?.match === id) {
        offered.delete(id);
        continue;
      }
      list.push({ id, game: view.game, gameTitle: gameTitle(view.game), opponent: playerName(view, 1 - view.you), text: rematchOfferText(view) });
    }
    return list;
  }

  function refresh() {
    ctx.lobby.setOffers(current());
  }

  /**
   * A snapshot or patch of match `id` took its view from `before` (undefined if
   * unknown) to `view`. A new offer from the other seat is listed, unless the match
   * is the one on screen (the match screen shows it there).
   */
  function update(id, before, view) {
    const isNew = incomingRematch(view) && !before?.rematch?.[1 - view.you];
    if (isNew && app.current?.match !== id) {
      offered.add(id);
      if (app.screen === "lobby") ctx.announce(rematchOfferText(view));
    }
    if (isNew || offered.has(id)) refresh();
  }

  /** Accept: one request at a time, like the other start buttons. */
  function accept(id) {
    if (!store.get(id) || !ctx.lobbyActions.startRequest({ type: "rematch", match: id })) return;
    offered.delete(id);
    refresh();
  }

  function dismiss(id) {
    offered.delete(id);
    refresh();
  }

  return { refresh, update, accept, dismiss };
}
