// Minimal event emitter. Pure, importable in Node.
export class Emitter {
  #handlers = new Map();

  /** Subscribe; returns an unsubscribe function. */
  on(event, handler) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, new Set());
    this.#handlers.get(event).add(handler);
    return () => this.off(event, handler);
  }

  off(event, handler) {
    this.#handlers.get(event)?.delete(handler);
  }

  emit(event, ...args) {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      try {
        handler(...args);
      } catch (err) {
        // One broken listener must not break the others (or the socket loop).
        if (typeof console !== "undefined") console.error(`listener for "${event}" failed`, err);
      }
    }
  }
}
