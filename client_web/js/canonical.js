// Canonical JSON, byte-for-byte the same as Python's
//   json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
// for JSON data made of objects, arrays, strings, integers, booleans and null.
// Pure: no DOM, importable in Node.

const SHORT_ESCAPES = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

// Characters Python escapes with ensure_ascii=False: '"', '\\' and U+0000..U+001F.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** A JSON string literal, escaped like Python's json module (ensure_ascii=False). */
export function quote(text) {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (ch.charCodeAt(0) < 0x20) out += "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

const isSurrogate = (unit) => unit >= 0xd800 && unit <= 0xdfff;

/**
 * Order two strings by Unicode code point, as Python sorts str.
 * (Plain JS comparison uses UTF-16 code units, which differs for characters above
 * U+FFFF against characters in U+E000..U+FFFF.)
 */
export function compareCodePoints(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = isSurrogate(x);
    const ys = isSurrogate(y);
    // A surrogate starts a code point >= U+10000, above every BMP character.
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function encodeNumber(n) {
  if (!Number.isFinite(n)) throw new TypeError(`canonical JSON: ${n} is not allowed`);
  if (!Number.isInteger(n)) throw new TypeError(`canonical JSON: only integers are allowed, got ${n}`);
  if (Object.is(n, -0)) return "0";
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** The canonical JSON text of `value`; throws TypeError on non-JSON data or non-integers. */
export function canonicalJSON(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return encodeNumber(value);
    case "bigint":
      return value.toString();
    case "string":
      return quote(value);
    case "object": {
      if (Array.isArray(value)) return "[" + value.map(canonicalJSON).join(",") + "]";
      const keys = Object.keys(value).sort(compareCodePoints);
      const parts = keys.map((key) => quote(key) + ":" + canonicalJSON(value[key]));
      return "{" + parts.join(",") + "}";
    }
    default:
      throw new TypeError(`canonical JSON: cannot encode ${typeof value}`);
  }
}
