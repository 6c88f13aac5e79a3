// Quick add: one line ("Pay rent tomorrow 9am #home !high every month @home") read
// by the API (POST /v1/quick-add) into a task's fields, shown as they will be
// saved while the user types, then saved with POST /v1/tasks on Enter. When
// the server cannot be reached, the line itself is queued (offline.js), to
// be read as of when it was written once the server answers.

import { ApiError, api } from "./api.js";
import { timeZone } from "./form.js";
import { newId, perform } from "./offline.js";
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

/** Wires the quick-add form; `added(task, queued)` is told of each task saved, or queued to be. */
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

  const offline = (e) => e instanceof ApiError && e.code === "offline";

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => readNow().catch((e) => {
      preview.replaceChildren();
      if (!offline(e)) return say(e.message);
      const li = document.createElement("li");
      li.textContent = "Offline: the line is read when the server answers.";
      preview.append(li);
    }), PAUSE_MS);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) return;
    try {
      let made;
      try {
        const result = await readNow();
        // The list an @name named, else the one the box adds to.
        const body = { ...result.task };
        if (!body.list_id && $("list").value) body.list_id = $("list").value;
        made = await perform({ kind: "add", id: newId(), body });
      } catch (e) {
        if (!offline(e)) throw e;
        made = await perform({ kind: "quick", id: newId(), text, list_id: $("list").value || null, time_zone: timeZone() });
      }
      input.value = "";
      read = null;
      preview.replaceChildren();
      await added(made.task, made.queued);
      input.focus();
    } catch (e) {
      say(e.message);
    }
  });
}
