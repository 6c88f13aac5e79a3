#!/usr/bin/env bash
# Deploys the system to DigitalOcean Kubernetes (docs/deploy-doks.md walks through it).
#
# usage: scripts/deploy-doks.sh STEP...      steps, in order (or `all`):
#   cluster   create the DOKS cluster and the container registry (if missing); kubeconfig
#   platform  install Dapr and KEDA from their Helm charts, at pinned versions
#   topics    create the Redpanda Cloud topics (and dead-letter topics) and ACLs (rpk)
#   images    build and push one image per function; records their digests
#   secrets   create or update the Secrets (scripts/create-secrets.sh)
#   deploy    run the migration Job, then apply the doks overlay pinned to the digests
#   verify    create a task through the API and wait for task-created's activity entry
#
# Settings (environment): CLUSTER (todo), REGION (fra1), NODE_SIZE (s-2vcpu-4gb),
# REGISTRY (todo), TAG (git commit), for `deploy` MCP_PUBLIC_URL (the MCP server's
# public origin, https://…), and for `topics`/`secrets` the variables of
# scripts/create-secrets.sh. Needs doctl, kubectl, helm, docker and rpk.
# Never run by CI: it needs a DigitalOcean account and a Redpanda Cloud cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${CLUSTER:-todo}"
REGION="${REGION:-fra1}"
NODE_SIZE="${NODE_SIZE:-s-2vcpu-4gb}"
REGISTRY="${REGISTRY:-todo}"
TAG="${TAG:-$(git rev-parse --short=12 HEAD)}"
NAMESPACE=todo
# Pinned: the versions whose CRDs manifests/schemas validates against.
DAPR_VERSION=1.18.3
KEDA_VERSION=2.20.2
FUNCTIONS=(api mcp task-created task-changed task-completed task-due list-members cron-tick)
TOPICS=(task-created task-updated task-completed task-deleted task-due)
PARTITIONS=6
WORK=target/deploy-doks

need() {
  for tool; do
    command -v "$tool" >/dev/null 2>&1 || { echo "deploy-doks: $tool is not installed" >&2; exit 1; }
  done
}

step_cluster() {
  need doctl kubectl
  if ! doctl kubernetes cluster get "$CLUSTER" >/dev/null 2>&1; then
    doctl kubernetes cluster create "$CLUSTER" --region "$REGION" --wait \
      --node-pool "name=pool;size=$NODE_SIZE;auto-scale=true;min-nodes=2;max-nodes=5"
  fi
  doctl registry get >/dev/null 2>&1 || doctl registry create "$REGISTRY" --region "$REGION"
  doctl kubernetes cluster registry add "$CLUSTER"
  doctl kubernetes cluster kubeconfig save "$CLUSTER"
}

step_platform() {
  need helm kubectl
  helm repo add dapr https://dapr.github.io/helm-charts/ --force-update
  helm repo add kedacore https://kedacore.github.io/charts --force-update
  helm upgrade --install dapr dapr/dapr --version "$DAPR_VERSION" \
    --namespace dapr-system --create-namespace --set global.ha.enabled=true --wait
  helm upgrade --install keda kedacore/keda --version "$KEDA_VERSION" \
    --namespace keda --create-namespace --wait
}

step_topics() {
  need rpk
  local auth=(-X "brokers=$REDPANDA_BROKERS" -X tls.enabled=true -X sasl.mechanism=SCRAM-SHA-256
    -X "user=${RPK_ADMIN_USER:?set RPK_ADMIN_USER}" -X "pass=${RPK_ADMIN_PASSWORD:?set RPK_ADMIN_PASSWORD}")
  # Seven days: well inside the 30 days for which the functions remember the
  # event ids they processed (cron-tick's retention), so no redelivery can
  # outlive its duplicate check.
  for topic in "${TOPICS[@]}"; do
    rpk topic create "$topic" "$topic-dlq" -p "$PARTITIONS" -c retention.ms=604800000 "${auth[@]}" || true
  done
  # The functions' user may use the task topics and consume in the functions' groups.
  rpk security acl create "${auth[@]}" --allow-principal "User:$REDPANDA_USERNAME" \
    --operation read,write,describe --topic task- --resource-pattern-type prefixed
  rpk security acl create "${auth[@]}" --allow-principal "User:$REDPANDA_USERNAME" \
    --operation read,describe --group task- --resource-pattern-type prefixed
  rpk security acl create "${auth[@]}" --allow-principal "User:$REDPANDA_USERNAME" \
    --operation read,describe --group api --group mcp --group cron-tick
}

step_images() {
  need docker doctl
  doctl registry login
  mkdir -p "$WORK"
  : > "$WORK/images.txt"
  for fn in "${FUNCTIONS[@]}"; do
    local image="registry.digitalocean.com/$REGISTRY/$fn"
    docker build --build-arg "FUNCTION=$fn" -t "$image:$TAG" .
    docker push "$image:$TAG"
    echo "$fn $(docker inspect --format '{{index .RepoDigests 0}}' "$image:$TAG")" >> "$WORK/images.txt"
  done
}

step_secrets() {
  scripts/create-secrets.sh "$NAMESPACE"
}

# The doks overlay with every image pinned to the digest `images` pushed, and the
# MCP server told its public origin.
render() {
  [[ -s $WORK/images.txt ]] || { echo "deploy-doks: run the images step first" >&2; exit 1; }
  : "${MCP_PUBLIC_URL:?set MCP_PUBLIC_URL to the public origin of the MCP server, https://…}"
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [../../manifests/overlays/doks]"
    echo "images:"
    while read -r fn ref; do
      echo "  - {name: registry.digitalocean.com/todo/$fn, newName: ${ref%@*}, digest: ${ref#*@}}"
    done < "$WORK/images.txt"
    echo "patches:"
    echo "  - patch: |-"
    echo "      {apiVersion: apps/v1, kind: Deployment, metadata: {name: mcp}, spec: {template: {spec: {containers:"
    echo "        [{name: function, env: [{name: MCP_PUBLIC_URL, value: \"$MCP_PUBLIC_URL\"}]}]}}}}"
  } > "$WORK/kustomization.yaml"
  kubectl kustomize "$WORK" > "$WORK/rendered.yaml"
}

step_deploy() {
  need kubectl
  render
  kubectl delete job migrate --namespace "$NAMESPACE" --ignore-not-found
  kubectl apply -f "$WORK/rendered.yaml" --selector 'app.kubernetes.io/name in (todo,todo-function,migrate)'
  kubectl wait --namespace "$NAMESPACE" --for=condition=complete job/migrate --timeout=10m
  kubectl apply -f "$WORK/rendered.yaml"
  for fn in api mcp cron-tick; do
    kubectl rollout status --namespace "$NAMESPACE" "deployment/$fn" --timeout=5m
  done
}

step_verify() {
  need kubectl curl
  : "${JWT_SECRET:?set JWT_SECRET to mint a token for the check}"
  cargo build --quiet -p api --bin dev-token
  local token port=18080 base
  token="$(JWT_SECRET="$JWT_SECRET" target/debug/dev-token deploy-check 1)"
  kubectl port-forward --namespace "$NAMESPACE" service/api "$port:80" >/dev/null &
  trap 'kill %1' RETURN
  sleep 3
  base="http://127.0.0.1:$port"
  curl -fsS -X POST "$base/v1/tasks" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"title":"deploy check"}' >/dev/null
  # api -> outbox -> Dapr -> Redpanda -> task-created (scaled from zero by KEDA) -> activity
  for _ in $(seq 1 60); do
    if curl -fsS "$base/v1/activity" -H "Authorization: Bearer $token" | grep -q '"task.created"'; then
      echo "deploy-doks: the event flow works (task.created reached task-created)"
      return 0
    fi
    sleep 5
  done
  echo "deploy-doks: no activity after 5 minutes; see docs/deploy-doks.md, Troubleshooting" >&2
  return 1
}

(($#)) || { sed -n '2,17p' "$0"; exit 1; }
steps=("$@")
[[ ${steps[0]} == all ]] && steps=(cluster platform topics images secrets deploy verify)
for step in "${steps[@]}"; do
  case "$step" in
    cluster | platform | topics | images | secrets | deploy | verify) "step_$step" ;;
    *) echo "deploy-doks: unknown step '$step'" >&2; exit 1 ;;
  esac
done
