//! Secret values never appear in logs, errors, warnings or `Debug` output: a canary value is
//! loaded as an API key and as an MCP header, every failure and success path is exercised, and
//! everything printable (at TRACE level) is searched for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use kagent_runtime::{AgentLoader, LocalSecrets, ManifestSource};

const CANARY_KEY: &str = "CANARY-key-5f0e2b9d71";
const CANARY_HEADER: &str = "CANARY-header-a83c44e0";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/mcp")
}

fn yaml(with_tool: bool, url: &str) -> String {
    let tools = if with_tool {
        "\n    tools:\n    - type: McpServer\n      mcpServer: {name: tools, kind: RemoteMCPServer, toolNames: [echo]}"
    } else {
        ""
    };
    format!(
        "apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: a, namespace: ns}}
spec:
  type: Declarative
  description: d
  declarative:
    modelConfig: m
    systemMessage: hi{tools}
---
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {{name: m, namespace: ns}}
spec: {{provider: Anthropic, model: claude-sonnet-4-20250514, apiKeySecret: key, apiKeySecretKey: api-key}}
---
apiVersion: v1
kind: Secret
metadata: {{name: key, namespace: ns}}
stringData: {{api-key: {CANARY_KEY}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: token, namespace: ns}}
data: {{token: {}}}
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {{name: tools, namespace: ns}}
spec:
  description: d
  url: '{url}'
  headersFrom: [{{name: Authorization, valueFrom: {{type: Secret, name: token, key: token}}}}]
",
        base64(CANARY_HEADER)
    )
}

fn base64(s: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(CANARY_KEY) && !text.contains(CANARY_HEADER),
        "{what} shows a secret value:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_value_is_printed_anywhere() {
    let logs = Buffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // The header Secret is sent to a server that is not there: the error must not carry it.
    let mut source = ManifestSource::new("ns");
    source
        .add_yaml(&yaml(true, &dead_url()), "canary.yaml")
        .unwrap();
    assert_clean("ManifestSource Debug", &format!("{source:?}"));
    let loader = AgentLoader::new(source);
    assert_clean("AgentLoader Debug", &format!("{loader:?}"));
    let errors = loader.load("ns", "a").await.unwrap_err();
    assert_eq!(
        errors.first().unwrap().condition_reason(),
        "MCPServerUnreachable"
    );
    assert_clean("errors", &format!("{errors}\n{errors:?}"));

    // A wrong key name lists the keys the Secret has, never their values.
    let mut source = ManifestSource::new("ns");
    source
        .add_yaml(
            &yaml(false, &dead_url())
                .replace("apiKeySecretKey: api-key", "apiKeySecretKey: apikey"),
            "canary.yaml",
        )
        .unwrap();
    let errors = AgentLoader::new(source).load("ns", "a").await.unwrap_err();
    assert!(errors.to_string().contains("(it has: api-key)"), "{errors}");
    assert_clean("missing-key error", &format!("{errors}\n{errors:?}"));

    // A successful load: the provider holds the key; nothing printable shows it.
    let mut source = ManifestSource::new("ns");
    source
        .add_yaml(&yaml(false, &dead_url()), "canary.yaml")
        .unwrap();
    let local = LocalSecrets::new().literal(None, "other", "k", CANARY_KEY);
    assert_clean("LocalSecrets Debug", &format!("{local:?}"));
    let loaded = AgentLoader::new(source)
        .secrets(local)
        .load("ns", "a")
        .await
        .unwrap();
    assert_eq!(loaded.model, "anthropic/claude-sonnet-4-20250514");
    assert_clean("LoadedAgent Debug", &format!("{loaded:?}"));
    assert_clean("warnings", &loaded.warnings.join("\n"));
    loaded.close().await;

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_clean("logs", &logged);
}
