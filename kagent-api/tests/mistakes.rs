//! A table of mistakes people make in kagent resources: each must be reported at its exact
//! field path with the right reason, and mistakes in one object are all reported together.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use kagent_api::{DecodeError, Reason, Validate, ValidationErrors, decode};

const AGENT: &str = r#"
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {name: k8s-agent, namespace: kagent}
spec:
  type: Declarative
  declarative:
    modelConfig: default-model-config
    systemMessage: You are a Kubernetes expert.
    tools:
      - type: McpServer
        mcpServer:
          name: kagent-tool-server
          kind: RemoteMCPServer
          apiGroup: kagent.dev
          toolNames: [k8s_get_resources, k8s_delete_resource]
          requireApproval: [k8s_delete_resource]
"#;

const MODEL: &str = r#"
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {name: default-model-config, namespace: kagent}
spec:
  provider: OpenAI
  model: gpt-4.1-mini
  apiKeySecret: kagent-openai
  apiKeySecretKey: OPENAI_API_KEY
"#;

const SERVER: &str = r#"
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {name: kagent-tool-server, namespace: kagent}
spec:
  description: kagent tools
  url: http://kagent-tools.kagent:8084/mcp
"#;

fn errors(yaml: &str) -> ValidationErrors {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    match decode(value) {
        Err(DecodeError::Invalid { errors, .. }) => errors,
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// `base` with the line containing `find` replaced by `replace` (all of it; indentation is the
/// caller's).
fn edit(base: &str, find: &str, replace: &str) -> String {
    assert!(base.contains(find), "{find:?} not in base");
    base.replacen(find, replace, 1)
}

type Check = fn(&Reason) -> bool;

#[test]
fn bases_are_valid() {
    for yaml in [AGENT, MODEL, SERVER] {
        let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
        let d = decode(value).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }
}

#[test]
fn each_mistake_is_named_by_path_and_reason() {
    let tools = "    tools:\n";
    let mcp_tool = "      - type: McpServer\n";
    let cases: Vec<(&str, String, &str, Check)> = vec![
        (
            "requireApproval names a tool that is not in toolNames",
            edit(
                AGENT,
                "          requireApproval: [k8s_delete_resource]",
                "          requireApproval: [k8s_delete_resource]\n      - type: McpServer\n        mcpServer:\n          name: prom\n          kind: RemoteMCPServer\n          toolNames: [prometheus_query]\n          requireApproval: [prometheus_delete_series]",
            ),
            "spec.declarative.tools[1].mcpServer.requireApproval[0]",
            |r| matches!(r, Reason::NotInToolNames { tool } if tool == "prometheus_delete_series"),
        ),
        (
            "systemMessage and systemMessageFrom both set",
            edit(
                AGENT,
                "    systemMessage: You are a Kubernetes expert.",
                "    systemMessage: You are a Kubernetes expert.\n    systemMessageFrom: {type: ConfigMap, name: prompts, key: k8s}",
            ),
            "spec.declarative.systemMessageFrom",
            |r| matches!(r, Reason::MutuallyExclusive { other, .. } if other == "spec.declarative.systemMessage"),
        ),
        (
            "a BYO agent without an image",
            "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {name: byo}\nspec:\n  type: BYO\n  byo:\n    deployment:\n      replicas: 1\n".into(),
            "spec.byo.deployment.image",
            |r| matches!(r, Reason::Required { hint } if hint.contains("A2A")),
        ),
        (
            "a declarative agent without modelConfig",
            edit(AGENT, "    modelConfig: default-model-config\n", ""),
            "spec.declarative.modelConfig",
            |r| matches!(r, Reason::Required { hint } if hint.contains("ModelConfig")),
        ),
        (
            "type Declarative without a declarative block",
            "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {name: a}\nspec:\n  type: Declarative\n  description: nothing else\n".into(),
            "spec.declarative",
            |r| matches!(r, Reason::Required { .. }),
        ),
        (
            "an unknown agent type",
            edit(AGENT, "  type: Declarative", "  type: Declaritive"),
            "spec.type",
            |r| matches!(r, Reason::UnknownValue { value, allowed } if value == "Declaritive" && allowed.len() == 2),
        ),
        (
            "an unknown provider",
            edit(MODEL, "  provider: OpenAI", "  provider: OpenAl"),
            "spec.provider",
            |r| matches!(r, Reason::UnknownValue { value, allowed } if value == "OpenAl" && allowed.len() == 10),
        ),
        (
            "a provider block that does not match provider",
            edit(MODEL, "  provider: OpenAI", "  provider: Anthropic\n  openAI: {baseUrl: 'https://x'}"),
            "spec.openAI",
            |r| matches!(r, Reason::ProviderBlockMismatch { provider, block_provider } if provider == "Anthropic" && block_provider == "OpenAI"),
        ),
        (
            "a second provider block",
            edit(MODEL, "  provider: OpenAI", "  provider: OpenAI\n  openAI: {}\n  ollama: {host: 'http://o:11434'}"),
            "spec.ollama",
            |r| matches!(r, Reason::ProviderBlockMismatch { provider, .. } if provider == "OpenAI"),
        ),
        (
            "AzureOpenAI without its block",
            edit(MODEL, "  provider: OpenAI", "  provider: AzureOpenAI"),
            "spec.azureOpenAI",
            |r| matches!(r, Reason::Required { hint } if hint.contains("azureEndpoint")),
        ),
        (
            "apiKeySecret without apiKeySecretKey",
            edit(MODEL, "  apiKeySecretKey: OPENAI_API_KEY\n", ""),
            "spec.apiKeySecretKey",
            |r| matches!(r, Reason::Required { .. }),
        ),
        (
            "apiKeyPassthrough together with apiKeySecret",
            edit(MODEL, "  model: gpt-4.1-mini", "  model: gpt-4.1-mini\n  apiKeyPassthrough: true"),
            "spec.apiKeyPassthrough",
            |r| matches!(r, Reason::MutuallyExclusive { other, .. } if other == "spec.apiKeySecret"),
        ),
        (
            "maxTokens and maxCompletionTokens together",
            edit(MODEL, "  provider: OpenAI", "  provider: OpenAI\n  openAI: {maxTokens: 100, maxCompletionTokens: 100}"),
            "spec.openAI.maxCompletionTokens",
            |r| matches!(r, Reason::MutuallyExclusive { .. }),
        ),
        (
            "a temperature that is not a number",
            edit(MODEL, "  provider: OpenAI", "  provider: OpenAI\n  openAI: {temperature: warm}"),
            "spec.openAI.temperature",
            |r| matches!(r, Reason::Malformed { value, .. } if value == "warm"),
        ),
        (
            "a CA Secret without its key",
            edit(MODEL, "  provider: OpenAI", "  provider: OpenAI\n  tls: {caCertSecretRef: corp-ca}"),
            "spec.tls.caCertSecretKey",
            |r| matches!(r, Reason::Required { .. }),
        ),
        (
            "an McpServer tool without mcpServer",
            edit(AGENT, tools, "    tools:\n      - type: McpServer\n"),
            "spec.declarative.tools[0].mcpServer",
            |r| matches!(r, Reason::Required { .. }),
        ),
        (
            "isolateSessions on an MCP tool",
            edit(AGENT, mcp_tool, "      - type: McpServer\n        isolateSessions: true\n"),
            "spec.declarative.tools[0].isolateSessions",
            |r| matches!(r, Reason::NotAllowed { .. }),
        ),
        (
            "a header with both value and valueFrom",
            edit(AGENT, mcp_tool, "      - type: McpServer\n        headersFrom:\n          - {name: X-Team, value: a, valueFrom: {type: Secret, name: s, key: k}}\n"),
            "spec.declarative.tools[0].headersFrom[0].value",
            |r| matches!(r, Reason::MutuallyExclusive { other, .. } if other.ends_with("headersFrom[0].valueFrom")),
        ),
        (
            "more than 50 toolNames",
            edit(
                AGENT,
                "          toolNames: [k8s_get_resources, k8s_delete_resource]",
                &format!(
                    "          toolNames: [k8s_delete_resource, {}]",
                    (0..50).map(|i| format!("t{i}")).collect::<Vec<_>>().join(", ")
                ),
            ),
            "spec.declarative.tools[0].mcpServer.toolNames",
            |r| matches!(r, Reason::TooMany { max: 50, found: 51 }),
        ),
        (
            "a tool server kind kagent does not know",
            edit(AGENT, "          kind: RemoteMCPServer", "          kind: McpServerz"),
            "spec.declarative.tools[0].mcpServer.kind",
            |r| matches!(r, Reason::UnknownValue { value, .. } if value == "kagent.dev/McpServerz"),
        ),
        (
            "an include of a prompt source that is not declared",
            edit(
                AGENT,
                "    systemMessage: You are a Kubernetes expert.",
                "    systemMessage: 'Be safe. {{include \"builtin/safety-guardrails\"}}'\n    promptTemplate:\n      dataSources:\n        - {kind: ConfigMap, name: kagent-builtin-prompts, alias: prompts}",
            ),
            "spec.declarative.systemMessage",
            |r| matches!(r, Reason::UnknownPromptSource { source_name, declared, .. } if source_name == "builtin" && declared == &["prompts"]),
        ),
        (
            "an agent that is its own tool",
            edit(AGENT, tools, "    tools:\n      - type: Agent\n        agent: {name: k8s-agent}\n"),
            "spec.declarative.tools[0].agent.name",
            |r| matches!(r, Reason::SelfReference),
        ),
        (
            "a modelConfig reference with two slashes",
            edit(AGENT, "    modelConfig: default-model-config", "    modelConfig: a/b/c"),
            "spec.declarative.modelConfig",
            |r| matches!(r, Reason::Malformed { value, .. } if value == "a/b/c"),
        ),
        (
            "toolNames written as a string",
            edit(AGENT, "          toolNames: [k8s_get_resources, k8s_delete_resource]", "          toolNames: k8s_get_resources"),
            "spec.declarative.tools[0].mcpServer.toolNames",
            |r| matches!(r, Reason::Decode { message } if message.contains("expected a sequence")),
        ),
        (
            "an invalid object name",
            edit(AGENT, "name: k8s-agent,", "name: K8s_Agent,"),
            "metadata.name",
            |r| matches!(r, Reason::Malformed { value, .. } if value == "K8s_Agent"),
        ),
        (
            "memory ttlDays of 0",
            edit(AGENT, "    modelConfig: default-model-config", "    modelConfig: default-model-config\n    memory: {modelConfig: embeddings, ttlDays: 0}"),
            "spec.declarative.memory.ttlDays",
            |r| matches!(r, Reason::BelowMinimum { min: 1, found: 0 }),
        ),
        (
            "an empty a2aConfig.skills",
            edit(AGENT, "    modelConfig: default-model-config", "    modelConfig: default-model-config\n    a2aConfig: {skills: []}"),
            "spec.declarative.a2aConfig.skills",
            |r| matches!(r, Reason::TooFew { min: 1, found: 0 }),
        ),
        (
            "a timeout that is not a duration",
            edit(SERVER, "  url: http", "  timeout: 30 seconds\n  url: http"),
            "spec.timeout",
            |r| matches!(r, Reason::Malformed { value, .. } if value == "30 seconds"),
        ),
        (
            "tls on an http:// server",
            edit(SERVER, "  url: http", "  tls: {disableVerify: true}\n  url: http"),
            "spec.tls",
            |r| matches!(r, Reason::NotAllowed { hint } if hint.contains("http://")),
        ),
        (
            "an unknown protocol",
            edit(SERVER, "  url: http", "  protocol: WEBSOCKET\n  url: http"),
            "spec.protocol",
            |r| matches!(r, Reason::UnknownValue { allowed, .. } if allowed == &["SSE", "STREAMABLE_HTTP"]),
        ),
        (
            "a ModelProviderConfig without its Secret",
            "apiVersion: kagent.dev/v1alpha2\nkind: ModelProviderConfig\nmetadata: {name: openai}\nspec: {type: OpenAI, endpoint: 'https://api.openai.com/v1'}\n".into(),
            "spec.secretRef.name",
            |r| matches!(r, Reason::Required { hint } if hint.contains("OpenAI")),
        ),
        (
            "a ModelProviderConfig endpoint without scheme",
            "apiVersion: kagent.dev/v1alpha2\nkind: ModelProviderConfig\nmetadata: {name: ollama}\nspec: {type: Ollama, endpoint: 'ollama:11434'}\n".into(),
            "spec.endpoint",
            |r| matches!(r, Reason::Malformed { .. }),
        ),
        (
            "apiKeySecretRef disagreeing with apiKeySecret",
            edit(MODEL, "  apiKeySecret: kagent-openai", "  apiKeySecret: kagent-openai\n  apiKeySecretRef: {name: other, key: OPENAI_API_KEY}"),
            "spec.apiKeySecretRef.name",
            |r| matches!(r, Reason::MutuallyExclusive { other, .. } if other == "spec.apiKeySecret"),
        ),
    ];
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (what, yaml, path, check) in &cases {
        let errs = errors(yaml);
        match errs.at(path) {
            Some(e) if check(&e.reason) => {
                // the message names the path and a remedy a reader (or a model) can act on
                let text = e.to_string();
                assert!(text.starts_with(path), "{text}");
                assert!(text.len() > path.len() + 10, "{text}");
            }
            Some(e) => failures.push(format!("{what}: wrong reason at {path}: {:?}", e.reason)),
            None => failures.push(format!("{what}: no error at {path}; got:\n{errs}")),
        }
        // one mistake, one error: no cascade of follow-up errors
        assert_eq!(errs.errors.len(), 1, "{what}: {errs}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_mistakes_of_one_object_are_reported_together() {
    let yaml = r#"
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {name: k8s-agent}
spec:
  type: Declarative
  declarative:
    systemMessage: hi
    systemMessageFrom: {type: Secret, name: s, key: k}
    tools:
      - type: McpServer
        mcpServer:
          name: a
          kind: RemoteMCPServer
          toolNames: [x]
          requireApproval: [x, y, z]
      - type: Agent
        mcpServer: {name: b}
"#;
    let errs = errors(yaml);
    let paths: Vec<String> = errs.errors.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "spec.declarative.systemMessageFrom",
            "spec.declarative.modelConfig",
            "spec.declarative.tools[0].mcpServer.requireApproval[1]",
            "spec.declarative.tools[0].mcpServer.requireApproval[2]",
            "spec.declarative.tools[1].agent",
            "spec.declarative.tools[1].mcpServer",
        ],
        "{errs}"
    );
    let text = errs.to_string();
    assert!(
        text.starts_with("Agent k8s-agent is invalid (6 errors):"),
        "{text}"
    );
}

#[test]
fn missing_required_fields_are_all_reported() {
    let yaml = "apiVersion: kagent.dev/v1alpha2\nkind: RemoteMCPServer\nmetadata: {name: s}\nspec:\n  headersFrom: [{name: A}]\n";
    let errs = errors(yaml);
    let paths: Vec<String> = errs.errors.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(
        paths,
        ["spec.description", "spec.url", "spec.headersFrom[0].value"],
        "{errs}"
    );
}

#[test]
fn typed_values_validate_without_decoding() {
    use kagent_api::agent::{DeclarativeAgentSpec, McpServerTool, Tool, ToolProviderType};
    let mut agent = kagent_api::Agent::new(
        "typed",
        kagent_api::AgentSpec {
            declarative: Some(DeclarativeAgentSpec {
                model_config: Some("m".into()),
                tools: vec![Tool {
                    type_: Some(ToolProviderType::McpServer),
                    mcp_server: Some(McpServerTool {
                        name: "s".into(),
                        kind: Some("RemoteMCPServer".into()),
                        api_group: Some("kagent.dev".into()),
                        tool_names: vec!["a".into()],
                        require_approval: vec!["a".into()],
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    assert_eq!(agent.validate(), Ok(()));
    agent.spec.declarative.as_mut().unwrap().tools[0]
        .mcp_server
        .as_mut()
        .unwrap()
        .require_approval
        .push("b".into());
    let errs = agent.validate().unwrap_err();
    assert_eq!(
        errs.errors[0].to_string(),
        "spec.declarative.tools[0].mcpServer.requireApproval[1]: `b` is not listed in toolNames: requireApproval may only name tools this agent uses; add it to toolNames or remove it here"
    );
}
