import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32, utf8 } from "../js/crc32.js";

test("known CRC-32 vectors (values from Python zlib.crc32)", () => {
  assert.equal(crc32("123456789"), 0xcbf43926);
  assert.equal(crc32(""), 0);
  assert.equal(crc32("a"), 0xe8b7be43);
  assert.equal(crc32("The quick brown fox jumps over the lazy dog"), 0x414fa339);
});

test("result is an unsigned 32-bit integer", () => {
  const value = crc32("123456789"); // 0xCBF43926
  assert.ok(value > 0x7fffffff, "this vector has the top bit set");
  assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff);
});

test("strings are hashed as UTF-8 bytes", () => {
  // python3 -c "import zlib; print(zlib.crc32('Zoë ✓ 😀'.encode()))" -> 448971453
  assert.equal(crc32("Zoë ✓ 😀"), 448971453);
  assert.equal(crc32(utf8("Zoë ✓ 😀")), 448971453);
  assert.deepEqual([...utf8("é")], [0xc3, 0xa9]);
});

test("bytes and running checksums", () => {
  const bytes = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
  assert.equal(crc32(bytes), 0xcbf43926);
  assert.equal(crc32("6789", crc32("12345")), 0xcbf43926);
});
