// Working without the server. The app opens from the service worker's cache
// (sw.js); this module gives it the last tasks it saw, and keeps what the
// user adds, completes and edits until the server can take it:
//
// - Reads: each answer to a GET is kept per user in the browser's Cache
//   Storage. When the server cannot be reached, the kept answer to the same
//   request is shown instead, with the queued changes applied to it.
// - Writes: an add, a completion or an edit the server could not take is
//   queued in local storage, so it survives a reload. It is sent when the
//   server answers again, in order, by one tab at a time (Web Locks):
//   a new task carries an id chosen here, so the API makes it once however
//   often it is sent; a completion or an edit carries If-Match with the
//   version the user saw. A change refused because the task changed
//   meanwhile becomes a conflict for the user to settle, unless the task
//   already is as the change would leave it (it went through before and its
//   answer was lost).
// - Signing out, or another user signing in, forgets both.

import { ApiError, api, keepReads, session, userOf } from "./api.js";

const QUEUE = "todo.queue";
const DATA = "todo-data";
/** Answers kept of these paths would mislead: the changes feed's positions, secrets. */
const UNKEPT = ["/v1/changes", "/v1/tokens", "/v1/push", "/v1/invitations"];

let hooks = { changed: () => {}, synced: () => {}, stale: () => {} };
/** The key of the change being sent now, which changes made meanwhile are not folded into. */
let sending = null;

/**
 * The user the queue and the kept answers belong to, from the JWT's subject;
 * `null` for a pasted personal access token, which names no one the page can
 * read, so nothing is kept or queued for it.
 */
const me = () => userOf(session.token() || "");
/** At most this many answers are kept; the oldest written go first. */
const KEPT_MAX = 200;
let puts = 0;

/** `{ user, ops, problems }` from local storage; empty for anyone but the user signed in. */
function saved() {
  if (!me()) return { ops: [], problems: [] };
  try {
    const q = JSON.parse(localStorage.getItem(QUEUE));
    if (q && q.user === me()) return { ops: q.ops || [], problems: q.problems || [] };
  } catch {
    // unreadable: nothing queued
  }
  return { ops: [], problems: [] };
}

function save({ ops, problems }) {
  if (ops.length || problems.length) localStorage.setItem(QUEUE, JSON.stringify({ user: me(), ops, problems }));
  else localStorage.removeItem(QUEUE);
  hooks.changed(ops.length, problems);
}

/** How many changes wait to be sent. */
export const waiting = () => saved().ops.length;

/** A random UUID (version 4), for a new task's id; `crypto.randomUUID` exists in secure contexts only. */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Starts keeping answers for the user signed in. `changed(count, problems)`
 * hears of the queue, `synced(count)` of changes sent, `stale(at)` that a
 * kept answer from `at` is shown.
 */
export function begin(handlers) {
  hooks = handlers;
  const owner = localStorage.getItem("todo.owner");
  // Another user's answers and queue are not this one's to see.
  if (owner && owner !== me()) forget();
  if (me()) localStorage.setItem("todo.owner", me());
  hooks.changed(waiting(), saved().problems);
}

/** Forgets the kept answers and the queue (signing out). */
export function forget() {
  clearTimeout(retry);
  localStorage.removeItem(QUEUE);
  localStorage.removeItem("todo.owner");
  if (self.caches) caches.delete(DATA).catch(() => {});
}

const keyOf = (path) => `/offline/${encodeURIComponent(me())}${path}`;
/** Searches are typed a letter at a time, and not kept. */
const keepable = (path) => Boolean(self.caches && me()) && !UNKEPT.some((p) => path.startsWith(p)) && !/[?&]q=/.test(path);

/** Keeps `data`, the answer to `path`; now and then the oldest beyond KEPT_MAX go. */
async function keep(path, data) {
  const cache = await caches.open(DATA);
  await cache.put(keyOf(path), new Response(JSON.stringify({ at: new Date().toISOString(), data })));
  if (++puts % 25) return;
  const keys = await cache.keys(); // in the order written: a rewrite goes last
  await Promise.all(keys.slice(0, Math.max(0, keys.length - KEPT_MAX)).map((key) => cache.delete(key)));
}

keepReads({
  kept(path, data) {
    if (keepable(path)) keep(path, data).catch(() => {});
    return overlay(path, data);
  },
  async recall(path) {
    if (!keepable(path)) return undefined;
    const kept = await (await caches.open(DATA)).match(keyOf(path)).catch(() => null);
    if (!kept) return undefined;
    const { at, data } = await kept.json();
    hooks.stale(at);
    return overlay(path, data);
  },
});

/** A task as the queued add `op` would make it, marked as not sent yet. */
function provisional(op) {
  const body = op.kind === "quick" ? { title: op.text, list_id: op.list_id } : op.body;
  return {
    id: op.id,
    list_id: body.list_id || null,
    parent_id: body.parent_id || null,
    assignee_id: body.assignee_id || null,
    title: body.title,
    description: body.description || "",
    priority: body.priority || "medium",
    tags: body.tags || [],
    due_at: body.due_at || null,
    remind_before_minutes: body.remind_before_minutes ?? null,
    remind_at: null,
    recurrence: body.recurrence || null,
    time_zone: body.time_zone || null,
    completed: false,
    completed_at: null,
    created_at: op.at,
    updated_at: op.at,
    version: 1,
    pending: true,
  };
}

/** `task` with the queued change `op` made to it, marked as not sent yet. */
function applied(task, op) {
  if (op.kind === "complete") return { ...task, completed: true, completed_at: op.at, pending: true };
  if (op.kind === "reopen") return { ...task, completed: false, completed_at: null, pending: true };
  if (op.kind === "edit") return { ...task, ...op.changes, pending: true };
  return task;
}

/** Whether `task` belongs in the answer to GET /v1/tasks with `params`. */
function fits(params, task) {
  const status = params.get("status");
  if (status === "open" && task.completed) return false;
  if (status === "done" && !task.completed) return false;
  if (params.get("list") && task.list_id !== params.get("list")) return false;
  if (params.get("tag") && !task.tags.includes(params.get("tag"))) return false;
  const q = params.get("q")?.toLowerCase();
  if (q && !`${task.title} ${task.description}`.toLowerCase().includes(q)) return false;
  const due = task.due_at ? Date.parse(task.due_at) : null;
  if (params.get("due_after") && !(due !== null && due >= Date.parse(params.get("due_after")))) return false;
  if (params.get("due_before") && !(due !== null && due < Date.parse(params.get("due_before")))) return false;
  if (params.get("overdue") === "true" && !(due !== null && due < Date.now() && !task.completed)) return false;
  if (params.get("assignee") === "me" && task.assignee_id !== me()) return false;
  return true;
}

/**
 * An answer of the API with the queued changes applied: what the server will
 * say once it has them. The change being sent is left out: the server's
 * answer about it (a conflict's newer version) must be read as it is.
 */
function overlay(path, data) {
  const ops = saved().ops.filter((op) => op.key !== sending);
  if (!ops.length || !data) return data;
  const url = new URL(path, location.origin);
  if (url.pathname === "/v1/tasks" && Array.isArray(data.items)) {
    let items = data.items.slice();
    for (const op of ops) {
      if (op.kind === "add" || op.kind === "quick") {
        // New tasks head the first page of a view they belong in.
        if (!url.searchParams.has("cursor") && !items.some((t) => t.id === op.id)) items.unshift(provisional(op));
        continue;
      }
      const i = items.findIndex((t) => t.id === op.id);
      if (i >= 0) items[i] = applied(items[i], op);
    }
    items = items.filter((t) => !t.pending || fits(url.searchParams, t));
    return { ...data, items };
  }
  const one = url.pathname.match(/^\/v1\/tasks\/([0-9a-f-]{36})$/);
  if (one) return ops.filter((op) => op.id === one[1]).reduce(applied, data);
  return data;
}

/** Queues `op`, folded into a change already queued for the same task where it can be. */
function enqueue(op) {
  const queue = saved();
  const earlier = queue.ops.find((o) => o.id === op.id && o.key !== sending);
  if (op.kind === "edit" && earlier) {
    if (earlier.kind === "add") {
      Object.assign(earlier.body, op.changes);
      return save(queue);
    }
    if (earlier.kind === "quick") {
      // Edited by hand: the fields as the form has them, the line no longer read.
      Object.assign(earlier, { kind: "add", body: { id: op.id, ...op.changes } });
      delete earlier.text;
      return save(queue);
    }
    if (earlier.kind === "edit") {
      Object.assign(earlier.changes, op.changes);
      return save(queue);
    }
  }
  queue.ops.push(op);
  save(queue);
}

/**
 * Does `op` now, or queues it when the server cannot be reached (or earlier
 * changes still wait: they go first). `op` is one of
 *
 * - `{ kind: "add", id, body }`: `body` for POST /v1/tasks;
 * - `{ kind: "quick", id, text, list_id, time_zone }`: a quick-add line;
 * - `{ kind: "complete" | "reopen", id, version, title }`;
 * - `{ kind: "edit", id, version, changes, title }`: a PATCH;
 *
 * and `seen` the task as the user saw it (for a change to one). Answers
 * `{ task, queued }`: the task as the server answered, or as it will be once
 * the queue is sent. Refusals (a 412 for an edit, a 422) are thrown as they
 * come.
 */
export async function perform(op, seen = null) {
  Object.assign(op, { key: newId(), at: new Date().toISOString() });
  if (!waiting()) {
    try {
      return { task: await attempt(op, false), queued: false };
    } catch (e) {
      // Nothing is queued for a token that names no one (see `me`).
      if (!(e instanceof ApiError) || e.code !== "offline" || !me()) throw e;
    }
  }
  enqueue(op);
  sync();
  return { task: seen ? applied(seen, op) : provisional(op), queued: true };
}

/**
 * Sends `op`: answers the task as the server has it now. Queued completions
 * carry If-Match too (`queued`): the user completed what they saw then.
 */
async function attempt(op, queued) {
  const ifMatch = op.version ? { "If-Match": `"${op.version}"` } : {};
  switch (op.kind) {
    case "add":
      return api("POST", "/v1/tasks", { ...op.body, id: op.id });
    case "quick": {
      // Read as of when it was written: "tomorrow" is the day after that.
      const read = await api("POST", "/v1/quick-add", { text: op.text, time_zone: op.time_zone, written_at: op.at });
      const body = { ...read.task, id: op.id };
      if (!body.list_id && op.list_id) body.list_id = op.list_id;
      return api("POST", "/v1/tasks", body);
    }
    case "complete":
    case "reopen":
      return api("POST", `/v1/tasks/${op.id}/${op.kind}`, undefined, queued ? ifMatch : {});
    case "edit":
      return api("PATCH", `/v1/tasks/${op.id}`, op.changes, ifMatch);
    default:
      throw new Error(`unknown change ${op.kind}`);
  }
}

/** Whether `theirs` already is as `op` would leave it: the change went through before. */
function settled(theirs, op) {
  if (op.kind === "complete" || op.kind === "reopen") return theirs.completed === (op.kind === "complete");
  const same = (a, b) => {
    if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a || []) === JSON.stringify(b || []);
    if (typeof a === "string" && typeof b === "string" && /^\d{4}-\d\d-\d\dT/.test(a)) return Date.parse(a) === Date.parse(b);
    return (a ?? "") === (b ?? "");
  };
  return Object.entries(op.changes).every(([field, value]) => same(theirs[field], value));
}

let running = null;
/** After a send that did not get through (an answer lost, the server busy), the next try, backing off. */
const FIRST_RETRY_MS = 2000;
const LAST_RETRY_MS = 60000;
let retryMs = FIRST_RETRY_MS;
let retry = null;

/** Sends what is queued, if anything; one run at a time in this tab, one tab at a time. */
export function sync() {
  if (!running && waiting()) {
    const work = () => sendAll();
    running = (navigator.locks ? navigator.locks.request("todo.queue", work) : work()).finally(() => {
      running = null;
      sending = null;
    });
  }
  return running || Promise.resolve();
}

async function sendAll() {
  clearTimeout(retry);
  let sent = 0;
  for (;;) {
    const op = saved().ops[0];
    if (!op) break;
    sending = op.key;
    let outcome;
    try {
      outcome = { task: await attempt(op, true) };
    } catch (e) {
      // Still unreachable, or busy: the rest waits for the next try (or the
      // next time the app is back in touch).
      if (!(e instanceof ApiError) || e.code === "offline" || e.status >= 500 || e.status === 429) {
        retry = setTimeout(sync, Math.max(retryMs, (e.retryAfter || 0) * 1000));
        retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
        break;
      }
      outcome = await refusal(op, e);
    }
    retryMs = FIRST_RETRY_MS;
    const queue = saved();
    queue.ops = queue.ops.filter((o) => o.key !== op.key);
    if (outcome.task) {
      // Later changes to the task were made to the version this one replaced.
      for (const o of queue.ops) if (o.id === op.id && o.version === (op.version || 1)) o.version = outcome.task.version;
      sent++;
    } else {
      queue.problems.push(outcome.problem);
    }
    save(queue);
  }
  sending = null;
  if (sent) hooks.synced(sent);
}

/** What a refused change comes to: nothing (it was made before), or a problem for the user. */
async function refusal(op, error) {
  const title = op.kind === "quick" ? op.text : op.title || op.body?.title;
  if (error.status === 412) {
    let theirs;
    try {
      theirs = await api("GET", `/v1/tasks/${op.id}`);
    } catch (e) {
      return { problem: { key: op.key, title, message: e.message } };
    }
    if (settled(theirs, op)) return { task: theirs };
    return { problem: { key: op.key, title, op, theirs } };
  }
  return { problem: { key: op.key, title, message: error.message } };
}

/** Settles the problem `key`: dropped, or (`mine`) sent again over the newer version. */
export async function settle(key, mine) {
  const queue = saved();
  const problem = queue.problems.find((p) => p.key === key);
  if (!problem) return null;
  let task = null;
  if (mine && problem.op) task = await attempt({ ...problem.op, version: problem.theirs.version }, true);
  queue.problems = saved().problems.filter((p) => p.key !== key);
  save({ ...saved(), problems: queue.problems });
  return task;
}
