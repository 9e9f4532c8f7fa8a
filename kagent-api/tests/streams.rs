//! The multi-document reader: positions, skipped kinds, YAML errors, unknown fields, the
//! compatibility forms, versions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use kagent_api::manifest::DocumentError;
use kagent_api::{DecodeError, Reason, WarningKind, read_yaml};

const MODEL: &str = "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m, namespace: kagent}\nspec: {provider: OpenAI, model: gpt-4.1-mini}\n";

#[test]
fn invalid_yaml_names_document_and_line_and_the_rest_still_loads() {
    let stream = format!(
        "{MODEL}---\napiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata:\n  name: a\n spec: broken\n---\n{MODEL}"
    );
    let m = read_yaml(&stream);
    assert_eq!(m.resources.len(), 2, "{m:?}");
    assert_eq!(m.resources[1].position.number, 3);
    assert_eq!(m.errors.len(), 1);
    let DocumentError::Yaml {
        position,
        line,
        column,
        message,
    } = &m.errors[0]
    else {
        panic!("{:?}", m.errors[0])
    };
    assert_eq!((position.number, position.line), (2, 6));
    // ` spec: broken` is line 10 of the stream
    assert_eq!(*line, 10, "{message}");
    assert!(*column >= 1);
    let text = m.errors[0].to_string();
    assert!(
        text.starts_with("document 2 (line 6): invalid YAML at line 10"),
        "{text}"
    );
}

#[test]
fn tabs_and_duplicate_keys_are_yaml_errors() {
    let m = read_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n");
    assert!(
        matches!(&m.errors[..], [DocumentError::Yaml { line: 4, .. }]),
        "{m:?}"
    );
    let m = read_yaml(
        "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nkind: Agent\nmetadata: {name: x}\n",
    );
    assert!(
        matches!(&m.errors[..], [DocumentError::Yaml { message, .. }] if message.contains("duplicate")),
        "{m:?}"
    );
}

#[test]
fn unknown_fields_are_warnings_with_their_path() {
    let yaml = r#"
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {name: a, namespace: kagent, lables: {x: y}}
spec:
  declarative:
    modelConfig: m
    sytemMessage: typo
    tools:
      - type: McpServer
        mcpServer:
          name: s
          kind: RemoteMCPServer
          apiGroup: kagent.dev
          toolNames: [a]
          requireAproval: [a]
  futureField: 1
"#;
    let m = read_yaml(yaml);
    assert!(m.errors.is_empty(), "{m:?}");
    let unknown: Vec<String> = m.resources[0]
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::UnknownField)
        .map(|w| w.path.to_string())
        .collect();
    assert_eq!(
        unknown,
        [
            "metadata.lables",
            "spec.declarative.sytemMessage",
            "spec.declarative.tools[0].mcpServer.requireAproval",
            "spec.futureField",
        ]
    );
    let first = m.resources[0].warnings[0].to_string();
    assert!(first.contains("unknown field, ignored"), "{first}");
    // the misspelled systemMessage left the agent without instructions: that is said too
    assert!(
        m.resources[0]
            .warnings
            .iter()
            .any(|w| w.path.to_string() == "spec.declarative.systemMessage"
                && matches!(w.kind, WarningKind::Advice { .. }))
    );
}

#[test]
fn compatibility_forms_are_normalised() {
    let yaml = r#"
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {name: a, namespace: kagent}
spec:
  type: declarative
  declarative:
    runtime: Python
    modelConfig: kagent/anthropic-claude
    systemMessage: hi
    tools:
      - mcpServer:
          name: my-kmcp-server
          kind: ""
          toolNames: [echo]
      - agent: {name: helper}
        isolateSessions: true
---
apiVersion: kagent.dev/v1alpha1
kind: ModelConfig
metadata: {name: old, namespace: kagent}
spec:
  provider: azure-openai
  model: gpt-4o
  apiKeySecretRef: azure-key
  apiKeySecretKey: KEY
  modelInfo: {vision: true}
  azureOpenAI:
    azureEndpoint: https://x.openai.azure.com/
    apiVersion: 2024-10-21
    temperature: 0.2
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {name: s, namespace: kagent}
spec:
  description: d
  url: https://mcp.example.com/mcp
  protocol: streamable-http
  timeout: 45
"#;
    let m = read_yaml(yaml);
    assert!(m.errors.is_empty(), "{:#?}", m.errors);
    let agent = m.resources[0].resource.as_agent().unwrap();
    let decl = agent.spec.declarative.as_ref().unwrap();
    assert_eq!(decl.runtime, kagent_api::agent::DeclarativeRuntime::Python);
    assert_eq!(decl.model_config.as_deref(), Some("anthropic-claude"));
    let mcp = decl.tools[0].mcp_server.as_ref().unwrap();
    assert_eq!(mcp.kind.as_deref(), Some("MCPServer"));
    assert_eq!(mcp.api_group.as_deref(), Some("kagent.dev"));
    assert_eq!(mcp.target(), kagent_api::agent::ToolServerKind::McpServer);
    assert_eq!(
        decl.tools[1].type_,
        Some(kagent_api::agent::ToolProviderType::Agent)
    );
    let normalized: Vec<(String, String, String)> = m.resources[0]
        .warnings
        .iter()
        .filter_map(|w| match &w.kind {
            WarningKind::Normalized { from, to, .. } => {
                Some((w.path.to_string(), from.clone(), to.clone()))
            }
            _ => None,
        })
        .collect();
    let expect = |p: &str, f: &str, t: &str| (p.to_string(), f.to_string(), t.to_string());
    assert_eq!(
        normalized,
        [
            expect("spec.type", "declarative", "Declarative"),
            expect("spec.declarative.runtime", "Python", "python"),
            expect(
                "spec.declarative.modelConfig",
                "kagent/anthropic-claude",
                "anthropic-claude"
            ),
            expect("spec.declarative.tools[0].type", "(missing)", "McpServer"),
            expect(
                "spec.declarative.tools[0].mcpServer.kind",
                "(empty)",
                "MCPServer"
            ),
            expect("spec.declarative.tools[1].type", "(missing)", "Agent"),
        ]
    );

    let mc = m.resources[1].resource.as_model_config().unwrap();
    assert_eq!(mc.spec.provider, kagent_api::ModelProvider::AzureOpenAI);
    assert_eq!(mc.spec.api_key_secret.as_deref(), Some("azure-key"));
    let azure = mc.spec.azure_open_ai.as_ref().unwrap();
    assert_eq!(azure.temperature.as_deref(), Some("0.2"));
    let mc_warnings: Vec<String> = m.resources[1]
        .warnings
        .iter()
        .map(|w| w.path.to_string())
        .collect();
    assert_eq!(
        mc_warnings,
        [
            "apiVersion",
            "spec.provider",
            "spec.apiKeySecretRef",
            "spec.modelInfo",
            "spec.azureOpenAI.temperature",
        ]
    );

    let rs = m.resources[2].resource.as_remote_mcp_server().unwrap();
    assert_eq!(
        rs.spec.protocol,
        kagent_api::remote_mcp_server::RemoteMcpServerProtocol::StreamableHttp
    );
    assert_eq!(
        rs.spec.timeout.as_ref().unwrap().to_duration(),
        Ok(std::time::Duration::from_secs(45))
    );
}

#[test]
fn a_model_config_in_another_namespace_is_kept_with_advice() {
    let yaml = "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {name: a, namespace: team}\nspec:\n  declarative: {modelConfig: kagent/claude, systemMessage: hi}\n";
    let m = read_yaml(yaml);
    let agent = m.resources[0].resource.as_agent().unwrap();
    let decl = agent.spec.declarative.as_ref().unwrap();
    assert_eq!(decl.model_config.as_deref(), Some("kagent/claude"));
    let r = decl.model_config_ref("team").unwrap();
    assert_eq!(
        (r.namespace.as_str(), r.name.as_str()),
        ("kagent", "claude")
    );
    let w = m.resources[0].warnings[0].to_string();
    assert!(
        w.starts_with(
            "spec.declarative.modelConfig: `kagent/claude` names a ModelConfig in namespace kagent"
        ),
        "{w}"
    );
}

#[test]
fn other_kinds_and_versions() {
    let yaml = r#"
apiVersion: kagent.dev/v1alpha1
kind: MCPServer
metadata: {name: kmcp-server}
---
apiVersion: kagent.dev/v1alpha1
kind: Agent
metadata: {name: old-agent}
spec: {systemMessage: hi, modelConfig: m}
---
apiVersion: kagent.dev/v1alpha3
kind: ModelConfig
metadata: {name: new}
---
- just a list
---
kind: Agent
metadata: {name: no-api-version}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: kagent}
  - apiVersion: kagent.dev/v1alpha2
    kind: ModelConfig
    metadata: {name: listed}
    spec: {model: gpt-4.1-mini}
"#;
    let m = read_yaml(yaml);
    let skipped: Vec<String> = m.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        [
            "document 1 (line 2): skipped kagent.dev/v1alpha1 MCPServer kmcp-server: a kagent.dev kind kagent-api does not model (it reads Agent, ModelConfig, RemoteMCPServer, ModelProviderConfig)",
            "document 6 (line 20), items[0]: skipped v1 Namespace kagent: not a kagent.dev resource",
        ]
    );
    assert_eq!(m.resources.len(), 1);
    assert_eq!(m.resources[0].position.item, Some(1));
    assert_eq!(m.resources[0].resource.name(), Some("listed"));
    let errors: Vec<(usize, &DecodeError)> = m
        .errors
        .iter()
        .map(|e| match e {
            DocumentError::Resource { position, error } => (position.number, error),
            other => panic!("{other}"),
        })
        .collect();
    assert!(
        matches!(errors[0], (2, DecodeError::UnsupportedVersion { hint, .. }) if hint.contains("spec.declarative")),
        "{errors:?}"
    );
    assert!(
        matches!(errors[1], (3, DecodeError::UnsupportedVersion { hint, .. }) if hint.contains("kagent.dev/v1alpha2")),
        "{errors:?}"
    );
    assert!(matches!(errors[2], (4, DecodeError::NotAnObject)));
    assert!(matches!(errors[3], (5, DecodeError::MissingTypeMeta)));
    assert_eq!(errors.len(), 4);
}

#[test]
fn an_invalid_resource_reports_errors_and_warnings_together() {
    let yaml = "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m}\nspec: {provider: anthropic, model: claude, apiKeySecretRef: {name: s}, extra: 1}\n";
    let m = read_yaml(yaml);
    let DocumentError::Resource {
        error: DecodeError::Invalid { errors, warnings },
        ..
    } = &m.errors[0]
    else {
        panic!("{m:?}")
    };
    assert_eq!(errors.errors.len(), 1);
    assert_eq!(errors.errors[0].path.to_string(), "spec.apiKeySecretKey");
    assert!(matches!(errors.errors[0].reason, Reason::Required { .. }));
    let paths: Vec<String> = warnings.iter().map(|w| w.path.to_string()).collect();
    assert_eq!(
        paths,
        ["spec.provider", "spec.apiKeySecretRef.name", "spec.extra"]
    );
}

#[test]
fn empty_streams_and_comment_only_documents() {
    assert_eq!(read_yaml(""), kagent_api::Manifests::default());
    let m = read_yaml("# nothing\n---\n---\n# still nothing\n");
    assert!(m.resources.is_empty() && m.errors.is_empty() && m.skipped.is_empty());
}
