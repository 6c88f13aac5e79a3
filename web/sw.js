// The service worker, a file of its own under the app's strict
// Content-Security-Policy. Two jobs:
//
// - The app opens without the server. Its files (the page, the modules, the
//   style, the icon) are kept in a cache made when the worker installs; each
//   is asked of the server first, so the app is always the newest one, and
//   taken from the cache when the server cannot be reached. Nothing else is
//   kept here: the API's answers are the page's to keep (offline.js), per
//   user, and forgotten on signing out.
// - Each pushed reminder shows as a notification, even with no tab of the
//   app open, with Complete and Snooze 1 hour as its actions. A worker has
//   no sign-in: each action POSTs to the one-task link the reminder carries
//   (/mail/complete, /mail/snooze), as a mail's buttons do. A click on the
//   notification itself opens the app (or brings its tab forward).

/** The app's files and this build's version of them: filled in by the server (web.rs). */
const SHELL = /*shell*/ { version: "unbuilt", files: [] };
const CACHE = `todo-shell-${SHELL.version}`;

self.addEventListener("install", (event) => {
  // The API goes straight to the network, without waking this worker (where
  // the browser offers static routing).
  if (event.addRoutes && self.URLPattern) {
    event.addRoutes([{ condition: { urlPattern: new URLPattern({ pathname: "/v1/*" }) }, source: "network" }]).catch(() => {});
  }
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.files)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // An older build's files go; this one's worker takes the open tabs.
  const old = (name) => name.startsWith("todo-shell-") && name !== CACHE;
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter(old).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The page's own address ("/", "/#invite=…", "/?code=…" after a sign-in) is the app's page.
  const path = event.request.mode === "navigate" && url.pathname === "/" ? "/" : url.pathname;
  if (!SHELL.files.includes(path)) return; // the API, the docs, the mail links: the network's
  event.respondWith(fresh(event.request, path));
});

/** The server's copy of an app file, kept for later; the kept one when the server cannot be reached. */
async function fresh(request, path) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (res.ok) await cache.put(path, res.clone());
    return res;
  } catch (e) {
    const kept = await cache.match(path);
    if (kept) return kept;
    throw e;
  }
}

self.addEventListener("push", (event) => {
  event.waitUntil(show(event.data));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(act(event.action, event.notification.data));
});

/** The notice a push carries, or null when it is not one of ours. */
function notice(data) {
  try {
    const n = data ? data.json() : null;
    return n && typeof n.title === "string" && n.actions ? n : null;
  } catch {
    return null;
  }
}

async function show(data) {
  const n = notice(data);
  // Every push must show something (the subscription is userVisibleOnly).
  if (!n) return self.registration.showNotification("Todo", { body: "You have a reminder.", tag: "todo" });
  return self.registration.showNotification(n.title, {
    body: n.body,
    tag: n.tag,
    renotify: true,
    requireInteraction: true,
    icon: "/favicon.svg",
    data: n,
    actions: [
      { action: "complete", title: "Complete" },
      { action: "snooze", title: "Snooze 1 hour" },
    ],
  });
}

const ACTIONS = ["complete", "snooze"];

/** Does what was clicked; the notification going away is the answer, unless it failed. */
async function act(action, n) {
  if (!n) return open("/");
  if (!ACTIONS.includes(action) || !n.actions) return open(n.url);
  const body = new URLSearchParams(action === "snooze" ? { minutes: "60" } : {});
  let res = null;
  try {
    res = await fetch(n.actions[action], { method: "POST", body, credentials: "omit" });
  } catch {
    res = null;
  }
  if (res && res.ok) return undefined;
  return self.registration.showNotification(`Could not do that: ${n.title}`, {
    body: "Open Todo to do it there.",
    tag: n.tag,
    data: { ...n, actions: null },
  });
}

/** Brings a tab of the app forward, or opens one at `path`. */
async function open(path) {
  const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const tab = tabs.find((t) => new URL(t.url).origin === self.location.origin);
  if (tab) return tab.focus();
  return self.clients.openWindow(new URL(path, self.location.origin).href);
}
