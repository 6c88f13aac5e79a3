# shellcheck shell=bash
# Sourced by the dev scripts: exports JWT_SECRET, a random development secret
# kept per checkout in data/dev-jwt-secret (data/ is ignored by git).
mkdir -p data
secret_file=data/dev-jwt-secret
if [[ ! -s $secret_file ]]; then
  (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$secret_file")
fi
JWT_SECRET="$(cat "$secret_file")"
export JWT_SECRET
