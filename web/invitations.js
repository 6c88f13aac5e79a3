// Invitation links: a list's owners make one (for an editor or a viewer),
// copy it, see which are still open and revoke them; whoever opens a link
// joins the list once signed in. The token travels in the link's fragment
// (`/#invite=…`), which browsers send to no server and no Referer carries; it
// is taken off the address bar at once and kept in this tab's session storage
// only until it is used.

import { api } from "./api.js";
import { when } from "./words.js";

const $ = (id) => document.getElementById(id);
const PENDING_KEY = "todo.invite";
const ROLE = { editor: "Editor", viewer: "Viewer", owner: "Owner" };

/** Keeps an invitation the page was opened with, and takes it off the address bar. */
export function takeFromLink() {
  const match = /^#invite=([A-Za-z0-9_-]{16,200})$/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(PENDING_KEY, match[1]);
  history.replaceState(null, "", location.pathname + location.search);
}

/**
 * Accepts the invitation the page was opened with, if any: the list joined,
 * or null. Used or not, it is forgotten: a link works once.
 */
export async function acceptPending(say) {
  const token = sessionStorage.getItem(PENDING_KEY);
  if (!token) return null;
  sessionStorage.removeItem(PENDING_KEY);
  try {
    const list = await api("POST", `/v1/invitations/${encodeURIComponent(token)}/accept`);
    say(`You joined “${list.name}” as ${list.role}.`);
    return list;
  } catch (e) {
    say(`The invitation link did not work: ${e.message}`);
    return null;
  }
}

function element(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children);
  return el;
}

/** The invitations of the list shown, for its owners. */
export class Invitations {
  constructor(say) {
    this.say = say;
    this.list = null;
    $("invite-form").addEventListener("submit", (e) => this.make(e));
    $("invite-copy").addEventListener("click", () => this.copy());
  }

  /** Shows the open invitations of `list` if the user owns it, else nothing. */
  async show(list) {
    const panel = $("invites");
    if (this.list?.id !== list?.id) $("invite-made").hidden = true;
    this.list = list;
    if (!list || list.inbox || list.role !== "owner") {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    try {
      const { items } = await api("GET", `/v1/lists/${list.id}/invitations?open=true`);
      if (this.list !== list) return;
      $("invite-list").replaceChildren(...items.map((i) => this.item(list, i)));
    } catch (e) {
      this.say(e.message);
    }
  }

  item(list, invitation) {
    const revoke = element("button", { type: "button", textContent: "Revoke" });
    const what = `${ROLE[invitation.role]} link, until ${when(invitation.expires_at)}`;
    revoke.setAttribute("aria-label", `Revoke the ${what}`);
    revoke.addEventListener("click", async () => {
      try {
        await api("DELETE", `/v1/lists/${list.id}/invitations/${invitation.id}`);
        this.say(`Revoked the ${what}: it no longer works.`);
        $("invite-made").hidden = true;
        await this.show(list);
      } catch (e) {
        this.say(e.message);
      }
    });
    return element("li", {}, element("span", { textContent: what }), revoke);
  }

  async make(event) {
    event.preventDefault();
    const list = this.list;
    try {
      const made = await api("POST", `/v1/lists/${list.id}/invitations`, { role: $("invite-role").value });
      const link = $("invite-link");
      link.value = `${location.origin}/#invite=${made.token}`;
      $("invite-made").hidden = false;
      this.say(`Made a link that lets one person join “${list.name}” as ${made.role}.`);
      await this.show(list);
      link.focus();
      link.select();
    } catch (e) {
      this.say(e.message);
    }
  }

  async copy() {
    const link = $("invite-link");
    try {
      await navigator.clipboard.writeText(link.value);
      this.say("Copied the link.");
    } catch {
      // No clipboard (an insecure origin, or permission refused): selected to copy by hand.
      link.focus();
      link.select();
      this.say("Copy the selected link with Ctrl+C (⌘C on a Mac).");
    }
  }
}
