#!/usr/bin/env python3
"""make soak: 1,000 concurrent clients against the API on loopback.

usage: scripts/soak.py      (SOAK_SECONDS, default 60; SOAK_CONNECTIONS, default 1000)
       SOAK_MODE=abuse scripts/soak.py   (make soak-abuse)

The release `api` binary on a fresh PostgreSQL database, driven by wrk with
one create in four and three first-page reads (bench/wrk/mixed.lua) from
SOAK_CONNECTIONS connections for SOAK_SECONDS, one user with budgets it never
meets (bench.UNLIMITED). The API's memory is sampled every second. Fails when
any request errs (non-2xx, connect, read, write or timeout) or when memory keeps
growing; prints a Markdown table and saves it under bench/results/soak-latest.md.

SOAK_MODE=abuse keeps the default rate limits and runs SOAK_USERS (100)
well-behaved users (bench/wrk/mixed.lua with DELAY_MS: each inside its budgets) for
SOAK_SECONDS alone, then beside one abusive user creating tasks as fast as
SOAK_ABUSIVE_CONNECTIONS (8) connections go (bench/wrk/abusive.lua), then alone
again. Fails when a well-behaved request errs or their p99 beside the abuser is
more than 20 % above the mean of their runs alone; saves
bench/results/soak-abuse-latest.md.
"""

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the benchmark's helpers: fresh databases, processes, tokens)

SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "1000"))
# 1,000 open connections cost the API about 50 MB of buffers (66 MB in all on
# the first run); the bound is twice that, and the real check is that memory
# stops growing once every connection is open.
MEMORY_LIMIT_MB = 128


def sample_rss(api, samples, stop):
    while not stop.is_set():
        samples.append(api.status("VmRSS") / 1024)
        stop.wait(1)


def save(lines, name):
    """Prints the report and keeps it as bench/results/`name`."""
    report = "\n".join(lines)
    print(report)
    results = bench.ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / name).write_text(report + "\n")


def wrk_run(script, connections, threads, env, base, nice=False):
    """Starts wrk on `script` (at the lowest CPU priority when `nice`); its
    output when `.communicate()` is read."""
    return subprocess.Popen(
        (["nice", "-n", "19"] if nice else []) + ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{SECONDS}s", "--timeout", "10s", "--latency",
         "-s", str(bench.ROOT / "bench" / "wrk" / script), base],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def figures(out):
    """Requests, rate, p50/p99 in ms, non-2xx and socket errors of wrk's output."""
    ms = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    pct = {p: float(v) * ms[u] for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": pct.get("50", float("nan")),
        "p90": pct.get("90", float("nan")),
        "p99": pct.get("99", float("nan")),
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def abuse():
    users = int(os.environ.get("SOAK_USERS", "100"))
    abusive = int(os.environ.get("SOAK_ABUSIVE_CONNECTIONS", "8"))
    url = bench.fresh_pg("todo_soak_abuse")
    bench.migrate(url)
    # The default budgets: what production runs with.
    api = bench.Proc("api", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16"}, unlimited=False)
    tokens = [bench.token(f"polite-{i}") for i in range(users)]
    # Each user's first request makes their Inbox: done before either run is measured.
    for token in tokens:
        request = urllib.request.Request(api.base + "/v1/lists", headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(request, timeout=10).read()
    polite_env = {"TOKENS": ",".join(tokens), "DELAY_MS": "200"}
    # Alone, beside the abuser, alone again: the two runs alone bracket the
    # other in the database's size (the users add tasks as they go).
    alone = figures(wrk_run("mixed.lua", users, 2, polite_env, api.base).communicate()[0])
    # The load generators share the API's two cores: the abuser's runs at the
    # lowest priority, so that what its flood costs is the API's refusing it,
    # not its own generator's CPU (elsewhere on the internet in real life).
    abuser = wrk_run("abusive.lua", abusive, 1, {"TOKEN": bench.token("abuser")}, api.base, nice=True)
    beside = figures(wrk_run("mixed.lua", users, 2, polite_env, api.base).communicate()[0])
    flood = figures(abuser.communicate()[0])
    after = figures(wrk_run("mixed.lua", users, 2, polite_env, api.base).communicate()[0])
    metrics = urllib.request.urlopen(api.base + "/metrics", timeout=5).read().decode()
    api.stop()
    limited = sum(float(v) for v in re.findall(r'^todo_rate_limited_total\{route_class="write"\} ([\d.e+]+)$', metrics, re.M))
    growth = beside["p99"] / ((alone["p99"] + after["p99"]) / 2) - 1
    row = lambda name, f: (f"| {name} | {f['requests']:,} ({f['rps']:,.0f}/s) | {f['p50']:.2f} / {f['p99']:.2f} ms "
                           f"| {f['non2xx']} + {f['socket']} |")
    lines = [
        f"# Soak with an abusive user: {users} well-behaved users for {SECONDS} s, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        "Machine: {}, {} cores; commit {}".format(*bench.machine()),
        "",
        "| run | requests | p50 / p99 | non-2xx + socket errors |",
        "|---|---|---|---|",
        row("well-behaved users alone", alone),
        row("well-behaved users beside the abuser", beside),
        row("well-behaved users alone again", after),
        row(f"the abuser ({abusive} connections, one token)", flood),
        "",
        f"The well-behaved users' p99 beside the abuser moved {growth:+.0%} from the mean of their runs alone; "
        f"{limited:,.0f} of the abuser's {flood['requests']:,} requests were refused 429.",
    ]
    save(lines, "soak-abuse-latest.md")
    failures = []
    for name, f in (("alone", alone), ("beside the abuser", beside), ("alone again", after)):
        if f["non2xx"] or f["socket"]:
            failures.append(f"well-behaved users {name}: {f['non2xx']} non-2xx and {f['socket']} socket errors")
    if growth > 0.20:
        failures.append(f"their p99 grew {growth:.0%} beside the abuser (limit 20 %)")
    if failures:
        raise SystemExit("soak failed: " + "; ".join(failures))


def main():
    if os.environ.get("SOAK_MODE") == "abuse":
        return abuse()
    url = bench.fresh_pg("todo_soak")
    bench.migrate(url)
    api = bench.Proc("api", {"DATABASE_URL": url, "DB_MAX_CONNECTIONS": "16"})
    samples, stop = [], threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(api, samples, stop), daemon=True)
    sampler.start()
    started = time.time()
    out = wrk_run("mixed.lua", CONNECTIONS, 2, {"TOKEN": bench.token("soak-user")}, api.base).communicate()[0]
    stop.set()
    sampler.join()
    peak = api.status("VmHWM") / 1024
    api.stop()
    print(out)

    f = figures(out)
    bad, socket_errors = f["non2xx"], f["socket"]
    # Growth: the last ten seconds against the ten after warm-up.
    settled = samples[5:15] or samples
    late = samples[-10:] or samples
    growth = max(late) - max(settled)

    lines = [
        f"# Soak: {CONNECTIONS} clients for {SECONDS} s, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        "Machine: {}, {} cores; commit {}".format(*bench.machine()),
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests | {f['requests']:,} in {time.time() - started:.0f} s ({f['rps']:,.0f} req/s) |",
        f"| latency p50 / p90 / p99 | {f['p50']:.2f} / {f['p90']:.2f} / {f['p99']:.2f} ms |",
        f"| errors (non-2xx + socket) | {bad} + {socket_errors} |",
        f"| API RSS: settled / end / peak | {max(settled):.1f} / {late[-1]:.1f} / {peak:.1f} MB |",
    ]
    save(lines, "soak-latest.md")

    failures = []
    if bad or socket_errors:
        failures.append(f"{bad} non-2xx responses and {socket_errors} socket errors")
    if peak > MEMORY_LIMIT_MB:
        failures.append(f"peak RSS {peak:.1f} MB over {MEMORY_LIMIT_MB} MB")
    if growth > 8:
        failures.append(f"RSS grew {growth:.1f} MB between warm-up and the end")
    if failures:
        raise SystemExit("soak failed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
