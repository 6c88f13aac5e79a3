# shellcheck shell=bash
# Sourced by scripts/dev.sh after the build: exports VAPID_PRIVATE_KEY, the
# key Web Push messages are signed with. A VAPID_PRIVATE_KEY the caller set is
# kept; otherwise the checkout's own, kept in data/dev-vapid-key (data/ is
# ignored by git) and made the first time by target/debug/vapid-key, so that
# browsers subscribed once stay subscribed across restarts. Never printed.
if [[ -n ${VAPID_PRIVATE_KEY:-} ]]; then
  echo "VAPID_PRIVATE_KEY: yours, from the environment" >&2
else
  mkdir -p data
  vapid_file=data/dev-vapid-key
  if [[ ! -s $vapid_file ]]; then
    (umask 077 && target/debug/vapid-key > "$vapid_file" 2>/dev/null)
  fi
  VAPID_PRIVATE_KEY="$(cat "$vapid_file")"
  echo "VAPID_PRIVATE_KEY: this checkout's development key ($vapid_file)" >&2
fi
export VAPID_PRIVATE_KEY
