// The public API, for the web app: the caller's token from this tab's session
// storage, JSON in and out, and the API's own error messages.

const TOKEN_KEY = "todo.token";

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  keep: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer that was not a success: the API's message, its code and HTTP status. */
export class ApiError extends Error {
  constructor(message, status, code, fields = []) {
    super(message);
    this.status = status;
    this.code = code;
    /** The fields the API refused, each `{ field, message }`. */
    this.fields = fields;
  }
}

/** Called when a request comes back 401: the app signs out and says why. */
let onExpired = () => {};
export function whenSignedOut(handler) {
  onExpired = handler;
}

/**
 * What becomes of the answers to GETs (offline.js): `kept(path, data)` is
 * told of each and answers what to show; `recall(path)` answers a kept one,
 * or `undefined`, when the server cannot be reached.
 */
let reads = { kept: (path, data) => data, recall: async () => undefined };
export function keepReads(handlers) {
  reads = handlers;
}

/** Calls the API; answers the parsed body, or throws an ApiError. */
export async function api(method, path, body, headers = {}) {
  const all = { Authorization: `Bearer ${session.token()}`, ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    const kept = method === "GET" ? await reads.recall(path) : undefined;
    if (kept !== undefined) return kept;
    throw new ApiError("The server cannot be reached. Check that it is running, then try again.", 0, "offline");
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.status === 401) {
    const message = "Your sign-in has expired or is not valid: sign in again.";
    onExpired(message);
    throw new ApiError(message, 401, "unauthorized");
  }
  if (!res.ok) {
    const error = data && data.error;
    const details = error && error.details && error.details.length
      ? ": " + error.details.map((d) => `${d.field} ${d.message}`).join("; ")
      : "";
    const fields = (error && error.details) || [];
    const failure = new ApiError((error ? error.message : `HTTP ${res.status}`) + details, res.status, error && error.code, fields);
    // A 429 says when to try again.
    failure.retryAfter = Number(res.headers.get("Retry-After")) || null;
    throw failure;
  }
  return method === "GET" ? reads.kept(path, data) : data;
}

/** The caller's user id, read from a JWT's payload (display only; the API verifies). */
export function userOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub;
  } catch {
    return null;
  }
}
