//! A table of declaration mistakes: each gives a typed error naming the object, the field path
//! and a condition reason a controller can put into a status condition verbatim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::TcpListener;

use kagent_runtime::{AgentLoader, LoadReason, LocalSecrets, ManifestSource, SourceError};

const MODEL: &str = "
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {name: m, namespace: ns}
spec: {provider: Anthropic, model: claude-sonnet-4-20250514, apiKeySecret: key, apiKeySecretKey: api-key}
";
const SECRET: &str = "
apiVersion: v1
kind: Secret
metadata: {name: key, namespace: ns}
stringData: {api-key: sk-test}
";

/// An Agent `ns/a` whose `spec.declarative` is `decl` (YAML flow or block at 4 spaces).
fn agent(name: &str, decl: &str) -> String {
    format!(
        "
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: {name}, namespace: ns}}
spec:
  type: Declarative
  description: test agent
  declarative:
{decl}
"
    )
}

fn stream(docs: &[&str]) -> String {
    docs.iter()
        .map(|d| d.trim().to_owned())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

const PLAIN: &str = "    modelConfig: m\n    systemMessage: hi";

/// A URL where nothing listens.
fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/mcp")
}

struct Case {
    name: &'static str,
    yaml: String,
    secrets: LocalSecrets,
    /// The condition reason expected.
    reason: &'static str,
    /// `Kind name` of the object at fault.
    object: (&'static str, &'static str),
    /// The field path expected (its display form).
    path: &'static str,
    /// Text the message must contain (what to fix).
    says: &'static str,
}

fn case(
    name: &'static str,
    docs: &[&str],
    reason: &'static str,
    object: (&'static str, &'static str),
    path: &'static str,
    says: &'static str,
) -> Case {
    Case {
        name,
        yaml: stream(docs),
        secrets: LocalSecrets::new(),
        reason,
        object,
        path,
        says,
    }
}

fn tool(server: &str, names: &str) -> String {
    format!(
        "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {{name: {server}, kind: RemoteMCPServer, apiGroup: kagent.dev, toolNames: [{names}]}}"
    )
}

fn server(name: &str, extra: &str, url: &str) -> String {
    format!(
        "apiVersion: kagent.dev/v1alpha2\nkind: RemoteMCPServer\nmetadata: {{name: {name}, namespace: other}}\nspec: {{description: d, protocol: STREAMABLE_HTTP, url: '{url}'{extra}}}"
    )
}

fn cases() -> Vec<Case> {
    let prompts = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prompts, namespace: ns}\ndata: {safety: be careful}";
    let with_template = |include: &str| {
        agent(
            "a",
            &format!(
                "    modelConfig: m\n    systemMessage: 'Rules: {{{{include \"builtin/{include}\"}}}}'\n    promptTemplate:\n      dataSources: [{{kind: ConfigMap, name: prompts, alias: builtin}}]"
            ),
        )
    };
    let dead = dead_url();
    let mut v = vec![
        case(
            "ModelConfig not declared",
            &[&agent("a", PLAIN), SECRET],
            "ModelConfigNotFound",
            ("Agent", "a"),
            "spec.declarative.modelConfig",
            "declare it",
        ),
        case(
            "Secret of the API key missing",
            &[&agent("a", PLAIN), MODEL],
            "SecretNotFound",
            ("ModelConfig", "m"),
            "spec.apiKeySecret",
            "Secret ns/key",
        ),
        case(
            "key missing in the Secret",
            &[
                &agent("a", PLAIN),
                MODEL,
                "apiVersion: v1\nkind: Secret\nmetadata: {name: key, namespace: ns}\nstringData: {token: x}",
            ],
            "SecretKeyMissing",
            ("ModelConfig", "m"),
            "spec.apiKeySecretKey",
            "has no key `api-key` (it has: token)",
        ),
        case(
            "two provider blocks",
            &[
                &agent("a", PLAIN),
                SECRET,
                "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m, namespace: ns}\nspec: {provider: Anthropic, model: x, openAI: {baseUrl: 'http://x'}}",
            ],
            "Invalid",
            ("ModelConfig", "m"),
            "spec.openAI",
            "openAI",
        ),
        case(
            "systemMessage and systemMessageFrom both set",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    systemMessageFrom: {type: ConfigMap, name: prompts, key: safety}",
                ),
                MODEL,
                SECRET,
            ],
            "Invalid",
            ("Agent", "a"),
            "spec.declarative",
            "systemMessage",
        ),
        case(
            "requireApproval not a subset of toolNames",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {name: s, kind: RemoteMCPServer, toolNames: [k8s_get_resources], requireApproval: [k8s_delete_resource]}",
                ),
                MODEL,
                SECRET,
            ],
            "Invalid",
            ("Agent", "a"),
            "spec.declarative.tools[0].mcpServer.requireApproval",
            "k8s_delete_resource",
        ),
        case(
            "BYO agent without an image",
            &[
                "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {name: a, namespace: ns}\nspec: {type: BYO, description: d, byo: {deployment: {}}}",
            ],
            "Invalid",
            ("Agent", "a"),
            "spec.byo.deployment.image",
            "image",
        ),
        case(
            "RemoteMCPServer not declared",
            &[&agent("a", &tool("tools", "echo")), MODEL, SECRET],
            "RemoteMCPServerNotFound",
            ("Agent", "a"),
            "spec.declarative.tools[0].mcpServer.name",
            "kind: RemoteMCPServer",
        ),
        case(
            "MCP server in another namespace that does not allow it",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {name: tools, namespace: other, kind: RemoteMCPServer, toolNames: [echo]}",
                ),
                MODEL,
                SECRET,
                &server("tools", "", &dead),
            ],
            "CrossNamespaceNotAllowed",
            ("Agent", "a"),
            "spec.declarative.tools[0].mcpServer.namespace",
            "allowedNamespaces",
        ),
        case(
            "dead MCP server",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {name: tools, namespace: other, kind: RemoteMCPServer, toolNames: [echo]}",
                ),
                MODEL,
                SECRET,
                &server("tools", ", allowedNamespaces: {from: All}", &dead),
            ],
            "MCPServerUnreachable",
            ("RemoteMCPServer", "tools"),
            "spec.url",
            "could not be reached",
        ),
        case(
            "headersFrom names a missing Secret",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {name: tools, namespace: other, kind: RemoteMCPServer, toolNames: [echo]}",
                ),
                MODEL,
                SECRET,
                &server(
                    "tools",
                    ", allowedNamespaces: {from: All}, headersFrom: [{name: Authorization, valueFrom: {type: Secret, name: mcp-token, key: token}}]",
                    &dead,
                ),
            ],
            "SecretNotFound",
            ("RemoteMCPServer", "tools"),
            "spec.headersFrom[0].valueFrom",
            "Secret other/mcp-token",
        ),
        case(
            "kmcp MCPServer kind",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {name: tools, kind: MCPServer, apiGroup: kagent.dev, toolNames: [echo]}",
                ),
                MODEL,
                SECRET,
            ],
            "Unsupported",
            ("Agent", "a"),
            "spec.declarative.tools[0].mcpServer.kind",
            "RemoteMCPServer",
        ),
        case(
            "agent tool not declared",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: Agent\n      agent: {name: helper}",
                ),
                MODEL,
                SECRET,
            ],
            "AgentNotFound",
            ("Agent", "a"),
            "spec.declarative.tools[0].agent.name",
            "Agent ns/helper",
        ),
        case(
            "agent tools in a cycle",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: Agent\n      agent: {name: b}",
                ),
                &agent(
                    "b",
                    "    modelConfig: m\n    systemMessage: hi\n    tools:\n    - type: Agent\n      agent: {name: a}",
                ),
                MODEL,
                SECRET,
            ],
            "AgentToolCycle",
            ("Agent", "b"),
            "spec.declarative.tools[0].agent.name",
            "ns/a -> ns/b -> ns/a",
        ),
        case(
            "prompt data source ConfigMap missing",
            &[&with_template("safety"), MODEL, SECRET],
            "ConfigMapNotFound",
            ("Agent", "a"),
            "spec.declarative.promptTemplate.dataSources[0]",
            "ConfigMap ns/prompts",
        ),
        case(
            "include of a key the ConfigMap lacks",
            &[&with_template("safety-guardrails"), MODEL, SECRET, prompts],
            "TemplateError",
            ("Agent", "a"),
            "spec.declarative.systemMessage",
            "builtin/safety-guardrails",
        ),
        case(
            "systemMessageFrom names a missing key",
            &[
                &agent(
                    "a",
                    "    modelConfig: m\n    systemMessageFrom: {type: ConfigMap, name: prompts, key: nope}",
                ),
                MODEL,
                SECRET,
                prompts,
            ],
            "ConfigMapKeyMissing",
            ("Agent", "a"),
            "spec.declarative.systemMessageFrom",
            "has no key `nope`",
        ),
        case(
            "apiKeyPassthrough without a key",
            &[
                &agent("a", PLAIN),
                "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m, namespace: ns}\nspec: {provider: OpenAI, model: gpt-4.1-mini, apiKeyPassthrough: true}",
            ],
            "Unsupported",
            ("ModelConfig", "m"),
            "spec.apiKeyPassthrough",
            "apiKeySecret",
        ),
    ];
    let mut env = case(
        "local secret from an unset environment variable",
        &[&agent("a", PLAIN), MODEL],
        "EnvVarMissing",
        ("ModelConfig", "m"),
        "spec.apiKeySecret",
        "KAGENT_RUNTIME_TEST_UNSET_VAR",
    );
    env.secrets = LocalSecrets::new().env(None, "key", "api-key", "KAGENT_RUNTIME_TEST_UNSET_VAR");
    v.push(env);
    let mut file = case(
        "local secret from a missing file",
        &[&agent("a", PLAIN), MODEL],
        "SecretFileUnreadable",
        ("ModelConfig", "m"),
        "spec.apiKeySecret",
        "/nonexistent/kagent-key",
    );
    file.secrets = LocalSecrets::new().file(None, "key", "api-key", "/nonexistent/kagent-key");
    v.push(file);
    v
}

#[tokio::test]
async fn every_mistake_names_its_object_field_and_reason() {
    let all = cases();
    assert!(all.len() >= 15);
    let mut failures = Vec::new();
    for c in all {
        let mut source = ManifestSource::new("ns");
        if let Err(e) = source.add_yaml(&c.yaml, "case.yaml") {
            // kagent's validation rules are enforced when the files are read: the error names
            // the file, the document, the object and the field.
            let shown = e.to_string();
            let object = format!("{} ns/{}", c.object.0, c.object.1);
            if !(c.reason == "Invalid"
                && matches!(e, SourceError::Documents { .. })
                && shown.contains(&object)
                && shown.contains(c.path)
                && shown.contains(c.says))
            {
                failures.push(format!("{}: unexpected read error: {shown}", c.name));
            }
            continue;
        }
        if c.reason == "Invalid" {
            failures.push(format!("{}: read without a validation error", c.name));
            continue;
        }
        let result = AgentLoader::new(source)
            .secrets(c.secrets)
            .load("ns", "a")
            .await;
        let Err(errors) = result else {
            failures.push(format!("{}: loaded", c.name));
            continue;
        };
        let e = errors.first().unwrap();
        let shown = e.to_string();
        let ok = e.condition_reason() == c.reason
            && e.object.kind == c.object.0
            && e.object.name.as_deref() == Some(c.object.1)
            && (matches!(e.reason, LoadReason::Invalid { .. }) || e.path.to_string() == c.path)
            && shown.contains(c.path)
            && shown.contains(c.says);
        if !ok {
            failures.push(format!(
                "{}: expected {} on {} {} at {} saying {:?}; got {} on {} {:?} at {}: {shown}",
                c.name,
                c.reason,
                c.object.0,
                c.object.1,
                c.path,
                c.says,
                e.condition_reason(),
                e.object.kind,
                e.object.name,
                e.path
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn invalid_yaml_names_the_file_and_document() {
    let mut source = ManifestSource::new("ns");
    let err = source
        .add_yaml(
            &format!(
                "{}\n---\nkind: Agent\nmetadata: {{name: [unclosed\n",
                MODEL.trim()
            ),
            "broken.yaml",
        )
        .unwrap_err();
    assert!(matches!(err, SourceError::Documents { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("broken.yaml"), "{shown}");
    assert!(shown.contains("document 2"), "{shown}");
}

#[test]
fn an_object_declared_twice_is_an_error() {
    let mut source = ManifestSource::new("ns");
    source.add_yaml(MODEL, "a.yaml").unwrap();
    let err = source.add_yaml(MODEL, "b.yaml").unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("a.yaml") && shown.contains("b.yaml"),
        "{shown}"
    );
}

#[tokio::test]
async fn loading_goes_on_past_a_failure_and_reports_them_all() {
    let mut source = ManifestSource::new("ns");
    source
        .add_yaml(
            &stream(&[&agent(
                "a",
                "    modelConfig: missing\n    systemMessage: hi\n    tools:\n    - type: McpServer\n      mcpServer: {name: gone, kind: RemoteMCPServer, toolNames: [x]}\n    - type: Agent\n      agent: {name: nobody}",
            )]),
            "a.yaml",
        )
        .unwrap();
    let errors = AgentLoader::new(source).load("ns", "a").await.unwrap_err();
    let reasons: Vec<_> = errors.iter().map(|e| e.condition_reason()).collect();
    assert_eq!(
        reasons,
        [
            "ModelConfigNotFound",
            "RemoteMCPServerNotFound",
            "AgentNotFound"
        ],
        "{errors}"
    );
}
