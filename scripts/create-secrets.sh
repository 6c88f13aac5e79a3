#!/usr/bin/env bash
# Creates or updates the Secrets the functions, Dapr and KEDA read, from
# environment variables. Values travel through file descriptors, never on a
# command line, and are neither printed nor written to disk.
#
#   REDPANDA_BROKERS   seed brokers, host:port[,host:port]   (Secret redpanda: brokers)
#   REDPANDA_USERNAME  SASL/SCRAM user                        (redpanda: username)
#   REDPANDA_PASSWORD  its password                           (redpanda: password)
#   DATABASE_URL       postgres://… of the managed database   (todo-database: url)
#   JWT_SECRET         HS256 secret, at least 32 bytes        (todo-jwt: secret)
#   APP_API_TOKEN      Dapr -> app token; generated if unset   (todo-app-api-token: token)
#   DAPR_API_TOKEN     app -> Dapr token; generated if unset   (todo-dapr-api-token: token)
#   REDIS_URL          rediss://default:…@host:25061, optional (todo-redis: url); without
#                      it each api, mcp and cron-tick pod keeps its own rate-limit budgets
#   SMTP_URL           smtps://user:pass@host:465, optional   (todo-smtp: url); without it
#                      reminder mail stays queued, unsent
#   VAPID_PRIVATE_KEY  Web Push key (base64url), optional     (todo-vapid: private-key); when
#                      unset and the Secret is missing, a new one is made (cargo run -p api
#                      --bin vapid-key); an existing one is kept: a new key would end every
#                      browser's subscription
#
# Mail and push settings (optional, not secret: ConfigMap todo-mail): MAIL_FROM,
# PUBLIC_URL (where links in mails point) and VAPID_SUBJECT (the contact push
# services see; PUBLIC_URL by default).
#
# Sign-in with an identity provider (optional, not secret: ConfigMap todo-auth,
# which the api and mcp read when it exists): JWT_ISSUER, JWT_JWKS_URL,
# JWT_AUDIENCE and the web app's OIDC_CLIENT_ID (and OIDC_SCOPES).
#
# usage: scripts/create-secrets.sh [NAMESPACE]     (default: todo)
# For the local overlay, REDPANDA_USERNAME and REDPANDA_PASSWORD may be empty.
set -euo pipefail

namespace="${1:-todo}"
missing=()
for var in REDPANDA_BROKERS DATABASE_URL JWT_SECRET; do
  [[ -n "${!var:-}" ]] || missing+=("$var")
done
for var in REDPANDA_USERNAME REDPANDA_PASSWORD; do
  [[ -v $var ]] || missing+=("$var")
done
if ((${#missing[@]})); then
  echo "create-secrets: set ${missing[*]} (see the top of this script)" >&2
  exit 1
fi
if ((${#JWT_SECRET} < 32)); then
  echo "create-secrets: JWT_SECRET must be at least 32 bytes" >&2
  exit 1
fi

random_token() { head -c 32 /dev/urandom | base64 | tr -d '\n/+='; }
APP_API_TOKEN="${APP_API_TOKEN:-$(random_token)}"
DAPR_API_TOKEN="${DAPR_API_TOKEN:-$(random_token)}"

# Each value is handed to kubectl as a file (/dev/fd/N, from printf, a builtin),
# so no value appears in any process's arguments.
update() { kubectl apply -f -; }

kubectl create namespace "$namespace" --dry-run=client -o yaml | update
kubectl create secret generic redpanda --namespace "$namespace" --dry-run=client -o yaml \
  --from-file=brokers=<(printf %s "$REDPANDA_BROKERS") \
  --from-file=username=<(printf %s "$REDPANDA_USERNAME") \
  --from-file=password=<(printf %s "$REDPANDA_PASSWORD") | update
kubectl create secret generic todo-database --namespace "$namespace" --dry-run=client -o yaml \
  --from-file=url=<(printf %s "$DATABASE_URL") | update
kubectl create secret generic todo-jwt --namespace "$namespace" --dry-run=client -o yaml \
  --from-file=secret=<(printf %s "$JWT_SECRET") | update
kubectl create secret generic todo-app-api-token --namespace "$namespace" --dry-run=client -o yaml \
  --from-file=token=<(printf %s "$APP_API_TOKEN") | update
kubectl create secret generic todo-dapr-api-token --namespace "$namespace" --dry-run=client -o yaml \
  --from-file=token=<(printf %s "$DAPR_API_TOKEN") | update
if [[ -n "${REDIS_URL:-}" ]]; then
  kubectl create secret generic todo-redis --namespace "$namespace" --dry-run=client -o yaml \
    --from-file=url=<(printf %s "$REDIS_URL") | update
  echo "create-secrets: Secret todo-redis holds REDIS_URL: rate limits are shared across replicas"
fi
if [[ -n "${SMTP_URL:-}" ]]; then
  kubectl create secret generic todo-smtp --namespace "$namespace" --dry-run=client -o yaml \
    --from-file=url=<(printf %s "$SMTP_URL") | update
  echo "create-secrets: Secret todo-smtp holds SMTP_URL: reminder mail is sent"
fi
if [[ -z "${VAPID_PRIVATE_KEY:-}" ]] && ! kubectl get secret todo-vapid --namespace "$namespace" >/dev/null 2>&1; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  if [[ -x $root/target/debug/vapid-key ]]; then
    VAPID_PRIVATE_KEY="$("$root/target/debug/vapid-key" 2>/dev/null)"
  else
    VAPID_PRIVATE_KEY="$(cargo run --quiet --manifest-path "$root/Cargo.toml" -p api --bin vapid-key 2>/dev/null)"
  fi
fi
if [[ -n "${VAPID_PRIVATE_KEY:-}" ]]; then
  kubectl create secret generic todo-vapid --namespace "$namespace" --dry-run=client -o yaml \
    --from-file=private-key=<(printf %s "$VAPID_PRIVATE_KEY") | update
  echo "create-secrets: Secret todo-vapid holds VAPID_PRIVATE_KEY: reminders are pushed"
else
  echo "create-secrets: Secret todo-vapid kept as it is"
fi
mail=()
for var in MAIL_FROM PUBLIC_URL VAPID_SUBJECT; do
  [[ -n "${!var:-}" ]] && mail+=("--from-literal=$var=${!var}")
done
if ((${#mail[@]})); then
  kubectl create configmap todo-mail --namespace "$namespace" --dry-run=client -o yaml "${mail[@]}" | update
  echo "create-secrets: ConfigMap todo-mail holds ${#mail[@]} mail settings"
fi
auth=()
for var in JWT_ISSUER JWT_JWKS_URL JWT_AUDIENCE OIDC_CLIENT_ID OIDC_SCOPES; do
  [[ -n "${!var:-}" ]] && auth+=("--from-literal=$var=${!var}")
done
if ((${#auth[@]})); then
  kubectl create configmap todo-auth --namespace "$namespace" --dry-run=client -o yaml "${auth[@]}" | update
  echo "create-secrets: ConfigMap todo-auth holds ${#auth[@]} sign-in settings"
fi
echo "create-secrets: Secrets redpanda, todo-database, todo-jwt, todo-app-api-token and todo-dapr-api-token are in namespace $namespace"
