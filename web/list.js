// The task list: each task with its controls; editing in place, with a
// conflict (412) shown beside the newer version and a choice; deleting with a
// few seconds to undo. Every user text goes through textContent.

import { api, ApiError, session, userOf } from "./api.js";
import { perform } from "./offline.js";
import { localInput, pickerFor, ruleOf, timeZone, wirePicker } from "./form.js";
import { nest, subtaskField } from "./subtasks.js";
import { happened, overdue, repeats, when } from "./words.js";

const $ = (id) => document.getElementById(id);
/** How long a deletion or a completion can be undone. */
const UNDO_MS = 5000;

function say(message) {
  $("status").textContent = message;
}

/** What a priority is called, where it is not the usual one. */
const PRIORITY = { low: "Low priority", high: "High priority", urgent: "Urgent" };

/** A task's details in a line of words: "High priority · Tomorrow 9:00 AM · Every weekday · #home". */
export function summary(task) {
  return details(task).map((part) => part.textContent).join(" · ") || "no due time, no tags";
}

/**
 * The details as the row shows them: the due time (red when past), the
 * repetition, the reminder, the tags as chips, and the priority where it
 * is not the usual one (its colour is the checkbox's ring too).
 */
function details(task) {
  const parts = [];
  // Made or changed here while the server could not be reached (offline.js).
  if (task.pending) parts.push(element("span", { className: "unsent", textContent: "Not sent yet" }));
  if (PRIORITY[task.priority]) parts.push(element("span", { className: `priority ${task.priority}`, textContent: PRIORITY[task.priority] }));
  if (task.completed && task.completed_at) {
    parts.push(element("span", { className: "completed-at", textContent: `Completed ${when(task.completed_at)}` }));
  } else if (task.due_at) {
    const late = overdue(task);
    const due = element("span", { className: late ? "due overdue" : "due", textContent: late ? `Overdue: ${when(task.due_at)}` : when(task.due_at) });
    parts.push(due);
  }
  if (task.recurrence) {
    const rule = element("span", { className: "repeats", textContent: repeats(task.recurrence) });
    rule.title = task.recurrence;
    parts.push(rule);
  }
  if (task.remind_at && !task.completed) parts.push(element("span", { textContent: `Reminder ${when(task.remind_at)}` }));
  if (task.assignee_id) {
    const you = task.assignee_id === userOf(session.token());
    parts.push(element("span", { className: "assignee", textContent: you ? "Assigned to you" : `Assigned to ${task.assignee_id}` }));
  }
  if (task.description) parts.push(element("span", { className: "notes", textContent: task.description.split("\n")[0] }));
  for (const tag of task.tags) parts.push(element("span", { className: "tag", textContent: `#${tag}` }));
  return parts;
}

function element(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children);
  return el;
}

/**
 * What happened, folded until asked for: read from `path` (a task's or a
 * list's activity) when opened, newest first.
 */
export function history(path) {
  const entries = element("ul", { className: "history-list" });
  const box = element("details", { className: "history" }, element("summary", { textContent: "History" }), entries);
  box.addEventListener("toggle", async () => {
    if (!box.open) return;
    try {
      const { items } = await api("GET", `${path}?limit=20`);
      entries.replaceChildren(...items.map((entry) => element("li", { textContent: happened(entry) })));
      if (!items.length) entries.append(element("li", { textContent: "Nothing yet." }));
    } catch (e) {
      entries.replaceChildren(element("li", { textContent: e.message }));
    }
  });
  return box;
}

/**
 * A conflict as the user sees it: `text`, then the task as it is now
 * (`theirs`), and the choice between keeping theirs and saving theirs over
 * with the user's change.
 */
export function conflictBox(text, theirs, { keep, overwrite }) {
  const keepButton = element("button", { type: "button", textContent: "Keep theirs" });
  const overwriteButton = element("button", { type: "button", textContent: "Save mine anyway" });
  const box = element("div", { className: "conflict" },
    element("p", { textContent: text }),
    element("p", { className: "theirs", textContent: `“${theirs.title}”: ${summary(theirs)}` }),
    element("div", { className: "actions" }, keepButton, overwriteButton));
  box.setAttribute("role", "alert");
  keepButton.addEventListener("click", keep);
  overwriteButton.addEventListener("click", overwrite);
  return box;
}

/** A list of tasks, rendered into `root`, refreshed by `reload`; `lists()` names the lists a task may move to. */
export class TaskList {
  constructor(root, reload, lists) {
    this.root = root;
    this.reload = reload;
    this.lists = lists;
    this.pending = null; // the deletion that can still be undone: { tasks, timer }
    this.tasks = new WeakMap(); // each row's task, for the keyboard (keys.js)
    this.orderable = false; // whether the rows are in their list's own order, to drag (order.js)
    this.selecting = false; // whether rows are being selected, for bulk.js
    this.selected = new Map(); // the tasks selected, by id
    this.onSelect = () => {};
  }

  /** Whether `task` is out of sight: deleted, with the deletion not yet sent. */
  gone(task) {
    return Boolean(this.pending?.tasks.some((t) => t.id === task.id));
  }

  /** The task a row shows. */
  taskOf(row) {
    return this.tasks.get(row) || null;
  }

  show(tasks, emptyText) {
    this.showSections([{ title: null, tasks }], emptyText);
  }

  /**
   * Tasks in sections, each under its heading (Today's "Overdue" first); a
   * section with nothing in it is left out, and `emptyText` said when all are.
   */
  showSections(sections, emptyText) {
    const rows = [];
    for (const { title, tasks } of sections) {
      const items = this.rows(tasks.filter((t) => !this.gone(t)));
      if (!items.length) continue;
      if (title) rows.push(element("li", { className: "section" }, element("h3", { textContent: title })));
      rows.push(...items);
    }
    const focus = this.focusNow();
    this.root.replaceChildren(...rows);
    if (!rows.length) this.root.append(element("li", { className: "empty", textContent: emptyText }));
    focus();
  }

  /**
   * What has the focus in the list now, and a function that gives it back to
   * the same task's row or control once the rows are drawn again (a change
   * arriving live must not throw the keyboard user back to the top).
   */
  focusNow() {
    const active = document.activeElement;
    const row = active?.closest?.("li[data-id]");
    if (!row || !this.root.contains(row)) return () => {};
    const id = row.dataset.id;
    const control = active === row ? null : [...row.querySelectorAll("input, button")].indexOf(active);
    return () => {
      const again = this.row(id);
      if (!again) return;
      const target = control === null || control < 0 ? again : again.querySelectorAll("input, button")[control];
      (target || again).focus({ preventScroll: true });
    };
  }

  /** Adds the next keyset page's tasks below the ones shown. */
  append(tasks) {
    this.root.append(...this.rows(tasks.filter((t) => !this.gone(t)), this.root));
  }

  /**
   * The top-level rows for `tasks`, each subtask under its parent where that
   * is among them (or, for a further page, already in `shown`).
   */
  rows(tasks, shown = null) {
    return nest(tasks, new Map(tasks.map((t) => [t.id, this.item(t)])), shown);
  }

  item(task) {
    const li = element("li");
    li.dataset.id = task.id;
    li.dataset.list = task.list_id;
    li.dataset.priority = task.priority;
    // Focusable by j and k (keys.js), not by Tab: Tab goes through its controls.
    li.tabIndex = -1;
    li.draggable = this.orderable && !this.selecting;
    this.tasks.set(li, task);
    if (task.completed) li.classList.add("done");
    const done = this.selecting ? this.selectBox(task) : element("input", { type: "checkbox", checked: task.completed });
    if (!this.selecting) {
      done.setAttribute("aria-label", `Done: ${task.title}`);
      done.addEventListener("change", () => this.toggle(task, done.checked));
    }
    const title = element("button", { type: "button", className: "title title-button", textContent: task.title });
    title.setAttribute("aria-label", `Edit: ${task.title}`);
    title.addEventListener("click", () => this.edit(li, task));
    const remove = element("button", { type: "button", textContent: "Delete" });
    remove.setAttribute("aria-label", `Delete: ${task.title}`);
    remove.addEventListener("click", () => this.remove([task], `Deleted “${task.title}”.`));
    li.append(done, title, element("span", { className: "meta" }, ...details(task)), remove);
    return li;
  }

  /** While selecting: a square box in place of the round one, that selects the task. */
  selectBox(task) {
    if (this.selected.has(task.id)) this.selected.set(task.id, task); // as shown now
    const box = element("input", { type: "checkbox", className: "select", checked: this.selected.has(task.id) });
    box.setAttribute("aria-label", `Select: ${task.title}`);
    box.addEventListener("change", () => {
      if (box.checked) this.selected.set(task.id, task);
      else this.selected.delete(task.id);
      this.onSelect();
    });
    return box;
  }

  /**
   * Completes or reopens `task`; a completion can be undone for a few
   * seconds. From the keyboard (`focusNext`), the focus then goes to the
   * task that followed it, so that the next one is a key away.
   */
  async toggle(task, completed, { focusNext = false } = {}) {
    const row = this.root.querySelector(`li[data-id="${task.id}"]`);
    const after = focusNext ? this.next(row)?.dataset.id : null;
    try {
      const op = { kind: completed ? "complete" : "reopen", id: task.id, version: task.version, title: task.title };
      const { queued } = await perform(op, task);
      const later = queued ? " It is sent when the server answers." : "";
      if (completed) this.offerUndo(`Completed “${task.title}”.${later}`, () => this.toggle(task, false));
      else say(`Reopened “${task.title}”.${later}`);
    } catch (e) {
      say(e.message);
    }
    await this.reload();
    if (focusNext) (this.row(after) || this.row(task.id))?.focus();
  }

  /** The row shown after `row`, in reading order (a subtask's row is in its parent's). */
  next(row) {
    const rows = [...this.root.querySelectorAll("li[data-id]")].filter((r) => !r.closest("[hidden]"));
    return rows[rows.indexOf(row) + 1] || null;
  }

  /** The row of task `id`, if it is shown. */
  row(id) {
    return id ? this.root.querySelector(`li[data-id="${id}"]`) : null;
  }

  /** Says `message` with an Undo button that runs `undo`, for a few seconds. */
  offerUndo(message, undo) {
    this.flush();
    say(message);
    const button = $("undo");
    button.hidden = false;
    clearTimeout(this.undoTimer);
    this.undoTimer = setTimeout(() => (button.hidden = true), UNDO_MS);
    button.onclick = () => {
      clearTimeout(this.undoTimer);
      button.hidden = true;
      undo();
    };
  }

  /** The task's fields in a form in its place; saving sends If-Match with the version edited. */
  edit(li, task) {
    const field = (label, input) => element("label", {}, element("span", { textContent: label }), input);
    const title = element("input", { name: "title", value: task.title, required: true, maxLength: 200 });
    const due = element("input", { name: "due", type: "datetime-local", value: localInput(task.due_at) });
    const priority = element("select", { name: "priority" },
      ...["low", "medium", "high", "urgent"].map((p) => element("option", { value: p, textContent: p[0].toUpperCase() + p.slice(1), selected: p === task.priority })));
    const tags = element("input", { name: "tags", value: task.tags.join(", ") });
    const offsets = [["", "None"], ["0", "At the due time"], ["10", "10 minutes before"], ["60", "1 hour before"], ["1440", "1 day before"]];
    const current = task.remind_before_minutes === null ? "" : String(task.remind_before_minutes);
    if (!offsets.some(([v]) => v === current)) offsets.push([current, `${current} minutes before`]);
    const remind = element("select", { name: "remind" },
      ...offsets.map(([value, text]) => element("option", { value, textContent: text, selected: value === current })));
    const notes = element("textarea", { name: "description", value: task.description || "", rows: 3, maxLength: 10000 });
    const lists = this.lists().filter((l) => l.role !== "viewer" || l.id === task.list_id);
    const list = element("select", { name: "list" },
      ...lists.map((l) => element("option", { value: l.id, textContent: l.name, selected: l.id === task.list_id })));
    // Who does it, among the list's members: filled once they are read, and
    // shown only where someone else could do it.
    const assignee = element("select", { name: "assignee" },
      element("option", { value: "", textContent: "Nobody" }),
      ...(task.assignee_id ? [element("option", { value: task.assignee_id, textContent: task.assignee_id, selected: true })] : []));
    const assigneeField = field("Assigned to", assignee);
    assigneeField.hidden = !task.assignee_id;
    let membersRead = false;
    api("GET", `/v1/lists/${task.list_id}/members`).then(({ items }) => {
      const me = userOf(session.token());
      assignee.replaceChildren(element("option", { value: "", textContent: "Nobody" }),
        ...items.map((m) => element("option", { value: m.user_id, textContent: m.user_id === me ? `${m.user_id} (you)` : m.user_id, selected: m.user_id === task.assignee_id })));
      assigneeField.hidden = items.length < 2 && !task.assignee_id;
      membersRead = true;
    }).catch(() => {});
    const save = element("button", { type: "submit", textContent: "Save" });
    const cancel = element("button", { type: "button", textContent: "Cancel" });
    const form = element("form", { className: "edit" },
      field("Title", title), field("Notes", notes), field("Due (your time zone)", due), field("Priority", priority),
      field("Tags", tags), field("Reminder", remind),
      ...pickerFor(task.recurrence, task.due_at ? new Date(task.due_at) : null), field("List", list), assigneeField,
      element("div", { className: "actions" }, save, cancel),
      ...(task.completed ? [] : [subtaskField(task, say)]), history(`/v1/tasks/${task.id}/activity`));
    form.setAttribute("aria-label", `Edit ${task.title}`);
    cancel.addEventListener("click", () => this.reload());
    const changes = () => {
      const at = due.value ? new Date(due.value) : null;
      const rule = ruleOf(form, at) || null;
      return {
        title: title.value,
        description: notes.value,
        priority: priority.value,
        due_at: at ? at.toISOString() : null,
        tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
        remind_before_minutes: remind.value === "" ? null : Number(remind.value),
        recurrence: rule,
        time_zone: rule ? task.time_zone || timeZone() : null,
        list_id: list.value || task.list_id,
        // Sent only once the members are known, so that a slow read never clears it.
        ...(membersRead ? { assignee_id: assignee.value || null } : {}),
      };
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await this.save(form, task, changes(), task.version);
    });
    li.classList.add("editing");
    li.replaceChildren(form);
    wirePicker(form);
    title.focus();
  }

  async save(form, task, changes, version) {
    try {
      const op = { kind: "edit", id: task.id, version, changes, title: task.title };
      const { task: saved, queued } = await perform(op, task);
      say(queued ? `Kept “${saved.title}” here: it is saved when the server answers.` : `Saved “${saved.title}”.`);
      await this.reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) return this.conflict(form, task, changes);
      say(e.message);
    }
  }

  /** Someone changed the task meanwhile: show their version and let the user choose. */
  async conflict(form, task, changes) {
    let theirs;
    try {
      theirs = await api("GET", `/v1/tasks/${task.id}`);
    } catch (e) {
      say(e.message);
      return;
    }
    form.querySelector(".conflict")?.remove();
    const box = conflictBox("This task was changed elsewhere since you opened it. Now it is:", theirs, {
      keep: () => {
        say(`Kept the newer “${theirs.title}”.`);
        this.reload();
      },
      overwrite: () => this.save(form, task, changes, theirs.version),
    });
    form.append(box);
    box.querySelector("button").focus();
  }

  /**
   * Hides `tasks` (one, or several selected: bulk.js) at once and deletes
   * them after a few seconds, unless undone; `message` says so.
   */
  remove(tasks, message) {
    this.flush();
    const timer = setTimeout(() => this.flush(), UNDO_MS);
    this.pending = { tasks, timer };
    for (const task of tasks) this.row(task.id)?.remove();
    say(message);
    const undo = $("undo");
    undo.hidden = false;
    clearTimeout(this.undoTimer);
    undo.onclick = () => {
      clearTimeout(timer);
      this.pending = null;
      undo.hidden = true;
      say(tasks.length === 1 ? `Kept “${tasks[0].title}”.` : "Kept them.");
      this.reload();
    };
  }

  /** Carries out the deletion waiting to be undone, if any (also as the page goes). */
  async flush() {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = null;
    $("undo").hidden = true;
    const results = await Promise.allSettled(pending.tasks.map((t) => api("DELETE", `/v1/tasks/${t.id}`)));
    const failed = results.filter((r) => r.status === "rejected");
    if (!failed.length) return;
    const why = failed[0].reason.message;
    say(pending.tasks.length === 1 ? why : `Deleted ${results.length - failed.length} of ${results.length} tasks; the rest not: ${why}`);
    await this.reload();
  }
}
