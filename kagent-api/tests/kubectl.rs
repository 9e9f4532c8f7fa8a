//! The real kubectl (1.31, installed by `bash scripts/setup/kubectl.sh`) installs the generated
//! CRDs on the in-process fake API server, then applies the seed's resources and kagent's
//! rendered chart, and what it reads back decodes with kagent-api.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use kagent_fake_apiserver::FakeCluster;
use serde_json::Value;

fn kubectl_path() -> PathBuf {
    let base = std::env::var_os("KAGENT_TEST_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".test-components")
        });
    let path = base.join("bin").join("kubectl");
    assert!(
        path.is_file(),
        "kubectl 1.31 is not installed at {}: run `bash scripts/setup/kubectl.sh` from the workspace root",
        path.display()
    );
    path
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .unwrap()
}

struct Kubectl {
    _fake: FakeCluster,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    fn new() -> Self {
        let bin = kubectl_path();
        let fake = FakeCluster::builder()
            .namespaces(["default", "kube-system", "kagent"])
            .start()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        fake.write_kubeconfig(dir.path().join("kubeconfig"))
            .unwrap();
        Kubectl {
            _fake: fake,
            dir,
            bin,
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut child = Command::new(&self.bin)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("HOME", self.dir.path())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .arg("--request-timeout=30s")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.ok,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn kubectl_installs_the_crds_and_accepts_the_seed() {
    let k = Kubectl::new();
    let crds = kagent_api::crd::crds_yaml().unwrap();
    // server-side: the Agent CRD is larger than client-side apply's last-applied annotation
    let out = k.ok(&["apply", "--server-side", "-f", "-"], Some(&crds));
    assert_eq!(
        lines(&out),
        [
            "customresourcedefinition.apiextensions.k8s.io/agents.kagent.dev serverside-applied",
            "customresourcedefinition.apiextensions.k8s.io/modelconfigs.kagent.dev serverside-applied",
            "customresourcedefinition.apiextensions.k8s.io/remotemcpservers.kagent.dev serverside-applied",
            "customresourcedefinition.apiextensions.k8s.io/modelproviderconfigs.kagent.dev serverside-applied",
        ]
    );
    let resources = k.ok(
        &["api-resources", "--api-group=kagent.dev", "--no-headers"],
        None,
    );
    let mut rows: Vec<Vec<&str>> = resources
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            vec!["agents", "kagent.dev/v1alpha2", "true", "Agent"],
            vec![
                "modelconfigs",
                "mc",
                "kagent.dev/v1alpha2",
                "true",
                "ModelConfig"
            ],
            vec![
                "modelproviderconfigs",
                "mprov",
                "kagent.dev/v1alpha2",
                "true",
                "ModelProviderConfig"
            ],
            vec![
                "remotemcpservers",
                "rmcps",
                "kagent.dev/v1alpha2",
                "true",
                "RemoteMCPServer"
            ],
        ]
    );

    // The stored CRD keeps kagent's defaults as written (a date-like default stays a string).
    let mc_crd: Value = serde_json::from_str(&k.ok(
        &["get", "crd", "modelconfigs.kagent.dev", "-o", "json"],
        None,
    ))
    .unwrap();
    let spec_schema =
        &mc_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(
        spec_schema["properties"]["foundry"]["properties"]["apiVersion"]["default"],
        "2024-10-21"
    );
    assert_eq!(spec_schema["properties"]["provider"]["default"], "OpenAI");
    assert_eq!(
        spec_schema["x-kubernetes-validations"]
            .as_array()
            .unwrap()
            .len(),
        17
    );

    // The seed's two resources, as users paste them.
    let seed = format!(
        "{}---\n{}",
        fixture("seed/modelconfig-anthropic-claude.yaml"),
        fixture("seed/agent-k8s-troubleshooter.yaml")
    );
    let out = k.ok(&["apply", "-f", "-"], Some(&seed));
    assert_eq!(
        lines(&out),
        [
            "modelconfig.kagent.dev/anthropic-claude created",
            "agent.kagent.dev/k8s-troubleshooter created",
        ]
    );
    // the printer columns and short names of the CRDs
    let mc_table = k.ok(&["get", "mc", "-n", "kagent"], None);
    let mc_rows: Vec<Vec<&str>> = mc_table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(mc_rows[0], ["NAME", "PROVIDER", "MODEL", "AGE"]);
    assert_eq!(
        mc_rows[1][..3],
        ["anthropic-claude", "anthropic", "claude-sonnet-4-20250514"]
    );
    let agent_table = k.ok(&["get", "agents", "-n", "kagent"], None);
    let header: Vec<&str> = agent_table
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "TYPE", "RUNTIME", "READY", "ACCEPTED", "AGE"]
    );
    assert!(
        agent_table.contains("k8s-troubleshooter   Declarative"),
        "{agent_table}"
    );

    // What kubectl reads back (a List) decodes with kagent-api, in kagent's form.
    let listed = k.ok(
        &["get", "agents,modelconfigs", "-n", "kagent", "-o", "yaml"],
        None,
    );
    let m = kagent_api::read_yaml(&listed);
    assert!(m.errors.is_empty(), "{:#?}", m.errors);
    assert_eq!(m.resources.len(), 2);
    let mc = m.model_configs().next().unwrap();
    assert_eq!(mc.spec.provider, kagent_api::ModelProvider::Anthropic);
    assert_eq!(mc.spec.api_key_secret.as_deref(), Some("anthropic-api-key"));
    let agent = m.agents().next().unwrap();
    assert!(agent.metadata.uid.is_some());
    assert_eq!(
        agent.spec.declarative.as_ref().unwrap().tools[1]
            .mcp_server
            .as_ref()
            .unwrap()
            .tool_names,
        ["prometheus_query"]
    );
    // kubectl's own fields (uid, resourceVersion, last-applied annotation) are known fields
    for d in &m.resources {
        assert!(
            d.warnings
                .iter()
                .all(|w| w.kind != kagent_api::WarningKind::UnknownField),
            "{:?}",
            d.warnings
        );
    }

    // kagent's rendered chart: RBAC, the prompt ConfigMap, servers and agents in one stream
    let out = k.ok(
        &["apply", "-f", "-"],
        Some(&fixture("kagent-helm/kagent-rendered.yaml")),
    );
    assert!(
        out.contains("agent.kagent.dev/observability-agent created"),
        "{out}"
    );
    assert!(
        out.contains("remotemcpserver.kagent.dev/kagent-tool-server created"),
        "{out}"
    );
    let rmcps = k.ok(&["get", "rmcps", "-n", "kagent"], None);
    assert!(
        rmcps
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..2]
                == ["kagent-grafana-mcp", "STREAMABLE_HTTP"]),
        "{rmcps}"
    );
}
