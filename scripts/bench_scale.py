"""make bench SECTIONS=scale: what the first page of each view and search costs
as a user's tasks grow from 10^3 to 10^6 (issue #29), through the release
`api` over loopback, on PostgreSQL.

Three shapes of the same number of tasks: all in one user's Inbox; spread over
the Inboxes of 10^4 users (the user measured holds their share); spread over
20 lists the user is a member of. Each is seeded by bench/scale/seed.sql, then
every view is asked REQUESTS times in a row on one keep-alive connection: p50
and p99 per view and size, a table row per view (the largest size against the
smallest, goal at most 2x), and a PNG plot per shape beside the results, its
newest copy shown in the book's performance chapter.

Then live streams: a write to a list of 100 members with 0, 100 and 1,000
streams open on them (10 per member), each of which must receive it: the
latency to every stream, and the reads of the changes feed per write (the
metric todo_feed_reads_total, by the process's one reader and by streams).
And claiming 10^5 due reminders among 10^6 tasks through cron-tick's ticks,
and cron-tick sending 10^5 owed webhook deliveries to 100 loopback receivers.

BENCH_SCALE_MAX (default 1000000) caps the sizes; BENCH_SCALE_PARTS (default
"views streams reminders webhooks") chooses the parts.
"""

import asyncio
import http.client
import json
import os
import shutil
import base64
import statistics
import subprocess
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "200"))
MAX = int(os.environ.get("BENCH_SCALE_MAX", "1000000"))
SIZES = [n for n in (10**3, 10**4, 10**5, 10**6) if n <= MAX]
USER = "bench-scale"
SHAPES = (("one user", 1, 1), ("10^4 users", 10**4, 1), ("20 shared lists", 1, 20))


def views(inbox):
    now = datetime.now(timezone.utc)
    week = (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    today = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ("first page", ""),
        ("open, by due", "status=open&sort=due"),
        ("done, last updated", "status=done&sort=updated"),
        ("by priority", "sort=priority"),
        ("title, not overdue", "sort=title&overdue=false"),
        ("overdue", "overdue=true&sort=due"),
        ("due this week", f"due_after={today}&due_before={week}&sort=due"),
        ("urgent", "priority=urgent"),
        ("tag on a tenth", "tag=work"),
        ("one list, by priority", f"list={inbox}&sort=priority"),
        ("top level", "parent=none"),
        ("assigned to me", "assignee=me"),
        ("search, 1 %", "q=groceries"),
        ("search, one task", "q=unicorn"),
        ("search, nothing", "q=zebra"),
    ]


def seed(b, url, n, users, lists):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"user={USER}", "-v", f"n={n}",
                    "-v", f"users={users}", "-v", f"lists={lists}", "-f", str(b.ROOT / "bench" / "scale" / "seed.sql")],
                   check=True, capture_output=True)


def timings(port, path, token):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    out = []
    for i in range(REQUESTS + 5):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"bench: GET {path} answered {response.status}: {body[:200]!r}")
        if i >= 5:
            out.append((time.perf_counter() - start) * 1000)
    conn.close()
    return out


def p99(samples):
    return statistics.quantiles(samples, n=100)[98]


def measure(b, shape, users, lists):
    """{view: {size: (p50, p99)}} for one shape."""
    curves = {}
    for n in SIZES:
        url = b.fresh_pg("todo_bench_scale")
        b.migrate(url)
        started = time.time()
        seed(b, url, n, min(users, n), lists)
        print(f"  seeded {n:,} tasks ({shape}) in {time.time() - started:.0f} s", flush=True)
        inbox = subprocess.run(["psql", url, "-Atc", f"select id from lists where owner_id = '{USER}' and inbox"],
                               check=True, capture_output=True, text=True).stdout.strip()
        api = b.Proc("api", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "4"})
        token = b.token(USER)
        for name, query in views(inbox):
            samples = timings(api.port, "/v1/tasks?" + query, token)
            curves.setdefault(name, {})[n] = (statistics.median(samples), p99(samples))
        api.stop()
    return curves


def plot(b, shape, curves, stamp):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no matplotlib: make bench installs it in target/bench-tools; no plot)")
        return
    from matplotlib.ticker import ScalarFormatter
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    styles = ["-", "--", ":"]
    markers = ["o", "s", "^", "D", "v"]
    for i, (name, points) in enumerate(curves.items()):
        xs = sorted(points)
        ax.plot(xs, [points[x][1] for x in xs], label=name, linestyle=styles[i % 3], marker=markers[i % 5])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("tasks")
    ax.set_ylabel("p99 of the first page (ms)")
    ax.set_title(f"First page of each view, {shape}, PostgreSQL, release api over loopback")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    slug = shape.replace(" ", "-").replace("^", "")
    results = b.ROOT / "bench" / "results"
    saved = results / f"{stamp}-scale-{slug}.png"
    fig.savefig(saved)
    plt.close(fig)
    book = b.ROOT / "docs" / "src" / "bench"
    book.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(saved, book / f"scale-{slug}.png")
    print(f"  saved {saved.relative_to(b.ROOT)}")


def run(b):
    parts = os.environ.get("BENCH_SCALE_PARTS", "views streams reminders webhooks").split()
    if "views" in parts:
        views_by_size(b)
    if "streams" in parts:
        streams(b)
    if "reminders" in parts:
        reminders(b)
    if "webhooks" in parts:
        webhooks(b)


def views_by_size(b):
    stamp = f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}-{b.machine()[2]}"
    for shape, users, lists in SHAPES:
        curves = measure(b, shape, users, lists)
        small, large = SIZES[0], SIZES[-1]
        for name, points in curves.items():
            figures = ", ".join(f"{n:,}: {points[n][0]:.2f} / {points[n][1]:.2f}" for n in SIZES)
            ratio = points[large][1] / points[small][1]
            b.row(f"scale, {shape}", f"{name} (p50 / p99 ms by tasks)", figures,
                  f"p99 at {large:,} ≤ 2x at {small:,}", f"{ratio:.2f}x")
        plot(b, shape, curves, stamp)


STREAM_MEMBERS = 100
STREAMS_PER_MEMBER = 10
WRITES = 10


def feed_reads(base):
    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    reads = {"hub": 0.0, "stream": 0.0}
    for line in text.splitlines():
        for by in reads:
            if line.startswith(f'todo_feed_reads_total{{by="{by}"}}'):
                reads[by] = float(line.split()[-1])
    return reads


async def open_stream(port, token):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((f"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise SystemExit(f"bench: a stream answered {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer


async def arrival(reader, marker):
    """When `marker` arrives on the stream."""
    seen = b""
    while marker not in seen:
        chunk = await reader.read(65536)
        if not chunk:
            raise SystemExit("bench: a stream ended")
        seen = seen[-len(marker):] + chunk
    return time.perf_counter()


async def fan_out(b, api, owner_token, list_id, tokens):
    streams = [await open_stream(api.port, t) for t in tokens]
    for reader, _ in streams:  # each says `ready` first
        await arrival(reader, b"event: ready")
    await asyncio.sleep(6)  # past the looks that follow the streams' start
    before = feed_reads(api.base)
    latencies, missed = [], 0
    for k in range(WRITES):
        title = f"fan-out {len(tokens)} #{k}"
        waits = [asyncio.ensure_future(arrival(r, title.encode())) for r, _ in streams]
        start = time.perf_counter()
        body = json.dumps({"title": title, "list_id": list_id}).encode()
        request = urllib.request.Request(api.base + "/v1/tasks", data=body, method="POST", headers={
            "Authorization": f"Bearer {owner_token}", "Content-Type": "application/json"})
        await asyncio.get_running_loop().run_in_executor(None, lambda: urllib.request.urlopen(request, timeout=10).read())
        if waits:
            done, late = await asyncio.wait(waits, timeout=30)
            latencies += [(w.result() - start) * 1000 for w in done]
            for w in late:
                w.cancel()
            if late:
                missed += len(late)
        await asyncio.sleep(1.5)
    after = feed_reads(api.base)
    for _, writer in streams:
        writer.close()
    reads = {by: (after[by] - before[by]) / WRITES for by in after}
    return latencies, reads, missed


def streams(b):
    """A write with 0, 100 and 1,000 streams open that must all receive it."""
    # The feed waits for every transaction on the server to end: the views'
    # million-task database, left to autovacuum, would hold it back.
    subprocess.run(["psql", b.PG, "-qAtc", 'drop database if exists "todo_bench_scale" with (force)'],
                   check=True, capture_output=True)
    url = b.fresh_pg("todo_bench_streams")
    b.migrate(url)
    members = [f"bench-member-{i}" for i in range(STREAM_MEMBERS)]
    values = ", ".join(f"((select id from l), '{m}', 'viewer', now())" for m in members)
    sql = ("with l as (insert into lists (id, owner_id, name, position, archived, inbox, created_at, updated_at, "
           "version) values (gen_random_uuid(), 'bench-owner', 'Everyone', 1, false, false, now(), now(), 1) "
           "returning id), o as (insert into list_members (list_id, user_id, role, added_at) "
           "select id, 'bench-owner', 'owner', now() from l) "
           f"insert into list_members (list_id, user_id, role, added_at) values {values} returning list_id")
    list_id = subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True, text=True).stdout.split()[0]
    api = b.Proc("api", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16", "MAX_CONNECTIONS": "4096",
                         "STREAM_MAX_OPEN": "2048"})
    member_tokens = [b.token(m) for m in members]
    owner = b.token("bench-owner")
    for count in (0, STREAM_MEMBERS, STREAM_MEMBERS * STREAMS_PER_MEMBER):
        tokens = [member_tokens[i % STREAM_MEMBERS] for i in range(count)]
        latencies, reads, missed = asyncio.run(fan_out(b, api, owner, list_id, tokens))
        per_write = reads["hub"] + reads["stream"]
        if latencies:
            figure = (f"p50 {statistics.median(latencies):.1f} ms, p99 {p99(latencies):.1f} ms to every stream; "
                      f"{per_write:.1f} feed reads per write")
        else:
            figure = f"{per_write:.1f} feed reads per write"
        note = f"hub {reads['hub']:.1f}, streams {reads['stream']:.1f} per write"
        if missed:
            note += f"; {missed} deliveries not seen within 30 s"
        b.row("scale, live streams", f"a write with {count:,} streams open", figure,
              "reads per write independent of the streams; p99 ≤ 100 ms at 1,000", note)
    api.stop()


DUE_REMINDERS = 10**5


def reminders(b):
    """Claiming 10^5 due reminders among 10^6 tasks: cron-tick's ticks (each
    up to 10 claims of 100) until none is left."""
    url = b.fresh_pg("todo_bench_reminders")
    b.migrate(url)
    seed(b, url, min(MAX, 10**6), 1, 1)
    subprocess.run(["psql", url, "-qc",
                    "update tasks set remind_before_minutes = 0, remind_at = now() - interval '1 minute' "
                    f"- (random() * interval '1 day') where id in (select id from tasks where not completed "
                    f"limit {DUE_REMINDERS}); analyze tasks"], check=True, capture_output=True)
    proc = b.Proc("cron-tick", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "4"})
    claimed, ticks, slowest = 0, 0, 0.0
    started = time.perf_counter()
    while ticks < 1000:
        tick = time.perf_counter()
        request = urllib.request.Request(proc.base + "/", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
        slowest = max(slowest, time.perf_counter() - tick)
        ticks += 1
        claimed += answer["reminders"]
        if answer["reminders"] == 0:
            break
    elapsed = time.perf_counter() - started
    proc.stop()
    b.row("scale, reminders", f"claiming {claimed:,} due reminders among 10^6 tasks",
          f"{claimed / elapsed:,.0f} reminders/s, {ticks} ticks, slowest tick {slowest * 1000:.0f} ms",
          f"every one of {DUE_REMINDERS:,} claimed", "" if claimed == DUE_REMINDERS else "MISSED SOME")


OWED = 10**5
RECEIVERS = 100


def serve_receivers(port, received):
    """A loopback HTTP server answering 204 to every POST, counting them."""
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                received[0] += 1
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()


def webhooks(b):
    """cron-tick sending 10^5 owed webhook deliveries, spread over 100
    receivers' webhooks on loopback, tick after tick until none is owed."""
    url = b.fresh_pg("todo_bench_webhooks")
    b.migrate(url)
    port, received = b.free_port(), [0]
    serve_receivers(port, received)
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    per_webhook = OWED // RECEIVERS
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    "insert into webhooks (id, user_id, url, secret, created_at) select gen_random_uuid(), "
                    f"'bench-hook-' || k, 'http://127.0.0.1:{port}/hook/' || k, '{secret}', now() "
                    f"from generate_series(1, {RECEIVERS}) as k", "-c",
                    "insert into webhook_deliveries (event_id, webhook_id, status, attempts, body, "
                    "next_attempt_at, updated_at) select 'bench-event-' || i, w.id, 'pending', 0, "
                    "'{\"type\":\"task.created\",\"data\":{}}', now(), now() "
                    f"from generate_series(1, {per_webhook}) as i cross join webhooks w", "-c", "analyze"],
                   check=True, capture_output=True)
    proc = b.Proc("cron-tick", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "8", "WEBHOOK_ALLOW_LOOPBACK": "true"})
    ticks, slowest = 0, 0.0
    started = time.perf_counter()
    # A round waits for its sends at most a second and leaves the slower ones
    # in flight: the receivers' count says when all have arrived.
    while received[0] < OWED and ticks < 5000 and time.perf_counter() - started < 600:
        tick = time.perf_counter()
        request = urllib.request.Request(proc.base + "/", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=60).read()
        slowest = max(slowest, time.perf_counter() - tick)
        ticks += 1
    elapsed = time.perf_counter() - started
    delivered = received[0]
    time.sleep(2)  # the last sends' records
    proc.stop()
    owed = subprocess.run(["psql", url, "-qAtc", "select count(*) from webhook_deliveries where status = 'pending'"],
                          check=True, capture_output=True, text=True).stdout.strip()
    b.row("scale, webhooks", f"sending {OWED:,} owed deliveries to {RECEIVERS} webhooks",
          f"{delivered / elapsed:,.0f} deliveries/s, {ticks} ticks, slowest tick {slowest * 1000:.0f} ms",
          f"all {OWED:,} delivered", f"{received[0]:,} received; {owed} still owed")
