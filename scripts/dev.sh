#!/usr/bin/env bash
# Runs the API locally on SQLite with a generated development secret, and prints
# a ready-to-use token and a curl example. Nothing else needs to be installed or
# started. PORT (default 8080) and DATABASE_URL may be overridden.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-sqlite://data/todo.db}"
export PORT="${PORT:-8080}"
export HOST="${HOST:-127.0.0.1}"
# Lets webhooks point at a receiver on this machine; never in production.
export WEBHOOK_ALLOW_LOOPBACK="${WEBHOOK_ALLOW_LOOPBACK:-true}"
mkdir -p data

# A random secret per checkout, kept out of git (data/ is ignored).
secret_file=data/dev-jwt-secret
if [[ ! -s $secret_file ]]; then
  (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$secret_file")
fi
export JWT_SECRET="$(cat "$secret_file")"

cargo build --quiet -p api --bins
target/debug/api migrate
token="$(target/debug/dev-token dev-user 24)"

cat <<MSG

  Todo API on http://$HOST:$PORT  (database: $DATABASE_URL)

  A development token for user "dev-user", valid 24 hours:
    export TOKEN=$token

  Try:
    curl -s -X POST http://$HOST:$PORT/v1/tasks -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' -d '{"title":"Try the API","priority":"high","tags":["demo"]}'
    curl -s http://$HOST:$PORT/v1/tasks -H "Authorization: Bearer \$TOKEN"

  OpenAPI document: http://$HOST:$PORT/openapi.json     Stop with Ctrl-C.

MSG
exec target/debug/api
