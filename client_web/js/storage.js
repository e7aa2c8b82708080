// What the page remembers: the player's name and resume token (localStorage, shared
// by tabs), the codes of the player's rooms and the matches they chose to leave
// (localStorage), and the match this tab shows (sessionStorage, per tab, survives
// reloads). Storage may be missing or throw (private mode): every access is guarded.

const KEYS = {
  name: "playroom.name",
  token: "playroom.token",
  current: "playroom.current",
  game: "playroom.game",
  level: "playroom.level",
  rooms: "playroom.rooms",
  left: "playroom.left",
};
const MAX_IDS = 50;

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

function parseObject(text) {
  try {
    const value = JSON.parse(text ?? "null");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {}; // a damaged entry: start afresh
  }
}

/**
 * A small map from match id to a value, kept as one JSON object under `key` (the
 * oldest entries beyond `MAX_IDS` are dropped). `keep(ids)` forgets every other id.
 */
export function idMap(store, key) {
  const read = () => parseObject(store.get(key));
  const write = (entries) => {
    const kept = Object.entries(entries).slice(-MAX_IDS);
    if (kept.length) store.set(key, JSON.stringify(Object.fromEntries(kept)));
    else store.remove(key);
  };
  return {
    get: (id) => read()[id] ?? null,
    has: (id) => Object.hasOwn(read(), id),
    set(id, value) {
      const entries = read();
      delete entries[id]; // re-added last: the newest
      entries[id] = value;
      write(entries);
    },
    delete(id) {
      const entries = read();
      delete entries[id];
      write(entries);
    },
    keep(ids) {
      const wanted = new Set(ids);
      write(Object.fromEntries(Object.entries(read()).filter(([id]) => wanted.has(id))));
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
    /** match id -> room code of the player's private rooms (for the invite card). */
    rooms: idMap(ls, KEYS.rooms),
    /** match ids the player left on purpose: never pulled back into them. */
    left: idMap(ls, KEYS.left),
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
