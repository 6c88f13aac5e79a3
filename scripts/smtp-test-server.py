#!/usr/bin/env python3
"""A real SMTP server on loopback for the mail tests (aiosmtpd), over TLS.

Usage: smtp-test-server.py DIR MODE [PORT]   (MODE: smtps = implicit TLS, starttls)

It makes a throwaway certificate authority with trustme, writes its
certificate to DIR/ca.pem, serves 127.0.0.1 with a certificate from it,
demands AUTH (user `todo`, password `s3cret-smtp-pw`) over TLS, and prints
`READY <port>` once it answers. Each mail it accepts is read with Python's own
e-mail parser and written to DIR/mail-<n>.json (when it arrived, envelope,
headers, text and HTML parts); every DATA it is sent, accepted or not, adds a line to
DIR/attempts.jsonl. Recipients steer its answers:

- `tempfail…@`: 451 for the first attempt at each Message-ID, then 250;
- `reject…@`: 550, always.

It runs until its standard input closes (the test ends).
"""

import asyncio
import email
import email.policy
import json
import logging
import socket
import ssl
import sys
import threading
import time
import warnings
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = b"todo", b"s3cret-smtp-pw"
# Implicit TLS makes aiosmtpd warn that AUTH is not over STARTTLS: it is over TLS.
warnings.filterwarnings("ignore", category=UserWarning, module="aiosmtpd")
warnings.filterwarnings("ignore", category=DeprecationWarning)
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER and auth_data.password == PASSWORD
    return AuthResult(success=ok)


class Handler:
    def __init__(self, out: Path):
        self.out = out
        self.lock = threading.Lock()
        self.tried = set()
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        message_id = message.get("Message-ID", "")
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        first = message_id not in self.tried
        self.tried.add(message_id)
        if rcpt.startswith("reject"):
            answer = "550 5.7.1 This recipient does not take mail"
        elif rcpt.startswith("tempfail") and first:
            answer = "451 4.3.0 Try again later"
        else:
            answer = "250 OK"
        with self.lock:
            with open(self.out / "attempts.jsonl", "a") as f:
                f.write(json.dumps({"message_id": message_id, "rcpt": rcpt, "answer": answer}) + "\n")
            if answer.startswith("250"):
                self.accepted += 1
                (self.out / f"mail-{self.accepted}.json").write_text(json.dumps(read(envelope, message, server, session)))
        return answer


def read(envelope, message, server, session):
    body = {"text": None, "html": None}
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain" and body["text"] is None:
            body["text"] = part.get_content()
        elif kind == "text/html" and body["html"] is None:
            body["html"] = part.get_content()
    return {
        "received_at": time.time(),
        "mail_from": envelope.mail_from,
        "rcpt_tos": envelope.rcpt_tos,
        "tls": server.transport.get_extra_info("ssl_object") is not None,
        "authenticated": bool(session.authenticated),
        "content_type": message.get_content_type(),
        "headers": {name: str(value) for name, value in message.items()},
        **body,
    }


def main():
    out, mode = Path(sys.argv[1]), sys.argv[2]
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(out / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    port = int(sys.argv[3]) if len(sys.argv) > 3 else free_port()
    kwargs = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": True}
    if mode == "smtps":
        # The whole connection is TLS; aiosmtpd's own check knows only STARTTLS.
        kwargs["auth_require_tls"] = False
        controller = Controller(Handler(out), hostname="127.0.0.1", port=port, ssl_context=context, server_kwargs=kwargs)
    else:
        kwargs.update(tls_context=context, require_starttls=True)
        controller = Controller(Handler(out), hostname="127.0.0.1", port=port, server_kwargs=kwargs)
    controller.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
