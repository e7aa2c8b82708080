// The match screen: players, turn and countdowns, the board (through the game's
// renderer), result banner, resign / rematch / lobby, room invite, spectator info.
// Pure view: it is given a model and reports intents through handlers; it never
// talks to the connection or the match store. It also words screen-reader
// announcements by comparing each view with the one shown before.

import {
  blockedMoveText,
  describeMove,
  formatCountdown,
  gameTitle,
  isEmptySeat,
  playerName,
  rematchState,
  resultText,
  seatLabel,
  statusText,
} from "../describe.js";
import { onGamesRegistered } from "../gamemeta.js";
import { loadRenderer, rendererFor } from "../render/index.js";
import { byTestId, setText, setTextNames } from "./dom.js";

/** The players' names in `view`, to isolate (bidi) wherever a sentence shows them. */
function namesIn(view) {
  return [0, 1].map((seat) => view.players?.[seat]?.name).filter(Boolean);
}

/** End a phrase with a full stop unless it already has one. */
function sentence(text) {
  return !text || /[.!?…]$/.test(text) ? text : `${text}.`;
}

/**
 * The player in `seat`, or null while the seat is empty. The server fills the empty
 * seat of a room (waiting, or closed before anyone joined) with a placeholder
 * ({name: "", online: false, bot: false, grace: null}), which is nobody, not a player
 * who lost connection.
 */
function seated(view, seat) {
  const p = view.players?.[seat];
  if (!p) return null;
  return view.status !== "active" && isEmptySeat(view, seat) ? null : p;
}

/**
 * handlers: onMove(move), onResign(), onCancelRoom(), onRematch(), onLobby(), notify(text, kind)
 * announce: (text) => void, for the polite live region
 */
export function createMatchScreen(root, handlers, announce = () => {}) {
  const $ = (id) => byTestId(root, id);
  const boardContainer = root.querySelector("#board-container");
  const title = root.querySelector("#match-title");
  const statusLine = $("status-line");
  const countdown = $("turn-countdown");
  const timebar = root.querySelector(".timebar");
  const timebarFill = timebar.querySelector("i");
  const watchers = $("watcher-count");
  const watchersText = watchers.querySelector(".watchers-text");
  const spectatorNote = $("spectator-badge");
  const opponent = $("opponent-online");
  const opponentText = opponent.querySelector(".opponent-text");
  const grace = $("grace-countdown");
  const invite = $("room-invite");
  const roomCode = $("room-code");
  const roomLink = $("room-link");
  const copyButton = $("copy-room-link");
  const banner = $("result-banner");
  const resignButton = $("resign-button");
  const cancelRoomButton = $("cancel-room-button");
  const rematchButton = $("rematch-button");
  const rematchNote = $("rematch-note");
  const replayLink = $("match-replay-link");
  const dialog = document.getElementById("resign-dialog");
  const cards = [0, 1].map((seat) => root.querySelector(`.player[data-seat="${seat}"]`));

  const hint = $("board-hint");
  let hintTimer = null;
  let model = null; // last model shown
  let ticker = null;
  let turnClock = { deadline: null, total: 0 };
  let focusBoard = false; // focus() came before the board's renderer had loaded

  // The server's words for a game arrived: say it again with them.
  onGamesRegistered(() => {
    if (model) update(model);
  });

  // --- intents ------------------------------------------------------------
  $("lobby-button").addEventListener("click", () => handlers.onLobby?.());
  $("back-button").addEventListener("click", () => handlers.onLobby?.());
  rematchButton.addEventListener("click", () => {
    if (rematchButton.getAttribute("aria-disabled") !== "true") handlers.onRematch?.();
  });
  resignButton.addEventListener("click", () => {
    if (typeof dialog?.showModal === "function") {
      dialog.returnValue = "";
      dialog.showModal();
    } else if (globalThis.confirm?.("Resign this match? Your opponent will be given the win.")) {
      handlers.onResign?.();
    }
  });
  cancelRoomButton.addEventListener("click", () => handlers.onCancelRoom?.());
  dialog?.addEventListener("close", () => {
    if (dialog.returnValue === "resign") handlers.onResign?.();
    dialog.returnValue = "";
  });
  copyButton.addEventListener("click", async () => {
    const link = roomLink.value;
    try {
      await navigator.clipboard.writeText(link);
      handlers.notify?.("Link copied. Send it to a friend!", "success");
    } catch {
      roomLink.focus();
      roomLink.select();
      handlers.notify?.("Select the link and copy it (Ctrl+C / long press).", "info");
    }
    copyButton.textContent = "Copied!";
    setTimeout(() => (copyButton.textContent = "Copy link"), 1800);
  });
  roomLink.addEventListener("focus", () => roomLink.select());

  // A click on the board that plays nothing says why, briefly, by the board (and sends nothing).
  function onBlocked(move) {
    if (!model) return;
    const text = blockedMoveText(model.view, move, model);
    if (!text) return;
    setTextNames(hint, text, namesIn(model.view));
    hint.hidden = false;
    hint.classList.remove("show");
    void hint.offsetWidth; // restart the fade-in on a repeated click
    hint.classList.add("show");
    clearTimeout(hintTimer);
    hintTimer = setTimeout(hideHint, 2200);
  }

  function hideHint() {
    clearTimeout(hintTimer);
    hint.hidden = true;
    hint.classList.remove("show");
  }

  // --- countdowns -----------------------------------------------------------
  function tick() {
    if (!model) return;
    const { view } = model;
    const now = model.serverNow();
    const active = view.status === "active" && typeof view.deadline === "number";
    countdown.hidden = !active;
    timebar.hidden = !active;
    if (active) {
      if (turnClock.deadline !== view.deadline) {
        turnClock = { deadline: view.deadline, total: Math.max(1000, view.deadline - now) };
      }
      const left = view.deadline - now;
      setText(countdown, formatCountdown(left));
      countdown.dataset.remainingMs = String(Math.max(0, Math.round(left)));
      countdown.classList.toggle("urgent", left <= 10000);
      countdown.setAttribute("aria-label", `${formatCountdown(left)} left for this turn`);
      const fraction = Math.max(0, Math.min(1, left / turnClock.total));
      timebarFill.style.transform = `scaleX(${fraction})`;
      timebar.classList.toggle("urgent", left <= 10000);
    } else {
      countdown.classList.remove("urgent");
      delete countdown.dataset.remainingMs;
    }
    // Grace countdowns of dropped players.
    view.players?.forEach((_, seat) => {
      const text = cards[seat]?.querySelector(".presence-text");
      if (!text) return;
      setText(text, presenceText(view, seat, now));
    });
    const opp = opponentSeat(view);
    if (opp !== null) {
      const p = seated(view, opp);
      const left = p && typeof p.grace === "number" ? p.grace - now : null;
      setText(grace, left !== null && !p.online ? `${formatCountdown(left)} to come back` : "");
      if (left !== null) grace.dataset.remainingMs = String(Math.max(0, Math.round(left)));
      else delete grace.dataset.remainingMs;
    }
  }

  function startTicker() {
    if (ticker === null) ticker = setInterval(tick, 250);
  }
  function stopTicker() {
    if (ticker !== null) clearInterval(ticker);
    ticker = null;
  }

  // --- rendering ------------------------------------------------------------
  function isSeat(v) {
    return v === 0 || v === 1;
  }

  function opponentSeat(view) {
    return isSeat(view.you) ? 1 - view.you : null;
  }

  function presenceText(view, seat, now) {
    const p = seated(view, seat);
    if (!p) return "";
    if (p.bot) return "";
    if (p.online) return "online";
    if (typeof p.grace === "number") return `offline · ${formatCountdown(p.grace - now)}`;
    return "offline";
  }

  function renderPlayers(view, now) {
    cards.forEach((card, seat) => {
      const p = seated(view, seat);
      const you = view.you === seat;
      card.hidden = !p && view.status === "active";
      const name = p ? playerName(view, seat) : view.status === "waiting" ? "Waiting for a player…" : "No one joined";
      const nameEl = card.querySelector(".player-name");
      // <bdi>: the name is a bidi isolate, so it cannot reorder the tags beside it
      nameEl.replaceChildren(Object.assign(document.createElement("bdi"), { className: "name-text", textContent: name }));
      if (you) nameEl.append(Object.assign(document.createElement("span"), { className: "you-tag", textContent: "you" }));
      // `program`: a bot program (hello.bot), shown as a bot though it is online like a person
      if (p?.bot || p?.program) nameEl.append(Object.assign(document.createElement("span"), { className: "bot-tag", textContent: "bot" }));
      card.dataset.online = p ? String(Boolean(p.online)) : "false";
      card.dataset.bot = String(Boolean(p?.bot));
      card.classList.toggle("empty", !p);
      card.classList.toggle("is-you", you);
      card.classList.toggle("is-turn", view.status === "active" && view.turn === seat);
      card.classList.toggle("winner", view.status === "finished" && view.result?.winner === seat);
      card.classList.toggle("offline", Boolean(p) && !p.online && !p.bot);
      const label = `${seatLabel(view.game, seat)}: ${name}${you ? " (you)" : ""}${p?.bot || p?.program ? ", bot" : ""}${
        view.status === "active" && view.turn === seat ? ", to move" : ""
      }`;
      card.setAttribute("aria-label", label);
      setText(card.querySelector(".presence-text"), presenceText(view, seat, now));
    });
  }

  function renderOpponent(view) {
    const opp = opponentSeat(view);
    const p = opp === null ? null : seated(view, opp);
    const online = !p || Boolean(p.online) || Boolean(p.bot);
    opponent.dataset.online = String(online);
    opponent.hidden = !p || online || view.status === "finished";
    if (p) setTextNames(opponentText, `${playerName(view, opp)} ${online ? "is online" : "lost connection"}`, namesIn(view));
  }

  function renderResult(view) {
    const finished = view.status === "finished" && view.result;
    banner.hidden = !finished;
    if (!finished) {
      banner.dataset.outcome = "";
      banner.dataset.reason = "";
      return;
    }
    const r = resultText(view);
    banner.dataset.outcome = r.outcome;
    banner.dataset.reason = view.result.reason ?? "";
    banner.dataset.winner = isSeat(view.result.winner) ? String(view.result.winner) : "";
    setTextNames(banner.querySelector(".result-title"), r.title, namesIn(view));
    setTextNames(banner.querySelector(".result-detail"), r.detail, namesIn(view));
  }

  function renderActions(view, m) {
    const player = isSeat(view.you);
    resignButton.hidden = !(player && view.status === "active");
    cancelRoomButton.hidden = !(player && view.status === "waiting");
    const rs = rematchState(view);
    // No rematch with nobody: a room that closed before anyone joined.
    rematchButton.hidden = !(player && view.status === "finished" && !isEmptySeat(view, 1 - view.you));
    setText(rematchButton, rs.label);
    rematchButton.setAttribute("aria-pressed", String(rs.pressed));
    rematchButton.setAttribute("aria-disabled", String(rs.disabled || !m.connected));
    rematchButton.dataset.state = rs.pressed ? "offered" : rs.label === "Accept rematch" ? "incoming" : "idle";
    setTextNames(rematchNote, player && view.status === "finished" ? rs.note : "", namesIn(view));
    // a finished match with moves can be replayed (pages/replay.js); its link is shareable
    replayLink.hidden = !(view.status === "finished" && view.moves?.length);
    replayLink.setAttribute("href", `./?replay=${encodeURIComponent(m.matchId)}`);
  }

  function renderInvite(view, m) {
    const show = view.status === "waiting" && Boolean(m.room);
    invite.hidden = !show;
    if (show) {
      setText(roomCode, m.room.code);
      if (roomLink.value !== m.room.link) roomLink.value = m.room.link;
    }
  }

  function renderStatus(view, m) {
    let text = statusText(view);
    if (view.status === "active") {
      if (!m.connected) text = m.offline || "Reconnecting…";
      else if (m.syncing) text = "Catching up…";
      else if (m.pending) text = "Sending your move…";
    }
    setTextNames(statusLine, text, namesIn(view));
    let turn = "";
    if (view.status === "active") turn = view.turn === view.you ? "you" : isSeat(view.you) ? "opponent" : "other";
    statusLine.dataset.turn = turn;
    statusLine.dataset.connection = m.connected ? "online" : "offline";
  }

  function announceChanges(prev, view) {
    const lines = [];
    if (prev.status === "waiting" && view.status === "active") {
      lines.push(`${playerName(view, opponentSeat(view) ?? 1)} joined. The match begins.`);
    }
    const before = prev.moves?.length ?? 0;
    const after = view.moves?.length ?? 0;
    for (let i = Math.max(before, after - 2); i < after; i++) lines.push(describeMove(view, i));
    view.players?.forEach((_, seat) => {
      const p = seated(view, seat);
      const q = seated(prev, seat);
      if (!p || !q || p.bot || seat === view.you) return;
      if (q.online && !p.online) lines.push(`${playerName(view, seat)} lost connection.`);
      if (!q.online && p.online) lines.push(`${playerName(view, seat)} is back.`);
    });
    if (view.status === "finished" && prev.status !== "finished") {
      const r = resultText(view);
      lines.push(sentence(r.title), sentence(r.detail));
    } else if (view.status === "active" && view.turn === view.you && isSeat(view.you) && (prev.turn !== view.turn || prev.status !== "active")) {
      lines.push("Your turn.");
    }
    const opp = opponentSeat(view);
    if (opp !== null && view.rematch?.[opp] && !prev.rematch?.[opp]) lines.push(`${playerName(view, opp)} wants a rematch.`);
    if (lines.length) announce(lines.filter(Boolean).join(" "));
  }

  function introduce(view) {
    const game = gameTitle(view.game);
    if (!isSeat(view.you)) {
      return `Watching ${game}: ${playerName(view, 0)} (${seatLabel(view.game, 0)}) against ${playerName(view, 1)} (${seatLabel(view.game, 1)}). ${sentence(statusText(view))}`;
    }
    if (view.status === "waiting") return `${game} room created. Waiting for a friend to join.`;
    const opp = 1 - view.you;
    return `${game}: you play ${seatLabel(view.game, view.you)} against ${playerName(view, opp)}. ${sentence(statusText(view))}`;
  }

  /**
   * model: { matchId, version, view, room: {code, link} | null, connected, syncing,
   *          pending, serverNow: () => ms }
   */
  function update(next) {
    const prev = model;
    const switched = !prev || prev.matchId !== next.matchId;
    model = next;
    const { view } = next;
    const now = next.serverNow();
    const role = isSeat(view.you) ? "player" : "spectator";

    root.dataset.matchId = String(next.matchId);
    root.dataset.version = String(next.version);
    root.dataset.status = view.status;
    root.dataset.role = role;
    root.dataset.game = view.game;
    root.dataset.you = isSeat(view.you) ? String(view.you) : "";
    root.dataset.turn = view.turn === null || view.turn === undefined ? "" : String(view.turn);

    setText(title, gameTitle(view.game));
    spectatorNote.hidden = role !== "spectator";
    const count = view.watchers ?? 0;
    watchers.dataset.count = String(count);
    watchers.hidden = role === "player" && count === 0;
    setText(watchersText, `${count} watching`);

    renderPlayers(view, now);
    renderOpponent(view);
    renderStatus(view, next);
    renderInvite(view, next);
    renderResult(view);
    renderActions(view, next);

    if (switched) boardContainer.replaceChildren();
    // the hint was about a turn (or a match) that is over
    if (switched || prev.view.turn !== view.turn || prev.view.status !== view.status) hideHint();
    const renderer = rendererFor(view.game);
    const canPlay =
      role === "player" && view.status === "active" && view.turn === view.you && next.connected && !next.syncing && !next.pending;
    if (renderer) {
      renderer.render(boardContainer, view, { onMove: (move) => handlers.onMove?.(move), onBlocked, canPlay, animate: !switched });
      if (focusBoard && (document.activeElement === title || document.activeElement === document.body)) focusNow();
      focusBoard = false;
    } else {
      // the game's renderer loads on first use: draw this model again once it has
      boardContainer.textContent = "Loading the board…";
      loadRenderer(view.game).then(() => {
        if (model === next) update(next);
      });
    }
    boardContainer.dataset.canPlay = String(canPlay && renderer !== null);

    const yourTurn = canPlay || (role === "player" && view.status === "active" && view.turn === view.you);
    document.title = `${yourTurn ? "● Your turn · " : ""}${gameTitle(view.game)} · Playroom`;

    if (switched) announce(introduce(view));
    else if (prev.view !== view) announceChanges(prev.view, view);
    tick();
  }

  function focusNow() {
    const renderer = model && rendererFor(model.view.game);
    if (renderer && isSeat(model.view.you) && model.view.status === "active") renderer.focus(boardContainer);
    else {
      title.tabIndex = -1;
      title.focus();
    }
  }

  return {
    update,
    get matchId() {
      return model ? model.matchId : null;
    },
    show() {
      root.hidden = false;
      startTicker();
    },
    hide() {
      root.hidden = true;
      stopTicker();
      if (dialog?.open) dialog.close();
      model = null;
      focusBoard = false;
      hideHint();
      boardContainer.replaceChildren();
      document.title = "Playroom · Tic-tac-toe & Connect Four";
    },
    /** Put keyboard focus on the board (players) or the heading (spectators). */
    focus() {
      focusBoard = Boolean(model) && !rendererFor(model.view.game);
      focusNow();
    },
  };
}
