// The lobby screen: name, game, quick match / room / bot, the player's own live
// matches and the list of live matches to watch. Pure view: it reports what the
// person asked for through `handlers` and shows what it is told; it knows nothing
// of sockets or match state.

import { gameTitle } from "../describe.js";
import { NOT_A_ROOM_CODE, isRoomLink, normalRoomCode, roomCodeFrom } from "../links.js";
import { byTestId, h, nameEl, setText, setTextNames, timeAgo } from "./dom.js";

const LEVEL_LABELS = { random: "Random (beginner)", easy: "Easy", medium: "Medium", hard: "Hard" };

/**
 * handlers: onQuickMatch(game), onCancelQueue(), onCreateRoom(game), onJoinRoom(code),
 * onPlayBot(game, level), onWatch(matchId), onResume(matchId), onNameChange(name),
 * onGameChange(game), onLevelChange(level), onAcceptRematch(matchId), onDismissRematch(matchId)
 */
export function createLobby(root, handlers) {
  const $ = (id) => byTestId(root, id);
  const nameInput = $("name-input");
  const gameSelect = $("game-select");
  const levelSelect = $("bot-level-select");
  const quickButton = $("quick-match-button");
  const queueStatus = $("queue-status");
  const queueText = queueStatus.querySelector(".searching-text");
  const cancelButton = $("cancel-queue-button");
  const roomButton = $("create-room-button");
  const joinForm = root.querySelector("#join-form");
  const codeInput = $("room-code-input");
  const botButton = $("play-bot-button");
  const liveList = $("live-matches");
  const liveEmpty = $("live-empty");
  const liveCount = $("live-count");
  const mineCard = root.querySelector("#my-matches-card");
  const mineList = $("my-matches");
  const offersCard = root.querySelector("#rematch-offers-card");
  const offersList = $("rematch-offers");

  const name = () => nameInput.value.trim();
  const game = () => gameSelect.value;
  const startButtons = [quickButton, roomButton, botButton, $("join-room-button")];
  let busy = false; // a request to start something is on its way: one at a time
  const unlessBusy = (fn) => () => {
    if (!busy) fn();
  };

  root.querySelector("#setup-form")?.addEventListener("submit", (event) => event.preventDefault());
  const nameError = root.querySelector("#name-error");
  nameInput.addEventListener("change", () => {
    showNameError("");
    handlers.onNameChange?.(name());
  });
  nameInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") nameInput.blur();
  });
  gameSelect.addEventListener("change", () => handlers.onGameChange?.(game()));
  levelSelect.addEventListener("change", () => handlers.onLevelChange?.(levelSelect.value));
  quickButton.addEventListener("click", unlessBusy(() => handlers.onQuickMatch?.(game())));
  cancelButton.addEventListener("click", () => handlers.onCancelQueue?.());
  roomButton.addEventListener("click", unlessBusy(() => handlers.onCreateRoom?.(game())));
  botButton.addEventListener("click", unlessBusy(() => handlers.onPlayBot?.(game(), levelSelect.value)));
  // A pasted invite link becomes its code.
  const codeError = root.querySelector("#room-code-error");
  codeInput.addEventListener("input", () => {
    if (isRoomLink(codeInput.value)) codeInput.value = roomCodeFrom(codeInput.value);
    showCodeError("");
  });
  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = roomCodeFrom(codeInput.value);
    // Only a well-formed code goes to the server: anything else is answered here,
    // in words, rather than by the server's "did not understand that request".
    const code = normalRoomCode(typed);
    if (!code) {
      if (typed) showCodeError(NOT_A_ROOM_CODE);
      codeInput.focus();
      return;
    }
    showCodeError("");
    if (!busy) handlers.onJoinRoom?.(code);
  });

  function showNameError(text) {
    setText(nameError, text);
    nameError.hidden = !text;
    if (text) nameInput.setAttribute("aria-invalid", "true");
    else nameInput.removeAttribute("aria-invalid");
  }

  function showCodeError(text) {
    setText(codeError, text);
    codeError.hidden = !text;
    if (text) codeInput.setAttribute("aria-invalid", "true");
    else codeInput.removeAttribute("aria-invalid");
  }

  // Keyed list update: rows are reused so focus on a button survives a refresh.
  function syncList(list, items, key, build, update) {
    const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
    let previous = null;
    for (const item of items) {
      const k = String(key(item));
      let li = existing.get(k);
      if (li) existing.delete(k);
      else {
        li = build(item);
        li.dataset.key = k;
      }
      update(li, item);
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (li !== expected) list.insertBefore(li, expected);
      previous = li;
    }
    for (const li of existing.values()) li.remove();
  }

  function playerLabel(p) {
    return `${p.name || "Anonymous"}${p.bot || p.program ? " (bot)" : ""}`;
  }

  /** "A vs B" with each name isolated (bidi), rebuilt only when a name changes. */
  function showNames(el, players) {
    const key = JSON.stringify(players.map((p) => [p.name, Boolean(p.bot || p.program)]));
    if (el.dataset.textKey === key) return;
    el.dataset.textKey = key;
    const label = (p) => [nameEl(p.name || "Anonymous"), p.bot || p.program ? " (bot)" : ""];
    el.replaceChildren(...label(players[0]), " vs ", ...label(players[1]));
  }

  function gameIcon(gameId) {
    return h("span", { class: `game-icon game-${gameId}`, "aria-hidden": "true" });
  }

  return {
    getName: name,
    setName(value) {
      if (document.activeElement !== nameInput) nameInput.value = value ?? "";
    },
    getGame: game,
    getLevel: () => levelSelect.value,
    /** Say why a room code (typed, or in the page's address) cannot be joined; "" clears it. */
    showRoomCodeError: showCodeError,
    setRoomCode(code) {
      codeInput.value = code;
      showCodeError("");
    },
    /** The server did not take the name: say why (under the field) and put the focus there. */
    showNameError(text) {
      showNameError(text);
      if (text) {
        nameInput.focus();
        nameInput.select();
      }
    },

    /** games: [{id, title}], levels: ["random", ...] */
    setGames(games, levels, { game: wanted, level } = {}) {
      const keepGame = wanted ?? game();
      gameSelect.replaceChildren(...games.map((g) => h("option", { value: g.id }, g.title ?? gameTitle(g.id))));
      if (games.some((g) => g.id === keepGame)) gameSelect.value = keepGame;
      const keepLevel = level ?? levelSelect.value;
      if (levels?.length) {
        levelSelect.replaceChildren(...levels.map((l) => h("option", { value: l }, LEVEL_LABELS[l] ?? l)));
        levelSelect.value = levels.includes(keepLevel) ? keepLevel : levels[Math.min(1, levels.length - 1)];
      }
    },

    /** null, or {game} while searching */
    setQueue(queue) {
      const searching = Boolean(queue);
      quickButton.hidden = searching;
      queueStatus.hidden = !searching;
      root.querySelector(".mode-quick .mode-actions").dataset.queue = searching ? "searching" : "idle";
      if (searching) setText(queueText, `Looking for a ${gameTitle(queue.game)} opponent…`);
    },

    /** true while a request to start a match is on its way: the start buttons wait */
    setBusy(value) {
      busy = Boolean(value);
      for (const button of [...startButtons, ...offersList.querySelectorAll('[data-testid="accept-rematch-button"]')]) {
        button.setAttribute("aria-disabled", String(busy));
      }
      root.dataset.busy = String(busy);
    },

    /** matches from GET /api/matches (its first page); total: how many are live in all;
     * error: text to show instead */
    setLive(matches, { error = "", now = Date.now(), total = undefined } = {}) {
      const live = (matches ?? []).filter((m) => m.status !== "waiting");
      syncList(
        liveList,
        live,
        (m) => m.id,
        (m) =>
          h(
            "li",
            { class: "match-item", dataset: { testid: "live-match", matchId: m.id } },
            gameIcon(m.game),
            h("div", { class: "match-text" }, h("div", { class: "match-names" }), h("div", { class: "match-meta" })),
            h("button", { type: "button", class: "btn small", dataset: { testid: "watch-button" }, onclick: () => handlers.onWatch?.(m.id) }, "Watch"),
          ),
        (li, m) => {
          const players = m.players ?? [];
          const names = `${playerLabel(players[0] ?? {})} vs ${playerLabel(players[1] ?? {})}`;
          showNames(li.querySelector(".match-names"), [players[0] ?? {}, players[1] ?? {}]);
          const bits = [gameTitle(m.game), `${m.moves ?? 0} move${m.moves === 1 ? "" : "s"}`];
          if (m.watchers) bits.push(`${m.watchers} watching`);
          if (m.status === "finished") bits.push("finished");
          else if (m.started_at) bits.push(`started ${timeAgo(now - m.started_at)}`);
          setText(li.querySelector(".match-meta"), bits.join(" · "));
          li.dataset.status = m.status ?? "";
          li.querySelector(".game-icon").className = `game-icon game-${m.game}`;
          li.querySelector("button").setAttribute("aria-label", `Watch ${names}, ${gameTitle(m.game)}`);
        },
      );
      liveEmpty.hidden = live.length > 0;
      setText(liveEmpty, error || "No one is playing right now. Start a match and others can watch!");
      // more than the page shows are live: say how many (the list is a snapshot at most
      // a moment old, so it is only trusted while the page is not empty)
      const playing = live.length ? Math.max(live.length, total ?? 0) : 0;
      setText(liveCount, playing ? `${playing} playing` : "");
    },

    /** [{id, game, status, opponent, yourTurn}] — the player's own unfinished matches */
    setMine(matches) {
      mineCard.hidden = matches.length === 0;
      syncList(
        mineList,
        matches,
        (m) => m.id,
        (m) =>
          h(
            "li",
            { class: "match-item mine", dataset: { testid: "my-match", matchId: m.id } },
            gameIcon(m.game),
            h("div", { class: "match-text" }, h("div", { class: "match-names" }), h("div", { class: "match-meta" })),
            h("button", { type: "button", class: "btn primary small", dataset: { testid: "resume-button" }, onclick: () => handlers.onResume?.(m.id) }, "Resume"),
          ),
        (li, m) => {
          const names = li.querySelector(".match-names");
          if (m.status === "waiting") setTextNames(names, "Private room — waiting for a friend");
          else setTextNames(names, `You vs ${m.opponent}`, [m.opponent]);
          setText(li.querySelector(".match-meta"), `${gameTitle(m.game)} · ${m.status === "waiting" ? "waiting" : m.yourTurn ? "your turn" : "their turn"}`);
          li.classList.toggle("your-turn", Boolean(m.yourTurn));
          li.querySelector(".game-icon").className = `game-icon game-${m.game}`;
        },
      );
    },

    /** [{id, game, gameTitle, opponent, text}]: rematch offers for finished matches not on screen */
    setOffers(offers) {
      offersCard.hidden = offers.length === 0;
      syncList(
        offersList,
        offers,
        (o) => o.id,
        (o) =>
          h(
            "li",
            { class: "match-item offer", dataset: { testid: "rematch-offer", matchId: o.id } },
            gameIcon(o.game),
            h("div", { class: "match-text" }, h("div", { class: "match-names" }), h("div", { class: "match-meta" })),
            h("button", { type: "button", class: "btn primary small", dataset: { testid: "accept-rematch-button" }, onclick: unlessBusy(() => handlers.onAcceptRematch?.(o.id)) }, "Accept"),
            h("button", { type: "button", class: "btn ghost small", dataset: { testid: "dismiss-rematch-button" }, onclick: () => handlers.onDismissRematch?.(o.id) }, "Dismiss"),
          ),
        (li, o) => {
          setTextNames(li.querySelector(".match-names"), o.text, [o.opponent]);
          setText(li.querySelector(".match-meta"), o.gameTitle);
          li.querySelector(".game-icon").className = `game-icon game-${o.game}`;
          const [accept, dismiss] = li.querySelectorAll("button");
          accept.setAttribute("aria-disabled", String(busy));
          accept.setAttribute("aria-label", `Accept the rematch ${o.opponent} offers, ${o.gameTitle}`);
          dismiss.setAttribute("aria-label", `Dismiss the rematch ${o.opponent} offers`);
        },
      );
    },

    show() {
      root.hidden = false;
    },
    hide() {
      root.hidden = true;
    },
  };
}
