// The Todo web app: plain JavaScript modules, no build step, on the public API
// only (same origin as /v1). The token lives in this tab's session storage,
// never in a URL or a cookie. Every user text is rendered with textContent,
// never as HTML.
//
// Modules: api.js (requests, the token), form.js (the new-task form and its
// recurrence picker), list.js (the task list: edit, conflicts, undo),
// live.js (the changes feed and the stream), reminders.js (reminders as they
// fire, and browser notifications), quick.js (one line read into a task),
// lists.js (new lists, and the members of the list shown), settings.js (the
// settings dialog), push.js (push in this browser; sw.js, the service worker,
// shows what is pushed), signin.js (OpenID Connect), words.js (due times and
// repetition in plain words), keys.js (keyboard shortcuts), tabs.js (one
// sign-in for all the app's tabs), subtasks.js (subtasks nested and added),
// invitations.js (invitation links: made, copied, revoked, accepted),
// order.js (a list's own order: drag and drop, Shift+J and Shift+K),
// bulk.js (several tasks selected, then completed, moved, tagged or deleted),
// tags.js (a tag renamed, or taken off every task), offline.js (the last
// answers kept, and changes queued while the server cannot be reached),
// problems.js (queued changes the server did not take, to settle).

import { api, session, userOf, whenSignedOut } from "./api.js";
import { checked, formErrors, wirePicker } from "./form.js";
import { TaskList } from "./list.js";
import { Live } from "./live.js";
import { Reminders } from "./reminders.js";
import { wireQuickAdd } from "./quick.js";
import { wireKeys } from "./keys.js";
import { wireDragging, wireListOrder } from "./order.js";
import { Bulk } from "./bulk.js";
import { Tags } from "./tags.js";
import * as tabs from "./tabs.js";
import { Lists } from "./lists.js";
import * as invitations from "./invitations.js";
import { Settings } from "./settings.js";
import * as push from "./push.js";
import * as offline from "./offline.js";
import { showProblems } from "./problems.js";
import { when } from "./words.js";
import { begin as beginSignIn, finish as finishSignIn, signInOptions } from "./signin.js";

const $ = (id) => document.getElementById(id);

let view = "all";
let query = "";
/** "key:order" from the sort picker; empty for the view's own order. */
let sort = "";
let tag = null;
/** The list whose tasks are shown; `null` for every list. */
let listId = null;
/** The keyset cursor of the next page of the list shown, if there is one. */
let next = null;
/** Counts the lists shown, so that a page for an older one is not appended. */
let shown = 0;
/** Keyset pages as the user scrolls: this many tasks at a time. */
const PAGE = 50;
/** The most tasks one request may bring (the API's limit). */
const LIMIT_MAX = 200;
/** Changes that arrive together are shown with one reload. */
const SETTLE_MS = 150;
const list = new TaskList($("tasks"), () => refresh(loadedLimit()), () => [...known.values()]);
let reminders = null;
let lists = null;
/** The caller's lists as GET /v1/lists last said, by id. */
let known = new Map();
let pendingReload = null;

const LIVE_TEXT = { live: "Live", "catching-up": "Updating…", offline: "Offline: reconnecting…", off: "" };
const live = new Live({
  changes: (changes) => {
    const me = userOf(session.token());
    for (const change of changes) {
      if (change.type === "notification") reminders.add(change.notification, true);
      if (change.type === "member" && change.event === "list.member_removed" && change.member.user_id === me) {
        leftList(change.member.list_id);
      }
    }
    if (changes.some((c) => c.type !== "notification")) reloadSoon();
  },
  reset: () => refresh(),
  state: (state) => {
    $("live").dataset.state = state;
    $("live").textContent = LIVE_TEXT[state];
    $("retry").hidden = state !== "offline";
    if (state !== "live") return;
    // Back in touch: a "cannot be reached" said while away no longer holds,
    // what was queued meanwhile goes, and kept answers give way to the server's.
    if (unreachable || showingKept) say("");
    offline.sync();
    if (showingKept) {
      showingKept = false;
      refresh(loadedLimit());
    }
  },
});

/**
 * The user is no longer a member of list `id` (removed, or left in another
 * tab): it goes at once, with its tasks and members, rather than staying on
 * screen until a request fails.
 */
function leftList(id) {
  const gone = known.get(id);
  known.delete(id);
  for (const row of $("tasks").querySelectorAll("li[data-list]")) {
    if (row.dataset.list === id) row.remove();
  }
  if (listId === id) {
    listId = null;
    lists.show(null);
  }
  if (gone) say(`You are no longer a member of “${gone.name}”.`);
}

/**
 * Shows what changed elsewhere (another tab, another member of a shared
 * list): the tasks shown, read again, as many as are loaded now. Never while
 * the user edits a task: their save says if someone else changed it.
 */
function reloadSoon() {
  clearTimeout(pendingReload);
  pendingReload = setTimeout(async () => {
    await refresh(loadedLimit(), { live: true });
    // Its members may have changed too.
    if (listId) await lists.show(known.get(listId) || null);
  }, SETTLE_MS);
}

/** As many tasks as the user has scrolled through, so that a reload keeps their place. */
function loadedLimit() {
  const loaded = $("tasks").querySelectorAll("li[data-id]").length;
  return Math.min(Math.max(loaded, PAGE), LIMIT_MAX);
}

/** Whether the status line says the server cannot be reached. */
let unreachable = false;
/** Whether what is shown came from the answers kept in this browser (offline.js). */
let showingKept = false;

/** What offline.js tells the page: the queue, changes sent, kept answers shown. */
const kept = {
  changed: (count, problems) => {
    $("pending").hidden = !count;
    $("pending").textContent = count === 1 ? "1 change to send" : `${count} changes to send`;
    showProblems(problems, { say, reload: () => refresh(loadedLimit()) });
  },
  synced: async (count) => {
    await refresh(loadedLimit());
    say(count === 1 ? "Sent the change made offline." : `Sent the ${count} changes made offline.`);
  },
  stale: (at) => {
    // Said once while away, not over each message that follows.
    if (showingKept) return;
    showingKept = true;
    say(`The server cannot be reached: these are your tasks as of ${when(at)}. What you add, complete or edit is kept here and sent when it answers.`);
  },
};

function say(message, error = null) {
  $("status").textContent = message;
  $("status").classList.toggle("error", Boolean(error));
  unreachable = Boolean(error && error.code === "offline");
}

/** `error` in the status line, marked as an error. */
function sayError(error) {
  say(error.message, error);
}

function show(signedIn) {
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("sign-out").hidden = !signedIn;
  $("menu").hidden = !signedIn;
  $("open-settings").hidden = !signedIn;
  $("who").textContent = "";
}

function signOut(message) {
  // Changes not sent yet are lost with the sign-out: the user says so first.
  const unsent = offline.waiting();
  if (!message && unsent && !confirm(`${unsent} change${unsent > 1 ? "s" : ""} made offline will be lost. Sign out anyway?`)) return;
  // What this browser kept of the user goes with their sign-out; an expired
  // sign-in keeps it, for the same user's next one.
  if (!message) offline.forget();
  // Signing out stops this browser's push for the user; an expired sign-in
  // cannot (the API refuses it), and the next user's sign-in moves it.
  if (!message) push.turnOff().catch(() => {});
  // Signing out here signs out the app's other tabs; an expired sign-in does not.
  if (!message) tabs.signedOutHere();
  live.stop();
  lists.show(null);
  reminders.clear();
  session.forget();
  show(false);
  say(message || "Signed out.");
}

function startOfToday() {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  return start;
}

function endOfToday() {
  const end = new Date();
  end.setHours(24, 0, 0, 0);
  return end;
}

/** The API's query for the view and the search, `limit` tasks at a time. */
function listPath(limit = PAGE) {
  const params = new URLSearchParams({ limit: String(limit), status: "open", sort: "due" });
  if (view === "all") {
    // What is done is out of the way, under Completed. A list's own view is
    // in the order its members gave it.
    params.set("sort", listId ? "manual" : "created");
  }
  if (view === "today") {
    // Everything due today, what is past due since midnight included.
    params.set("due_after", startOfToday().toISOString());
    params.set("due_before", endOfToday().toISOString());
  }
  if (view === "upcoming") params.set("due_after", endOfToday().toISOString());
  if (view === "overdue") params.set("overdue", "true");
  if (view === "assigned") params.set("assignee", "me");
  if (view === "completed") {
    params.set("status", "done");
    params.set("sort", "completed");
  }
  if (sort) {
    const [key, order] = sort.split(":");
    params.set("sort", key);
    params.set("order", order);
  }
  return filtered(params);
}

/** Whether the tasks shown are in their list's own order, which drags and Shift+J/K change (order.js). */
function orderable() {
  return view === "all" && Boolean(listId) && !sort;
}

/** Today's overdue section: open tasks due before today, most overdue first, as filtered. */
function overduePath() {
  return filtered(new URLSearchParams({ limit: String(PAGE), overdue: "true", due_before: startOfToday().toISOString(), sort: "due" }));
}

/** The task list's path for `params` with the search, tag and list chosen. */
function filtered(params) {
  if (query) params.set("q", query);
  if (tag) params.set("tag", tag);
  if (listId) params.set("list", listId);
  return `/v1/tasks?${params}`;
}

/** What a list is called, with who shares it: "Household (shared, editor)". */
function listName(list) {
  return list.role === "owner" ? list.name : `${list.name} (shared, ${list.role})`;
}

/** What each view is called, as its heading says. */
const VIEWS = { all: "All tasks", today: "Today", upcoming: "Upcoming", overdue: "Overdue", assigned: "Assigned to me", completed: "Completed" };

/** The heading says what is shown: the view, and the list when one is chosen. */
function showHeading() {
  const list = listId && known.get(listId);
  $("tasks-heading").textContent = list ? (view === "all" ? list.name : `${VIEWS[view]} in ${list.name}`) : VIEWS[view];
  $("list-options").hidden = !(list && list.role === "owner");
  $("tag-options").hidden = !tag;
  // New tasks go to the list shown, where the user may add to it.
  const picker = $("list");
  if (list && list.role !== "viewer") picker.value = list.id;
  const target = picker.selectedOptions[0];
  $("quick-target").textContent = target ? `to ${target.textContent}` : "";
}

/**
 * The caller's lists: the filter beside the tasks (each list with its colour
 * and how many open tasks it holds), and the picker of the new-task form.
 */
function showLists({ items }, counts) {
  const open = new Map(counts.items.map((c) => [c.list_id, c]));
  known = new Map(items.map((l) => [l.id, l]));
  if (listId && !known.has(listId)) listId = null; // left, or removed from it
  const picker = $("list");
  const chosen = picker.value;
  const options = items.filter((l) => l.role !== "viewer").map((l) => {
    const option = document.createElement("option");
    option.value = l.id;
    option.textContent = listName(l);
    option.selected = l.id === chosen || (!chosen && l.inbox);
    return option;
  });
  picker.replaceChildren(...options);
  const filter = (label, id) => {
    const button = document.createElement("button");
    button.type = "button";
    if (id) {
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.setAttribute("aria-hidden", "true");
      const colour = known.get(id)?.colour;
      // A colour the API checked (#rrggbb), set as a style property, never as markup.
      if (colour) swatch.style.background = colour;
      button.append(swatch);
    }
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
    button.append(name);
    const count = id && open.get(id);
    if (count) {
      // "Book club, 3 open, 1 overdue" to a screen reader; the number alone on screen.
      const number = document.createElement("span");
      number.className = "count";
      number.textContent = String(count.open);
      const said = document.createElement("span");
      said.className = "visually-hidden";
      said.textContent = `, ${count.open} open${count.overdue ? `, ${count.overdue} overdue` : ""}`;
      button.append(number, said);
    }
    button.setAttribute("aria-pressed", String(id === listId));
    if (id) {
      // In the user's own order: dragged, or moved by Shift+J and Shift+K (order.js).
      button.dataset.list = id;
      button.draggable = true;
    }
    button.addEventListener("click", () => {
      listId = id;
      refresh();
      lists.show(known.get(id) || null);
      closeDrawer();
    });
    return button;
  };
  $("list-filter").replaceChildren(filter("Every list", null), ...items.map((l) => filter(listName(l), l.id)));
}

/** The caller's tags, each a toggle that filters the list by it. */
function showTags({ tags }) {
  const buttons = tags.map(({ tag: name, count }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `#${name} (${count})`;
    button.setAttribute("aria-pressed", String(name === tag));
    button.addEventListener("click", () => {
      tag = tag === name ? null : name;
      refresh();
    });
    return button;
  });
  $("tag-filter").replaceChildren(...buttons);
}

/**
 * Shows the first `limit` tasks of the view, and the tags and lists. A `live`
 * reload (a change made elsewhere) leaves the tasks as they are while the
 * user edits one: their save says if someone else changed it.
 */
async function refresh(limit = PAGE, { live = false } = {}) {
  if (!session.token()) return;
  // While the user edits, a change made elsewhere waits, and must not take
  // the place of a reload they asked for (the one that closes the edit).
  if (live && $("tasks").querySelector("li.editing")) return;
  const mine = ++shown;
  const tasks = $("tasks");
  tasks.setAttribute("aria-busy", "true");
  try {
    // Read together, shown together: nothing moves after the tasks appear.
    const [page, tags, lists, counts, late] = await Promise.all([
      api("GET", listPath(limit)),
      api("GET", "/v1/tags"),
      api("GET", "/v1/lists"),
      api("GET", "/v1/lists/counts"),
      // Today shows what is still open from before it, in a section of its own.
      view === "today" ? api("GET", overduePath()) : null,
    ]);
    if (mine !== shown) return;
    showTags(tags);
    showLists(lists, counts);
    showHeading();
    // Checked now, not when the reload began: the user may have opened an edit meanwhile.
    if (live && tasks.querySelector("li.editing")) return;
    const empty = query || tag ? "No task matches." : "Nothing here.";
    list.orderable = orderable();
    if (late && late.items.length) {
      list.showSections([{ title: "Overdue", tasks: late.items }, { title: "Today", tasks: page.items }], empty);
    } else {
      list.show(page.items, empty);
    }
    setNext(page.next_cursor);
  } catch (e) {
    // The list shown is gone for the user (removed from it meanwhile): show every list.
    if (listId && e.status === 404) {
      leftList(listId);
      return refresh(limit, { live });
    }
    sayError(e);
  } finally {
    if (mine === shown) tasks.setAttribute("aria-busy", "false");
  }
}

/** Loads the next page when "Show more" is in view: watched from start(). */
let scrolled = null;

function setNext(cursor) {
  next = cursor;
  $("more").hidden = !next;
  // Observing again reports where the button is now: a page replaced while
  // it stayed in view (a reload after a change) still leads to the next one.
  if (next && scrolled) {
    scrolled.unobserve($("more"));
    scrolled.observe($("more"));
  }
}

/** The next page, when the user scrolls to the end of the list (or asks). */
async function more() {
  if (!next) return;
  const cursor = next;
  const mine = shown;
  next = null;
  try {
    const page = await api("GET", `${listPath()}&cursor=${encodeURIComponent(cursor)}`);
    if (mine !== shown) return;
    list.append(page.items);
    setNext(page.next_cursor);
  } catch (e) {
    next = cursor;
    sayError(e);
  }
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  const body = checked(form);
  if (!body) return;
  try {
    const { task, queued } = await offline.perform({ kind: "add", id: offline.newId(), body });
    form.reset();
    formErrors(form, null);
    sayAdded(task, queued);
    await refresh();
    form.title.focus();
  } catch (e) {
    formErrors(form, e);
  }
}

/** Says that `task` was added, or kept here to be added (`queued`). */
function sayAdded(task, queued) {
  say(queued ? `Kept “${task.title}” here: it is added when the server answers.` : `Added “${task.title}”.`);
}

async function signedIn() {
  // Before anything is read: a previous user's kept answers go.
  offline.begin(kept);
  try {
    // The feed's position first: whatever changes while the tasks load comes after it.
    await live.begin();
  } catch (e) {
    sayError(e);
    if (e.status === 401) return;
  }
  // Opened with an invitation link: the list joined is the one shown.
  const joined = await invitations.acceptPending(say);
  if (joined) listId = joined.id;
  // Everything the first screen shows is read before it is shown: nothing
  // moves once it appears.
  await Promise.all([refresh(), reminders.load().catch(sayError)]);
  if (joined) await lists.show(known.get(joined.id) || null);
  if (!session.token()) return;
  const user = userOf(session.token());
  show(true);
  $("who").textContent = user ? `Signed in as ${user}` : "Signed in";
  live.start();
  tabs.signedInHere();
}

async function devSignIn() {
  try {
    const res = await fetch("/auth/dev", { method: "POST" });
    if (!res.ok) throw new Error("The development sign-in is not available.");
    session.keep((await res.json()).token);
    say("");
    await signedIn();
  } catch (e) {
    say(e.message);
  }
}

function choose(button) {
  view = button.dataset.view;
  for (const other of document.querySelectorAll("[data-view]")) {
    other.setAttribute("aria-pressed", String(other === button));
  }
  showHeading();
  refresh();
  closeDrawer();
}

/** On a phone the sidebar is a drawer, opened by Menu and closed by a choice or Escape. */
function openDrawer() {
  $("sidebar").classList.add("open");
  $("menu").setAttribute("aria-expanded", "true");
  $("sidebar").querySelector("button")?.focus();
}

function closeDrawer() {
  if (!$("sidebar").classList.contains("open")) return;
  $("sidebar").classList.remove("open");
  $("menu").setAttribute("aria-expanded", "false");
  $("menu").focus();
}

async function start() {
  invitations.takeFromLink();
  reminders = new Reminders();
  whenSignedOut(signOut);
  wirePicker($("new-task"));
  $("new-task").addEventListener("submit", create);
  lists = new Lists({
    changed: async (id) => {
      listId = id;
      await refresh();
      await lists.show(known.get(id) || null);
    },
    say,
    offerUndo: (message, undo) => list.offerUndo(message, undo),
  });
  $("list-options").addEventListener("click", () => listId && known.get(listId) && lists.settings(known.get(listId)));
  const tags = new Tags({
    say,
    changed: async (name) => {
      tag = name;
      await refresh();
    },
  });
  $("tag-options").addEventListener("click", () => tag && tags.open(tag));
  wireQuickAdd($("quick-add"), {
    added: async (task, queued) => {
      sayAdded(task, queued);
      await refresh();
    },
    say,
  });
  new Settings({ say });
  $("sign-out").addEventListener("click", () => signOut());
  $("retry").addEventListener("click", () => live.retry());
  $("dev-sign-in").addEventListener("click", devSignIn);
  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    session.keep($("token-input").value.trim());
    $("token-input").value = "";
    await signedIn();
  });
  $("search").addEventListener("submit", (event) => event.preventDefault());
  $("sort").addEventListener("change", () => {
    sort = $("sort").value;
    refresh();
  });
  $("q").addEventListener("input", () => {
    query = $("q").value.trim();
    refresh();
  });
  for (const button of document.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () => choose(button));
  }
  $("more").addEventListener("click", more);
  wireKeys(list, say);
  wireDragging(list, say);
  wireListOrder($("list-filter"), {
    lists: () => [...known.values()],
    say,
    moved: async (id) => {
      await refresh(loadedLimit());
      $("list-filter").querySelector(`button[data-list="${id}"]`)?.focus();
    },
  });
  new Bulk(list, { say, lists: () => [...known.values()], reload: () => refresh(loadedLimit()) });
  $("open-shortcuts").addEventListener("click", () => $("shortcuts").showModal());
  $("menu").addEventListener("click", () => ($("sidebar").classList.contains("open") ? closeDrawer() : openDrawer()));
  $("sidebar").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeDrawer();
  });
  $("list").addEventListener("change", showHeading);
  scrolled = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) more();
  });
  scrolled.observe($("more"));
  // A deletion waiting to be undone is carried out before the tab goes.
  window.addEventListener("pagehide", () => list.flush());
  // The local host offers a one-click development sign-in; the api binary does not.
  const [{ dev_sign_in: dev, oidc }, finished] = await Promise.all([signInOptions(), finishSignIn()]);
  $("dev-sign-in").hidden = !dev;
  if (oidc) {
    const button = $("oidc-sign-in");
    button.hidden = false;
    button.textContent = `Sign in with ${new URL(oidc.issuer).host}`;
    button.addEventListener("click", () => beginSignIn(oidc).catch((e) => say(e.message)));
  }
  if (finished) say(finished);
  // A tab opened while another is signed in is signed in with it.
  if (!session.token()) {
    const token = await tabs.borrow();
    if (token && !session.token()) session.keep(token);
  }
  tabs.follow({ signedIn, signedOut: () => signOut("Signed out in another tab.") });
  if (session.token()) await signedIn();
  else show(false);
  // The service worker (sw.js: the app's files kept for opening offline, and
  // pushed reminders), once the first screen is up: its install fetches every
  // file of the app, which the first screen need not wait behind. Failing,
  // the app works online only and push is off.
  push.registration().catch(() => {});
}

start();
