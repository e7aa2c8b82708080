// Room links: the invite link of a room code, and the code inside whatever a person
// pastes into "Have a code?" (the code itself, or the whole invite link). Pure.

const ROOM_PARAM = /[?&#]room=([^&#\s]*)/i;

/** The invite link of `code` on this page: `origin + pathname + ?room=CODE`. */
export function roomLink(code, { origin, pathname = "/" }) {
  const url = new URL(pathname, origin);
  url.searchParams.set("room", code);
  return url.href;
}

/**
 * The room code in `text`: the `room` parameter of a pasted link
 * (`http://host/?room=CODE`, `/?room=CODE`, `?room=CODE`), else the text itself,
 * trimmed. "" when there is none.
 */
export function roomCodeFrom(text) {
  const value = String(text ?? "").trim();
  const found = ROOM_PARAM.exec(value);
  if (!found) return value;
  try {
    return decodeURIComponent(found[1].replace(/\+/g, " ")).trim();
  } catch {
    return found[1].trim(); // a malformed escape: take it as written
  }
}

/** Whether `text` looks like a pasted link rather than a typed code. */
export function isRoomLink(text) {
  return ROOM_PARAM.test(String(text ?? ""));
}

// The server's room codes (game/core/lobby.py): 6 characters of an alphabet without
// look-alikes (no I, L, O, 0, 1). It compares them trimmed and in capitals.
const ROOM_CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/;

/** `text` as a room code (trimmed, in capitals), or null if it cannot be one. */
export function normalRoomCode(text) {
  const code = String(text ?? "").trim().toUpperCase();
  return ROOM_CODE.test(code) ? code : null;
}

export const NOT_A_ROOM_CODE =
  "That is not a room code. A room code is 6 letters and digits, like K7MPQ2: check the link, or ask your friend for a new one.";
