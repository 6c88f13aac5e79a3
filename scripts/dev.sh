#!/usr/bin/env bash
# Runs the whole system locally in one process (the `local` host): the API, the
# MCP server and every event function on one port, an in-process bus and cron, SQLite under
# data/. Prints a ready-to-use token and curl examples. Nothing else needs to be
# installed or started. PORT (default 8080), HOST, DATABASE_URL and
# CRON_INTERVAL_MS may be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-sqlite://data/todo.db}"
export PORT="${PORT:-8080}"
export HOST="${HOST:-127.0.0.1}"
# Lets webhooks point at a receiver on this machine; never in production.
export WEBHOOK_ALLOW_LOOPBACK="${WEBHOOK_ALLOW_LOOPBACK:-true}"
source scripts/lib/dev-secret.sh

cargo build --quiet -p local -p api --bins
source scripts/lib/dev-vapid.sh
token="$(target/debug/dev-token dev-user 24)"
base="http://$HOST:$PORT"

cat <<MSG

  Todo backend, every function in one process, on $base
  (database: $DATABASE_URL; cron every ${CRON_INTERVAL_MS:-1000} ms)

  The web app: $base/ ${DEV_SIGN_IN:+(one click signs in as the development user)}

  A development token for user "dev-user", valid 24 hours:
    export TOKEN=$token

  Try:
    curl -s -X POST $base/v1/tasks -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' -d '{"title":"Try the API","priority":"high","tags":["demo"]}'
    curl -s $base/v1/tasks -H "Authorization: Bearer \$TOKEN"

  Functions: $base/functions (each under /functions/<name>/; redeliver the newest
  event one consumes with scripts/invoke --last task-created)
  Dead letters: $base/functions/dead-letters      OpenAPI: $base/openapi.json
  Mail (kept, not sent, while SMTP_URL is unset): $base/functions/outbox-mail
  Push: turn it on in the web app's Settings (browsers reach their push
  service over the internet; the VAPID key is data/dev-vapid-key)
  MCP server for AI assistants: $base/mcp (Bearer \$TOKEN, or a personal access
  token from POST /v1/tokens; see docs/src/mcp.md)
  Stop with Ctrl-C.

MSG
exec target/debug/local
