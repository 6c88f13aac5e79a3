// Lists and their members: a new list; for the list shown, its settings
// (its owners rename, recolour, archive or delete it) and its members, whom
// its owners share it with (as editor, viewer or owner) or take out. Members
// who are not owners see who is in it, and may leave. Owners also invite by
// link (invitations.js).

import { api, userOf, session } from "./api.js";
import { formErrors } from "./form.js";
import { Invitations } from "./invitations.js";
import { history } from "./list.js";

const $ = (id) => document.getElementById(id);

function button(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

export class Lists {
  /**
   * `changed(listId)` is told when lists or members changed; `say` shows a
   * message, `offerUndo(message, undo)` one with an Undo button.
   */
  constructor({ changed, say, offerUndo }) {
    this.changed = changed;
    this.say = say;
    this.offerUndo = offerUndo;
    this.list = null;
    this.editing = null;
    this.invitations = new Invitations(say);
    $("new-list").addEventListener("submit", (e) => this.create(e));
    $("add-member").addEventListener("submit", (e) => this.share(e));
    $("list-form").addEventListener("submit", (e) => this.save(e));
    $("list-cancel").addEventListener("click", () => $("list-dialog").close());
    $("list-archive").addEventListener("click", () => this.archive());
    $("list-delete").addEventListener("click", () => this.removeList());
  }

  /** Opens the settings of `list` (its owner's): name and colour, archive, delete. */
  settings(list) {
    this.editing = list;
    const form = $("list-form");
    formErrors(form, null, $("list-form-error"), {});
    form.name.value = list.name;
    form.colour.value = list.colour || "#1f5fbf";
    // The Inbox stays: it can be renamed and recoloured, not archived or deleted.
    $("list-drastic").hidden = list.inbox;
    $("list-dialog").showModal();
    form.name.focus();
  }

  /** PATCH of the list being edited, with the version it was read at. */
  patch(body) {
    const list = this.editing;
    return api("PATCH", `/v1/lists/${list.id}`, body, { "If-Match": `"${list.version}"` });
  }

  async save(event) {
    event.preventDefault();
    const form = $("list-form");
    try {
      const saved = await this.patch({ name: form.name.value.trim(), colour: form.colour.value });
      $("list-dialog").close();
      this.say(`Saved the list “${saved.name}”.`);
      await this.changed(saved.id);
    } catch (e) {
      formErrors(form, e, $("list-form-error"), {});
    }
  }

  async archive() {
    const list = this.editing;
    try {
      const archived = await this.patch({ archived: true });
      $("list-dialog").close();
      await this.changed(null);
      this.offerUndo(`Archived “${list.name}”.`, async () => {
        try {
          await api("PATCH", `/v1/lists/${list.id}`, { archived: false }, { "If-Match": `"${archived.version}"` });
          this.say(`Restored “${list.name}”.`);
          await this.changed(list.id);
        } catch (e) {
          this.say(e.message);
        }
      });
    } catch (e) {
      formErrors($("list-form"), e, $("list-form-error"), {});
    }
  }

  async removeList() {
    const list = this.editing;
    try {
      await api("DELETE", `/v1/lists/${list.id}`, undefined, { "If-Match": `"${list.version}"` });
      $("list-dialog").close();
      this.say(`Deleted the list “${list.name}”.`);
      await this.changed(null);
    } catch (e) {
      formErrors($("list-form"), e, $("list-form-error"), {});
    }
  }

  async create(event) {
    event.preventDefault();
    const name = $("list-name").value.trim();
    try {
      const list = await api("POST", "/v1/lists", { name });
      $("list-name").value = "";
      this.say(`Made the list “${list.name}”.`);
      await this.changed(list.id);
    } catch (e) {
      this.say(e.message);
    }
  }

  /** Shows the members of `list` (one of GET /v1/lists' items), or nothing for every list or an Inbox. */
  async show(list) {
    this.list = list;
    const panel = $("members");
    this.invitations.show(list);
    if (!list || list.inbox) {
      panel.hidden = true;
      return;
    }
    $("members-heading").textContent = `Members of ${list.name}`;
    $("add-member").hidden = list.role !== "owner";
    // Kept while the same list is shown, so that a change arriving live does not fold it.
    const past = $("list-history");
    if (past.dataset.list !== list.id) {
      past.replaceChildren(history(`/v1/lists/${list.id}/activity`));
      past.dataset.list = list.id;
    }
    try {
      const { items } = await api("GET", `/v1/lists/${list.id}/members`);
      if (this.list !== list) return;
      const me = userOf(session.token());
      $("member-list").replaceChildren(...items.map((m) => this.member(list, m, me)));
      panel.hidden = false;
    } catch (e) {
      this.say(e.message);
    }
  }

  member(list, member, me) {
    const li = document.createElement("li");
    const who = document.createElement("span");
    who.textContent = `${member.user_id} (${member.role})`;
    li.append(who);
    const mine = member.user_id === me;
    if (list.role === "owner" || mine) {
      const text = mine ? "Leave" : "Remove";
      const label = mine ? `Leave ${list.name}` : `Remove ${member.user_id} from ${list.name}`;
      li.append(button(text, label, () => this.remove(list, member, mine)));
    }
    return li;
  }

  async share(event) {
    event.preventDefault();
    const list = this.list;
    const user = $("member-id").value.trim();
    try {
      await api("POST", `/v1/lists/${list.id}/members`, { user_id: user, role: $("member-role").value });
      $("member-id").value = "";
      this.say(`Shared “${list.name}” with ${user}.`);
      await this.show(list);
    } catch (e) {
      this.say(e.message);
    }
  }

  async remove(list, member, mine) {
    try {
      await api("DELETE", `/v1/lists/${list.id}/members/${encodeURIComponent(member.user_id)}`);
      this.say(mine ? `You left “${list.name}”.` : `${member.user_id} is no longer in “${list.name}”.`);
      await this.changed(mine ? null : list.id);
    } catch (e) {
      this.say(e.message);
    }
  }
}
