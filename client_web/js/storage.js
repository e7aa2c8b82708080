// What the page remembers: the player's name and resume token (localStorage, shared
// by tabs) and the match this tab shows (sessionStorage, per tab, survives reloads).
// Storage may be missing or throw (private mode): every access is guarded.

const KEYS = { name: "playroom.name", token: "playroom.token", current: "playroom.current", game: "playroom.game", level: "playroom.level" };

function safe(getStore) {
  let store = null;
  try {
    store = getStore();
    const probe = "__playroom_probe__";
    store.setItem(probe, "1");
    store.removeItem(probe);
  } catch {
    store = null;
  }
  const memory = new Map();
  return {
    get(key) {
      try {
        return store ? store.getItem(key) : memory.get(key) ?? null;
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      memory.set(key, value);
      try {
        store?.setItem(key, value);
      } catch {
        // quota or disabled: the in-memory copy will do
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        store?.removeItem(key);
      } catch {
        // ignore
      }
    },
  };
}

export function createStorage(local = () => globalThis.localStorage, session = () => globalThis.sessionStorage) {
  const ls = safe(local);
  const ss = safe(session);
  return {
    getName: () => ls.get(KEYS.name) ?? "",
    setName: (name) => ls.set(KEYS.name, name),
    getGame: () => ls.get(KEYS.game),
    setGame: (game) => ls.set(KEYS.game, game),
    getLevel: () => ls.get(KEYS.level),
    setLevel: (level) => ls.set(KEYS.level, level),
    tokenStore: {
      get: () => ls.get(KEYS.token),
      set: (token) => ls.set(KEYS.token, token),
      clear: () => ls.remove(KEYS.token),
    },
    /**
     * {match, mode: "play" | "watch", room?} or null. This tab's own (sessionStorage)
     * first; a new tab falls back to the last match played in any tab (localStorage),
     * so closing and reopening the page also returns to the match.
     */
    getCurrent() {
      for (const store of [ss, ls]) {
        try {
          const value = JSON.parse(store.get(KEYS.current) ?? "null");
          if (value && typeof value === "object" && value.match !== undefined) return value;
        } catch {
          // ignore a damaged entry
        }
      }
      return null;
    },
    setCurrent(current) {
      if (!current) {
        ss.remove(KEYS.current);
        ls.remove(KEYS.current);
        return;
      }
      const text = JSON.stringify(current);
      ss.set(KEYS.current, text);
      // Watching is per tab; playing follows the player.
      if (current.mode === "play") ls.set(KEYS.current, text);
    },
  };
}
