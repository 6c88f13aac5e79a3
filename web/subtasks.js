// Subtasks: shown under their parent's row when both are on the page, folded
// and unfolded from the parent's row (remembered in this browser), and added
// from the parent's edit form. A subtask whose parent is not shown (Today may
// hold a subtask but not its parent) stands on its own.

import { api } from "./api.js";

/** The parents folded in this browser, by task id. */
const FOLDED_KEY = "todo.folded";

function folded() {
  try {
    return new Set(JSON.parse(localStorage.getItem(FOLDED_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

function remember(id, fold) {
  const ids = folded();
  if (fold) ids.add(id);
  else ids.delete(id);
  // Bounded: the newest few hundred folds are plenty for one person.
  localStorage.setItem(FOLDED_KEY, JSON.stringify([...ids].slice(-500)));
}

/**
 * The rows to put at the top level, with each subtask's row moved under its
 * parent's when the parent is among `rows` (a Map of task id to row, in the
 * order shown) or already in `shown` (an earlier page's rows), if given.
 */
export function nest(tasks, rows, shown) {
  const top = [];
  const parents = new Set();
  for (const task of tasks) {
    const row = rows.get(task.id);
    const parent = task.parent_id && (rows.get(task.parent_id) || shown?.querySelector(`li[data-id="${task.parent_id}"]`));
    if (parent) {
      childrenOf(parent).append(row);
      parents.add(parent);
    } else {
      top.push(row);
    }
  }
  for (const parent of parents) label(parent);
  return top;
}

/** The list under `row` that holds its subtasks, made (with its fold button) on first use. */
function childrenOf(row) {
  let box = row.querySelector(":scope > ul.subtasks");
  if (box) return box;
  box = document.createElement("ul");
  box.className = "subtasks";
  box.id = `subtasks-${row.dataset.id}`;
  const fold = document.createElement("button");
  fold.type = "button";
  fold.className = "fold";
  fold.setAttribute("aria-controls", box.id);
  const shut = folded().has(row.dataset.id);
  fold.setAttribute("aria-expanded", String(!shut));
  box.hidden = shut;
  fold.addEventListener("click", () => {
    const open = fold.getAttribute("aria-expanded") !== "true";
    fold.setAttribute("aria-expanded", String(open));
    box.hidden = !open;
    remember(row.dataset.id, !open);
  });
  row.querySelector(":scope > .meta").prepend(fold);
  row.append(box);
  return box;
}

/**
 * The fold button says how many subtasks are shown, and how many of those are
 * done where the view shows done tasks (Completed, a search).
 */
function label(row) {
  const box = row.querySelector(":scope > ul.subtasks");
  const children = [...box.querySelectorAll(":scope > li[data-id]")];
  const done = children.filter((li) => li.classList.contains("done")).length;
  const fold = row.querySelector(":scope > .meta > button.fold");
  const count = `${children.length} ${children.length === 1 ? "subtask" : "subtasks"}`;
  fold.textContent = done ? `${done}/${count}` : count;
  const title = row.querySelector(":scope > .title")?.textContent || "";
  fold.setAttribute("aria-label", `Subtasks of ${title}: ${count}${done ? `, ${done} done` : ""}`);
}

/**
 * A field for the edit form of `task` that adds a subtask to it on Enter or
 * its button, and lists those added; the task list shows them nested once
 * the edit is closed. Not a form of its own: it sits in the edit form, whose
 * Enter would otherwise save the edit.
 */
export function subtaskField(task, say) {
  const input = document.createElement("input");
  input.name = "subtask";
  input.maxLength = 200;
  input.placeholder = "A step of this task";
  const add = document.createElement("button");
  add.type = "button";
  add.textContent = "Add subtask";
  const send = async () => {
    const title = input.value.trim();
    if (!title) {
      input.setAttribute("aria-invalid", "true");
      say("A subtask needs a title.");
      return;
    }
    try {
      const subtask = await api("POST", "/v1/tasks", { title, parent_id: task.id });
      input.value = "";
      input.removeAttribute("aria-invalid");
      say(`Added “${subtask.title}” under “${task.title}”.`);
      const item = document.createElement("li");
      item.textContent = subtask.title;
      made.append(item);
    } catch (e) {
      input.setAttribute("aria-invalid", "true");
      say(e.message);
    }
  };
  add.addEventListener("click", send);
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    send();
  });
  const label = document.createElement("label");
  const text = document.createElement("span");
  text.textContent = "Add a subtask";
  label.append(text, input);
  const made = document.createElement("ul");
  made.className = "subtasks-added";
  made.setAttribute("aria-label", "Subtasks added");
  const box = document.createElement("div");
  box.className = "subtask-add";
  box.append(label, add, made);
  return box;
}
