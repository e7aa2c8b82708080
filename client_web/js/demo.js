// DEV ONLY: `?demo=connect4` / `?demo=tictactoe` (optionally `&state=active|finished|waiting|watch`)
// renders a sample match without a server, and `?demo=lobby` a sample lobby, so the
// look can be checked (screenshots) before the server exists. Moves in the demo are
// applied locally with no rules beyond gravity; nothing is sent anywhere.

import { landingRow } from "./describe.js";
import { createLobby } from "./ui/lobby.js";
import { createMatchScreen } from "./ui/match.js";

const now = Date.now();

function sampleView(game, state) {
  const players = [
    { name: "Ada", online: true, bot: false, grace: null },
    { name: "Grace", online: state !== "active", bot: false, grace: state === "active" ? now + 41000 : null },
  ];
  const base = { game, status: "active", turn: 0, you: 0, players, deadline: now + 23000, watchers: 3, result: null, rematch: [false, false] };
  if (game === "tictactoe") {
    const moves = state === "finished" ? [4, 0, 2, 6, 3, 5, 1, 7, 8] : [4, 0, 2, 6];
    const board = Array(9).fill(null);
    moves.forEach((m, i) => (board[m] = i % 2));
    const view = { ...base, board, moves, legal: board.flatMap((v, i) => (v === null ? [i] : [])) };
    if (state === "finished") {
      view.board = [0, 1, null, 1, 0, null, null, null, 0];
      view.moves = [4, 1, 0, 3, 8];
      view.result = { winner: 0, reason: "line", line: [0, 4, 8] };
    }
    return finish(view, state);
  }
  const moves = state === "finished" ? [3, 3, 4, 4, 2, 2, 5] : [3, 3, 4, 2, 2, 4, 5, 3];
  const board = Array(42).fill(null);
  moves.forEach((col, i) => {
    const row = landingRow(board, col);
    board[row * 7 + col] = i % 2;
  });
  const view = { ...base, board, moves, legal: [0, 1, 2, 3, 4, 5, 6] };
  if (state === "finished") {
    view.result = { winner: 0, reason: "line", line: lineOf(board) };
  }
  return finish(view, state);
}

function lineOf(board) {
  // Any four in a row for seat 0 (so the sample banner highlights something real).
  const dirs = [[0, 1], [1, 0], [1, 1], [1, -1]];
  for (let r = 0; r < 6; r++)
    for (let c = 0; c < 7; c++)
      for (const [dr, dc] of dirs) {
        const cells = [0, 1, 2, 3].map((k) => [r + dr * k, c + dc * k]);
        if (cells.every(([rr, cc]) => rr >= 0 && rr < 6 && cc >= 0 && cc < 7 && board[rr * 7 + cc] === 0)) {
          return cells.map(([rr, cc]) => rr * 7 + cc);
        }
      }
  return [];
}

function finish(view, state) {
  if (state === "finished") {
    return { ...view, status: "finished", turn: null, legal: [], deadline: null, rematch: [false, true] };
  }
  if (state === "waiting") {
    return { ...view, status: "waiting", turn: null, legal: [], deadline: null, board: view.board.map(() => null), moves: [], players: [view.players[0]], watchers: 0 };
  }
  if (state === "watch") return { ...view, you: null, legal: [] };
  return view;
}

export function start(params, { toast, announce }) {
  const kind = params.get("demo");
  const pill = document.querySelector('[data-testid="connection-status"]');
  pill.dataset.state = "demo";
  pill.querySelector(".conn-text").textContent = "Demo";

  if (kind === "lobby") {
    const lobby = createLobby(document.getElementById("lobby"), {});
    lobby.setName("Ada");
    lobby.setLive([
      { id: "m1", game: "connect4", status: "active", players: [{ name: "Grace", bot: false }, { name: "Alan", bot: false }], moves: 17, watchers: 4, started_at: now - 260000 },
      { id: "m2", game: "tictactoe", status: "active", players: [{ name: "Linus", bot: false }, { name: "Bot", bot: true }], moves: 3, watchers: 0, started_at: now - 40000 },
      { id: "m3", game: "connect4", status: "active", players: [{ name: "Barbara", bot: false }, { name: "Ken", bot: false }], moves: 6, watchers: 1, started_at: now - 90000 },
    ]);
    lobby.setMine([{ id: "m9", game: "connect4", status: "active", opponent: "Grace", yourTurn: true }]);
    if (params.get("state") === "searching") lobby.setQueue({ game: "connect4" });
    return;
  }

  const game = kind === "tictactoe" ? "tictactoe" : "connect4";
  const state = params.get("state") ?? "active";
  let view = sampleView(game, state);
  let version = view.moves.length + 1;
  document.getElementById("lobby").hidden = true;
  const screen = createMatchScreen(
    document.getElementById("match"),
    {
      onMove(move) {
        const board = view.board.slice();
        const cell = game === "connect4" ? landingRow(board, move) * 7 + move : move;
        board[cell] = view.turn;
        const turn = 1 - view.turn;
        const legal = game === "connect4" ? [0, 1, 2, 3, 4, 5, 6].filter((c) => landingRow(board, c) >= 0) : board.flatMap((v, i) => (v === null ? [i] : []));
        view = { ...view, board, moves: [...view.moves, move], turn, you: turn, legal, deadline: Date.now() + 30000 };
        version += 1;
        draw();
      },
      onResign: () => toast("Demo: resign would be sent.", { kind: "info" }),
      onRematch: () => toast("Demo: rematch would be sent.", { kind: "info" }),
      onLobby: () => location.assign("?demo=lobby"),
      notify: (text, k) => toast(text, { kind: k }),
    },
    announce,
  );
  const draw = () =>
    screen.update({
      matchId: "demo",
      version,
      view,
      room: state === "waiting" ? { code: "K7QX2", link: `${location.origin}${location.pathname}?room=K7QX2` } : null,
      connected: true,
      syncing: false,
      pending: false,
      serverNow: () => Date.now(),
    });
  screen.show();
  draw();
  if (params.get("toast")) toast("Not your turn yet. Wait for your opponent to move.", { kind: "error" });
}
