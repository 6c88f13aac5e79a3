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
  // The task dragged, by id: a change arriving live may draw its row anew
  // mid-drag, and the drop must find the row shown now.
  let draggedId = null;
  const draggedRow = () => list.row(draggedId);
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
    const dragged = draggedRow();
    if (!dragged || !target || target === dragged || target.parentElement !== dragged.parentElement) return null;
    return target;
  };
  root.addEventListener("dragstart", (event) => {
    const row = event.target.closest?.("li[data-id]");
    if (!row || !list.orderable || event.target !== row) return;
    draggedId = row.dataset.id;
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
    const row = draggedRow();
    const rows = siblings(target).filter((r) => r !== row);
    const after = side(target, event.clientY) === "after" ? target : rows[rows.indexOf(target) - 1] || null;
    clear();
    place(list, row, after, say);
  });
  root.addEventListener("dragend", () => {
    draggedRow()?.classList.remove("dragging");
    draggedId = null;
    clear();
  });
}

/** The room a list put first or last leaves beside its neighbour. */
const LIST_ROOM = 1024;

/**
 * Puts list `id` at index `to` of the user's lists (`lists`, in their order,
 * as GET /v1/lists gives them): one PATCH of its `position` (the user's own
 * place for it, which moves no one else's), halfway between its new
 * neighbours, or one per list when they have no room between them.
 */
async function placeList(lists, id, to) {
  const moving = lists.find((l) => l.id === id);
  const rest = lists.filter((l) => l.id !== id);
  const [before, after] = [rest[to - 1], rest[to]];
  let position = null;
  if (before && after) {
    if (after.position - before.position >= 2) position = Math.floor((before.position + after.position) / 2);
  } else if (before) {
    position = before.position + LIST_ROOM;
  } else if (after) {
    position = after.position - LIST_ROOM;
  }
  if (position !== null) {
    await api("PATCH", `/v1/lists/${id}`, { position });
    return;
  }
  const order = [...rest];
  order.splice(to, 0, moving);
  for (const [index, list] of order.entries()) {
    if (list.position !== index * LIST_ROOM) await api("PATCH", `/v1/lists/${list.id}`, { position: index * LIST_ROOM });
  }
}

/**
 * The sidebar's lists in the user's own order: a list button is dragged to
 * a new place, or moved with Shift+J (down) and Shift+K (up). `lists()` gives
 * the lists as shown; `moved(id)` is told after a move, to show them again.
 */
export function wireListOrder(container, { lists, say, moved }) {
  const move = async (id, to) => {
    const shown = lists();
    const list = shown.find((l) => l.id === id);
    if (!list || to < 0 || to >= shown.length) return;
    try {
      await placeList(shown, id, to);
      say(`Moved “${list.name}” to place ${to + 1} of your lists.`);
    } catch (e) {
      say(e.message);
    }
    await moved(id);
  };
  const indexOf = (id) => lists().findIndex((l) => l.id === id);
  container.addEventListener("keydown", (event) => {
    const button = event.target.closest?.("button[data-list]");
    if (!button || event.ctrlKey || event.altKey || event.metaKey || !["J", "K"].includes(event.key)) return;
    event.preventDefault();
    move(button.dataset.list, indexOf(button.dataset.list) + (event.key === "J" ? 1 : -1));
  });
  let dragged = null;
  const targetOf = (event) => {
    const target = event.target.closest?.("button[data-list]");
    return dragged && target && target.dataset.list !== dragged ? target : null;
  };
  const below = (target, y) => {
    const box = target.getBoundingClientRect();
    return y > box.top + box.height / 2;
  };
  container.addEventListener("dragstart", (event) => {
    const button = event.target.closest?.("button[data-list]");
    if (!button) return;
    dragged = button.dataset.list;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", button.textContent);
  });
  container.addEventListener("dragover", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    for (const marked of container.querySelectorAll(".drop-before, .drop-after")) marked.classList.remove("drop-before", "drop-after");
    target.classList.add(below(target, event.clientY) ? "drop-after" : "drop-before");
  });
  container.addEventListener("drop", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    const from = indexOf(dragged);
    let to = indexOf(target.dataset.list) + (below(target, event.clientY) ? 1 : 0);
    if (from < to) to -= 1; // counted without the list moved
    move(dragged, to);
  });
  container.addEventListener("dragend", () => {
    dragged = null;
    for (const marked of container.querySelectorAll(".drop-before, .drop-after")) marked.classList.remove("drop-before", "drop-after");
  });
}
