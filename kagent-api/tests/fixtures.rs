//! The seed's two resources and kagent's own rendered Helm chart parse, normalise and validate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use std::path::PathBuf;

use kagent_api::agent::{DeclarativeRuntime, ToolProviderType, ToolServerKind};
use kagent_api::remote_mcp_server::RemoteMcpServerProtocol;
use kagent_api::{AgentSpec, KagentResource, ModelProvider, WarningKind, read_yaml};

fn fixture(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn seed_model_config_is_read_in_kagent_form() {
    let m = read_yaml(&fixture("seed/modelconfig-anthropic-claude.yaml"));
    assert!(m.errors.is_empty() && m.skipped.is_empty(), "{m:?}");
    let doc = &m.resources[0];
    let mc = doc.resource.as_model_config().unwrap();
    assert_eq!(mc.metadata.name.as_deref(), Some("anthropic-claude"));
    assert_eq!(mc.metadata.namespace.as_deref(), Some("kagent"));
    assert_eq!(mc.spec.provider, ModelProvider::Anthropic);
    assert_eq!(mc.spec.model, "claude-sonnet-4-20250514");
    assert_eq!(mc.spec.api_key_secret.as_deref(), Some("anthropic-api-key"));
    assert_eq!(mc.spec.api_key_secret_key.as_deref(), Some("api-key"));
    assert!(mc.spec.present_blocks().is_empty());

    let warnings: Vec<String> = doc.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "spec.provider: read `anthropic` as `Anthropic` (kagent's enum spells it `Anthropic`)",
            "spec.apiKeySecretRef.name: read `anthropic-api-key` as `apiKeySecret: anthropic-api-key` (the object form apiKeySecretRef: {name, key}; kagent v1alpha2 uses apiKeySecret + apiKeySecretKey)",
            "spec.apiKeySecretRef.key: read `api-key` as `apiKeySecretKey: api-key` (the object form apiKeySecretRef: {name, key}; kagent v1alpha2 uses apiKeySecret + apiKeySecretKey)",
        ]
    );

    // Written back, it is kagent's v1alpha2 form, which reads back without any warning.
    let KagentResource::ModelConfig(mc) = &doc.resource else {
        unreachable!()
    };
    let yaml = serde_yaml::to_string(mc.as_ref()).unwrap();
    assert!(yaml.contains("provider: Anthropic"), "{yaml}");
    assert!(yaml.contains("apiKeySecret: anthropic-api-key"), "{yaml}");
    assert!(!yaml.contains("apiKeySecretRef"), "{yaml}");
    let again = read_yaml(&yaml);
    assert!(again.resources[0].warnings.is_empty(), "{again:?}");
    assert_eq!(again.resources[0].resource, doc.resource);
}

#[test]
fn seed_agent_is_read_as_written() {
    let m = read_yaml(&fixture("seed/agent-k8s-troubleshooter.yaml"));
    assert!(m.errors.is_empty() && m.skipped.is_empty(), "{m:?}");
    let doc = &m.resources[0];
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    let agent = doc.resource.as_agent().unwrap();
    let AgentSpec {
        description,
        declarative,
        ..
    } = &agent.spec;
    assert_eq!(
        description.as_deref(),
        Some("Kubernetes障害調査エージェント")
    );
    let decl = declarative.as_ref().unwrap();
    // defaults as an API server applies them
    assert_eq!(decl.runtime, DeclarativeRuntime::Go);
    assert!(!decl.stream);
    let mc = decl.model_config_ref("kagent").unwrap();
    assert_eq!(
        (mc.namespace.as_str(), mc.name.as_str()),
        ("kagent", "anthropic-claude")
    );
    assert!(decl.system_message.as_deref().unwrap().contains("根本原因"));
    let servers: Vec<(&str, Vec<&str>)> = decl
        .tools
        .iter()
        .map(|t| {
            assert_eq!(t.type_, Some(ToolProviderType::McpServer));
            let m = t.mcp_server.as_ref().unwrap();
            assert_eq!(m.target(), ToolServerKind::RemoteMcpServer);
            (
                m.name.as_str(),
                m.tool_names.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        servers,
        [
            (
                "kagent-tool-server",
                vec!["k8s_get_resources", "k8s_get_pod_logs", "k8s_get_events"]
            ),
            ("prometheus-tool-server", vec!["prometheus_query"]),
        ]
    );
}

#[test]
fn both_seed_files_as_one_stream() {
    let stream = format!(
        "{}---\n{}",
        fixture("seed/modelconfig-anthropic-claude.yaml"),
        fixture("seed/agent-k8s-troubleshooter.yaml")
    );
    let m = read_yaml(&stream);
    assert!(m.errors.is_empty(), "{m:?}");
    let kinds: Vec<(usize, usize, &str)> = m
        .resources
        .iter()
        .map(|d| (d.position.number, d.position.line, d.resource.kind()))
        .collect();
    assert_eq!(kinds, [(1, 1, "ModelConfig"), (2, 13, "Agent")]);
}

#[test]
fn kagents_rendered_chart_loads() {
    let m = read_yaml(&fixture("kagent-helm/kagent-rendered.yaml"));
    assert!(m.errors.is_empty(), "{:#?}", m.errors);
    let skipped: Vec<String> = m.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        [
            "document 1 (line 3): skipped v1 ServiceAccount kagent-controller: not a kagent.dev resource",
            "document 2 (line 17): skipped rbac.authorization.k8s.io/v1 ClusterRole kagent-getter-role: not a kagent.dev resource",
            "document 3 (line 140): skipped rbac.authorization.k8s.io/v1 ClusterRoleBinding kagent-getter-rolebinding: not a kagent.dev resource",
            "document 4 (line 161): skipped v1 ConfigMap kagent-builtin-prompts: not a kagent.dev resource",
        ]
    );
    let names: Vec<(&str, &str)> = m
        .resources
        .iter()
        .map(|d| (d.resource.kind(), d.resource.name().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("ModelConfig", "default-model-config"),
            ("RemoteMCPServer", "kagent-tool-server"),
            ("RemoteMCPServer", "kagent-grafana-mcp"),
            ("Agent", "k8s-agent"),
            ("Agent", "observability-agent"),
            ("Agent", "promql-agent"),
            ("Agent", "helm-agent"),
        ]
    );
    for d in &m.resources {
        assert!(
            d.warnings.is_empty(),
            "{}: {:?}",
            d.resource.name().unwrap(),
            d.warnings
        );
    }

    let servers: Vec<_> = m.remote_mcp_servers().collect();
    let tools = servers[0];
    assert_eq!(tools.spec.url, "http://kagent-tools.kagent:8084/mcp");
    assert_eq!(tools.spec.protocol, RemoteMcpServerProtocol::StreamableHttp);
    assert_eq!(
        tools.spec.sse_read_timeout.as_ref().unwrap().to_duration(),
        Ok(std::time::Duration::from_secs(300))
    );
    assert_eq!(tools.spec.terminate_on_close, Some(true));

    for agent in m.agents() {
        let decl = agent.spec.declarative.as_ref().unwrap();
        assert_eq!(decl.runtime, DeclarativeRuntime::Go);
        assert_eq!(decl.model_config.as_deref(), Some("default-model-config"));
        assert_eq!(decl.prompt_source_identifiers(), ["builtin"]);
        let includes = decl.prompt_includes();
        assert!(
            !includes.is_empty(),
            "{}",
            agent.metadata.name.as_deref().unwrap()
        );
        for inc in includes {
            assert_eq!(inc.source, "builtin");
            assert!(
                [
                    "kubernetes-context",
                    "tool-usage-best-practices",
                    "safety-guardrails"
                ]
                .contains(&inc.key.as_str()),
                "{}",
                inc.path
            );
        }
    }

    let obs = m
        .agents()
        .find(|a| a.metadata.name.as_deref() == Some("observability-agent"))
        .unwrap();
    let tools = &obs.spec.declarative.as_ref().unwrap().tools;
    assert_eq!(tools.len(), 3);
    assert_eq!(
        tools[1].mcp_server.as_ref().unwrap().name,
        "kagent-grafana-mcp"
    );
    assert_eq!(tools[1].mcp_server.as_ref().unwrap().tool_names.len(), 34);
    assert_eq!(tools[2].type_, Some(ToolProviderType::Agent));
    assert_eq!(tools[2].agent.as_ref().unwrap().name, "promql-agent");
    let skills = &obs
        .spec
        .declarative
        .as_ref()
        .unwrap()
        .a2a_config
        .as_ref()
        .unwrap()
        .skills;
    assert_eq!(skills.len(), 3);
    let resources = obs
        .spec
        .declarative
        .as_ref()
        .unwrap()
        .deployment
        .as_ref()
        .unwrap()
        .resources
        .as_ref()
        .unwrap();
    assert_eq!(
        resources.limits.as_ref().unwrap()["memory"],
        k8s_openapi::apimachinery::pkg::api::resource::Quantity("1Gi".into())
    );
}

#[test]
fn no_warning_kind_is_unknown_field_in_kagents_own_output() {
    // kagent's own chart uses only fields this crate models: a field missing here would show
    // up as an UnknownField warning.
    let m = read_yaml(&fixture("kagent-helm/kagent-rendered.yaml"));
    assert!(
        m.resources
            .iter()
            .flat_map(|d| &d.warnings)
            .all(|w| w.kind != WarningKind::UnknownField)
    );
}
