#!/usr/bin/env python3
"""Offline validation of the Dapr resources and Kubernetes manifests.

usage: scripts/validate-deploy.py --facts FACTS.json [--root DIR] [--no-checkov]
       (--no-checkov skips the linters, checkov and shellcheck)

FACTS.json is what the code says (`deploy-facts`, a binary of functions/local):
each function's name, trigger and topics, the topics published, the pub/sub
name, port and routes. For each Kubernetes overlay (rendered with
`kubectl kustomize`) and for the self-hosted Dapr set-up (dapr.yaml with
components/common and components/local), this checks:

- every object against its schema: Kubernetes kinds with kubernetes-validate
  (strict), Dapr and KEDA kinds against manifests/schemas/crd-jsonschema, Dapr
  component metadata against the component's published metadata spec;
- that app ids, ports, topics, consumer groups and routes agree across
  Subscription, ScaledObject, Deployment, dapr.yaml and the code, and that every
  topic the code publishes has a subscriber and a dead-letter topic;
- that the production pub/sub uses SASL/SCRAM-SHA-256 over TLS with brokers and
  credentials from a Secret that KEDA reads too, and that no credential is
  written literally anywhere;
- checkov on each rendered overlay and on the Dockerfile, with no failed check
  (skips are justified in place: checkov.io/skip annotations, checkov:skip comments);
- shellcheck on the shell scripts that create Secrets and deploy.

Every problem is printed with the places that disagree; the exit status is 1 if
there was any.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.34"
OVERLAYS = ("local", "doks")
GENERIC_BINDING_METADATA = {"route", "direction"}
# An event as large as a task allows (a 10,000-character description, escaped)
# is under this; a bulk delivery must fit the function's body limit.
MAX_EVENT_BYTES = 64 * 1024
# The bulk size and wait the subscriptions must use (measured: see
# components/common/subscriptions.yaml).
BULK_MAX_MESSAGES = 100
SECRET_NAME = re.compile(r"(secret|token|password|passwd|credential|database_url|redis_url|smtp_url|vapid_private_key)", re.IGNORECASE)


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"[{where}] {message}")


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


class Sources:
    """Which file under components/ and manifests/ each object comes from."""

    def __init__(self, root):
        self.root = root
        self.files = {}
        for folder in ("components", "manifests"):
            for path in sorted((root / folder).rglob("*.yaml")):
                if "schemas" in path.parts:
                    continue
                for doc in load_yaml_docs(path):
                    if isinstance(doc, dict) and "kind" in doc and "metadata" in doc:
                        key = (doc["kind"], doc["metadata"].get("name"))
                        self.files.setdefault(key, []).append(str(path.relative_to(root)))

    def of(self, kind, name):
        files = [f for f in self.files.get((kind, name), []) if "function-defaults" not in f]
        return f"{kind} {name} ({', '.join(files) or 'no source file'})"


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def metadata_map(component):
    return {m.get("name"): m for m in component.get("spec", {}).get("metadata", []) or []}


def annotation(deployment, key):
    return deployment["spec"]["template"]["metadata"].get("annotations", {}).get(key)


def container(deployment):
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next((c for c in containers if c["name"] == "function"), containers[0])


def env_of(c):
    return {e["name"]: e for e in c.get("env", []) or []}


# ---------------------------------------------------------------- schemas


class Schemas:
    def __init__(self, root):
        self.crds = root / "manifests" / "schemas" / "crd-jsonschema"
        self.metadata = root / "manifests" / "schemas" / "dapr-component-metadata"

    def validate(self, doc, where, problems):
        group, _, version = doc.get("apiVersion", "").rpartition("/")
        kind = doc.get("kind", "?")
        name = doc.get("metadata", {}).get("name", "?")
        if group in ("dapr.io", "keda.sh"):
            path = self.crds / group / f"{kind.lower()}_{version}.json"
            if not path.exists():
                problems.add(where, f"{kind} {name}: no schema for {group}/{version} {kind}")
                return
            schema = json.loads(path.read_text())
            body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
            for error in jsonschema.Draft202012Validator(schema).iter_errors(body):
                problems.add(where, f"{kind} {name}: {'/'.join(map(str, error.path))}: {error.message}")
            if kind == "Component":
                self.component_metadata(doc, where, problems)
            return
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.add(where, f"{kind} {name}: {'/'.join(map(str, e.path))}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.add(where, f"{kind} {name}: no Kubernetes {KUBERNETES_VERSION} schema for {doc.get('apiVersion')}")

    def component_metadata(self, doc, where, problems):
        ty = doc["spec"]["type"]
        spec_file = self.metadata / f"{ty}.metadata.yaml"
        if not spec_file.exists():
            problems.add(where, f"Component {doc['metadata']['name']}: no metadata spec for {ty}")
            return
        spec = yaml.safe_load(spec_file.read_text())
        known = {m["name"]: m for m in spec.get("metadata", [])}
        for profile in spec.get("authenticationProfiles", []) + spec.get("builtinAuthenticationProfiles", []):
            for m in profile.get("metadata", []):
                known.setdefault(m["name"], {"name": m["name"], "allowedValues": []})
                allowed = known[m["name"]].setdefault("allowedValues", [])
                allowed.extend(v for v in m.get("allowedValues", []) if v not in allowed)
        if ty.startswith("bindings."):
            known.update({n: {"name": n} for n in GENERIC_BINDING_METADATA})
        for m in spec.get("metadata", []):
            if m.get("required") and m["name"] not in metadata_map(doc):
                problems.add(where, f"Component {doc['metadata']['name']}: required metadata {m['name']} missing")
        for name, item in metadata_map(doc).items():
            if name not in known:
                problems.add(where, f"Component {doc['metadata']['name']}: unknown {ty} metadata '{name}'")
                continue
            allowed = known[name].get("allowedValues") or []
            if allowed and "value" in item and str(item["value"]) not in map(str, allowed):
                problems.add(where, f"Component {doc['metadata']['name']}: {name} '{item['value']}' is not one of {allowed}")


# ---------------------------------------------------------------- agreement


def check_subscriptions(docs, facts, src, where, problems):
    """Each consumer's topics are delivered to it, at its route, with a dead-letter topic."""
    subs = by_kind(docs, "Subscription")
    consumers = {f["name"]: f for f in facts["functions"] if f["trigger"] == "events"}
    code = "the code (deploy-facts)"
    delivered = {}
    for name, sub in subs.items():
        spec = sub["spec"]
        topic, scopes = spec.get("topic"), sub.get("scopes") or []
        here = src.of("Subscription", name)
        if spec.get("pubsubname") != facts["pubsub"]:
            problems.add(where, f"{here} uses pub/sub '{spec.get('pubsubname')}', {code} publishes through '{facts['pubsub']}'")
        if (spec.get("routes") or {}).get("default") != facts["event_route"]:
            problems.add(where, f"{here} delivers to route '{(spec.get('routes') or {}).get('default')}', {code} serves events at '{facts['event_route']}'")
        if spec.get("deadLetterTopic") != f"{topic}-dlq":
            problems.add(where, f"{here} dead-letters to '{spec.get('deadLetterTopic')}', expected '{topic}-dlq'")
        if len(scopes) != 1:
            problems.add(where, f"{here} must be scoped to exactly one function, not {scopes}")
            continue
        app = scopes[0]
        if app not in consumers:
            problems.add(where, f"{here} is scoped to '{app}', which {code} has no consumer function of that name")
            continue
        if topic not in consumers[app]["topics"]:
            problems.add(where, f"{here} delivers topic '{topic}' to {app}, but {code} says {app} consumes {consumers[app]['topics']}")
        bulk = spec.get("bulkSubscribe") or {}
        if bulk.get("enabled") is not True:
            problems.add(where, f"{here} must enable bulkSubscribe (a batch per request: DESIGN.md, Batches)")
        elif bulk.get("maxMessagesCount") != BULK_MAX_MESSAGES or not 0 < int(bulk.get("maxAwaitDurationMs", 0)) <= 1000:
            problems.add(where, f"{here}: bulkSubscribe needs maxMessagesCount {BULK_MAX_MESSAGES} and a maxAwaitDurationMs of at most 1000 (a reminder's budget is a second)")
        delivered.setdefault(topic, []).append(app)
    for name, f in consumers.items():
        for topic in f["topics"]:
            if topic not in delivered:
                problems.add(where, f"{code} says {name} consumes '{topic}', but no Subscription delivers it (components/common/subscriptions.yaml)")
    for topic in facts["published_topics"]:
        if topic not in delivered:
            problems.add(where, f"{code} publishes to '{topic}', but no Subscription consumes it (components/common/subscriptions.yaml)")
        elif len(delivered[topic]) > 1:
            problems.add(where, f"topic '{topic}' is delivered to several functions {delivered[topic]}")


def check_pubsub(docs, facts, src, where, problems):
    comps = by_kind(docs, "Component")
    pubsub = comps.get(facts["pubsub"])
    if pubsub is None:
        problems.add(where, f"no pub/sub Component named '{facts['pubsub']}', which the code publishes through")
        return None
    here = src.of("Component", facts["pubsub"])
    meta = metadata_map(pubsub)
    if pubsub["spec"].get("type") != "pubsub.kafka":
        problems.add(where, f"{here} is {pubsub['spec'].get('type')}, not pubsub.kafka")
    if (meta.get("consumerGroup") or {}).get("value") != "{appID}":
        problems.add(where, f"{here}: consumerGroup must be \"{{appID}}\" (each function its own group, the one KEDA watches)")
    if (meta.get("initialOffset") or {}).get("value") != "oldest":
        problems.add(where, f"{here}: initialOffset must be 'oldest' so that a group scaled from zero skips nothing")
    names = {f["name"] for f in facts["functions"]}
    missing = names - set(pubsub.get("scopes") or names)
    if missing:
        problems.add(where, f"{here} is not scoped to {sorted(missing)}, functions the code has")
    for key, item in meta.items():
        if SECRET_NAME.search(key) and "value" in item:
            problems.add(where, f"{here}: {key} is written literally; take it from a Secret (secretKeyRef)")
    crons = [c for c in comps.values() if c["spec"].get("type") == "bindings.cron"]
    cron_fns = [f["name"] for f in facts["functions"] if f["trigger"] == "cron"]
    for c in crons:
        chere = src.of("Component", c["metadata"]["name"])
        if sorted(c.get("scopes") or []) != sorted(cron_fns):
            problems.add(where, f"{chere} is scoped to {c.get('scopes')}, but the code's cron functions are {cron_fns}")
        route = (metadata_map(c).get("route") or {}).get("value")
        if route != facts["cron_route"]:
            problems.add(where, f"{chere} posts to route '{route}', the code (cron-tick) answers at '{facts['cron_route']}'")
    if cron_fns and not crons:
        problems.add(where, f"no cron binding Component, but the code's {cron_fns} is ticked by one")
    return pubsub


def check_production_pubsub(docs, pubsub, src, where, problems):
    here = src.of("Component", pubsub["metadata"]["name"])
    meta = metadata_map(pubsub)
    expect = {"authType": "password", "saslMechanism": "SHA-256"}
    for key, value in expect.items():
        if (meta.get(key) or {}).get("value") != value:
            problems.add(where, f"{here}: {key} must be '{value}' (got {(meta.get(key) or {}).get('value')!r})")
    if str((meta.get("disableTls") or {}).get("value", "false")).lower() == "true":
        problems.add(where, f"{here}: TLS must stay on in production")
    secrets = set()
    for key in ("brokers", "saslUsername", "saslPassword"):
        ref = (meta.get(key) or {}).get("secretKeyRef")
        if not ref:
            problems.add(where, f"{here}: {key} must come from a Secret through secretKeyRef")
        else:
            secrets.add(ref["name"])
    if (pubsub.get("auth") or {}).get("secretStore") != "kubernetes":
        problems.add(where, f"{here}: auth.secretStore must be 'kubernetes' for secretKeyRef")
    for name, ta in by_kind(docs, "TriggerAuthentication").items():
        there = src.of("TriggerAuthentication", name)
        refs = {r["parameter"]: r["name"] for r in ta["spec"].get("secretTargetRef", [])}
        for parameter in ("username", "password"):
            if refs.get(parameter) not in secrets:
                problems.add(where, f"{there} reads {parameter} from Secret {refs.get(parameter)!r}, but {here} reads {sorted(secrets)}")
        config = {r["parameter"]: (r["name"], r["key"]) for r in ta["spec"].get("configMapTargetRef", [])}
        maps = by_kind(docs, "ConfigMap")
        values = {p: (maps.get(n) or {}).get("data", {}).get(k) for p, (n, k) in config.items()}
        if values.get("sasl") != "scram_sha256" or values.get("tls") != "enable":
            problems.add(where, f"{there} must authenticate with sasl scram_sha256 over tls enable (got {values})")


def check_deployments(docs, facts, src, where, problems):
    deployments = by_kind(docs, "Deployment")
    scaled = by_kind(docs, "ScaledObject")
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    auths = by_kind(docs, "TriggerAuthentication")
    configs = by_kind(docs, "Configuration")
    names = {f["name"] for f in facts["functions"]}
    for name in sorted(set(deployments) - names):
        problems.add(where, f"{src.of('Deployment', name)} is not a function the code has ({sorted(names)})")
    for f in facts["functions"]:
        name = f["name"]
        d = deployments.get(name)
        if d is None:
            problems.add(where, f"the code has function '{name}', but there is no Deployment of that name (manifests/base)")
            continue
        here = src.of("Deployment", name)
        c = container(d)
        env = env_of(c)
        if annotation(d, "dapr.io/app-id") != name:
            problems.add(where, f"{here}: dapr.io/app-id is '{annotation(d, 'dapr.io/app-id')}', the code's function is '{name}'")
        port = str((env.get("PORT") or {}).get("value", facts["port"]))
        ports = {p.get("name"): str(p["containerPort"]) for p in c.get("ports", [])}
        if annotation(d, "dapr.io/app-port") != port or ports.get("http") != port:
            problems.add(where, f"{here}: dapr.io/app-port {annotation(d, 'dapr.io/app-port')}, containerPort {ports.get('http')} and PORT {port} must agree")
        if annotation(d, "dapr.io/config") not in configs:
            problems.add(where, f"{here}: dapr.io/config names '{annotation(d, 'dapr.io/config')}', no such Configuration")
        for key in ("dapr.io/app-token-secret", "dapr.io/api-token-secret"):
            if not annotation(d, key):
                problems.add(where, f"{here}: {key} must be set (DESIGN.md: tokens both ways)")
        grace = int(d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30))
        sidecar = int(annotation(d, "dapr.io/graceful-shutdown-seconds") or 5)
        app = int((env.get("SHUTDOWN_GRACE_SECS") or {}).get("value", 20))
        if not app < sidecar < grace:
            problems.add(where, f"{here}: shutdown must nest: SHUTDOWN_GRACE_SECS {app} < dapr.io/graceful-shutdown-seconds {sidecar} < terminationGracePeriodSeconds {grace}")
        for var, item in env.items():
            if SECRET_NAME.search(var) and "value" in item:
                problems.add(where, f"{here}: {var} is written literally; take it from a Secret")
        so = scaled.get(name)
        if f["trigger"] == "events":
            check_scaled_object(so, d, f, src, auths, where, problems)
            limit = int((env.get("BODY_LIMIT_BYTES") or {}).get("value", facts.get("body_limit_bytes", 262144)))
            if limit < BULK_MAX_MESSAGES * MAX_EVENT_BYTES:
                problems.add(where, f"{here}: BODY_LIMIT_BYTES {limit} cannot take a bulk delivery of {BULK_MAX_MESSAGES} events of up to {MAX_EVENT_BYTES} bytes")
        elif so is not None:
            problems.add(where, f"{src.of('ScaledObject', name)} scales {name}, which the code triggers by {f['trigger']}, not by a topic")
        if f["trigger"] == "cron" and (d["spec"].get("replicas") != 1 or name in hpas):
            problems.add(where, f"{here}: a cron-triggered function runs exactly one replica (replicas: 1, no autoscaler)")
        if f["trigger"] == "http":
            hpa = hpas.get(name)
            if hpa is None or hpa["spec"].get("minReplicas", 1) < 2 or hpa["spec"]["scaleTargetRef"]["name"] != name:
                problems.add(where, f"{here}: the HTTP function is autoscaled with at least two replicas (HorizontalPodAutoscaler {name})")


def check_scaled_object(so, deployment, f, src, auths, where, problems):
    name = f["name"]
    dep = src.of("Deployment", name)
    if so is None:
        problems.add(where, f"the code's consumer '{name}' has no ScaledObject (manifests/base/scaledobjects.yaml)")
        return
    here = src.of("ScaledObject", name)
    spec = so["spec"]
    if spec["scaleTargetRef"]["name"] != name:
        problems.add(where, f"{here} scales '{spec['scaleTargetRef']['name']}', not {dep}")
    if spec.get("minReplicaCount") != 0:
        problems.add(where, f"{here}: minReplicaCount must be 0 (scale to zero)")
    topics = []
    app_id = annotation(deployment, "dapr.io/app-id")
    for t in spec.get("triggers", []):
        meta = t.get("metadata", {})
        if t.get("type") != "kafka":
            problems.add(where, f"{here}: trigger type {t.get('type')}, expected kafka")
            continue
        topics.append(meta.get("topic"))
        if meta.get("consumerGroup") != app_id:
            problems.add(where, f"{here} watches consumer group '{meta.get('consumerGroup')}', but {dep} has Dapr app id '{app_id}' (the pub/sub's consumerGroup is {{appID}})")
        if meta.get("offsetResetPolicy") != "earliest":
            problems.add(where, f"{here}: offsetResetPolicy must be 'earliest' (nothing skipped from zero)")
        if not str(meta.get("lagThreshold", "")).isdigit() or int(meta["lagThreshold"]) <= 0:
            problems.add(where, f"{here}: lagThreshold must be a positive whole number")
        for key, value, why in (
            ("activationLagThreshold", "0", "any lag must wake the function from zero"),
            ("limitToPartitionsWithLag", "true", "idle partitions must not ask for replicas"),
            ("excludePersistentLag", "true", "a stuck partition must not ask for replicas that would wait behind it"),
        ):
            if str(meta.get(key)) != value:
                problems.add(where, f"{here}: {key} must be \"{value}\" ({why})")
    partitions = topic_partitions()
    if spec.get("maxReplicaCount", 100) > partitions:
        problems.add(where, f"{here}: maxReplicaCount {spec.get('maxReplicaCount')} is more than the {partitions} partitions of its topics (scripts/deploy-doks.sh); the rest would sit idle")
    grace = int(deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30))
    if int(spec.get("cooldownPeriod", 300)) <= grace:
        problems.add(where, f"{here}: cooldownPeriod {spec.get('cooldownPeriod')} must be longer than the pod's drain ({grace} s)")
    for key in ("dapr.io/enable-app-health-check", "dapr.io/app-health-check-path"):
        if not annotation(deployment, key):
            problems.add(where, f"{dep}: {key} must be set, so that the sidecar stops delivering to an app that is not healthy")
        ref = (t.get("authenticationRef") or {}).get("name")
        if ref not in auths:
            problems.add(where, f"{here}: authenticationRef '{ref}' names no TriggerAuthentication")
    if sorted(topics) != sorted(f["topics"]):
        problems.add(where, f"{here} watches topics {sorted(topics)}, but the code (deploy-facts) says {name} consumes {sorted(f['topics'])}")


def topic_partitions():
    """The partitions per topic that scripts/deploy-doks.sh (beside this script) creates."""
    script = Path(__file__).resolve().parent / "deploy-doks.sh"
    found = re.search(r"^PARTITIONS=(\d+)$", script.read_text(), re.MULTILINE)
    return int(found.group(1)) if found else 1


def check_no_secret_objects(docs, src, where, problems):
    for name in by_kind(docs, "Secret"):
        problems.add(where, f"{src.of('Secret', name)}: Secrets are created by scripts/create-secrets.sh, never committed")


def check_dapr_run_file(root, facts, where, problems):
    run = yaml.safe_load((root / "dapr.yaml").read_text())
    apps = {a["appID"]: a for a in run.get("apps", [])}
    names = {f["name"] for f in facts["functions"]}
    if set(apps) != names:
        problems.add(where, f"dapr.yaml runs {sorted(apps)}, the code's functions are {sorted(names)}")
    ports = {}
    for app_id, app in apps.items():
        port = str(app.get("appPort"))
        if str((app.get("env") or {}).get("PORT")) != port:
            problems.add(where, f"dapr.yaml: {app_id} has appPort {port} but PORT {(app.get('env') or {}).get('PORT')}")
        if app.get("command") != [f"target/debug/{app_id}"]:
            problems.add(where, f"dapr.yaml: {app_id} must run target/debug/{app_id}, not {app.get('command')}")
        ports.setdefault(port, []).append(app_id)
    for port, users in ports.items():
        if len(users) > 1:
            problems.add(where, f"dapr.yaml: port {port} is used by {users}")


# ---------------------------------------------------------------- runs


def render(root, overlay):
    result = subprocess.run(["kubectl", "kustomize", str(root / "manifests" / "overlays" / overlay)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"kubectl kustomize {overlay} failed:\n{result.stderr}")
    return result.stdout


def checkov(path, framework, label, problems):
    """checkov on one file, offline; any failed check is a problem."""
    command = ["checkov", "--quiet", "--compact", "--skip-download", "--framework", framework, "-f", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        problems.add(f"checkov {label}", result.stdout.strip() or result.stderr.strip())
    else:
        passed = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", result.stdout)
        print(f"checkov {label}: {passed.group(0) if passed else 'no failed check'}")


def checkov_rendered(rendered, overlay, problems):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{overlay}.yaml"
        path.write_text(rendered)
        checkov(path, "kubernetes", overlay, problems)


def shellcheck(root, problems):
    scripts = sorted(str(p) for p in (root / "scripts").rglob("*.sh") if p.is_file())
    scripts += [str(root / ".ci" / "run")] if (root / ".ci" / "run").exists() else []
    result = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True, check=False, cwd=root)
    if result.returncode != 0:
        problems.add("shellcheck", result.stdout.strip() or result.stderr.strip())
    else:
        print(f"shellcheck: {len(scripts)} scripts clean")


def check_vendored_schemas(root, problems):
    shared = root.parent / "shared" / "schemas"
    if not shared.exists():
        return
    ours = root / "manifests" / "schemas"
    for path in list((ours / "crd-jsonschema").rglob("*.json")) + list((ours / "dapr-component-metadata").glob("*.yaml")):
        theirs = shared / path.relative_to(ours)
        if theirs.exists() and theirs.read_bytes() != path.read_bytes():
            problems.add("schemas", f"{path.relative_to(root)} differs from {theirs}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", required=True, type=Path)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--no-checkov", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    facts = json.loads(args.facts.read_text())
    problems = Problems()
    src = Sources(root)
    schemas = Schemas(root)
    check_vendored_schemas(root, problems)

    for overlay in OVERLAYS:
        where = f"overlay {overlay}"
        rendered = render(root, overlay)
        docs = [d for d in yaml.safe_load_all(rendered) if d]
        for doc in docs:
            schemas.validate(doc, where, problems)
        check_subscriptions(docs, facts, src, where, problems)
        pubsub = check_pubsub(docs, facts, src, where, problems)
        if overlay == "doks" and pubsub is not None:
            check_production_pubsub(docs, pubsub, src, where, problems)
        check_deployments(docs, facts, src, where, problems)
        check_no_secret_objects(docs, src, where, problems)
        kinds = {}
        for d in docs:
            kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
        print(f"{where}: {len(docs)} objects: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        if not args.no_checkov:
            checkov_rendered(rendered, overlay, problems)

    where = "dapr.yaml (self-hosted)"
    docs = []
    for folder in ("common", "local"):
        for path in sorted((root / "components" / folder).glob("*.yaml")):
            docs += [d for d in load_yaml_docs(path) if d.get("kind") != "Kustomization"]
    for doc in docs:
        schemas.validate(doc, where, problems)
    check_subscriptions(docs, facts, src, where, problems)
    check_pubsub(docs, facts, src, where, problems)
    check_dapr_run_file(root, facts, where, problems)
    if not args.no_checkov:
        checkov(root / "Dockerfile", "dockerfile", "Dockerfile", problems)
        shellcheck(root, problems)

    for item in problems.items:
        print(item)
    if problems.items:
        print(f"{len(problems.items)} problem(s)")
        return 1
    print("deployment is consistent with the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
