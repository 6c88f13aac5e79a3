#!/usr/bin/env bash
# Runs every function as its own process under a real Dapr sidecar (dapr.yaml),
# with Kafka or Redpanda on localhost:9092, as in production but on one machine.
# Needs the Dapr CLI (`dapr init --slim` is enough) and a local broker; `make dev`
# needs neither. Not testable on the project's CI machine (no Dapr binary there).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dapr >/dev/null 2>&1; then
  echo "dapr-dev: the Dapr CLI is not installed (https://docs.dapr.io/getting-started/install-dapr-cli/)." >&2
  echo "dapr-dev: 'make dev' runs the whole system in one process without Dapr or Kafka." >&2
  exit 1
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then
  echo "dapr-dev: nothing listens on localhost:9092; start Kafka or Redpanda first, e.g." >&2
  echo "  rpk container start   (or: docker run -p 9092:9092 redpandadata/redpanda)" >&2
  exit 1
fi

export DATABASE_URL="${DATABASE_URL:-sqlite://data/todo.db}"
source scripts/lib/dev-secret.sh
# Both directions of the sidecar boundary are authenticated, as in production.
export APP_API_TOKEN="${APP_API_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')}"
export DAPR_API_TOKEN="${DAPR_API_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')}"

cargo build --quiet -p api -p task-created -p task-changed -p task-completed -p task-due -p list-members -p cron-tick --bins
target/debug/api migrate
# The sidecars read one folder: the shared resources and the local pub/sub.
rm -rf data/dapr-resources && mkdir -p data/dapr-resources
cp components/common/{cron,subscriptions,resiliency}.yaml components/local/pubsub.yaml data/dapr-resources/
token="$(target/debug/dev-token dev-user 24)"

cat <<MSG

  Todo backend under Dapr: api on http://127.0.0.1:8080, functions on 8081-8085
  (sidecars on 3500-3505; database: $DATABASE_URL)

    export TOKEN=$token
    curl -s -X POST http://127.0.0.1:8080/v1/tasks -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' -d '{"title":"Try Dapr"}'

  Stop with Ctrl-C (or: dapr stop -f dapr.yaml).

MSG
exec dapr run -f dapr.yaml
