// Web Push in this browser: the service worker (sw.js), a subscription with
// the browser's push service made with the server's VAPID key
// (GET /v1/push/key), handed to the API (POST /v1/push/subscriptions) and
// taken back (DELETE). The id the API gave it is kept in localStorage, so
// that this browser can turn its own push off; it is not a secret.

import { api } from "./api.js";

const KEY = "todo.push.subscription";

export function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** The worker's registration (registered once, at start). */
export async function registration() {
  if (!("serviceWorker" in navigator)) return null;
  return navigator.serviceWorker.register("/sw.js");
}

/** `text` in base64url as bytes (an applicationServerKey). */
function bytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * Whether this browser's reminders are pushed for the signed-in user: it is
 * subscribed, and the subscription it holds is among theirs (not that of
 * someone whose sign-in expired here).
 */
export async function isOn() {
  const id = supported() && localStorage.getItem(KEY);
  if (!id) return false;
  const reg = await navigator.serviceWorker.getRegistration();
  if (!(reg && (await reg.pushManager.getSubscription()))) return false;
  const { items } = await api("GET", "/v1/push/subscriptions");
  return items.some((s) => s.id === id);
}

/** Subscribes this browser; throws with a sentence for the user when it cannot. */
export async function turnOn() {
  const key = await api("GET", "/v1/push/key");
  if (!key.enabled) throw new Error("This server does not send push notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new Error("The browser does not allow notifications from this site: allow them in its site settings, then try again.");
  }
  const reg = await registration();
  await navigator.serviceWorker.ready;
  let subscription;
  try {
    subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key.public_key) });
  } catch (e) {
    throw new Error(`The browser's push service did not answer (${e.message}). Try again later.`);
  }
  const saved = await api("POST", "/v1/push/subscriptions", subscription.toJSON());
  localStorage.setItem(KEY, saved.id);
}

/** Stops pushing to this browser, at the API and at the push service. */
export async function turnOff() {
  const id = localStorage.getItem(KEY);
  localStorage.removeItem(KEY);
  if (id) {
    await api("DELETE", `/v1/push/subscriptions/${id}`).catch((e) => {
      if (e.status !== 404) throw e;
    });
  }
  const reg = supported() ? await navigator.serviceWorker.getRegistration() : null;
  const subscription = reg && (await reg.pushManager.getSubscription());
  if (subscription) await subscription.unsubscribe();
}
