// The new-task form: title, due time in the user's zone, priority, tags and a
// recurrence picker that builds the RFC 5545 rule and shows the due times it
// gives (GET /v1/recurrence/preview).

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
/** The picker settles this long before the due times are asked for. */
const PAUSE_MS = 250;

/** The browser's IANA time zone, which a repeating task follows. */
export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

const DAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

/** The rule the picker describes for a task due at `due` (a Date or null). */
export function ruleOf(form, due) {
  const choice = form.repeat.value;
  if (choice === "weekly") {
    const days = [...form.querySelectorAll("#weekdays input:checked")].map((b) => b.value);
    const chosen = days.length ? days : due ? [DAYS[due.getDay()]] : [];
    return chosen.length ? `FREQ=WEEKLY;BYDAY=${chosen.join(",")}` : "FREQ=WEEKLY";
  }
  if (choice === "monthly") return due ? `FREQ=MONTHLY;BYMONTHDAY=${due.getDate()}` : "FREQ=MONTHLY";
  if (choice === "custom") return form.rule.value.trim();
  return choice;
}

/** The body of `POST /v1/tasks` the form describes. */
export function newTask(form) {
  const body = { title: form.title.value, priority: form.priority.value };
  if (form.list.value) body.list_id = form.list.value;
  // datetime-local is the user's wall clock: Date reads it in their zone.
  const due = form.due.value ? new Date(form.due.value) : null;
  if (due) body.due_at = due.toISOString();
  const tags = form.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.length) body.tags = tags;
  if (form.remind.value !== "") body.remind_before_minutes = Number(form.remind.value);
  const rule = ruleOf(form, due);
  if (rule) {
    body.recurrence = rule;
    body.time_zone = timeZone();
  }
  return body;
}

function formatWhen(iso) {
  return new Date(iso).toLocaleString(undefined, { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
}

/** Says when the task the form describes will be due, first and next: "Due Mon, Dec 7, 9:00 AM, then …". */
async function previewRule(form, asked) {
  const out = $("repeat-preview");
  const due = form.due.value ? new Date(form.due.value) : null;
  const rule = ruleOf(form, due);
  if (!rule) return out.replaceChildren();
  if (!due) return (out.textContent = "Set a due time to see when it repeats.");
  const query = new URLSearchParams({ rule, start: due.toISOString(), time_zone: timeZone(), count: "4" });
  try {
    const { occurrences } = await api("GET", `/v1/recurrence/preview?${query}`);
    if (asked()) out.textContent = `Due ${occurrences.map(formatWhen).join(", then ")}${occurrences.length === 4 ? ", …" : "."}`;
  } catch (e) {
    if (asked()) out.textContent = e.message;
  }
}

/** Shows the weekday boxes or the rule field as the picker needs them, and the due times the rule gives. */
export function wirePicker(form) {
  let asks = 0;
  let timer = null;
  const preview = () => {
    clearTimeout(timer);
    const mine = ++asks;
    timer = setTimeout(() => previewRule(form, () => mine === asks), PAUSE_MS);
  };
  const sync = () => {
    $("weekdays").hidden = form.repeat.value !== "weekly";
    $("custom-rule").hidden = form.repeat.value !== "custom";
    preview();
  };
  form.repeat.addEventListener("change", sync);
  for (const input of [form.due, form.rule, ...form.querySelectorAll("#weekdays input")]) {
    input.addEventListener("input", preview);
    input.addEventListener("change", preview);
  }
  form.addEventListener("reset", () => setTimeout(sync));
  // The list chosen stays chosen for the next task.
  form.addEventListener("reset", () => {
    const list = form.list.value;
    setTimeout(() => (form.list.value = list));
  });
  sync();
}

/** `iso` as the value of a datetime-local input, in the user's zone. */
export function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
