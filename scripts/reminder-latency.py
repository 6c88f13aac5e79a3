#!/usr/bin/env python3
"""How late reminders are on the local host: from a task's due time to the
moment a real SMTP server (scripts/smtp-test-server.py, implicit TLS with
AUTH) accepts its reminder mail, and to the moment a Web Push service
(scripts/push-test-service.py, which decrypts it and checks its VAPID
signature) accepts its push message.

Starts the local host's binary (target/debug/local, or LOCAL_BIN) on a fresh
SQLite database with SMTP_URL pointing at the server and a fresh VAPID key
(target/debug/vapid-key), signs in as the development user, sets and confirms
an address through the mailed link, subscribes one browser at the push
service, then makes COUNT tasks (default 20) due over the next seconds with
the reminder at the due time, and prints the latency of each channel: min,
median, p90 and max.

usage: target/python-tools/bin/python scripts/reminder-latency.py [COUNT]
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None, form=None):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = form.encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as res:
        text = res.read().decode()
        return json.loads(text) if res.headers.get("content-type", "").startswith("application/json") else text


def mails(directory):
    found, n = [], 1
    while (directory / f"mail-{n}.json").exists():
        found.append(json.loads((directory / f"mail-{n}.json").read_text()))
        n += 1
    return found


def wait_for(directory, count, within):
    deadline = time.time() + within
    while time.time() < deadline:
        got = mails(directory)
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise SystemExit(f"only {len(mails(directory))} of {count} mails arrived in {within} s")


def pushes(directory):
    log = directory / "received.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def summary(what, late):
    late = sorted(late)
    p90 = late[min(len(late) - 1, int(len(late) * 0.9))]
    print(f"{len(late)} {what} (ms): min {late[0]:.0f}, median {statistics.median(late):.0f}, "
          f"p90 {p90:.0f}, max {late[-1]:.0f}")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = Path(tempfile.mkdtemp(prefix="reminder-latency-"))
    smtp = subprocess.Popen([sys.executable, str(ROOT / "scripts/smtp-test-server.py"), str(work), "smtps"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    smtp_port = int(smtp.stdout.readline().split()[1])
    push_dir = work / "push"
    push_dir.mkdir()
    push = subprocess.Popen([sys.executable, str(ROOT / "scripts/push-test-service.py"), str(push_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    push_base = f"http://127.0.0.1:{int(push.stdout.readline().split()[1])}"
    vapid = subprocess.run([str(ROOT / "target/debug/vapid-key")], capture_output=True, text=True,
                           check=True).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{work}/todo.db",
        "PORT": str(port),
        "DEV_SIGN_IN": "true",
        "JWT_SECRET": "reminder-latency-only-secret-0123456789",
        "SMTP_URL": f"smtps://todo:s3cret-smtp-pw@127.0.0.1:{smtp_port}",
        "SMTP_CA_CERT": str(work / "ca.pem"),
        "MAIL_FROM": "Todo <reminders@todo.example>",
        "PUBLIC_URL": base,
        "RUST_LOG": "warn",
        # Measures the path, not the per-user bound (20 at once, then 1 a minute).
        "MAIL_BURST": "1000",
        "MAIL_PER_MINUTE": "1000",
        "PUSH_BURST": "1000",
        "PUSH_PER_MINUTE": "1000",
        "VAPID_PRIVATE_KEY": vapid,
        # The push service is on loopback.
        "WEBHOOK_ALLOW_LOOPBACK": "true",
    }
    binary = os.environ.get("LOCAL_BIN", str(ROOT / "target/debug/local"))
    host = subprocess.Popen([binary], env=env)
    try:
        for _ in range(100):
            try:
                call(base, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        token = call(base, "POST", "/auth/dev")["token"]
        channels = {"reminders": {"in_app": True, "email": True, "push": True, "webhooks": False}}
        call(base, "PUT", "/v1/me/settings", token,
             {"time_zone": "UTC", "email": "dev@example.com", "channels": channels, "quiet_hours": None})
        confirmation = wait_for(work, 1, 30)[0]
        link = next(w for w in confirmation["text"].split() if "/mail/confirm?token=" in w)
        call(base, "POST", link[len(base):], form="")
        assert call(base, "GET", "/v1/me/settings", token)["email_verified"], "the address is confirmed"
        browser = call(push_base, "POST", "/subscriptions", body={})
        call(base, "POST", "/v1/push/subscriptions", token, browser)

        start = datetime.now(timezone.utc) + timedelta(seconds=3)
        due = {}
        for i in range(count):
            at = start + timedelta(milliseconds=250 * i)
            title = f"Latency {i}"
            call(base, "POST", "/v1/tasks", token,
                 {"title": title, "due_at": at.isoformat(), "remind_before_minutes": 0})
            due[title] = at.timestamp()
        got = wait_for(work, count + 1, 60)[1:]
        summary("reminder mails, due time to accepted by the SMTP server",
                ((m["received_at"] - due[m["headers"]["Subject"].removeprefix("Reminder: ")]) * 1000 for m in got))
        deadline = time.time() + 60
        while len(pushes(push_dir)) < count and time.time() < deadline:
            time.sleep(0.05)
        received = pushes(push_dir)
        refused = [m["error"] for m in received if "error" in m]
        assert not refused and len(received) == count, f"{len(received)} of {count} pushed; refused: {refused}"
        summary("reminder push messages, due time to accepted by the push service",
                ((m["at"] - due[m["payload"]["title"]]) * 1000 for m in received))
    finally:
        host.terminate()
        host.wait()
        for helper in (smtp, push):
            helper.stdin.close()
            helper.terminate()


if __name__ == "__main__":
    main()
