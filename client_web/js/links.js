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
