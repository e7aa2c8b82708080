// The admin page's words: pure functions of the admin API's answers, no DOM.

/** "Ada (json, 127.0.0.1)", "Hard bot (bot)", "Bob (offline, grace 0:21)", "(empty seat)" */
export function seatText(seat, now = Date.now()) {
  if (!seat) return "(empty seat)";
  if (seat.bot) return `${seat.name} (bot)`;
  const conn = seat.connection;
  if (!seat.online) {
    const grace = seat.grace ? `, grace ${countdown(seat.grace - now)}` : "";
    return `${seat.name} (offline${grace})`;
  }
  return conn ? `${seat.name} (${conn.codec}, ${conn.address})` : `${seat.name} (online)`;
}

/** "1:05"; "0:00" once passed; "–" without a deadline. */
export function countdown(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

/** "Seat 1 (Bob) wins: adjudicated", "Aborted", "Draw: adjudicated". */
export function resultText(result, players = []) {
  if (!result) return "";
  if (result.reason === "aborted") return "Aborted";
  if (result.winner === null || result.winner === undefined) return `Draw: ${result.reason}`;
  const name = players[result.winner]?.name;
  return `Seat ${result.winner}${name ? ` (${name})` : ""} wins: ${result.reason}`;
}

/**
 * The ways an operator may end a match (values for the end form): abort always;
 * adjudicate to a seat or as a draw only once both seats are taken and play is on.
 */
export function endChoices(summary) {
  const choices = [{ value: "aborted", label: "Abort (no result)" }];
  if (summary?.status !== "active") return choices;
  for (const seat of [0, 1]) {
    const name = summary.players?.[seat]?.name || `seat ${seat}`;
    choices.push({ value: `adjudicated:${seat}`, label: `Adjudicate: ${name} (seat ${seat}) wins` });
  }
  choices.push({ value: "adjudicated:draw", label: "Adjudicate: a draw" });
  return choices;
}

/** An end choice's value as the API's {result, winner}. */
export function parseEndChoice(value) {
  if (value === "aborted") return { result: "aborted", winner: null };
  const [result, seat] = String(value).split(":");
  if (result !== "adjudicated") throw new Error(`not an end choice: ${value}`);
  return { result, winner: seat === "draw" ? null : Number(seat) };
}

/** "ab12…" for long ids in narrow cells; the full id stays in a title. */
export function shortId(id, keep = 8) {
  const text = String(id ?? "");
  return text.length > keep + 1 ? `${text.slice(0, keep)}…` : text;
}
