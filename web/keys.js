// Keyboard shortcuts, as task apps have them: q or n to add, j and k to move
// between tasks, Shift+J and Shift+K to move a task down and up its list, x or
// Space to complete, z to undo, e or Enter to edit,
// Escape to cancel, ? for the list of them. Never while the user types in a field
// (Escape aside), and never with Ctrl, Alt or Meta, which belong to the
// browser.

import { moveBy } from "./order.js";

const $ = (id) => document.getElementById(id);

/** The task row the focus is in, if any. */
function currentRow() {
  return document.activeElement?.closest?.("#tasks li[data-id]") || null;
}

/** Moves the focus `step` rows down (1) or up (-1), from the current row or the list's end. */
function move(step) {
  // A folded parent's subtasks are not in the way.
  const rows = [...document.querySelectorAll("#tasks li[data-id]")].filter((r) => !r.closest("[hidden]"));
  if (!rows.length) return;
  const at = rows.indexOf(currentRow());
  const next = at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(at + step, 0), rows.length - 1);
  rows[next].focus();
  rows[next].scrollIntoView({ block: "nearest" });
}

/** Wires the shortcuts; `list` is the TaskList, which completes and edits; `say` tells the user. */
export function wireKeys(list, say) {
  const help = $("shortcuts");
  $("shortcuts-close").addEventListener("click", () => help.close());
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    const target = event.target;
    const typing = target.closest?.("input, textarea, select, [contenteditable]") && target.type !== "checkbox";
    if (event.key === "Escape") {
      // An edit in progress is cancelled, and the focus goes back to its task.
      const editing = target.closest?.("#tasks li.editing");
      if (editing) {
        event.preventDefault();
        const id = editing.dataset.id;
        list.reload().then(() => list.row(id)?.focus());
      } else if (target.id === "quick") {
        target.blur();
      }
      return;
    }
    if (typing || document.querySelector("dialog[open]")) return;
    const row = currentRow();
    const task = row && list.taskOf(row);
    const act = (f) => {
      event.preventDefault();
      f();
    };
    switch (event.key) {
      case "q":
      case "n":
        return act(() => $("quick").focus());
      case "j":
        return act(() => move(1));
      case "k":
        return act(() => move(-1));
      case "?":
        return act(() => help.showModal());
      case "z":
        if (!$("undo").hidden) return act(() => $("undo").click());
        return;
    }
    // The rest act on the task in focus, on its row rather than on a control of it.
    if (!task || (target !== row && !["x", "e", "J", "K"].includes(event.key))) return;
    switch (event.key) {
      case "x":
      case " ":
        // While selecting, the key selects the task rather than completing it.
        if (list.selecting) return act(() => row.querySelector(":scope > input.select")?.click());
        return act(() => list.toggle(task, !task.completed, { focusNext: true }));
      case "e":
      case "Enter":
        return act(() => list.edit(row, task));
      case "J":
        return act(() => moveBy(list, row, 1, say));
      case "K":
        return act(() => moveBy(list, row, -1, say));
    }
  });
}
