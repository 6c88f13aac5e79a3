// The Todo web app: plain JavaScript modules, no build step, on the public API
// only (same origin as /v1). The token lives in this tab's session storage,
// never in a URL or a cookie. Every user text is rendered with textContent,
// never as HTML.

const TOKEN_KEY = "todo.token";
const $ = (id) => document.getElementById(id);

let view = "all";
let query = "";

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function say(message) {
  $("status").textContent = message;
}

/** Calls the API; answers the parsed body, or throws an Error with the API's message. */
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Error("The server cannot be reached. Check that it is running, then try again.");
  }
  if (res.status === 401) {
    signOut("Your sign-in has expired or is not valid: sign in again.");
    throw new Error("signed out");
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const error = data && data.error;
    const details = error && error.details && error.details.length
      ? ": " + error.details.map((d) => `${d.field} ${d.message}`).join("; ")
      : "";
    throw new Error((error ? error.message : `HTTP ${res.status}`) + details);
  }
  return data;
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  show(false);
  say(message || "Signed out.");
}

function show(signedIn) {
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("sign-out").hidden = !signedIn;
  $("who").textContent = "";
}

/** The caller's user id, read from the JWT's payload (display only; the API verifies). */
function userOf(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub;
  } catch {
    return null;
  }
}

function endOfToday() {
  const end = new Date();
  end.setHours(24, 0, 0, 0);
  return end;
}

function listPath() {
  const params = new URLSearchParams({ limit: "100", status: "open", sort: "due" });
  if (view === "all") params.set("status", "all");
  if (view === "today") {
    params.set("due_after", new Date().toISOString());
    params.set("due_before", endOfToday().toISOString());
  }
  if (view === "overdue") params.set("overdue", "true");
  if (query) params.set("q", query);
  return `/v1/tasks?${params}`;
}

function formatDue(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function renderTask(task) {
  const li = document.createElement("li");
  li.dataset.id = task.id;
  if (task.completed) li.classList.add("done");
  const done = document.createElement("input");
  done.type = "checkbox";
  done.checked = task.completed;
  done.setAttribute("aria-label", `Done: ${task.title}`);
  done.addEventListener("change", () => toggle(task, done.checked));
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = task.title;
  const meta = document.createElement("span");
  meta.className = "meta";
  const parts = [task.priority];
  if (task.due_at) parts.push(`due ${formatDue(task.due_at)}`);
  for (const tag of task.tags) parts.push(`#${tag}`);
  meta.textContent = parts.join(" · ");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete: ${task.title}`);
  remove.addEventListener("click", () => removeTask(task));
  li.append(done, title, meta, remove);
  return li;
}

async function refresh() {
  try {
    const page = await api("GET", listPath());
    const list = $("tasks");
    list.replaceChildren(...page.items.map(renderTask));
    if (!page.items.length) {
      const empty = document.createElement("li");
      empty.textContent = query ? "No task matches." : "Nothing here.";
      list.append(empty);
    }
  } catch (e) {
    if (e.message !== "signed out") say(e.message);
  }
}

async function toggle(task, completed) {
  try {
    await api("POST", `/v1/tasks/${task.id}/${completed ? "complete" : "reopen"}`);
    say(completed ? `Completed “${task.title}”.` : `Reopened “${task.title}”.`);
  } catch (e) {
    if (e.message !== "signed out") say(e.message);
  }
  await refresh();
}

async function removeTask(task) {
  try {
    await api("DELETE", `/v1/tasks/${task.id}`);
    say(`Deleted “${task.title}”.`);
  } catch (e) {
    if (e.message !== "signed out") say(e.message);
  }
  await refresh();
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  const body = { title: form.title.value, priority: form.priority.value };
  // datetime-local is the user's wall clock: Date reads it in their zone.
  if (form.due.value) body.due_at = new Date(form.due.value).toISOString();
  const tags = form.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.length) body.tags = tags;
  try {
    const task = await api("POST", "/v1/tasks", body);
    form.reset();
    say(`Added “${task.title}”.`);
    await refresh();
    form.title.focus();
  } catch (e) {
    if (e.message !== "signed out") say(e.message);
  }
}

async function signedIn() {
  show(true);
  const user = userOf(token());
  $("who").textContent = user ? `Signed in as ${user}` : "Signed in";
  await refresh();
}

async function devSignIn() {
  try {
    const res = await fetch("/auth/dev", { method: "POST" });
    if (!res.ok) throw new Error("The development sign-in is not available.");
    sessionStorage.setItem(TOKEN_KEY, (await res.json()).token);
    say("");
    await signedIn();
  } catch (e) {
    say(e.message);
  }
}

async function start() {
  $("new-task").addEventListener("submit", create);
  $("sign-out").addEventListener("click", () => signOut());
  $("dev-sign-in").addEventListener("click", devSignIn);
  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    await signedIn();
  });
  $("search").addEventListener("submit", (event) => event.preventDefault());
  $("q").addEventListener("input", () => {
    query = $("q").value.trim();
    refresh();
  });
  for (const button of document.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () => {
      view = button.dataset.view;
      for (const other of document.querySelectorAll("[data-view]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      refresh();
    });
  }
  // The local host offers a one-click development sign-in; the api binary does not.
  try {
    const dev = await fetch("/auth/dev");
    $("dev-sign-in").hidden = !dev.ok;
  } catch {
    $("dev-sign-in").hidden = true;
  }
  if (token()) await signedIn();
  else show(false);
}

start();
