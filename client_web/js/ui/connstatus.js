// The connection's pill (top bar) and banner (reconnect countdown, "Use this tab",
// "Reconnect"). Pure view: it shows the state it is given and reports the button
// through `onReconnect`; it knows nothing of sockets. While the server restarts (the
// state's `restarting`) it says so calmly: no error wording, no countdown, no button.

import { State } from "../connection.js";
import { closeMessage, helloRefusedText } from "../errors.js";

export const RESTARTING_TEXT = "The server is restarting. Reconnecting…";

/**
 * pill: the `connection-status` element; banner: the `connection-banner` element.
 * onReconnect(): the banner's button. retryAt(): epoch ms of the next attempt.
 */
export function createConnectionStatus(pill, banner, { onReconnect, retryAt }) {
  const pillText = pill.querySelector(".conn-text");
  const bannerText = banner.querySelector(".conn-banner-text");
  const bannerButton = banner.querySelector('[data-testid="reconnect-button"]');
  let bannerTimer = null;
  let lastClose = null;

  bannerButton.addEventListener("click", () => onReconnect());

  const setPill = (text) => (pillText.textContent = text);

  function showButton(label) {
    bannerButton.textContent = label;
    bannerButton.hidden = false;
  }

  function showWaiting(info, everReady) {
    setPill("Offline");
    const why = closeMessage(info.code, info.reason);
    const update = () => {
      const seconds = Math.max(0, Math.ceil((retryAt() - Date.now()) / 1000));
      bannerText.textContent = `${why} Reconnecting${seconds ? ` in ${seconds} s` : ""}…`;
    };
    update();
    bannerTimer = setInterval(update, 500);
    showButton("Reconnect now");
    banner.hidden = !everReady && info.attempt === 0;
  }

  function showStopped(pillLabel, text, buttonLabel) {
    setPill(pillLabel);
    bannerText.textContent = text;
    showButton(buttonLabel);
    banner.hidden = false;
  }

  function showRestarting() {
    pill.dataset.state = "restarting";
    banner.dataset.state = "restarting";
    setPill("Restarting…");
    bannerText.textContent = RESTARTING_TEXT;
    bannerButton.hidden = true;
    banner.setAttribute("role", "status"); // news, not an alarm
    banner.hidden = false;
  }

  function showConnecting(everReady) {
    setPill(everReady ? "Reconnecting…" : "Connecting…");
    if (everReady && lastClose) {
      bannerText.textContent = "Reconnecting…";
      bannerButton.hidden = true;
      banner.hidden = false;
    }
  }

  return {
    /** The socket closed (`{code, reason}`): later "connecting" states say "Reconnecting…". */
    noteClose(info) {
      lastClose = info;
    },

    /** info: the connection's `state` event; everReady: a welcome came at least once. */
    show(info, { everReady }) {
      const { state } = info;
      pill.dataset.state = state;
      banner.dataset.state = state;
      clearInterval(bannerTimer);
      bannerTimer = null;
      banner.setAttribute("role", "alert");
      if (info.restarting && ![State.REPLACED, State.REFUSED, State.STOPPED].includes(state)) {
        showRestarting();
      } else if (state === State.READY) {
        setPill("Online");
        banner.hidden = true;
      } else if (state === State.WAITING) {
        showWaiting(info, everReady);
      } else if (state === State.REPLACED) {
        showStopped("Paused", `${closeMessage(4009)} Play here instead?`, "Use this tab");
      } else if (state === State.REFUSED && info.refusal) {
        showStopped("Not connected", helloRefusedText(info.refusal), "Try again");
      } else if (state === State.REFUSED) {
        showStopped("Disconnected", closeMessage(1008, info.reason), "Reconnect");
      } else {
        showConnecting(everReady);
      }
    },
  };
}
