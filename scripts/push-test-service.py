#!/usr/bin/env python3
"""A Web Push service on loopback, for the tests: what a browser's push service
(FCM, Mozilla's autopush) does with our messages, checked by code nobody here
wrote.

- `POST /subscriptions` makes a subscription as a browser would: a fresh P-256
  key pair and auth secret (the `cryptography` package), and an endpoint on
  this server. It answers what `PushSubscription.toJSON()` gives.
- `POST /push/<id>` takes a message (RFC 8030). It checks the VAPID header
  (RFC 8292: `vapid t=<JWT>, k=<key>`; the ES256 signature verified with
  `cryptography`, `aud` this origin, `exp` within 24 hours, `sub` a contact),
  `TTL`, `Content-Encoding: aes128gcm`, and decrypts the body with the
  subscription's private key (RFC 8291, the `http_ece` package). A message
  that fails a check is answered 400 and recorded with why.
- `POST /subscriptions/<id>/answers` with `[{"status": 429, "retry_after": "60"}]`
  queues answers for its next messages (201 when none is queued; 410 says the
  subscription is gone).
- `GET /received` lists every message taken: subscription, headers, the
  VAPID claims and key, the decrypted payload (or the error), the answer; each
  is also a line of DIR/received.jsonl.

Prints `READY <port>` when it listens; stops when stdin closes.
Usage: push-test-service.py DIR [port]
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

LOCK = threading.Lock()
SUBSCRIPTIONS = {}  # id -> {"private": key, "auth": bytes, "answers": [..]}
RECEIVED = []


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_vapid(header, origin):
    """The VAPID claims and key of `header`, or raises saying what is wrong."""
    if not header or not header.startswith("vapid "):
        raise ValueError(f"Authorization is not a vapid one: {header!r}")
    params = dict(part.strip().split("=", 1) for part in header[len("vapid "):].split(","))
    token, key = params.get("t"), params.get("k")
    if not token or not key:
        raise ValueError("the vapid header lacks t= or k=")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    head, claims, signature = token.split(".")
    if json.loads(unb64url(head)).get("alg") != "ES256":
        raise ValueError("the JWT is not ES256")
    raw = unb64url(signature)
    if len(raw) != 64:
        raise ValueError("the ES256 signature is not 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("the JWT's signature does not verify with k=")
    claims = json.loads(unb64url(claims))
    if claims.get("aud") != origin:
        raise ValueError(f"aud is {claims.get('aud')!r}, not {origin!r}")
    now = time.time()
    if not (now < claims.get("exp", 0) <= now + 24 * 3600):
        raise ValueError(f"exp {claims.get('exp')} is not within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:", "http:")):
        raise ValueError(f"sub is not a contact: {claims.get('sub')!r}")
    return claims, key


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        if self.path == "/received":
            with LOCK:
                return self.answer(200, RECEIVED)
        self.answer(404, {"error": "no such path"})

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        origin = f"http://127.0.0.1:{self.server.server_port}"
        if parts == ["subscriptions"]:
            private = ec.generate_private_key(ec.SECP256R1())
            auth = os.urandom(16)
            sid = b64url(os.urandom(12))
            point = private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            with LOCK:
                SUBSCRIPTIONS[sid] = {"private": private, "auth": auth, "answers": []}
            return self.answer(201, {
                "endpoint": f"{origin}/push/{sid}",
                "expirationTime": None,
                "keys": {"p256dh": b64url(point), "auth": b64url(auth)},
            })
        if len(parts) == 3 and parts[0] == "subscriptions" and parts[2] == "answers":
            with LOCK:
                SUBSCRIPTIONS[parts[1]]["answers"].extend(json.loads(self.body()))
            return self.answer(204)
        if len(parts) == 2 and parts[0] == "push":
            return self.push(parts[1], origin)
        self.answer(404, {"error": "no such path"})

    def push(self, sid, origin):
        body = self.body()
        with LOCK:
            subscription = SUBSCRIPTIONS.get(sid)
        record = {
            "subscription": sid,
            "at": time.time(),
            "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"},
        }
        if subscription is None:
            status, extra = 404, []
        else:
            try:
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise ValueError(f"Content-Encoding is {self.headers.get('Content-Encoding')!r}")
                if not (self.headers.get("TTL") or "").isdigit():
                    raise ValueError("TTL is missing")
                claims, key = check_vapid(self.headers.get("Authorization"), origin)
                record["vapid"] = {"claims": claims, "key": key}
                plain = http_ece.decrypt(body, private_key=subscription["private"],
                                         auth_secret=subscription["auth"], version="aes128gcm")
                record["payload"] = json.loads(plain)
                with LOCK:
                    queued = subscription["answers"].pop(0) if subscription["answers"] else {}
                status = queued.get("status", 201)
                extra = [("Retry-After", queued["retry_after"])] if "retry_after" in queued else []
                if status == 410:
                    with LOCK:
                        SUBSCRIPTIONS.pop(sid, None)
            except Exception as e:  # noqa: BLE001: every failure is the message's fault
                record["error"] = f"{type(e).__name__}: {e}"
                status, extra = 400, []
        record["answer"] = status
        with LOCK:
            RECEIVED.append(record)
            with open(os.path.join(self.server.directory, "received.jsonl"), "a") as log:
                log.write(json.dumps(record) + "\n")
        self.answer(status, None, extra)


def main():
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.directory = sys.argv[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {server.server_port}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
