//! The offline validation of the deployment (scripts/validate-deploy.py, with the
//! tools `make deploy-tools` installs) passes on the repository as it is, and a
//! deliberate mismatch in any one place fails it with a message naming the
//! places that disagree.

use std::path::{Path, PathBuf};
use std::process::Command;

const FACTS: &str = env!("CARGO_BIN_EXE_deploy-facts");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root")
}

fn tools() -> PathBuf {
    let bin = root().join("target/deploy-tools/bin");
    assert!(bin.join("checkov").exists(), "run `make deploy-tools` first (make test does)");
    bin
}

fn facts(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let output = Command::new(FACTS).output().expect("deploy-facts runs");
    assert!(output.status.success());
    let path = dir.join("facts.json");
    std::fs::write(&path, edit(String::from_utf8(output.stdout).expect("utf-8"))).expect("facts written");
    path
}

/// Runs the validator on `root` (checkov too when `checkov`); success and output.
fn validate(root: &Path, facts: &Path, checkov: bool) -> (bool, String) {
    let bin = tools();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new(bin.join("python"));
    command
        .arg(self::root().join("scripts/validate-deploy.py"))
        .arg("--facts")
        .arg(facts)
        .arg("--root")
        .arg(root);
    if !checkov {
        command.arg("--no-checkov");
    }
    let output = command.env("PATH", path).output().expect("the validator runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A copy of what the validator reads, with `file` edited.
fn copy_with(dir: &Path, file: &str, from: &str, to: &str) -> PathBuf {
    let copy = dir.join("repo");
    std::fs::create_dir_all(&copy).expect("copy dir");
    for part in ["components", "manifests", "dapr.yaml"] {
        let status = Command::new("cp").arg("-r").arg(root().join(part)).arg(copy.join(part)).status();
        assert!(status.is_ok_and(|s| s.success()), "copied {part}");
    }
    let path = copy.join(file);
    let text = std::fs::read_to_string(&path).expect("the file to edit");
    assert!(text.contains(from), "{file} contains {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("edited");
    copy
}

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-deploy-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn the_manifests_components_and_run_file_agree_with_the_code_and_pass_checkov() {
    let dir = temp();
    let (ok, out) = validate(&root(), &facts(&dir, |f| f), true);
    assert!(ok, "{out}");
    assert!(out.contains("deployment is consistent with the code"), "{out}");
    assert!(out.contains("checkov doks: Passed checks") && out.contains("Failed checks: 0"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_topic_renamed_in_the_subscriptions_fails_naming_the_file_and_the_code() {
    let dir = temp();
    let repo = copy_with(&dir, "components/common/subscriptions.yaml", "topic: task-due", "topic: task-dues");
    let (ok, out) = validate(&repo, &facts(&dir, |f| f), false);
    assert!(!ok, "{out}");
    let line = out.lines().find(|l| l.contains("'task-dues'")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("components/common/subscriptions.yaml") && line.contains("the code"), "{line}");
    assert!(out.contains("publishes to 'task-due', but no Subscription consumes it"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_topic_renamed_in_the_code_fails_naming_the_manifests() {
    let dir = temp();
    let renamed = facts(&dir, |f| f.replace("\"task-due\"\n", "\"task-reminder\"\n"));
    let (ok, out) = validate(&root(), &renamed, false);
    assert!(!ok, "{out}");
    assert!(
        out.lines().any(|l| l.contains("ScaledObject task-due (manifests/base/scaledobjects.yaml)")
            && l.contains("task-reminder")),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_consumer_group_that_is_not_the_app_id_fails_naming_both_manifests() {
    let dir = temp();
    let repo = copy_with(
        &dir,
        "manifests/base/scaledobjects.yaml",
        "consumerGroup: task-due",
        "consumerGroup: reminders",
    );
    let (ok, out) = validate(&repo, &facts(&dir, |f| f), false);
    assert!(!ok, "{out}");
    let line = out.lines().find(|l| l.contains("'reminders'")).unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("manifests/base/scaledobjects.yaml") && line.contains("manifests/base/task-due.yaml"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_literal_credential_or_a_weaker_mechanism_is_refused() {
    let dir = temp();
    let literal = "      value: \"hunter2-not-a-real-password\"\n";
    let repo = copy_with(
        &dir,
        "components/production/pubsub.yaml",
        "      secretKeyRef:\n        name: redpanda\n        key: password\n",
        literal,
    );
    let (ok, out) = validate(&repo, &facts(&dir, |f| f), false);
    assert!(!ok, "{out}");
    assert!(out.contains("saslPassword is written literally"), "{out}");
    assert!(out.contains("saslPassword must come from a Secret"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);

    let dir = temp();
    let repo = copy_with(
        &dir,
        "components/production/pubsub.yaml",
        "value: \"SHA-256\"",
        "value: \"SCRAM-SHA-256\"",
    );
    let (ok, out) = validate(&repo, &facts(&dir, |f| f), false);
    assert!(!ok && out.contains("saslMechanism"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `kubectl` for create-secrets.sh: the real one renders each Secret
/// (`create --dry-run=client`, no cluster involved); `apply`, which would need a
/// cluster, appends what it is given to a file instead. Every argument is logged.
fn kubectl_recorder(dir: &Path) -> PathBuf {
    let shim = dir.join("bin");
    std::fs::create_dir_all(&shim).expect("shim dir");
    let script = format!(
        "#!/usr/bin/env bash\necho \"$*\" >> {log}\nif [[ $1 == apply ]]; then cat >> {applied}; echo --- >> {applied}; exit 0; fi\nexec {real} \"$@\"\n",
        log = dir.join("args.log").display(),
        applied = dir.join("applied.yaml").display(),
        real = tools().join("kubectl").display(),
    );
    let path = shim.join("kubectl");
    std::fs::write(&path, script).expect("shim written");
    let status = Command::new("chmod").arg("+x").arg(&path).status();
    assert!(status.is_ok_and(|s| s.success()));
    shim
}

#[test]
fn create_secrets_builds_every_secret_from_the_environment_without_exposing_a_value() {
    let dir = temp();
    let shim = kubectl_recorder(&dir);
    let path = format!("{}:{}", shim.display(), std::env::var("PATH").unwrap_or_default());
    let password = "pw-never-on-a-command-line";
    let output = Command::new(root().join("scripts/create-secrets.sh"))
        .arg("todo")
        .env("PATH", &path)
        .env("REDPANDA_BROKERS", "seed-1.redpanda.example:9092")
        .env("REDPANDA_USERNAME", "todo-functions")
        .env("REDPANDA_PASSWORD", password)
        .env("DATABASE_URL", "postgres://todo:db-password@db.example:25060/todo")
        .env("JWT_SECRET", "a-jwt-secret-of-at-least-thirty-two-bytes")
        .env("REDIS_URL", "rediss://default:redis-password@redis.example:25061")
        .env("VAPID_PRIVATE_KEY", "vapid-private-key-value")
        .env_remove("APP_API_TOKEN")
        .env_remove("DAPR_API_TOKEN")
        .output()
        .expect("create-secrets runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(!stdout.contains(password), "no value is printed");

    let applied = std::fs::read_to_string(dir.join("applied.yaml")).expect("applied");
    let args = std::fs::read_to_string(dir.join("args.log")).expect("args");
    assert!(
        !args.contains(password)
            && !args.contains("db-password")
            && !args.contains("redis-password")
            && !args.contains("vapid-private-key-value"),
        "no value in any argument: {args}"
    );
    assert!(!stdout.contains("redis-password"), "no value is printed");
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(password);
    assert!(applied.contains(&format!("password: {encoded}")), "{applied}");
    for (name, keys) in [
        ("redpanda", &["brokers", "username", "password"][..]),
        ("todo-database", &["url"]),
        ("todo-jwt", &["secret"]),
        ("todo-app-api-token", &["token"]),
        ("todo-dapr-api-token", &["token"]),
        ("todo-redis", &["url"]),
        ("todo-vapid", &["private-key"]),
    ] {
        let doc = applied
            .split("---")
            .find(|d| d.contains("kind: Secret") && d.contains(&format!("  name: {name}\n")))
            .unwrap_or_else(|| panic!("Secret {name} in {applied}"));
        assert!(doc.contains("namespace: todo"), "{doc}");
        for key in keys {
            assert!(doc.contains(&format!("  {key}: ")), "{name} has {key}: {doc}");
        }
    }

    // Without its inputs it refuses, naming what is missing, and applies nothing more.
    let before = applied.len();
    let output = Command::new(root().join("scripts/create-secrets.sh"))
        .env_clear()
        .env("PATH", &path)
        .output()
        .expect("create-secrets runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("set REDPANDA_BROKERS DATABASE_URL JWT_SECRET"), "{stderr}");
    let after = std::fs::read_to_string(dir.join("applied.yaml")).expect("applied");
    assert_eq!(after.len(), before);
    let _ = std::fs::remove_dir_all(dir);
}
