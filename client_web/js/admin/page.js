// The admin page's controller: the token, the API calls, the refresh loop, and what
// the view shows after each. admin.html calls `startAdmin(document, {...})`; nothing
// happens at import, so this module imports in Node too.

import { createAdminApi } from "./api.js";
import { parseEndChoice, shortId } from "./format.js";
import { createTokenStore } from "./token.js";
import { createAdminView } from "./view.js";

export const REFRESH_MS = 2000;
export const PAGE_SIZE = 50;

/**
 * deps: fetch, storage (sessionStorage), and for tests setInterval / clearInterval / now.
 */
export function startAdmin(doc, deps) {
  const { fetch, storage, now = () => Date.now() } = deps;
  const every = deps.setInterval ?? globalThis.setInterval.bind(globalThis);
  const stop = deps.clearInterval ?? globalThis.clearInterval.bind(globalThis);
  const tokens = createTokenStore(storage);
  const api = createAdminApi({ fetch, getToken: () => tokens.get() });
  // cursor: the page of matches shown (null: the newest); again: refresh once more
  // when the one running ends (an action landed while it ran)
  const state = { inspected: null, cursor: null, next: null, timer: null, refreshing: false, again: false };

  const view = createAdminView(doc.body, {
    onSignIn(token) {
      tokens.set(token);
      signedIn();
    },
    onSignOut() {
      signOut("");
    },
    onInspect(match) {
      state.inspected = match;
      refresh();
    },
    onCloseDetail() {
      state.inspected = null;
      view.hideDetail();
    },
    onOlder() {
      state.cursor = state.next;
      refresh();
    },
    onNewest() {
      state.cursor = null;
      refresh();
    },
    onEnd: (match, choice) => act(async () => {
      const { result, winner } = parseEndChoice(choice);
      const done = await api.end(match, result, winner);
      view.message(`Match ${shortId(match)} ended (${done.result.reason}), version ${done.version}`, "success");
    }),
    onKick: (player) => act(async () => {
      const done = await api.kick(player);
      view.message(`Kicked ${shortId(player)}: closed with ${done.code}`, "success");
    }),
    onNotice: (message) => act(async () => {
      const done = await api.notice(message);
      view.noticeSent();
      view.message(`Notice sent to ${done.sent} connections`, "success");
    }),
  });

  function signedIn() {
    view.showSignedIn();
    refresh();
    if (state.timer === null) state.timer = every(refresh, REFRESH_MS);
  }

  function signOut(text) {
    tokens.clear();
    if (state.timer !== null) stop(state.timer);
    state.timer = null;
    state.inspected = null;
    view.hideDetail();
    view.showSignedOut(text);
  }

  /** An operator's action, then a refresh so the lists show its effect. */
  async function act(action) {
    try {
      await action();
    } catch (error) {
      if (!failed(error)) view.message(error.message, "error");
    }
    await refresh();
  }

  /** Sign-out and "off" are handled here; true if the error was one of those. */
  function failed(error) {
    if (error?.unauthorized) {
      signOut("The server refused that token.");
      return true;
    }
    if (error?.off) {
      signOut("The admin API is off on this server: start it with GAME_ADMIN_TOKEN set.");
      return true;
    }
    if (error?.status === 0) {
      view.showTrouble("Server unreachable: retrying");
      return true;
    }
    return false;
  }

  async function refresh() {
    if (tokens.get() === null) return;
    if (state.refreshing) {
      state.again = true;
      return;
    }
    state.refreshing = true;
    state.again = false;
    try {
      const page = await api.matches({ limit: PAGE_SIZE, cursor: state.cursor ?? undefined });
      state.next = page.next;
      view.renderMatches(page, now());
      view.showPaging(state.cursor !== null);
      view.renderConnections(await api.connections({ limit: PAGE_SIZE }));
      if (state.inspected !== null) await refreshDetail(state.inspected);
    } catch (error) {
      if (!failed(error)) view.message(error.message, "error");
    } finally {
      state.refreshing = false;
    }
    if (state.again) await refresh();
  }

  async function refreshDetail(match) {
    try {
      const data = await api.inspect(match);
      if (state.inspected === match) view.renderDetail(data, now());
    } catch (error) {
      if (error?.status !== 404 || error.off) throw error;
      state.inspected = null;
      view.hideDetail();
      view.message(`Match ${shortId(match)} is gone`, "error");
    }
  }

  if (tokens.get()) signedIn();
  else view.showSignedOut();
  return { refresh, state };
}
