// JSON Patch (RFC 6902) subset used by the protocol: add / replace / remove, with
// JSON Pointer (RFC 6901) paths. applyPatch never mutates its input: it works on a
// deep copy and returns the new document, or throws PatchError.
// Pure: no DOM, importable in Node.

export class PatchError extends Error {
  constructor(message, op) {
    super(message);
    this.name = "PatchError";
    this.op = op;
  }
}

const hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** Deep copy of JSON data (objects, arrays, scalars). */
export function deepClone(value) {
  if (Array.isArray(value)) return value.map(deepClone);
  if (isObject(value)) {
    const out = {};
    for (const key of Object.keys(value)) setMember(out, key, deepClone(value[key]));
    return out;
  }
  return value;
}

// Plain assignment of "__proto__" would change the prototype instead of adding a key.
function setMember(obj, key, value) {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** JSON Pointer -> list of reference tokens. "" is the whole document. */
export function parsePointer(path) {
  if (typeof path !== "string") throw new PatchError(`path must be a string, got ${typeof path}`);
  if (path === "") return [];
  if (path[0] !== "/") throw new PatchError(`bad JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new PatchError(`bad escape in JSON pointer ${JSON.stringify(path)}`);
      return token.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

/** Escape one reference token for a JSON Pointer. */
export function escapeToken(token) {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

function arrayIndex(array, token, allowEnd) {
  if (allowEnd && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`bad array index ${JSON.stringify(token)}`);
  const index = Number(token);
  const limit = allowEnd ? array.length : array.length - 1;
  if (index > limit) throw new PatchError(`array index ${index} out of range`);
  return index;
}

function child(container, token) {
  if (Array.isArray(container)) return container[arrayIndex(container, token, false)];
  if (isObject(container)) {
    if (!hasOwn(container, token)) throw new PatchError(`no member ${JSON.stringify(token)}`);
    return container[token];
  }
  throw new PatchError("path goes through a scalar");
}

// Applies one op to `doc` in place (doc is already a private copy); returns the new root.
function applyOne(doc, op) {
  if (!isObject(op)) throw new PatchError("op must be an object", op);
  const kind = op.op;
  if (kind !== "add" && kind !== "replace" && kind !== "remove") {
    throw new PatchError(`unsupported op ${JSON.stringify(kind)}`, op);
  }
  if (kind !== "remove" && !hasOwn(op, "value")) throw new PatchError(`${kind} needs a value`, op);
  let tokens;
  try {
    tokens = parsePointer(op.path);
  } catch (err) {
    throw new PatchError(err.message, op);
  }
  try {
    if (tokens.length === 0) {
      if (kind === "remove") throw new PatchError("cannot remove the whole document");
      return deepClone(op.value);
    }
    let parent = doc;
    for (const token of tokens.slice(0, -1)) parent = child(parent, token);
    const last = tokens[tokens.length - 1];
    if (Array.isArray(parent)) {
      if (kind === "add") parent.splice(arrayIndex(parent, last, true), 0, deepClone(op.value));
      else if (kind === "replace") parent[arrayIndex(parent, last, false)] = deepClone(op.value);
      else parent.splice(arrayIndex(parent, last, false), 1);
    } else if (isObject(parent)) {
      if (kind !== "add" && !hasOwn(parent, last)) {
        throw new PatchError(`no member ${JSON.stringify(last)} to ${kind}`);
      }
      if (kind === "remove") delete parent[last];
      else setMember(parent, last, deepClone(op.value));
    } else {
      throw new PatchError("path goes through a scalar");
    }
    return doc;
  } catch (err) {
    if (err instanceof PatchError && !err.op) err.op = op;
    throw err;
  }
}

/** Apply `ops` to a deep copy of `doc`; returns the new document. Throws PatchError. */
export function applyPatch(doc, ops) {
  if (!Array.isArray(ops)) throw new PatchError("ops must be an array");
  let result = deepClone(doc);
  for (const op of ops) result = applyOne(result, op);
  return result;
}
