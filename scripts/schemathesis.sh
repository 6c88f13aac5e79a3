#!/usr/bin/env bash
# make schemathesis: property-based tests of the API from its own /openapi.json,
# against the real local host (SQLite in a temporary directory) on loopback.
# Bounded by ST_SECONDS (default 90). Fails on any finding of the checks below.
#
# Two checks are left out, on purpose:
# - positive_data_acceptance: the schema cannot state every rule (time-zone
#   names, the RRULE grammar, a reminder needing a due time), so some
#   schema-valid bodies are rightly refused with 422;
# - use_after_free: a deleted task's activity stays readable by design
#   (GET /v1/tasks/{id}/activity lists its task.deleted entry).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/api-fuzz-tools
seconds="${ST_SECONDS:-90}"
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
secret="schemathesis-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export JWT_SECRET="$secret"

DATABASE_URL="sqlite://$dir/todo.db" HOST=127.0.0.1 PORT="$port" RUST_LOG=warn \
  target/debug/local >"$dir/local.log" 2>&1 &
host=$!
trap 'kill "$host" 2>/dev/null || true; rm -rf "$dir"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token="$(target/debug/dev-token schemathesis-user)"

status=0
"$tools/bin/st" run "http://127.0.0.1:$port/openapi.json" \
  --header "Authorization: Bearer $token" \
  --exclude-checks positive_data_acceptance,use_after_free \
  --max-time "$seconds" --max-examples 50 --seed "${ST_SEED:-1}" \
  --warnings off || status=$?
if grep -q "panicked" "$dir/local.log"; then
  echo "schemathesis: the local host panicked:" >&2
  grep -A5 "panicked" "$dir/local.log" >&2
  exit 1
fi
exit "$status"
