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
    const days = [...form.querySelectorAll(".weekdays input:checked")].map((b) => b.value);
    const chosen = days.length ? days : due ? [DAYS[due.getDay()]] : [];
    return chosen.length ? `FREQ=WEEKLY;BYDAY=${chosen.join(",")}` : "FREQ=WEEKLY";
  }
  if (choice === "monthly") return due ? `FREQ=MONTHLY;BYMONTHDAY=${due.getDate()}` : "FREQ=MONTHLY";
  if (choice === "custom") return form.rule.value.trim();
  return choice;
}

/** The longest title the API takes, in characters. */
const TITLE_MAX = 200;
/** Due times before this year are typing slips (a year of 1900, say). */
const EARLIEST_YEAR = 2000;
/** The form's fields that an API field error names, by the API's field. */
const FIELDS = { title: "title", due_at: "due", priority: "priority", list_id: "list", tags: "tags", remind_before_minutes: "remind", recurrence: "repeat", time_zone: "repeat" };

/**
 * Shows `error` beside the form: each field it names marked `aria-invalid`
 * with its message under it, and the whole message below the button, in
 * view where the user is (in `summary`; `names` maps the API's fields to the
 * form's). `null` clears them.
 */
export function formErrors(form, error, summary = $("new-task-error"), names = FIELDS) {
  for (const note of form.querySelectorAll(".field-error")) note.remove();
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    field.removeAttribute("aria-errormessage");
  }
  summary.textContent = error ? error.message : "";
  summary.hidden = !error;
  for (const { field, message } of (error && error.fields) || []) {
    const input = form.elements[names[field] || field];
    if (!input || !input.insertAdjacentElement) continue;
    const note = document.createElement("p");
    note.className = "field-error";
    note.id = `${input.id}-error`;
    note.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", note.id);
    input.insertAdjacentElement("afterend", note);
  }
  if (error && error.fields && error.fields.length) form.elements[names[error.fields[0].field] || error.fields[0].field]?.focus();
  // The whole message in view too, under the field the focus went to.
  if (error) summary.scrollIntoView({ block: "nearest" });
}

/**
 * The body of `POST /v1/tasks` the form describes, or `null` after showing
 * what is wrong with it (a title too long, a due time in another century).
 */
export function checked(form) {
  const fields = [];
  const title = form.title.value.trim();
  if ([...title].length > TITLE_MAX) {
    fields.push({ field: "title", message: `A title has at most ${TITLE_MAX} characters; this one has ${[...title].length}.` });
  }
  const due = form.due.value ? new Date(form.due.value) : null;
  if (due && due.getFullYear() < EARLIEST_YEAR) {
    fields.push({ field: "due_at", message: `That is in ${due.getFullYear()}: check the year.` });
  }
  if (fields.length) {
    formErrors(form, { message: "Check the fields marked above.", fields });
    return null;
  }
  return newTask(form);
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
  const out = form.querySelector(".repeat-preview");
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
    form.querySelector(".weekdays").hidden = form.repeat.value !== "weekly";
    form.querySelector(".custom-rule").hidden = form.repeat.value !== "custom";
    preview();
  };
  form.repeat.addEventListener("change", sync);
  for (const input of [form.due, form.rule, ...form.querySelectorAll(".weekdays input")]) {
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

/** The picker's choices: what each says, and the rule it stands for. */
const CHOICES = [
  ["", "Never"],
  ["FREQ=DAILY", "Every day"],
  ["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"],
  ["weekly", "Every week on…"],
  ["monthly", "Every month on the due date"],
  ["custom", "Custom rule (advanced)"],
];
const DAY_NAMES = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };

/**
 * The same picker as the new-task form's, made for another form (the edit
 * form) and set to `rule` for a task due at `due`: the choice that gives
 * that rule, the raw rule only behind "Custom rule (advanced)". Its parts
 * carry the new-task form's names and classes, so that wirePicker and
 * ruleOf read it alike.
 */
export function pickerFor(rule, due) {
  const make = (tag, props = {}, ...children) => {
    const el = Object.assign(document.createElement(tag), props);
    el.append(...children);
    return el;
  };
  const weekly = /^FREQ=WEEKLY(?:;BYDAY=((?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*))?$/.exec(rule || "");
  const monthly = /^FREQ=MONTHLY;BYMONTHDAY=(\d+)$/.exec(rule || "");
  let choice = "custom";
  if (!rule) choice = "";
  else if (CHOICES.some(([value]) => value === rule)) choice = rule;
  else if (weekly) choice = "weekly";
  else if (monthly && due && Number(monthly[1]) === due.getDate()) choice = "monthly";
  const select = make("select", { name: "repeat" },
    ...CHOICES.map(([value, text]) => make("option", { value, textContent: text, selected: value === choice })));
  const chosen = new Set(weekly && weekly[1] ? weekly[1].split(",") : []);
  const days = make("fieldset", { className: "field weekdays", hidden: choice !== "weekly" }, make("legend", { textContent: "On" }),
    ...Object.entries(DAY_NAMES).map(([code, name]) =>
      make("label", {}, make("input", { type: "checkbox", value: code, checked: chosen.has(code) }), name)));
  const custom = make("label", { className: "custom-rule", hidden: choice !== "custom" },
    make("span", { textContent: "Rule (RFC 5545)" }),
    make("input", { name: "rule", value: choice === "custom" ? rule || "" : "", autocomplete: "off", placeholder: "FREQ=MONTHLY;BYDAY=1MO" }));
  const preview = make("p", { className: "help repeat-preview" });
  preview.setAttribute("aria-live", "polite");
  return [make("label", {}, make("span", { textContent: "Repeats" }), select), days, custom, preview];
}

/** `iso` as the value of a datetime-local input, in the user's zone. */
export function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
