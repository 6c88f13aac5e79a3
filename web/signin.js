// Sign-in with OpenID Connect: the authorization code flow with PKCE
// (RFC 7636) against the provider the API trusts, when the server offers it
// (GET /auth/config). The verifier and state live in this tab's session
// storage for the round trip; the code the provider sends back is redeemed
// by POST /auth/token, and only the access token is kept.

import { session } from "./api.js";

const PENDING_KEY = "todo.sign-in";

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Where the provider sends the user back: this page, without a query. */
function redirectUri() {
  return `${location.origin}/`;
}

/**
 * The sign-ins the server offers: `{ dev_sign_in, oidc }`, `oidc` the
 * provider to sign in with or null.
 */
export async function signInOptions() {
  try {
    const res = await fetch("/auth/config");
    if (res.ok) return await res.json();
  } catch {
    // Unreachable: the page says so when the user signs in.
  }
  return { dev_sign_in: false, oidc: null };
}

/** Sends the user to the provider, with a fresh verifier, state and nonce. */
export async function begin(config) {
  const verifier = randomText();
  const state = randomText(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state,
    nonce: randomText(16),
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (config.audience) {
    params.set("resource", config.audience);
    params.set("audience", config.audience);
  }
  location.assign(`${config.authorization_endpoint}?${params}`);
}

/**
 * Finishes a sign-in the provider sent the user back from, if this page load
 * is one: keeps the access token and takes the code out of the address bar.
 * Answers null when there was nothing to finish, else a message on failure
 * or "" on success.
 */
export async function finish() {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, "", "/");
  if (query.has("error")) {
    return `The sign-in was not completed: ${query.get("error_description") || query.get("error")}.`;
  }
  if (!pending || pending.state !== query.get("state")) {
    return "That sign-in was not started here (its state does not match): sign in again.";
  }
  try {
    const res = await fetch("/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: query.get("code"), code_verifier: pending.verifier, redirect_uri: redirectUri() }),
    });
    const body = await res.json();
    if (!res.ok) return (body.error && body.error.message) || `The sign-in failed (HTTP ${res.status}).`;
    session.keep(body.access_token);
    return "";
  } catch {
    return "The server cannot be reached to finish the sign-in: try again.";
  }
}
