#!/usr/bin/env python3
"""Verifies a webhook request with the reference Python implementation of the
Standard Webhooks specification (PyPI: standardwebhooks), independently of the
Rust code that signed it.

Reads JSON from stdin: {"secret": "whsec_...", "headers": {...}, "body": "..."}.
Exits 0 when the signature verifies, 1 (with the reason on stderr) when not.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

request = json.load(sys.stdin)
try:
    Webhook(request["secret"]).verify(request["body"], request["headers"])
except Exception as error:  # the library raises its own verification errors
    print(f"verification failed: {error!r}", file=sys.stderr)
    sys.exit(1)
print("verified")
