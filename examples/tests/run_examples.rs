//! Runs the examples that need nothing outside the process (no cluster, no API key, no
//! network) and checks what they print, so an example that stops working fails the tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

/// An example binary. `cargo test` builds the package's examples before its tests; under a
/// runner that does not (`cargo nextest`, `cargo test --test run_examples`), it is built here.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("examples").join(name);
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "kagent-examples", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status();
        eprintln!("built the {name} example: {status:?}");
    }
    assert!(
        bin.exists(),
        "example binary missing at {}: run `cargo build -p kagent-examples --example {name}`",
        bin.display()
    );
    bin
}

/// Runs an example offline (model and cluster variables removed) and returns its stdout.
fn run_offline(name: &str) -> String {
    let out = Command::new(example(name))
        .env_remove("OPENAI_API_KEY")
        .env_remove("KAGENT_MODEL_CONFIG")
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn embed_runs_offline_with_approval_for_the_mutating_call() {
    let out = run_offline("embed");
    // The provider is the real OpenAI provider on the scripted wire model.
    assert!(
        out.contains("model: openai gpt-4.1-mini (scripted wire model, offline)"),
        "{out}"
    );
    // MCP tools were listed from the server and offered under their prefix.
    assert!(out.contains("[\"runbook\"]"), "{out}");
    assert!(
        out.contains("[call] ops_runbook({\"reason\":\"CrashLoopBackOff\"})"),
        "{out}"
    );
    assert!(out.contains("[done] ops_runbook\n"), "{out}");
    // The read-only Kubernetes tool ran without asking.
    assert!(out.contains("[done] k8s_diagnose\n"), "{out}");
    // The mutating call waited for approval, ran once approved, and changed the fake cluster.
    let asked = out
        .find("[approval] k8s_scale is Mutating: asking")
        .expect(&out);
    let done = out.find("[done] k8s_scale\n").expect(&out);
    assert!(asked < done, "{out}");
    assert!(out.contains("approved as `ci`"), "{out}");
    assert!(
        out.contains("deployment shop/checkout: spec.replicas = Some(0)"),
        "{out}"
    );
    assert_eq!(
        out.matches("approve ").count(),
        1,
        "only the mutating call asks: {out}"
    );
}

#[test]
fn quickstart_runs_offline() {
    let out = run_offline("quickstart");
    assert!(out.contains("checkout replicas now: Some(3)"), "{out}");
}

#[test]
fn troubleshoot_runs_offline() {
    let out = run_offline("troubleshoot");
    assert!(out.contains("# Troubleshooting report:"), "{out}");
    assert!(out.contains("CrashLoopBackOff"), "{out}");
}

/// kagent-run on the article's seed Agent (it lists `prometheus_query` from an undeclared
/// `prometheus-tool-server`) with the fake cluster and a scripted model.
fn kagent_run_seed(extra: &[&str], prometheus_env: Option<&str>) -> std::process::Output {
    let seed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kagent-api/tests/fixtures/seed");
    let dir = std::env::temp_dir().join(format!("kagent-run-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join(format!("script-{}.yaml", extra.len()));
    std::fs::write(&script, "- text: checked\n").unwrap();
    let mut cmd = Command::new(example("kagent_run"));
    cmd.arg("-f")
        .arg(seed.join("agent-k8s-troubleshooter.yaml"))
        .arg("-f")
        .arg(seed.join("modelconfig-anthropic-claude.yaml"))
        .args(["--namespace", "kagent", "--fake-cluster", "--scripted"])
        .arg(&script)
        .args(extra)
        .arg("Is checkout up?")
        .env_remove("KUBECONFIG")
        .env_remove("PROMETHEUS_URL")
        .env_remove("PROMETHEUS_BEARER_TOKEN")
        .stdin(std::process::Stdio::null());
    if let Some(url) = prometheus_env {
        cmd.env("PROMETHEUS_URL", url);
    }
    cmd.output().unwrap()
}

#[test]
fn kagent_run_serves_the_seeds_prometheus_query_with_a_prometheus_url() {
    for (extra, env) in [
        (&["--prometheus-url", "http://127.0.0.1:9090"][..], None),
        (&[][..], Some("http://127.0.0.1:9090")),
    ] {
        let out = kagent_run_seed(extra, env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with("prometheus_query "))
            .unwrap_or_else(|| panic!("prometheus_query not loaded: {stdout}"));
        assert!(
            line.contains("in-process, for undeclared kagent/prometheus-tool-server"),
            "{line}"
        );
        assert!(stdout.contains("checked"), "{stdout}");
    }

    // Without a URL the load fails and says what to configure.
    let out = kagent_run_seed(&[], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("prometheus_query needs a Prometheus URL"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--prometheus-url or PROMETHEUS_URL"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("kagent-run-seed-{}", std::process::id())),
    );
}
