// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the same as zlib.crc32.
// Pure: no DOM, importable in Node.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8(text) {
  return encoder.encode(text);
}

/**
 * CRC-32 of bytes (Uint8Array / array of byte values) or of a string's UTF-8 bytes,
 * as an unsigned 32-bit integer. `previous` continues a running checksum.
 */
export function crc32(data, previous = 0) {
  const bytes = typeof data === "string" ? utf8(data) : data;
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
