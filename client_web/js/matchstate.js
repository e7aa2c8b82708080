// Match state kept by the client: for each match, the last view and its version.
// Applies `snapshot` and `patch` messages and proves each step with the view hash.
// Pure: no DOM, no sockets, importable in Node.

import { canonicalJSON } from "./canonical.js";
import { crc32 } from "./crc32.js";
import { applyPatch } from "./patch.js";

/** CRC-32 of the view's canonical JSON, as the server computes it. */
export function viewHash(view) {
  return crc32(canonicalJSON(view));
}

// Results of applying a message.
export const OK = "ok"; // applied and in step
export const GAP = "gap"; // versions missing: ask for a sync
export const MISMATCH = "mismatch"; // applied ops do not give the server's hash: ask for a sync
export const STALE = "stale"; // an old or duplicate patch: ignored
export const IGNORED = "ignored"; // waiting for a sync answer: patch that does not fit, ignored
export const UNKNOWN = "unknown"; // a patch for a match we hold no snapshot of

export class MatchStates {
  #entries = new Map();
  #hash;

  /** @param {{hash?: (view: any) => number}} [options] */
  constructor({ hash = viewHash } = {}) {
    this.#hash = hash;
  }

  has(match) {
    return this.#entries.has(match);
  }

  /** {match, version, view, at, syncing, mismatches} or undefined. Treat as read-only. */
  get(match) {
    return this.#entries.get(match);
  }

  ids() {
    return [...this.#entries.keys()];
  }

  entries() {
    return [...this.#entries.values()];
  }

  delete(match) {
    return this.#entries.delete(match);
  }

  clear() {
    this.#entries.clear();
  }

  #checkHash(view, expected) {
    if (typeof expected !== "number") return true; // no hash sent: nothing to prove
    try {
      return this.#hash(view) === expected;
    } catch {
      return false;
    }
  }

  /**
   * A full view. Always taken (the server is the authority), so the result only
   * reports whether our hash agrees: "ok" or "mismatch".
   */
  applySnapshot(msg) {
    const entry = {
      match: msg.match,
      version: msg.version,
      view: msg.view,
      at: msg.at ?? null,
      syncing: false,
      mismatches: 0,
    };
    this.#entries.set(msg.match, entry);
    return this.#checkHash(msg.view, msg.hash) ? OK : MISMATCH;
  }

  /**
   * A patch from version - 1 to version. Returns "ok" when applied and proven,
   * "gap" / "mismatch" when a sync is needed (the state is left unchanged),
   * "stale" for an old patch, "ignored" while a sync is outstanding, "unknown" when
   * there is no snapshot for that match.
   */
  applyPatch(msg) {
    const entry = this.#entries.get(msg.match);
    if (!entry) return UNKNOWN;
    if (msg.version <= entry.version) return STALE;
    if (msg.version !== entry.version + 1) return entry.syncing ? IGNORED : GAP;
    let view;
    try {
      view = applyPatch(entry.view, msg.ops);
    } catch {
      view = undefined;
    }
    if (view === undefined || !this.#checkHash(view, msg.hash)) {
      entry.mismatches += 1;
      return MISMATCH;
    }
    this.#entries.set(msg.match, {
      ...entry,
      version: msg.version,
      view,
      at: msg.at ?? entry.at,
      syncing: false,
    });
    return OK;
  }

  /** Is a sync outstanding for this match (patches that do not fit are ignored)? */
  isSyncing(match) {
    return Boolean(this.#entries.get(match)?.syncing);
  }

  /**
   * Mark a sync as outstanding and return the `sync` command to send: `since` is our
   * version, so the server can send just the missing patches. A full snapshot (no
   * `since`) is asked for instead when `full` is set (e.g. a sync that got no answer:
   * the server sends nothing when it has nothing newer) or when patches have already
   * failed to apply twice.
   */
  beginSync(match, { full = false } = {}) {
    const entry = this.#entries.get(match);
    if (!entry) return { type: "sync", match };
    entry.syncing = true;
    if (full || entry.mismatches >= 2) return { type: "sync", match };
    return { type: "sync", match, since: entry.version };
  }
}
