// Friendly wording for server error codes and close codes. Pure, importable in Node.

export const ERROR_MESSAGES = Object.freeze({
  bad_message: "The server did not understand that request. Please reload the page.",
  unknown_type: "This page is out of date with the server. Please reload.",
  hello_first: "Still connecting to the server. Try again in a moment.",
  bad_token: "Your saved session has expired, so you have a fresh one.",
  unknown_game: "That game is not available on this server.",
  unknown_match: "That match does not exist any more.",
  unknown_room: "No room with that code. Check the link, or ask your friend for a new one.",
  not_a_player: "You are not playing in this match, so you cannot do that.",
  not_your_turn: "Not your turn yet. Wait for your opponent to move.",
  illegal_move: "That move is not allowed. Try another one.",
  match_over: "This match is already over.",
  stale_version: "The board changed before your move arrived. Have another look.",
  already_queued: "You are already looking for a match.",
  rate_limited: "Slow down a little: too many actions at once.",
  unavailable: "The server is busy or restarting. Try again in a moment.",
});

/** A sentence a player can read for an `error` message (falls back to its text). */
export function friendlyError(error) {
  const code = error && error.code;
  if (code && Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, code)) return ERROR_MESSAGES[code];
  const text = error && typeof error.message === "string" ? error.message.trim() : "";
  return text ? `Something went wrong: ${text}` : "Something went wrong. Please try again.";
}

/** What to tell the player when the connection closed with `code`. */
export function closeMessage(code, reason = "") {
  switch (code) {
    case 4009:
      return "This game is open in another tab or window.";
    case 1008:
      return reason
        ? `The server closed the connection: ${reason}`
        : "The server closed the connection because of too many or unexpected messages.";
    case 1001:
      return "The server is going away for a moment.";
    case 1012:
      return "The server is restarting.";
    case 1009:
      return "A message was too big for the server.";
    case 1011:
      return "The server ran into a problem.";
    case 1013:
      return "The connection was too slow.";
    default:
      return "Connection lost.";
  }
}

/**
 * Why the server refused our `hello` (its `error`), and what to do: a name it does not
 * take (too long, nothing visible, a built-in bot's) is named as such; too many new
 * players from one address waits a moment.
 */
export function helloRefusedText(error) {
  if (error?.code === "rate_limited") {
    return "Too many new players from your network just now. Wait a minute, then try again.";
  }
  const detail = String(error?.message ?? "")
    .replace(/^name:\s*/i, "")
    .replace(/^value error,\s*/i, "")
    .trim();
  return `The server did not accept your name${detail ? ` (${detail})` : ""}. Pick another name.`;
}
