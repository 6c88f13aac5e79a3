// A list's own order: in a list's view (no search, tag or sort chosen), its
// tasks can be dragged to a new place, or moved by keyboard (Shift+J down,
// Shift+K up). Each move is one POST /v1/tasks/{id}/move naming the task it
// now follows (none when first), among its siblings (top-level tasks, or the
// subtasks of one task). Other members see it live, as any change.

import { api } from "./api.js";

/** The rows among which `row` can move: its siblings, in the order shown. */
function siblings(row) {
  return [...row.parentElement.children].filter((r) => r.matches("li[data-id]"));
}

/**
 * Moves `row`'s task so that it follows the row `after` (first with null),
 * then reloads; the focus stays on the task moved.
 */
async function place(list, row, after, say) {
  const task = list.taskOf(row);
  try {
    await api("POST", `/v1/tasks/${task.id}/move`, { after: after ? after.dataset.id : null });
    say(after ? `Moved “${task.title}” after “${list.taskOf(after).title}”.` : `Moved “${task.title}” to the top.`);
  } catch (e) {
    say(e.message);
  }
  await list.reload();
  list.row(task.id)?.focus();
}

/** Moves the task of `row` one place down (`step` 1) or up (-1) among its siblings. */
export function moveBy(list, row, step, say) {
  if (!list.orderable) {
    say("Tasks are moved in a list's own order: choose a list, with no search, tag or sort.");
    return;
  }
  const rows = siblings(row);
  const at = rows.indexOf(row);
  const to = at + step;
  if (to < 0 || to >= rows.length) return;
  // Down: after the next one. Up: after the one before the previous one.
  const after = step > 0 ? rows[to] : rows[to - 1] || null;
  place(list, row, after, say);
}

/** Drag and drop among siblings, on the rows of `list` (a TaskList) while it is orderable. */
export function wireDragging(list, say) {
  const root = list.root;
  let dragged = null;
  const clear = () => {
    for (const marked of root.querySelectorAll(".drop-before, .drop-after")) {
      marked.classList.remove("drop-before", "drop-after");
    }
  };
  // Where over `target` the pointer at `y` would put the row: before or after it.
  const side = (target, y) => {
    const box = target.getBoundingClientRect();
    // Its own line, not its subtasks below it.
    const line = target.querySelector(":scope > .title")?.getBoundingClientRect() || box;
    return y < line.top + line.height / 2 ? "before" : "after";
  };
  const targetOf = (event) => {
    const target = event.target.closest?.("li[data-id]");
    if (!dragged || !target || target === dragged || target.parentElement !== dragged.parentElement) return null;
    return target;
  };
  root.addEventListener("dragstart", (event) => {
    const row = event.target.closest?.("li[data-id]");
    if (!row || !list.orderable || event.target !== row) return;
    dragged = row;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", list.taskOf(row).title);
    row.classList.add("dragging");
  });
  root.addEventListener("dragover", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clear();
    target.classList.add(`drop-${side(target, event.clientY)}`);
  });
  root.addEventListener("drop", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    const row = dragged;
    const rows = siblings(target).filter((r) => r !== row);
    const after = side(target, event.clientY) === "after" ? target : rows[rows.indexOf(target) - 1] || null;
    clear();
    place(list, row, after, say);
  });
  root.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    dragged = null;
    clear();
  });
}
