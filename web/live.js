// Live updates: the changes feed (GET /v1/changes) to catch up on what was
// missed, then the stream (GET /v1/stream) for what happens next, both from
// one cursor kept in this tab's session storage. The stream is read with
// fetch, because EventSource cannot send the Authorization header. When the
// stream drops or the browser goes offline, the app reconnects with backoff
// and catches up through the feed first.

import { api, session } from "./api.js";

const CURSOR_KEY = "todo.cursor";
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30000;
/** Pages of the feed read in one catch-up, at most (500 changes each). */
const CATCH_UP_PAGES = 100;

const cursor = {
  get: () => sessionStorage.getItem(CURSOR_KEY),
  set: (value) => value && sessionStorage.setItem(CURSOR_KEY, value),
  forget: () => sessionStorage.removeItem(CURSOR_KEY),
};

/** One Server-Sent Event block ("event: x\nid: y\ndata: z"), as {name, id, data}; null for a comment. */
function parseEvent(block) {
  const event = { name: "message", id: null, data: "" };
  let fields = 0;
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    fields++;
    if (field === "event") event.name = value;
    else if (field === "id") event.id = value;
    else if (field === "data") event.data += (event.data ? "\n" : "") + value;
  }
  return fields ? event : null;
}

/**
 * Follows the signed-in user's changes. `handlers.changes(list)` gets each
 * batch, `handlers.reset()` says everything must be loaded again (the cursor
 * was too old), `handlers.state(s)` says "live", "catching-up" or "offline".
 */
export class Live {
  constructor(handlers) {
    this.handlers = handlers;
    this.running = false;
    this.abort = null;
    this.wake = null;
  }

  /** Takes the feed's position now, before the app loads what it shows. */
  async begin() {
    cursor.forget();
    const head = await api("GET", "/v1/changes");
    cursor.set(head.cursor);
  }

  start() {
    if (this.running) return;
    this.running = true;
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
    this.loop();
  }

  stop() {
    this.running = false;
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    this.abort?.abort();
    cursor.forget();
  }

  onOffline = () => {
    this.abort?.abort();
    this.handlers.state("offline");
  };

  onOnline = () => this.wake?.();

  /** Tries again now rather than after the back-off (the user asked). */
  retry() {
    this.wake?.();
  }

  async loop() {
    let delay = FIRST_RETRY_MS;
    while (this.running && session.token()) {
      try {
        this.handlers.state("catching-up");
        await this.catchUp();
        await this.listen();
        delay = FIRST_RETRY_MS;
      } catch (e) {
        if (e.status === 401) return; // the app has signed out and said why
        this.handlers.state("offline");
      }
      if (!this.running) return;
      // Back off, unless the browser says it is online again.
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      delay = Math.min(delay * 2, LAST_RETRY_MS);
    }
  }

  /** Reads the feed from the cursor until it is current. */
  async catchUp() {
    if (!cursor.get()) return this.begin();
    for (let i = 0; i < CATCH_UP_PAGES; i++) {
      let page;
      try {
        page = await api("GET", `/v1/changes?cursor=${encodeURIComponent(cursor.get())}&limit=500`);
      } catch (e) {
        if (e.status !== 410) throw e;
        await this.begin();
        this.handlers.reset();
        return;
      }
      if (page.changes.length) this.handlers.changes(page.changes);
      cursor.set(page.cursor);
      if (!page.has_more) return;
    }
  }

  /** Reads the stream until it ends (the server ends it now and then) or fails. */
  async listen() {
    this.abort = new AbortController();
    const headers = { Authorization: `Bearer ${session.token()}`, Accept: "text/event-stream" };
    if (cursor.get()) headers["Last-Event-ID"] = cursor.get();
    const res = await fetch("/v1/stream", { headers, signal: this.abort.signal });
    if (res.status === 401) {
      // Let the API module sign out and say why.
      await api("GET", "/v1/changes");
    }
    if (!res.ok || !res.body) throw new Error(`the stream answered ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      const batch = [];
      for (const block of blocks) {
        const event = parseEvent(block);
        if (!event) continue;
        if (event.name === "ready") this.handlers.state("live");
        if (event.name === "reset") this.handlers.reset();
        if (event.name === "change") batch.push(JSON.parse(event.data));
        cursor.set(event.id);
      }
      if (batch.length) this.handlers.changes(batch);
    }
  }
}
