// The "Join your friend's room" dialog: someone who opens an invite link and never
// picked a name chooses one (prefilled with the name the server made up) before
// joining. Pure view: it reports the choice through `handlers`.

/**
 * dialog: the `name-dialog` element.
 * handlers: onJoin(name) (the name typed, or the prefilled one when left empty), onCancel()
 */
export function createNameDialog(dialog, handlers) {
  const input = dialog.querySelector("#join-name-input");
  let suggested = "";

  dialog.addEventListener("close", () => {
    // Escape closes with no value: that is "not now", like the button.
    if (dialog.returnValue === "join") handlers.onJoin?.(input.value.trim() || suggested);
    else handlers.onCancel?.();
    dialog.returnValue = "";
  });

  return {
    /** Ask, with `name` filled in (and selected, so typing replaces it). */
    ask(name) {
      if (dialog.open) return;
      suggested = String(name ?? "");
      input.value = suggested;
      dialog.returnValue = "";
      dialog.showModal();
      input.focus();
      input.select();
    },
  };
}
