# shellcheck shell=bash
# Sourced by the dev scripts: exports JWT_SECRET. A JWT_SECRET the caller set is
# kept, so tokens signed with it are accepted; otherwise the checkout's own
# random development secret, kept in data/dev-jwt-secret (data/ is ignored by
# git) and made the first time. Says which one it uses, never the secret itself.
if [[ -n ${JWT_SECRET:-} ]]; then
  echo "JWT_SECRET: yours, from the environment" >&2
else
  mkdir -p data
  secret_file=data/dev-jwt-secret
  if [[ ! -s $secret_file ]]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$secret_file")
  fi
  JWT_SECRET="$(cat "$secret_file")"
  echo "JWT_SECRET: this checkout's development secret ($secret_file)" >&2
  # With its own secret, the local host offers the web app's one-click sign-in.
  export DEV_SIGN_IN=true
fi
export JWT_SECRET
