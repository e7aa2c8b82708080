// Where the admin page keeps the operator's token: sessionStorage only (this tab,
// gone when it closes), never localStorage. Storage is injected and may be missing
// or throw (private mode): then the token lives in memory for this page load.

const KEY = "playroom.admin.token";

export function createTokenStore(storage) {
  let memory = null;
  return {
    get() {
      try {
        return storage?.getItem(KEY) ?? memory;
      } catch {
        return memory;
      }
    },
    set(token) {
      memory = token;
      try {
        storage?.setItem(KEY, token);
      } catch {
        // memory only
      }
    },
    clear() {
      memory = null;
      try {
        storage?.removeItem(KEY);
      } catch {
        // nothing kept
      }
    },
  };
}
