// One sign-in for all of the app's tabs. The token stays in each tab's
// session storage: never in local storage, a cookie or a URL. A tab opened
// without one asks the open tabs for theirs over a BroadcastChannel, which
// only pages of this origin can join; a sign-in in one tab signs in the tabs
// that are signed out, and signing out in one signs out all of them.

import { session } from "./api.js";

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("todo.session") : null;
/** How long a new tab waits for an open one to answer. */
const ASK_MS = 250;

const isToken = (data) => data && data.type === "token" && typeof data.token === "string" && data.token.length > 0;

/** Asks the open tabs for their sign-in: the token, or `null` when none answers in time. */
export function borrow() {
  if (!channel) return Promise.resolve(null);
  return new Promise((resolve) => {
    const answer = ({ data }) => {
      if (!isToken(data)) return;
      clearTimeout(timer);
      channel.removeEventListener("message", answer);
      resolve(data.token);
    };
    const timer = setTimeout(() => {
      channel.removeEventListener("message", answer);
      resolve(null);
    }, ASK_MS);
    channel.addEventListener("message", answer);
    channel.postMessage({ type: "ask" });
  });
}

/** Tells the other tabs that this one is signed in, so that those signed out follow. */
export function signedInHere() {
  if (session.token()) channel?.postMessage({ type: "token", token: session.token() });
}

/** Tells the other tabs that the user signed out here, so that they do too. */
export function signedOutHere() {
  channel?.postMessage({ type: "signed-out" });
}

/**
 * Answers the other tabs' asking, and follows their sign-in (`signedIn`,
 * called once the token is kept) and sign-out (`signedOut`).
 */
export function follow({ signedIn, signedOut }) {
  channel?.addEventListener("message", ({ data }) => {
    if (data && data.type === "ask" && session.token()) {
      channel.postMessage({ type: "token", token: session.token() });
    } else if (isToken(data) && !session.token()) {
      session.keep(data.token);
      signedIn();
    } else if (data && data.type === "signed-out" && session.token()) {
      signedOut();
    }
  });
}
