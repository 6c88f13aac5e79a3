#!/usr/bin/env python3
"""A webhook receiver for trying the system locally: prints every delivery.

usage: scripts/webhook-receiver.py [PORT]     (default 9000)

Register it with POST /v1/webhooks {"url":"http://127.0.0.1:PORT/hook"} (make dev
allows loopback URLs). With WEBHOOK_SECRET set to the secret that registration
returned, each signature is checked with the Standard Webhooks reference
implementation: from the project's target/python-tools (make dev installs it
there) when this Python lacks it. Answers 204 to every POST.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

TOOLS_PYTHON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "python-tools", "bin", "python")


def verifier():
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        return None
    try:
        from standardwebhooks.webhooks import Webhook
    except ImportError:
        if os.path.exists(TOOLS_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(
            os.path.join(os.path.dirname(TOOLS_PYTHON), "..")
        ):
            # Run again under the project's own tools, which have the package.
            os.execv(TOOLS_PYTHON, [TOOLS_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
        print("signatures are NOT checked: run `make python-tools` to install the checker", file=sys.stderr)
        return None
    return Webhook(secret)


class Receiver(BaseHTTPRequestHandler):
    check = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        verdict = ""
        if Receiver.check is not None:
            try:
                Receiver.check.verify(body, dict(self.headers.items()))
                verdict = "  signature: valid"
            except Exception as e:  # the reference library raises its own types
                verdict = f"  signature: INVALID ({e})"
        try:
            shown = json.dumps(json.loads(body), indent=2)
        except ValueError:
            shown = body.decode(errors="replace")
        print(f"POST {self.path}  webhook-id: {self.headers.get('webhook-id')}{verdict}\n{shown}\n", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    Receiver.check = verifier()
    print(f"listening on http://127.0.0.1:{port}/hook", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
