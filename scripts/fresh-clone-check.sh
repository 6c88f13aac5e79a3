#!/usr/bin/env bash
# Does what a new user does, in a throw-away clone of this checkout (with its
# uncommitted changes): `make dev`, the walkthrough of the book's Getting started against it (a
# webhook whose signatures the reference implementation checks, a reminder that
# fires), then `make test`. Called by .ci/run.
#
# Both commands run with a clean view of the tools: a fresh HOME (so no user
# site-packages, no user pip configuration, no ~/.local/bin), no PYTHONPATH and
# no PIP_* settings beyond how this machine reaches the registries (its CA
# bundle, proxy, index and timeout), and a PATH of the system's directories plus
# Rust's and Python's own. A test that needs a package the two commands do not
# install fails here, as it would on a fresh machine, instead of passing on what
# a developer installed by hand.
#
# Environment: FRESH_DEV_TIMEOUT (seconds for `make dev` to build and answer,
# default 1200), KEEP_FRESH_CLONE=1 keeps the clone for a look afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/todo-fresh.XXXXXX")"
dev_pid=""
receiver_pid=""
cleanup() {
  if [[ -n $receiver_pid ]]; then kill "$receiver_pid" 2>/dev/null || true; fi
  # make dev runs in a session of its own: end all of it (make, cargo, the host).
  if [[ -n $dev_pid ]]; then kill -- "-$dev_pid" 2>/dev/null || true; fi
  if [[ ${KEEP_FRESH_CLONE:-} == 1 ]]; then
    echo "fresh-clone-check: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

fail() {
  echo "fresh-clone-check: $*" >&2
  for log in "$work"/*.log; do
    if [[ -f $log ]]; then
      echo "--- $log (last 40 lines)" >&2
      tail -n 40 "$log" >&2
    fi
  done
  exit 1
}

echo "== A throw-away clone in $work/todo"
git clone --quiet "$root" "$work/todo"
# What is not committed yet: changes to tracked files, and new files git does not ignore.
if ! git -C "$root" diff --quiet HEAD; then
  git -C "$root" diff --binary HEAD | git -C "$work/todo" apply --whitespace=nowarn
fi
(cd "$root" && git ls-files -z --others --exclude-standard | xargs -0 -r cp --parents -t "$work/todo")
mkdir "$work/home"

python_dir="$(dirname "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')")"
cargo_dir="$(dirname "$(command -v cargo)")"
clean=(env -i
  HOME="$work/home"
  PATH="$cargo_dir:$python_dir:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
  CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
  RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  PYTHONNOUSERSITE=1
  LANG=C.UTF-8
  TERM=dumb
  CI="${CI:-}"
  CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
  ${TEST_DATABASE_URL:+TEST_DATABASE_URL="$TEST_DATABASE_URL"})
# How this machine reaches the package registries: trust and routing, not packages.
for var in SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE PIP_CERT PIP_INDEX_URL \
  PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_DEFAULT_TIMEOUT CARGO_HTTP_CAINFO \
  NODE_EXTRA_CA_CERTS NPM_CONFIG_REGISTRY npm_config_registry \
  HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [[ -n ${!var:-} ]]; then clean+=("$var=${!var}"); fi
done
"${clean[@]}" python3 -c 'import site, sys; assert not site.ENABLE_USER_SITE, "the user site is hidden"'

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
hook_port="$(free_port)"
api="http://127.0.0.1:$port"
# A secret of the caller's: make dev must keep it, so a token signed with it works.
secret="fresh-clone-check-$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')"

echo "== make dev (on $api)"
(cd "$work/todo" && exec setsid "${clean[@]}" PORT="$port" JWT_SECRET="$secret" make dev >"$work/dev.log" 2>&1) &
dev_pid=$!
deadline=$((SECONDS + ${FRESH_DEV_TIMEOUT:-1200}))
until curl -sf "$api/readyz" >/dev/null 2>&1; do
  kill -0 "$dev_pid" 2>/dev/null || fail "make dev exited before it answered"
  ((SECONDS < deadline)) || fail "make dev did not answer within ${FRESH_DEV_TIMEOUT:-1200} s"
  sleep 2
done
grep -q "JWT_SECRET: yours" "$work/dev.log" || fail "make dev did not say it keeps the caller's JWT_SECRET"
token="$(sed -n 's/^ *export TOKEN=//p' "$work/dev.log" | head -n 1)"
[[ -n $token ]] || fail "make dev printed no token"
# The printed token is signed with the caller's secret: check that independently.
"${clean[@]}" python3 - "$token" "$secret" <<'PY' || fail "the printed token is not signed with the caller's JWT_SECRET"
import base64, hashlib, hmac, sys
token, secret = sys.argv[1], sys.argv[2]
head, body, sig = token.split(".")
mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
assert base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == sig
PY

echo "== The walkthrough of the book's Getting started"
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
registered="$(curl -sf -X POST "$api/v1/webhooks" "${auth[@]}" -d "{\"url\":\"http://127.0.0.1:$hook_port/hook\"}")" ||
  fail "registering the webhook failed"
hook_secret="$(printf %s "$registered" | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')"
(cd "$work/todo" && exec "${clean[@]}" WEBHOOK_SECRET="$hook_secret" python3 scripts/webhook-receiver.py "$hook_port" >"$work/receiver.log" 2>&1) &
receiver_pid=$!
until grep -q "listening on" "$work/receiver.log" 2>/dev/null; do
  kill -0 "$receiver_pid" 2>/dev/null || fail "the webhook receiver exited"
  sleep 0.2
done
due="$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)"
curl -sf -X POST "$api/v1/tasks" "${auth[@]}" \
  -d "{\"title\":\"Stretch\",\"due_at\":\"$due\",\"remind_before_minutes\":0}" >/dev/null || fail "creating the task failed"

# The task.created webhook at once, the task.due one when the reminder fires:
# both checked by the reference implementation. Bounded: 60 s.
deadline=$((SECONDS + 60))
until (($(grep -c "signature: valid" "$work/receiver.log") >= 2)); do
  ((SECONDS < deadline)) || fail "the two webhooks did not arrive with valid signatures within 60 s"
  sleep 0.5
done
if grep -q "signature: INVALID\|NOT checked" "$work/receiver.log"; then
  fail "a signature was not checked or did not verify"
fi
# Each answer is read whole before it is searched: `grep -q` stops at the
# first match, and under pipefail the curl it cut off would fail the check.
notifications="$(curl -sf "$api/v1/notifications" "${auth[@]}")" || fail "reading the notifications failed"
grep -q '"Stretch"' <<<"$notifications" || fail "the reminder's notification is missing"
echo "make dev: the walkthrough's webhooks arrived signed and verified, and the reminder fired"

# The MCP set-up of the book's AI assistants chapter: a personal access token, then a tool list at /mcp with it.
pat="$(curl -sf -X POST "$api/v1/tokens" "${auth[@]}" -d '{"name":"assistant","scopes":["tasks:read"]}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')" || fail "making a personal access token failed"
tools="$(curl -sf -X POST "$api/mcp" -H "Authorization: Bearer $pat" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')" || fail "listing the MCP tools failed"
grep -q '"create_task"' <<<"$tools" ||
  fail "make dev does not serve the MCP tools at /mcp"
echo "make dev: the MCP server lists its tools at /mcp for a personal access token"

# The web app at /, under its strict policy.
page="$(curl -sfi "$api/")" || fail "make dev does not serve the web app at /"
grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" <<<"$page" ||
  fail "make dev does not serve the web app at / with its Content-Security-Policy"
echo "make dev: the web app is served at / with its Content-Security-Policy"

kill "$receiver_pid" 2>/dev/null || true
receiver_pid=""
kill -- "-$dev_pid" 2>/dev/null || true
wait "$dev_pid" 2>/dev/null || true
dev_pid=""

echo "== make test"
cd "$work/todo"
"${clean[@]}" make test
