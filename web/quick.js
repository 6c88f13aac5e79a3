// Quick add: one line ("Pay rent tomorrow 9am #home !high every month @home") read
// by the API (POST /v1/quick-add) into a task's fields, shown as they will be
// saved while the user types, then saved with POST /v1/tasks on Enter.

import { api } from "./api.js";
import { timeZone } from "./form.js";
import { repeats, when } from "./words.js";

const $ = (id) => document.getElementById(id);
/** Typing pauses this long before the text is read. */
const PAUSE_MS = 250;

/** What the new-task form's list picker calls list `id` (it holds the lists one may add to). */
function listNamed(id) {
  return [...$("list").options].find((o) => o.value === id)?.textContent || "another list";
}

/** The fields read, each as "Name: value". */
function describe(task) {
  const fields = [["Title", task.title]];
  if (task.due_at) fields.push(["Due", when(task.due_at)]);
  if (task.priority) fields.push(["Priority", task.priority]);
  if (task.tags) fields.push(["Tags", task.tags.map((t) => `#${t}`).join(" ")]);
  if (task.recurrence) fields.push(["Repeats", repeats(task.recurrence)]);
  if (task.list_id) fields.push(["List", listNamed(task.list_id)]);
  return fields;
}

/** Wires the quick-add form; `added(task)` is told of each task saved. */
export function wireQuickAdd(form, { added, say }) {
  const input = $("quick");
  const preview = $("quick-preview");
  let read = null; // { text, result } for the text last read
  let asked = 0;
  let timer = null;

  const show = (result) => {
    const items = describe(result.task).map(([name, value]) => {
      const li = document.createElement("li");
      li.dataset.field = name.toLowerCase();
      li.textContent = `${name}: ${value}`;
      return li;
    });
    preview.replaceChildren(...items);
  };

  const readNow = async () => {
    const text = input.value.trim();
    if (!text) {
      read = null;
      preview.replaceChildren();
      return null;
    }
    if (read && read.text === text) return read.result;
    const mine = ++asked;
    const result = await api("POST", "/v1/quick-add", { text, time_zone: timeZone() });
    if (mine === asked) {
      read = { text, result };
      show(result);
    }
    return result;
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => readNow().catch((e) => {
      preview.replaceChildren();
      say(e.message);
    }), PAUSE_MS);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    try {
      const result = await readNow();
      if (!result) return;
      // The list an @name named, else the one the box adds to.
      const body = { ...result.task };
      if (!body.list_id && $("list").value) body.list_id = $("list").value;
      const task = await api("POST", "/v1/tasks", body);
      input.value = "";
      read = null;
      preview.replaceChildren();
      await added(task);
      input.focus();
    } catch (e) {
      say(e.message);
    }
  });
}
