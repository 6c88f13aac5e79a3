#!/usr/bin/env python3
"""make bench: the figures of the system on this machine, beside its limits.

usage: scripts/bench.py [SECTION...]     sections: api pgbench functions drain sharing mcp local coldstart sizes scale
                                         (default: all, in that order)

Needs release binaries (make bench builds them), wrk, pgbench and PostgreSQL on
127.0.0.1:5432 (BENCH_PG, default postgres://postgres@127.0.0.1:5432/postgres).
Every load runs on loopback from this machine's own cores, bounded in time
(BENCH_SECONDS per run, default 10). Prints a Markdown table and saves it, with
the date, commit and CPU model, as bench/results/<date>-<commit>[-<sections>].md;
a full run also as bench/results/latest.md.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REL = ROOT / "target" / "release"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SECRET = "bench-secret-bench-secret-bench-secret-0123"
# A benchmark measures throughput, which the default budgets would refuse after
# a burst: the limiter stays in every request's path, with budgets no run meets
# (and quotas none fills). `make soak`'s abusive mode keeps the defaults.
UNLIMITED = {
    **{f"RATE_LIMIT_{c}_{k}": v for c in ("READ", "WRITE", "ANONYMOUS", "SIGN_IN")
       for k, v in (("PER_MINUTE", "1000000000"), ("BURST", "100000000"))},
    "WEBHOOK_DELIVERIES_PER_MINUTE": "1000000000",
    "QUOTA_TASKS_PER_USER": "1000000000",
}
ROWS = []  # (section, figure, value, target, note)


def row(section, figure, value, target="", note=""):
    ROWS.append((section, figure, value, target, note))
    print(f"  {section}: {figure} = {value} {('(target ' + target + ')') if target else ''} {note}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(db):
    return PG.rsplit("/", 1)[0] + "/" + db


def fresh_pg(db):
    for sql in (f'drop database if exists "{db}" with (force)', f'create database "{db}"'):
        subprocess.run(["psql", PG, "-qAtc", sql], check=True, capture_output=True)
    return pg_url(db)


def migrate(url):
    subprocess.run([REL / "api", "migrate"], env={**os.environ, "DATABASE_URL": url}, check=True,
                   capture_output=True)


def token(user):
    out = subprocess.run([REL / "dev-token", user, "2"], env={**os.environ, "JWT_SECRET": SECRET},
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Proc:
    """A binary of ours on a loopback port, waited for until healthy."""

    def __init__(self, name, env, unlimited=True):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "RUST_LOG": "warn",
                "JWT_SECRET": SECRET, **(UNLIMITED if unlimited else {}), **env}
        self.p = subprocess.Popen([REL / name], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"bench: {name} did not start")

    def status(self, field):
        for line in Path(f"/proc/{self.p.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)


def wrk(url, script, connections, env):
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{SECONDS}s", "--latency",
                          "-s", str(ROOT / "bench" / "wrk" / script), url],
                         env={**os.environ, **env}, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {}
    for p, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        pct[p] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return rps, pct.get("50", 0.0), pct.get("99", 0.0), int(bad.group(1)) if bad else 0, errors.group(0) if errors else ""


def pgbench(url, script, clients):
    # Prepared statements, as the API runs them (sqlx prepares every statement):
    # the simple protocol would understate the limit (list: 14,234 against 21,260 TPS).
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-T", str(SECONDS), "-c", str(clients), "-j", "2", "-f",
                          str(ROOT / "bench" / "pgbench" / script), url],
                         check=True, capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


LIMITS = {}


BENCH_INBOX = ("with inbox as (insert into lists (id, owner_id, name, position, archived, inbox, created_at, "
               "updated_at, version) values (gen_random_uuid(), 'bench-user', 'Inbox', 0, false, true, now(), now(), 1) "
               "returning id) insert into list_members (list_id, user_id, role, added_at) "
               "select id, 'bench-user', 'owner', now() from inbox")


def section_pgbench():
    url = fresh_pg("todo_bench_limit")
    migrate(url)
    subprocess.run(["psql", url, "-qAtc", BENCH_INBOX], check=True, capture_output=True)
    for clients in (16, 64):
        LIMITS[("create", clients)] = pgbench(url, "create.sql", clients)
        row("PostgreSQL (pgbench -M prepared)", f"task + outbox insert, {clients} clients", f"{LIMITS[('create', clients)]:,.0f} TPS")
    LIMITS[("batch", 16)] = pgbench(url, "create_batch.sql", 16) * 100
    row("PostgreSQL (pgbench -M prepared)", "100 tasks + 100 outbox rows per transaction, 16 clients",
        f"{LIMITS[('batch', 16)]:,.0f} rows/s", "", f"{LIMITS[('batch', 16)] / LIMITS[('create', 16)]:.1f}x the one-row transaction's")
    for clients in (16, 64):
        LIMITS[("list", clients)] = pgbench(url, "list.sql", clients)
        row("PostgreSQL (pgbench -M prepared)", f"20-task page select, {clients} clients", f"{LIMITS[('list', clients)]:,.0f} TPS")


def section_api():
    for backend in ("postgres", "sqlite"):
        if backend == "postgres":
            url = fresh_pg("todo_bench_api")
        else:
            folder = Path(tempfile.mkdtemp(prefix="todo-bench-"))
            url = f"sqlite://{folder}/todo.db"
        migrate(url)
        api = Proc("api", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16"})
        env = {"TOKEN": token("bench-user")}
        for op, script in (("create", "create.lua"), ("list", "list.lua")):
            for c in (1, 16, 64):
                rps, p50, p99, bad, sock = wrk(api.base + ("/v1/tasks"), script, c, env)
                limit = LIMITS.get((op, c))
                target, note = "", ""
                if limit:
                    share = rps / limit * 100
                    note = f"{share:.0f} % of pgbench"
                    if backend == "postgres":
                        target = "≥ 80 % of pgbench" if op == "create" else "≥ 50 % of pgbench"
                if op == "create" and c == 16 and backend == "postgres":
                    target += ("; " if target else "") + "p99 ≤ 25 ms"
                if bad or sock:
                    note += f" ERRORS: {bad} non-2xx {sock}"
                row(f"api on {backend}", f"{op}, {c} connections",
                    f"{rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms", target, note)
        row(f"api on {backend}", "peak RSS under load", f"{api.status('VmHWM') / 1024:.1f} MB", "≤ 40 MB")
        api.stop()


def section_functions():
    """One event per request, and Dapr's bulk deliveries of 100 (issue #30), against pgbench in the same run."""
    url = fresh_pg("todo_bench_functions")
    migrate(url)
    one, batched = LIMITS.get(("create", 16)), LIMITS.get(("batch", 16))
    for fn, ty in (("task-created", "task.created"), ("task-changed", "task.updated"),
                   ("task-completed", "task.completed"), ("task-due", "task.due")):
        proc = Proc(fn, {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16", "BODY_LIMIT_BYTES": "8388608"})
        r = loadgen(proc.base, url, ty)
        note = f"{r['errors']} errors" if r["errors"] else ""
        if one:
            note = (note + "; " if note else "") + f"{r['events_per_sec'] / one * 100:.0f} % of pgbench's two-insert transaction"
        row(f"{fn} on postgres", f"{ty}, one per request, 16 concurrent",
            f"{r['events_per_sec']:,.0f} events/s, p99 {r['p99_ms']:.2f} ms", "no slower than before", note)
        for in_flight in (16, 1):
            r = loadgen(proc.base, url, ty, ("--bulk", "100", "--concurrency", str(in_flight)), events=max(30000, SECONDS * 6000))
            notes = [f"{r['errors']} errors"] if r["errors"] else []
            if one:
                notes.append(f"{r['events_per_sec'] / one:.1f}x pgbench's two-insert transaction")
            if batched:
                notes.append(f"{r['events_per_sec'] / batched * 100:.0f} % of its batched rows/s")
            target = "≥ 3x pgbench; p99 ≤ 50 ms per batch" if in_flight == 16 else ""
            row(f"{fn} on postgres", f"{ty}, bulk of 100, {in_flight} in flight",
                f"{r['events_per_sec']:,.0f} events/s, p99 {r['p99_ms']:.2f} ms per batch", target, "; ".join(notes))
            if in_flight == 16:
                dapr = r["events_per_sec"]
        row(f"{fn} on postgres", "peak RSS under load", f"{proc.status('VmHWM') / 1024:.1f} MB", "≤ 40 MB")
        proc.stop()
        # The same batches as Lambda's Kafka event source hands them to 16 processes of the binary.
        lam = loadgen(None, url, ty, ("--bulk", "100", "--concurrency", "16", "--lambda", str(REL / fn)),
                      events=max(30000, SECONDS * 6000),
                      env={"APP_API_TOKEN": "bench-app-token", "BODY_LIMIT_BYTES": "8388608", "DB_MAX_CONNECTIONS": "2"})
        notes = [f"{lam['errors']} errors"] if lam["errors"] else []
        notes.append(f"{(lam['events_per_sec'] / dapr - 1) * 100:+.0f} % against Dapr's bulk")
        row(f"{fn} on postgres", f"{ty}, Lambda Kafka batches of 100, 16 processes",
            f"{lam['events_per_sec']:,.0f} events/s, p99 {lam['p99_ms']:.2f} ms per batch", "within 10 % of Dapr's bulk", "; ".join(notes))


DRAIN_ROWS = int(os.environ.get("BENCH_DRAIN_ROWS", "1000000"))

DRAIN_SEED = """insert into outbox (id, topic, partition_key, payload, created_at, lease_until)
select gen_random_uuid(), 'task-created', gen_random_uuid()::text, p.payload, now() - interval '1 hour', null
from generate_series(1, {n}), (select replace('{{"specversion"|"1.0","id"|"01a21ca5-1e9e-73ab-a71c-c80b528af339","type"|"task.created","source"|"api","subject"|"01a21ca5-1e9e-73ab-a71c-c80a20ee9ced","partitionkey"|"01a21ca5-1e9e-73ab-a71c-c80a20ee9ced","time"|"2026-11-27T10|55|13.054265Z","datacontenttype"|"application/json","dataschema"|"urn|todo|events|task|v2","data"|{{"version"|2,"user_id"|"bench-user","task"|{{"id"|"01a21ca5-1e9e-73ab-a71c-c80a20ee9ced","title"|"Benchmark task","description"|"","priority"|"high","tags"|[],"due_at"|null,"remind_before_minutes"|null,"remind_at"|null,"recurrence"|null,"time_zone"|null,"series_id"|null,"series_start"|null,"completed"|false,"completed_at"|null,"created_at"|"2026-11-27T10|55|13.054265Z","updated_at"|"2026-11-27T10|55|13.054265Z","version"|1}}}}}}', '|', ':')::jsonb as payload) p;
analyze outbox;"""


def section_drain():
    """Issue #30: an outbox backlog left by a sidecar outage, drained by the real cron-tick through bulk publish."""
    url = fresh_pg("todo_bench_drain")
    migrate(url)
    subprocess.run(["psql", url, "-qAtc", DRAIN_SEED.format(n=DRAIN_ROWS)], check=True, capture_output=True)
    port = free_port()
    sidecar = subprocess.Popen([REL / "sidecar", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    tick = Proc("cron-tick", {"DATABASE_URL": url, "DAPR_HTTP_PORT": str(port), "DB_MAX_CONNECTIONS": "4"})
    started, deadline = time.time(), time.time() + 600
    count = 0
    while count < DRAIN_ROWS and time.time() < deadline:
        req = urllib.request.Request(tick.base + "/", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=5) as r:
            count = int(r.read())
    seconds = time.time() - started
    left = int(subprocess.run(["psql", url, "-qAtc", "select count(*) from outbox where published_at is null"],
                              check=True, capture_output=True, text=True).stdout)
    batched = LIMITS.get(("batch", 16))
    note = f"{left} left unpublished" + (f"; {count / seconds / batched * 100:.0f} % of pgbench's batched rows/s" if batched else "")
    row("outbox drain (cron-tick, bulk publish)", f"{DRAIN_ROWS:,} rows after a sidecar outage",
        f"{count / seconds:,.0f} rows/s ({seconds:.0f} s)", "≥ 20,000 rows/s", note)
    tick.stop()
    sidecar.terminate()
    sidecar.wait(timeout=10)


def loadgen(base, url, ty, extra=(), events=None, env=None):
    events = events or max(2000, SECONDS * 1500)
    concurrency = () if "--concurrency" in extra else ("--concurrency", "16")
    target = () if base is None else ("--url", base + "/")
    out = subprocess.run([REL / "loadgen", *target, "--type", ty, "--events", str(events),
                          *concurrency, "--tasks", "1000", *extra],
                         env={**os.environ, "DATABASE_URL": url, **(env or {})}, capture_output=True, text=True)
    if out.returncode != 0 and not out.stdout:
        raise SystemExit(f"bench: loadgen failed: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def section_sharing():
    """Issue #15: a list of 5 members against a single owner, in the same run."""
    section = "sharing on postgres"
    # The API: create and list as a single owner in their Inbox, then as a
    # member of a list shared by 5 (the list query goes through membership).
    url = fresh_pg("todo_bench_sharing")
    migrate(url)
    api = Proc("api", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16"})
    owner, member = "bench-owner", "bench-member-1"
    shared = api_call(api.base, "POST", "/v1/lists", token(owner), {"name": "Bench household"})
    for k in range(1, 5):
        api_call(api.base, "POST", f"/v1/lists/{shared['id']}/members", token(owner),
                 {"user_id": f"bench-member-{k}", "role": "editor"})
    figures = {}
    for who, env in (("single owner", {"TOKEN": token(owner)}),
                     ("member of a list of 5", {"TOKEN": token(member), "LIST_ID": shared["id"]})):
        for op, script in (("create", "create.lua"), ("list", "list.lua")):
            rps, p50, p99, bad, sock = wrk(api.base + "/v1/tasks", script, 16, env)
            figures[(who, op)] = rps
            target, note = "", ""
            if who != "single owner":
                target = "within 10 % of the single owner"
                note = f"{rps / figures[('single owner', op)] * 100:.0f} % of the single owner's"
            limit = LIMITS.get((op, 16))
            if limit:
                note = (note + "; " if note else "") + f"{rps / limit * 100:.0f} % of pgbench"
            if bad or sock:
                note += f" ERRORS: {bad} non-2xx {sock}"
            row(section, f"api {op} as {who}, 16 connections",
                f"{rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms", target, note)
    api.stop()
    # The fan-out: task-created queueing each event for 1 webhook (a single
    # owner) and for 5 (one per member of a list of 5).
    rates = {}
    for members in (1, 5):
        url = fresh_pg("todo_bench_fanout")
        migrate(url)
        proc = Proc("task-created", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16"})
        r = loadgen(proc.base, url, "task.created", ("--members", str(members)))
        proc.stop()
        rates[members] = r["events_per_sec"]
        target, note = "", f"{r['errors']} errors" if r["errors"] else ""
        if members > 1:
            target = "cost ≤ 2x the single owner's"
            note = (note + "; " if note else "") + f"cost {rates[1] / rates[members]:.2f}x the single owner's"
        who = "single owner, 1 webhook" if members == 1 else f"list of {members}, 1 webhook each"
        row(section, f"task-created fan-out, {who}, 16 concurrent",
            f"{r['events_per_sec']:,.0f} events/s, p99 {r['p99_ms']:.2f} ms", target, note)


def metric(base, name, labels):
    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def api_call(base, method, path, tok, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def section_local():
    folder = Path(tempfile.mkdtemp(prefix="todo-bench-local-"))
    host = Proc("local", {"DATABASE_URL": f"sqlite://{folder}/todo.db"})
    tok = token("bench-user")
    # Reminder latency: 50 reminders due 3 to 8 s from now, 0.1 s apart, so that they
    # fall at every phase of the cron's tick; from due time to notification.
    base = time.time() + 3
    dues = {}
    for i in range(50):
        due = round(base + i * 0.1, 3)
        due_at = datetime.fromtimestamp(due, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        task = api_call(host.base, "POST", "/v1/tasks", tok, {"title": f"r{i}", "due_at": due_at,
                                                              "remind_before_minutes": 0})
        dues[task["id"]] = due
    deadline = time.time() + 30
    notes = []
    while time.time() < deadline and len(notes) < 50:
        time.sleep(0.2)
        notes = api_call(host.base, "GET", "/v1/notifications?limit=200", tok)["items"]
    lat = sorted(datetime.fromisoformat(n["created_at"].replace("Z", "+00:00")).timestamp() - dues[n["task_id"]]
                 for n in notes)
    if len(lat) == 50:
        row("local host (SQLite)", "reminder latency, due → notification (50, every tick phase)",
            f"median {lat[25]:.2f} s, max {lat[-1]:.2f} s", "≤ 1.5 s")
    else:
        row("local host (SQLite)", "reminder latency", f"only {len(lat)} of 50 fired in 30 s", "≤ 1.5 s", "FAILED")
    # Events through the in-process bus: creates for SECONDS, then until all are handled.
    before = metric(host.base, "todo_events_total", {"function": "task-created", "outcome": "success"})
    started = time.time()
    rps, _, _, _, _ = wrk(host.base + "/v1/tasks", "create.lua", 16, {"TOKEN": tok})
    created = int(rps * SECONDS)
    handled = 0.0
    while time.time() < started + SECONDS + 60:
        handled = metric(host.base, "todo_events_total", {"function": "task-created", "outcome": "success"}) - before
        if handled >= created * 0.99:
            break
        time.sleep(0.1)
    elapsed = time.time() - started
    row("local host (SQLite)", "task.created through the in-process bus, 16 connections",
        f"{handled / elapsed:,.0f} events/s ({handled:,.0f} events in {elapsed:.1f} s)")
    host.stop()


def mcp_call(base, tok, tool, args):
    """One tools/call as the wrk script sends it; its structured result, refused unless it succeeded."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}}}}
    req = urllib.request.Request(base + "/mcp", method="POST", data=json.dumps(body).encode(), headers={
        "Authorization": f"Bearer {tok}", "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call", "Mcp-Name": tool})
    with urllib.request.urlopen(req, timeout=10) as r:
        result = json.loads(r.read())["result"]
    if result.get("isError"):
        raise SystemExit(f"bench: the {tool} call failed: {result}")
    return result["structuredContent"]


def section_mcp():
    """Issue #17: a tool call beside the REST call it runs, on the same host in the same run; on
    PostgreSQL beside pgbench's limit, and with a personal access token (a lookup per call)."""
    for backend in ("sqlite", "postgres"):
        if backend == "postgres":
            url = fresh_pg("todo_bench_mcp")
            migrate(url)
            host = Proc("local", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16"})
        else:
            folder = Path(tempfile.mkdtemp(prefix="todo-bench-mcp-"))
            host = Proc("local", {"DATABASE_URL": f"sqlite://{folder}/todo.db"})
        tok = token("bench-user")
        for i in range(100):
            api_call(host.base, "POST", "/v1/tasks", tok, {"title": f"seed {i}"})
        pat = api_call(host.base, "POST", "/v1/tokens", tok, {"name": "bench", "scopes": ["tasks:read", "tasks:write"]})
        page = mcp_call(host.base, tok, "list_tasks", {"limit": 20})
        assert len(page["items"]) == 20, page
        mcp_call(host.base, pat["token"], "create_task", {"title": "check"})
        assert mcp_call(host.base, tok, "create_task", {"title": "check", "due_at": "tomorrow 9am"})["due_at"]
        section = f"MCP on the local host ({backend})"
        runs = [("REST GET /v1/tasks?limit=20", "list.lua", {"TOKEN": tok}, "/v1/tasks", "list"),
                ("tool list_tasks {limit: 20}", "mcp-call.lua", {"TOKEN": tok, "TOOL": "list_tasks",
                                                                  "ARGS": '{"limit":20}'}, "/mcp", "list"),
                ("tool list_tasks, personal access token", "mcp-call.lua",
                 {"TOKEN": pat["token"], "TOOL": "list_tasks", "ARGS": '{"limit":20}'}, "/mcp", "list"),
                ("REST POST /v1/tasks", "create.lua", {"TOKEN": tok}, "/v1/tasks", "create"),
                ("tool create_task", "mcp-call.lua", {"TOKEN": tok, "TOOL": "create_task",
                                                      "ARGS": '{"title":"Benchmark task","priority":"high"}'},
                 "/mcp", "create"),
                ("tool create_task, due \"tomorrow 9am\" (the user's zone read)", "mcp-call.lua",
                 {"TOKEN": tok, "TOOL": "create_task",
                  "ARGS": '{"title":"Benchmark task","priority":"high","due_at":"tomorrow 9am"}'}, "/mcp", "create")]
        for figure, script, env, path, op in runs:
            for c in (1, 16):
                rps, p50, p99, bad, sock = wrk(host.base + path, script, c, env)
                limit = LIMITS.get((op, c)) if backend == "postgres" else None
                note = f"{rps / limit * 100:.0f} % of pgbench" if limit else ""
                if bad or sock:
                    note += f" ERRORS: {bad} non-2xx {sock}"
                row(section, f"{figure}, {c} connection{'s' if c > 1 else ''}",
                    f"{rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms", "", note)
        host.stop()


def section_coldstart():
    folder = Path(tempfile.mkdtemp(prefix="todo-bench-cold-"))
    url = f"sqlite://{folder}/todo.db"
    migrate(url)
    for fn in ("api", "mcp", "task-created", "task-changed", "task-completed", "task-due", "cron-tick", "local"):
        out = subprocess.run([REL / "coldstart", "--bin", str(REL / fn), "--port", str(free_port()), "--runs", "20"],
                             env={**os.environ, "DATABASE_URL": url, "JWT_SECRET": SECRET, "HOST": "127.0.0.1",
                                  "RUST_LOG": "warn"},
                             check=True, capture_output=True, text=True)
        r = json.loads(out.stdout)
        row("cold start", f"{fn}: start → first 200 on /healthz (median of 20)",
            f"{r['median_ms']:.1f} ms (min {r['min_ms']:.1f}, max {r['max_ms']:.1f})", "≤ 15 ms")
        row("idle memory", f"{fn}: RSS when idle", f"{r['idle_rss_kb'] / 1024:.1f} MB", "≤ 10 MB")


def section_sizes():
    for fn in ("api", "mcp", "task-created", "task-changed", "task-completed", "task-due", "cron-tick", "local"):
        row("binary size", fn, f"{(REL / fn).stat().st_size / 1e6:.1f} MB")


def section_scale():
    """Issue #29: views and search from 10^3 to 10^6 tasks (scripts/bench_scale.py)."""
    import bench_scale
    bench_scale.run(sys.modules[__name__])


SECTIONS = {"api": section_api, "pgbench": section_pgbench, "functions": section_functions, "drain": section_drain,
            "sharing": section_sharing, "mcp": section_mcp, "local": section_local, "coldstart": section_coldstart, "sizes": section_sizes,
            "scale": section_scale}


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "unknown CPU")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return cpu, os.cpu_count(), commit


def main():
    chosen = sys.argv[1:] or ["pgbench", "api", "functions", "drain", "sharing", "mcp", "local", "coldstart", "sizes", "scale"]
    for name in chosen:
        if name not in SECTIONS:
            raise SystemExit(f"bench: unknown section '{name}' (one of {', '.join(SECTIONS)})")
    for name in chosen:
        print(f"== {name}", flush=True)
        SECTIONS[name]()
    cpu, cores, commit = machine()
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = [f"Measured {today} at commit {commit} on {cpu} ({cores} cores), load generators on the same cores, "
             f"{SECONDS} s per load run.", "",
             "| what | figure | measured | target | note |", "|---|---|---|---|---|"]
    lines += [f"| {s} | {f} | {v} | {t} | {n} |" for s, f, v, t, n in ROWS]
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    # One file per run: a later run of the same day, or of some sections only,
    # must not overwrite a full run. latest.md is the last full run.
    full = sorted(chosen) == sorted(SECTIONS)
    name = f"{today}-{commit}" + ("" if full else "-" + "-".join(chosen)) + ".md"
    (results / name).write_text(table)
    if full:
        (results / "latest.md").write_text(table)
    print(f"saved bench/results/{name}")


if __name__ == "__main__":
    main()
