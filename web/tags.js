// Tags managed: with a tag chosen in the sidebar, *Tag settings* renames it
// or takes it off every task. Tags are words on tasks, not objects of their
// own, so each task carrying the tag is changed (PATCH with If-Match, as any
// edit), page by page; a task in a list the user only views, or changed by
// someone meanwhile, is left as it is and counted in what the status line says.

import { api } from "./api.js";
import { formErrors } from "./form.js";

const $ = (id) => document.getElementById(id);
/** The API's page size and its bound on a user's tasks: at most this many pages. */
const PAGE = 200;
const PAGES_MAX = 100;
const TAG_MAX = 40;

/** A tag as the API keeps it: trimmed, lower case, without a leading #. */
function normal(text) {
  return text.trim().replace(/^#/, "").toLowerCase();
}

/**
 * Whether `send()` succeeded, waiting as a 429 asks (a few times) when the
 * user's write budget runs out, as renaming a tag on hundreds of tasks does.
 */
async function patient(send) {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await send();
      return true;
    } catch (e) {
      if (e.status !== 429) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(e.retryAfter || 1, 60) * 1000));
    }
  }
  return false;
}

export class Tags {
  /** `say` tells the user; `changed(tag)` shows the tasks again, filtered by `tag` (or none). */
  constructor({ say, changed }) {
    this.say = say;
    this.changed = changed;
    this.tag = null;
    $("tag-form").addEventListener("submit", (e) => this.rename(e));
    $("tag-cancel").addEventListener("click", () => $("tag-dialog").close());
    $("tag-delete").addEventListener("click", () => this.remove());
  }

  open(tag) {
    this.tag = tag;
    const form = $("tag-form");
    formErrors(form, null, $("tag-form-error"), {});
    $("tag-dialog-heading").textContent = `Tag #${tag}`;
    form.name.value = tag;
    $("tag-delete").textContent = `Remove #${tag} from every task`;
    $("tag-dialog").showModal();
    form.name.focus();
  }

  async rename(event) {
    event.preventDefault();
    const form = $("tag-form");
    const from = this.tag;
    const to = normal(form.name.value);
    const refusal = !to ? "A tag needs a name." : to.length > TAG_MAX ? `A tag is at most ${TAG_MAX} characters.`
      : to.includes(",") ? "A tag holds no comma." : null;
    if (refusal) {
      formErrors(form, { message: refusal, fields: [{ field: "name", message: refusal }] }, $("tag-form-error"), {});
      return;
    }
    if (to === from) return $("tag-dialog").close();
    $("tag-dialog").close();
    const { done, left } = await this.rewrite(from, (tags) => [...new Set(tags.map((t) => (t === from ? to : t)))]);
    this.report(`Renamed #${from} to #${to} on`, done, left);
    await this.changed(to);
  }

  async remove() {
    const from = this.tag;
    $("tag-dialog").close();
    const { done, left } = await this.rewrite(from, (tags) => tags.filter((t) => t !== from));
    this.report(`Took #${from} off`, done, left);
    await this.changed(null);
  }

  report(what, done, left) {
    const words = `${what} ${done} ${done === 1 ? "task" : "tasks"}`;
    this.say(left ? `${words}; ${left} left as they were (a list you only view, or changed meanwhile).` : `${words}.`);
  }

  /**
   * Changes the tags of every task carrying `tag` with `change(tags)`: how
   * many were changed, and how many were left. Pages follow the keyset of
   * creation, which a task leaving the tag (as each one changed does) does
   * not upset.
   */
  async rewrite(tag, change) {
    let done = 0;
    let left = 0;
    let cursor = null;
    for (let page = 0; page < PAGES_MAX; page++) {
      const params = new URLSearchParams({ tag, status: "all", sort: "created", order: "asc", limit: String(PAGE) });
      if (cursor) params.set("cursor", cursor);
      const { items, next_cursor } = await api("GET", `/v1/tasks?${params}`);
      for (const t of items) {
        if (await patient(() => api("PATCH", `/v1/tasks/${t.id}`, { tags: change(t.tags) }, { "If-Match": `"${t.version}"` }))) done++;
        else left++;
      }
      if (!next_cursor) break;
      cursor = next_cursor;
    }
    return { done, left };
  }
}
