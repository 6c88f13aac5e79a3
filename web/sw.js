// The service worker: shows each pushed reminder as a notification, even with
// no tab of the app open, with Complete and Snooze 1 hour as its actions. A
// worker has no sign-in: each action POSTs to the one-task link the reminder
// carries (/mail/complete, /mail/snooze), as a mail's buttons do. A click on
// the notification itself opens the app (or brings its tab forward). A file
// of its own, under the app's strict Content-Security-Policy.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

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
