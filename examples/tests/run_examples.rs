//! Runs the examples that need nothing outside the process (no cluster, no API key, no
//! network) and checks what they print, so an example that stops working fails the tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

mod support;
use support::example;

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

#[test]
fn kagent_run_with_no_arguments_runs_kagents_k8s_agent_offline() {
    let out = Command::new(example("kagent_run"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("KUBECONFIG")
        .env_remove("PROMETHEUS_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("offline demo"), "{stderr}");
    assert!(stdout.contains("agent kagent/k8s-agent: model"), "{stdout}");
    // The scripted demo model's two calls ran against the fake cluster.
    for tool in ["k8s_get_resources", "k8s_get_events"] {
        assert!(stdout.contains(&format!("✓ {tool} (")), "{tool}: {stdout}");
    }
    assert!(stdout.contains("This answer is scripted"), "{stdout}");
}

/// kagent-run on one of the role agents in `agents/roles` (with kagent's
/// `default-model-config` and `kagent-tool-server` from `agents/kagent/kagent.yaml`), the fake
/// cluster, `--json` events and the scripted model `script`. Returns the exit code, the events
/// and stderr.
fn kagent_run_role(agent: &str, script: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let agents = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../agents");
    let dir = std::env::temp_dir().join(format!(
        "kagent-run-role-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script_path = dir.join("script.yaml");
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new(example("kagent_run"))
        .arg("-f")
        .arg(agents.join("roles"))
        .arg("-f")
        .arg(agents.join("kagent/kagent.yaml"))
        .args(["--namespace", "kagent", "--agent", agent, "--fake-cluster"])
        .args(["--json", "--scripted"])
        .arg(&script_path)
        .args(extra)
        .arg("task")
        .env_remove("KUBECONFIG")
        .env_remove("PROMETHEUS_URL")
        .env_remove("ALERTMANAGER_URL")
        .env_remove("GRAFANA_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON event ({e}): {l}")))
        .collect();
    (
        out.status.code(),
        events,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The events of `kind` (`tool_started`, `approval_requested`, ...) about `tool`.
fn events_about<'a>(events: &'a [Value], kind: &str, tool: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == kind)
        .filter(|e| e["tool"] == tool || e["call"]["name"] == tool)
        .collect()
}

#[test]
fn kagent_run_asks_before_a_role_agents_write_and_honours_the_answer() {
    let script = r#"
- tool_call: {name: k8s_get_resources, arguments: {resource_type: pods, namespace: shop}}
- tool_call: {name: k8s_scale, arguments: {name: checkout, namespace: shop, replicas: 0}}
- text: done
"#;
    for (flag, approved) in [("--reject", false), ("--approve", true)] {
        let (code, events, stderr) = kagent_run_role("k8s-troubleshooter", script, &[flag]);
        assert_eq!(code, Some(0), "{flag}: {stderr}\n{events:?}");
        assert!(
            events.iter().any(|e| e["type"] == "finished"),
            "{flag}: {events:?}"
        );
        // The read ran without asking.
        assert!(events_about(&events, "approval_requested", "k8s_get_resources").is_empty());
        assert_eq!(
            events_about(&events, "tool_started", "k8s_get_resources").len(),
            1,
            "{events:?}"
        );
        // The write asked once, with a server-side dry run shown to the approver.
        assert_eq!(
            events_about(&events, "approval_requested", "k8s_scale").len(),
            1,
            "{flag}: {events:?}"
        );
        assert!(stderr.contains("approval needed: k8s_scale"), "{stderr}");
        assert!(stderr.contains("dry run:"), "{stderr}");
        let decided: Vec<_> = events
            .iter()
            .filter(|e| e["type"] == "approval_decided")
            .collect();
        assert_eq!(decided.len(), 1, "{events:?}");
        let started = events_about(&events, "tool_started", "k8s_scale");
        if approved {
            assert_eq!(
                decided[0]["decision"]["decision"], "approved",
                "{decided:?}"
            );
            assert_eq!(started.len(), 1, "{events:?}");
            let finished = events_about(&events, "tool_finished", "k8s_scale");
            assert_eq!(finished.len(), 1, "{events:?}");
            assert_eq!(finished[0]["is_error"], false, "{finished:?}");
        } else {
            assert_eq!(
                decided[0]["decision"]["decision"], "rejected",
                "{decided:?}"
            );
            assert!(started.is_empty(), "a rejected write ran: {events:?}");
        }
    }
}

#[test]
fn kagent_run_fake_cluster_has_data_for_the_zero_trust_auditor() {
    let script = r#"
- tool_calls:
  - {name: istio_analyze_cluster_configuration, arguments: {namespace: store}}
  - {name: network_policy_analyze, arguments: {namespace: shop}}
- text: audited
"#;
    let (code, events, stderr) = kagent_run_role("zero-trust-auditor", script, &[]);
    assert_eq!(code, Some(0), "{stderr}\n{events:?}");
    for tool in [
        "istio_analyze_cluster_configuration",
        "network_policy_analyze",
    ] {
        let finished = events_about(&events, "tool_finished", tool);
        assert_eq!(finished.len(), 1, "{tool}: {events:?}");
        assert_eq!(finished[0]["is_error"], false, "{tool}: {finished:?}");
    }
}

#[test]
fn kagent_run_serves_the_alert_responders_tools_when_their_urls_are_given() {
    let script = r#"
- tool_call: {name: alertmanager_list_alerts, arguments: {}}
- text: answered
"#;
    // Without URLs the agent does not load, and the error names the settings.
    let (code, _, stderr) = kagent_run_role("alert-responder", script, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--alertmanager-url or ALERTMANAGER_URL"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--prometheus-url or PROMETHEUS_URL"),
        "{stderr}"
    );

    // With URLs (here nothing listens on them) it loads; the unreachable Alertmanager reaches
    // the model as a tool error and the run still ends with an answer.
    let (code, events, stderr) = kagent_run_role(
        "alert-responder",
        script,
        &[
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--alertmanager-url",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}\n{events:?}");
    let finished = events_about(&events, "tool_finished", "alertmanager_list_alerts");
    assert_eq!(finished.len(), 1, "{events:?}");
    assert_eq!(finished[0]["is_error"], true, "{finished:?}");
    assert!(events.iter().any(|e| e["type"] == "finished"), "{events:?}");
}
