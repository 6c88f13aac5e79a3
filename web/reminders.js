// Reminders as they fire: unread ones when the app opens, new ones live from
// the changes feed, each completed, snoozed for an hour (one more reminder
// then) or dismissed, which marks it read. With the user's permission, each new one is also
// a browser notification.

import { api } from "./api.js";
import { when } from "./words.js";

const $ = (id) => document.getElementById(id);

function button(label, name) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", name);
  return b;
}

export class Reminders {
  constructor() {
    this.root = $("reminder-list");
    this.shown = new Set();
    const allow = $("notify");
    const can = "Notification" in window;
    allow.hidden = !can || Notification.permission !== "default";
    allow.addEventListener("click", async () => {
      await Notification.requestPermission();
      allow.hidden = Notification.permission !== "default";
    });
  }

  /** The unread reminders, oldest last. */
  async load() {
    this.root.replaceChildren();
    this.shown.clear();
    const { items } = await api("GET", "/v1/notifications?unread=true&limit=20");
    for (const n of items.reverse()) this.add(n, false);
  }

  clear() {
    this.root.replaceChildren();
    this.shown.clear();
    $("reminders").hidden = true;
  }

  /** Shows `n` at the top; a `live` one is also announced by the browser, if allowed. */
  add(n, live) {
    if (this.shown.has(n.id) || n.read_at) return;
    this.shown.add(n.id);
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = n.due_at ? `${n.title} (due ${when(n.due_at)})` : n.title;
    const done = async () => {
      try {
        await api("POST", `/v1/notifications/${n.id}/read`);
      } finally {
        li.remove();
        $("reminders").hidden = !this.root.children.length;
      }
    };
    // An action on the task, then the reminder is read; a refusal is said in its place.
    const acting = (label, name, call) => {
      const b = button(label, name);
      b.addEventListener("click", async () => {
        try {
          await call();
        } catch (e) {
          text.textContent = `${n.title}: ${e.message}`;
          return;
        }
        await done();
      });
      return b;
    };
    const complete = acting("Complete", `Complete the task: ${n.title}`, () => api("POST", `/v1/tasks/${n.task_id}/complete`));
    const snooze = acting("Snooze 1 hour", `Snooze the reminder for an hour: ${n.title}`,
      () => api("POST", `/v1/tasks/${n.task_id}/snooze`, { minutes: 60 }));
    const dismiss = button("Dismiss", `Dismiss the reminder: ${n.title}`);
    dismiss.addEventListener("click", done);
    const actions = document.createElement("span");
    actions.className = "actions";
    actions.append(complete, snooze, dismiss);
    li.append(text, actions);
    this.root.prepend(li);
    $("reminders").hidden = false;
    if (live && "Notification" in window && Notification.permission === "granted") {
      new Notification("Reminder", { body: text.textContent, tag: n.id });
    }
  }
}
