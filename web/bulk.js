// Several tasks at once: *Select* turns each row's round completion box into a
// square selection box, and a bar above the list completes, moves, tags or
// deletes the tasks selected. Completing and deleting can be undone for a few
// seconds, as for one task; a deletion waits those seconds before it is sent
// (TaskList.remove, which deletes one task the same way).

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);

export class Bulk {
  /**
   * `list` is the TaskList, `say` the status line, `lists()` the caller's
   * lists (to move to), `reload()` shows the list again.
   */
  constructor(list, { say, lists, reload }) {
    this.list = list;
    this.say = say;
    this.lists = lists;
    this.reload = reload;
    list.onSelect = () => this.update();
    $("select-mode").addEventListener("click", () => this.toggle());
    $("bulk-done").addEventListener("click", () => this.toggle(false));
    $("bulk-complete").addEventListener("click", () => this.complete());
    $("bulk-move").addEventListener("click", () => this.move());
    $("bulk-tag-add").addEventListener("click", () => this.tag());
    $("bulk-tag").addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      this.tag();
    });
    $("bulk-delete").addEventListener("click", () => this.remove());
  }

  /** Turns selecting on or off (flips it without `on`). */
  async toggle(on = !this.list.selecting) {
    this.list.selecting = on;
    this.list.selected.clear();
    $("select-mode").setAttribute("aria-pressed", String(on));
    $("bulk-bar").hidden = !on;
    if (on) {
      const here = $("bulk-list");
      here.replaceChildren(...this.lists().filter((l) => l.role !== "viewer").map((l) => {
        const option = document.createElement("option");
        option.value = l.id;
        option.textContent = l.name;
        return option;
      }));
    }
    this.update();
    await this.reload();
  }

  /** The tasks selected, as last shown. */
  chosen() {
    return [...this.list.selected.values()];
  }

  update() {
    const n = this.list.selected.size;
    $("bulk-count").textContent = `${n} selected`;
    for (const id of ["bulk-complete", "bulk-move", "bulk-tag-add", "bulk-delete"]) $(id).disabled = n === 0;
  }

  /** Runs `each` on every task chosen, all sent at once; the number done and the first error. */
  async each(tasks, each) {
    const results = await Promise.allSettled(tasks.map(each));
    const failed = results.find((r) => r.status === "rejected");
    return { done: results.filter((r) => r.status === "fulfilled").length, error: failed?.reason };
  }

  /** Says what happened to `done` of `tasks`, and why the rest did not. */
  report(what, done, tasks, error) {
    const words = `${what} ${done} ${done === 1 ? "task" : "tasks"}`;
    this.say(error ? `${words}; ${tasks.length - done} not: ${error.message}` : `${words}.`);
  }

  async complete() {
    const tasks = this.chosen().filter((t) => !t.completed);
    const { done, error } = await this.each(tasks, (t) => api("POST", `/v1/tasks/${t.id}/complete`));
    this.list.selected.clear();
    this.update();
    await this.reload();
    this.report("Completed", done, tasks, error);
    if (!done) return;
    this.list.offerUndo($("status").textContent, async () => {
      await this.each(tasks, (t) => api("POST", `/v1/tasks/${t.id}/reopen`));
      this.say(`Reopened ${tasks.length} ${tasks.length === 1 ? "task" : "tasks"}.`);
      await this.reload();
    });
  }

  async move() {
    const to = $("bulk-list").value;
    const tasks = this.chosen().filter((t) => t.list_id !== to);
    const { done, error } = await this.each(tasks, (t) =>
      api("PATCH", `/v1/tasks/${t.id}`, { list_id: to }, { "If-Match": `"${t.version}"` }));
    this.list.selected.clear();
    this.update();
    await this.reload();
    this.report(`Moved to “${$("bulk-list").selectedOptions[0]?.textContent}”`, done, tasks, error);
  }

  async tag() {
    const input = $("bulk-tag");
    const tag = input.value.trim().replace(/^#/, "").toLowerCase();
    if (!tag) {
      input.setAttribute("aria-invalid", "true");
      this.say("Type the tag to add.");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    const tasks = this.chosen().filter((t) => !t.tags.includes(tag));
    const { done, error } = await this.each(tasks, (t) =>
      api("PATCH", `/v1/tasks/${t.id}`, { tags: [...t.tags, tag] }, { "If-Match": `"${t.version}"` }));
    if (error && !done) input.setAttribute("aria-invalid", "true");
    else input.value = "";
    this.list.selected.clear();
    this.update();
    await this.reload();
    this.report(`Tagged #${tag}:`, done, tasks, error);
  }

  /** Deletes the tasks chosen as one task is deleted: hidden at once, sent after a few seconds unless undone. */
  remove() {
    const tasks = this.chosen();
    this.list.selected.clear();
    this.update();
    this.list.remove(tasks, `Deleted ${tasks.length} ${tasks.length === 1 ? "task" : "tasks"}.`);
  }
}
