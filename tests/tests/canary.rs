//! Canary secrets, across the whole system (issue 10).
//!
//! A canary API key (an OpenAI ModelConfig's `apiKeySecret`) and a canary Secret value (a
//! RemoteMCPServer's `headersFrom` bearer token) are declared in YAML and loaded with
//! `AgentLoader` + `ManifestSource`. Neither looks like a known key format, so only known-value
//! redaction can catch them. They then travel every path a secret can leak through:
//!
//! - run 1: the model server answers 401 and echoes the key in its body; the run fails;
//! - run 2: the model server answers 429 (`Retry-After: 0`) echoing the key (retried), then does
//!   not answer within the ModelConfig's request timeout (retried), then asks for the MCP tool,
//!   whose output contains the canary Secret value (raw and base64), then answers with text
//!   that repeats the value, split across stream chunks;
//! - a second agent whose MCP server rejects its bearer token with a 401 that echoes the
//!   `Authorization` header.
//!
//! With every log level on, the canaries (and their base64 forms, and even their common
//! prefix) must not appear in any log line, span field, event (`Debug` and JSON), audit record,
//! error (`Display`, `Debug`, sources), `Debug` of the loaded agent, anything the model was
//! sent, or anything the MCP server received other than the `Authorization` header itself,
//! which must carry the value (the header did flow).
//!
//! Metric labels: the workspace has no metrics yet, so there is nothing to check there.
//!
//! The model server and the MCP servers stand for other processes: they run on their own
//! thread whose tracing dispatcher is a `NoSubscriber`, so what is searched is the agent
//! side's output only (an MCP server that logs its own tool output is that server's business;
//! rmcp's server does so at DEBUG).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use kagent_core::{
    AgentError, AgentEvent, ApiErrorKind, AuditOutcome, IntoTool, Limits, MemoryAuditSink,
    ProviderError, RunRequest, ToolContext, ToolEffect, ToolError, ToolOutput, Toolset, TypedTool,
    async_trait, spawn_run,
};
use kagent_llm::testing::{Reply, Scenario, WireServer};
use kagent_mcp::{HttpServeOptions, ToolsetServer};
use kagent_runtime::{AgentLoader, ManifestSource};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// The model API key. Not `sk-...`: no pattern catches it.
const CANARY_KEY: &str = "kagent-canary-key-3b8f1d2e9a64";
/// The MCP server's bearer token, from a Secret through `headersFrom`.
const CANARY_VALUE: &str = "kagent-canary-value-71c04e5dd2";
/// The token of the agent whose MCP server rejects it.
const CANARY_REJECTED: &str = "kagent-canary-rejected-9e2f01";
/// What every canary starts with: not even a part of one may show.
const CANARY_PREFIX: &str = "kagent-canary";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every form of every canary that must not show.
fn forbidden() -> Vec<String> {
    let mut out = vec![CANARY_PREFIX.to_owned()];
    for c in [CANARY_KEY, CANARY_VALUE, CANARY_REJECTED] {
        out.push(c.to_owned());
        out.push(b64(c));
        out.push(b64(&format!("Bearer {c}")));
    }
    out
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for f in forbidden() {
        assert!(!text.contains(&f), "{what} shows {f:?}:\n{text}");
    }
}

fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{e}\n{e:?}");
    let mut cur = e.source();
    while let Some(s) = cur {
        write!(out, "\n{s}\n{s:?}").unwrap();
        cur = s.source();
    }
    out
}

// ----- capturing every log line and every span field -----

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every field of every span (at creation and when recorded later) and of every event, as
/// `name field=value` lines: what an OpenTelemetry exporter would see as attributes.
#[derive(Clone, Default)]
struct Fields(Arc<Mutex<Vec<String>>>);

struct Collect(String);

impl Visit for Collect {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        write!(self.0, " {}={value:?}", field.name()).unwrap();
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        write!(self.0, " {}={value}", field.name()).unwrap();
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Fields {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let mut c = Collect(format!("span {}", attrs.metadata().name()));
        attrs.record(&mut c);
        self.0.lock().unwrap().push(c.0);
    }
    fn on_record(
        &self,
        _: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: Context<'_, S>,
    ) {
        let mut c = Collect("record".to_owned());
        values.record(&mut c);
        self.0.lock().unwrap().push(c.0);
    }
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut c = Collect(format!("event {}", event.metadata().target()));
        event.record(&mut c);
        self.0.lock().unwrap().push(c.0);
    }
}

// ----- the remote side: model server and MCP servers, on a quiet thread -----

/// What the MCP server received (before its bearer check).
#[derive(Debug, Clone)]
struct McpRequest {
    method: String,
    uri: String,
    authorization: Option<String>,
    /// Every other header, `name: value`.
    headers: Vec<String>,
    body: String,
}

type McpLog = Arc<Mutex<Vec<McpRequest>>>;

async fn record(State(log): State<McpLog>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut authorization = None;
    let mut headers = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::AUTHORIZATION {
            authorization = Some(value);
        } else {
            headers.push(format!("{name}: {value}"));
        }
    }
    log.lock().unwrap().push(McpRequest {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        authorization,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A 401 (a 403 under `/forbidden`) that echoes the `Authorization` header it got, as a
/// careless gateway would.
async fn echo_401(request: Request) -> Response {
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let body = axum::Json(json!({"jsonrpc": "2.0", "id": null,
        "error": {"code": -32001, "message": format!("invalid token: {presented}")}}));
    if request.uri().path().starts_with("/forbidden") {
        // No `WWW-Authenticate`: a plain refusal, whose body rmcp quotes in its error.
        (http::StatusCode::FORBIDDEN, body).into_response()
    } else {
        (
            http::StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer")],
            body,
        )
            .into_response()
    }
}

/// A read-only tool whose output carries the canary Secret value, raw and as a Kubernetes
/// Secret's `data` would (base64).
struct ReadConfig;

#[async_trait]
impl TypedTool for ReadConfig {
    type Args = Value;
    fn name(&self) -> &str {
        "read_config"
    }
    fn description(&self) -> &str {
        "Reads the service configuration."
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, _: Value, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(format!(
            "db_host: pg.prod.svc\ndb_token: {CANARY_VALUE}\nsecret data: {{token: {}}}",
            b64(CANARY_VALUE)
        )))
    }
}

struct Remote {
    model: WireServer,
    mcp: SocketAddr,
    mcp_log: McpLog,
    rejecting: SocketAddr,
}

const COMPLETIONS: &str = "/v1/chat/completions";

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
        "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

fn model_scenarios(tool: &str) -> Vec<Scenario> {
    let bearer = format!("Bearer {CANARY_KEY}");
    let on = || Scenario::post(COMPLETIONS).header("authorization", &bearer);
    // The final answer repeats the secret, cut in the middle across two chunks.
    let (head, tail) = CANARY_VALUE.split_at(10);
    vec![
        // Run 1: the key is rejected and echoed back.
        on().reply(Reply::json(
            401,
            &json!({"error": {"message": format!("Incorrect API key provided: {CANARY_KEY}. \
                You can find your API key at https://platform.openai.com/account/api-keys."),
                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
        )),
        // Run 2: rate limited (the key echoed again), retried at once.
        on().reply(
            Reply::json(
                429,
                &json!({"error": {"message": format!("Rate limit reached for key {CANARY_KEY}"),
                    "type": "requests", "code": "rate_limit_exceeded"}}),
            )
            .header("retry-after", "0"),
        ),
        // No answer within the ModelConfig's 1 s request timeout: retried.
        on().reply(Reply::sse([chunk(json!({"content": "late"}), Some("stop"))]).delay(Duration::from_secs(4))),
        // The model asks for the MCP tool.
        on().reply(Reply::sse([
            chunk(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": tool, "arguments": ""}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"service\":\"checkout\"}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
            "data: [DONE]\n\n".to_owned(),
        ])),
        // The answer repeats the Secret value.
        on().reply(Reply::sse([
            chunk(json!({"role": "assistant", "content": format!("The token is {head}")}), None),
            chunk(json!({"content": format!("{tail}, from read_config.")}), None),
            chunk(json!({}), Some("stop")),
            "data: [DONE]\n\n".to_owned(),
        ])),
    ]
}

/// Starts the model server and the MCP servers on their own thread, with no tracing.
fn start_remote(tool: &'static str) -> Remote {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let model = WireServer::start(model_scenarios(tool)).await;

            let mut tools = Toolset::new();
            tools.add(ReadConfig.into_tool().unwrap()).unwrap();
            let server = ToolsetServer::new("canary-tools", "1.0.0", tools);
            let mcp_log = McpLog::default();
            let app =
                kagent_mcp::router(server, HttpServeOptions::new().bearer_token(CANARY_VALUE))
                    .layer(axum::middleware::from_fn_with_state(
                        mcp_log.clone(),
                        record,
                    ));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mcp = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
                .unwrap();
            });

            let rejecting_app = axum::Router::new().fallback(echo_401);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let rejecting = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(listener, rejecting_app).await.unwrap();
            });

            tx.send(Remote {
                model,
                mcp,
                mcp_log,
                rejecting,
            })
            .unwrap();
            // Serve until the test process ends.
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

fn manifests(model_url: &str, mcp_url: &str, rejecting_url: &str) -> String {
    format!(
        "apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: ops, namespace: prod}}
spec:
  type: Declarative
  description: Answers questions about service configuration.
  declarative:
    modelConfig: gpt
    systemMessage: You read service configuration.
    tools:
    - type: McpServer
      mcpServer: {{name: config-tools, kind: RemoteMCPServer, apiGroup: kagent.dev, toolNames: [read_config]}}
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: rejected, namespace: prod}}
spec:
  type: Declarative
  description: Uses an MCP server that rejects its token.
  declarative:
    modelConfig: gpt
    systemMessage: hi
    tools:
    - type: McpServer
      mcpServer: {{name: gatekeeper, kind: RemoteMCPServer, apiGroup: kagent.dev, toolNames: [read_config]}}
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: forbidden, namespace: prod}}
spec:
  type: Declarative
  description: Uses an MCP server that forbids its token.
  declarative:
    modelConfig: gpt
    systemMessage: hi
    tools:
    - type: McpServer
      mcpServer: {{name: forbidder, kind: RemoteMCPServer, apiGroup: kagent.dev, toolNames: [read_config]}}
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {{name: forbidder, namespace: prod}}
spec:
  description: Forbids every token.
  url: '{rejecting_url_forbidden}'
  protocol: STREAMABLE_HTTP
  headersFrom:
  - name: Authorization
    valueFrom: {{type: Secret, name: gatekeeper-token, key: token}}
---
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {{name: gpt, namespace: prod}}
spec:
  provider: OpenAI
  model: gpt-4o
  apiKeySecret: openai-key
  apiKeySecretKey: api-key
  openAI:
    baseUrl: '{model_url}/v1'
    timeout: 1
---
apiVersion: v1
kind: Secret
metadata: {{name: openai-key, namespace: prod}}
type: Opaque
data: {{api-key: {key}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: mcp-token, namespace: prod}}
type: Opaque
stringData: {{token: 'Bearer {CANARY_VALUE}'}}
---
apiVersion: v1
kind: Secret
metadata: {{name: gatekeeper-token, namespace: prod}}
type: Opaque
stringData: {{token: 'Bearer {CANARY_REJECTED}'}}
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {{name: config-tools, namespace: prod}}
spec:
  description: Service configuration.
  url: '{mcp_url}'
  protocol: STREAMABLE_HTTP
  headersFrom:
  - name: Authorization
    valueFrom: {{type: Secret, name: mcp-token, key: token}}
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {{name: gatekeeper, namespace: prod}}
spec:
  description: Rejects every token.
  url: '{rejecting_url}'
  protocol: STREAMABLE_HTTP
  headersFrom:
  - name: Authorization
    valueFrom: {{type: Secret, name: gatekeeper-token, key: token}}
",
        key = b64(CANARY_KEY),
        rejecting_url_forbidden = rejecting_url.replace("/mcp", "/forbidden/mcp"),
    )
}

async fn run(
    agent: Arc<kagent_core::LlmAgent>,
    task: &str,
) -> (Vec<AgentEvent>, Result<kagent_core::RunOutput, AgentError>) {
    let mut events = Vec::new();
    let result = spawn_run(agent, RunRequest::new(task))
        .for_each_event(|e| events.push(e))
        .await;
    (events, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_never_leave_the_agent() {
    let logs = Buffer::default();
    let writer = logs.clone();
    let fields = Fields::default();
    // Every level, every span event (with the span's fields), `log` records bridged.
    tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::TRACE)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_span_events(FmtSpan::FULL)
                .with_target(true),
        )
        .with(fields.clone())
        .init();
    tracing::trace!("canary test: capture on");

    let remote = start_remote("read_config");
    let mut source = ManifestSource::new("prod");
    source
        .add_yaml(
            &manifests(
                &remote.model.url(),
                &format!("http://{}/mcp", remote.mcp),
                &format!("http://{}/mcp", remote.rejecting),
            ),
            "canary.yaml",
        )
        .unwrap();
    assert_clean("ManifestSource Debug", &format!("{source:?}"));
    let audit = MemoryAuditSink::new();
    let loader = AgentLoader::new(source).audit(audit.clone()).limits(
        Limits::default()
            .with_model_retries(3)
            .with_retry_initial_delay(Duration::from_millis(10))
            .with_retry_max_delay(Duration::from_millis(50)),
    );
    assert_clean("AgentLoader Debug", &format!("{loader:?}"));
    let loaded = loader.load("prod", "ops").await.unwrap();
    assert_clean(
        "LoadedAgent Debug",
        &format!("{loaded:?}\n{:?}", loaded.agent),
    );
    assert_eq!(
        loaded.agent.toolset().names().collect::<Vec<_>>(),
        vec!["read_config"]
    );
    let known = loaded.agent.secret_values();
    assert!(
        known.is_in(CANARY_KEY) && known.is_in(CANARY_VALUE),
        "the loader registered both"
    );

    let mut everything = Vec::<(String, String)>::new();

    // ----- run 1: 401 with the key echoed -----
    let (events1, result1) = run(loaded.agent.clone(), "Which database does checkout use?").await;
    let err = result1.unwrap_err();
    match &err {
        AgentError::Provider {
            attempts: 1,
            source:
                ProviderError::Api {
                    kind: ApiErrorKind::Authentication,
                    details,
                    ..
                },
        } => {
            assert_eq!(details.status, Some(401));
            // The echo was there, and was redacted.
            assert!(
                details
                    .message
                    .starts_with("Incorrect API key provided: [REDACTED]."),
                "{details:?}"
            );
        }
        other => panic!("run 1 should fail on the 401: {other:?}"),
    }
    let failed: Vec<&String> = events1
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Failed { error } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{events1:?}");
    assert!(failed[0].contains("[REDACTED]"), "{}", failed[0]);
    everything.push(("run 1 error".into(), error_text(&err)));

    // ----- run 2: 429, timeout, tool call, answer -----
    let (events2, result2) = run(loaded.agent.clone(), "Which database does checkout use?").await;
    let out = result2.unwrap();
    let retries: Vec<&String> = events2
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Retrying { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(
        retries.len(),
        2,
        "the 429 and the timeout were retried: {events2:?}"
    );
    assert!(
        retries[0].contains("[REDACTED]"),
        "the 429 echoed the key: {}",
        retries[0]
    );
    assert!(retries[0].contains("429"), "{}", retries[0]);
    assert!(retries[1].contains("timed out"), "{}", retries[1]);
    assert!(
        retries[1].contains("(first byte)"),
        "the request (first byte) timeout, not another: {}",
        retries[1]
    );
    assert!(
        events2.iter().any(|e| matches!(e, AgentEvent::ToolFinished { tool, is_error: false, .. } if tool == "read_config")),
        "the tool ran: {events2:?}"
    );
    assert_eq!(out.tool_calls, 1);
    assert!(out.answer.contains("[REDACTED]"), "{}", out.answer);
    assert!(
        out.answer
            .starts_with("The token is [REDACTED], from read_config."),
        "{}",
        out.answer
    );
    let streamed: String = events2
        .iter()
        .filter_map(|e| match e {
            AgentEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "The token is [REDACTED], from read_config.");
    everything.push(("run 2 output".into(), format!("{out:?}")));

    // The model was asked 5 times; it was sent the key in the header only, and the tool's
    // output with the value redacted.
    let requests = remote.model.requests();
    assert_eq!(requests.len(), 5, "{:?}", remote.model.mismatches());
    remote.model.verify();
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {CANARY_KEY}").as_str())
        );
        let others: Vec<String> = r
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        everything.push(("model request headers".into(), others.join("\n")));
        everything.push((
            "model request body".into(),
            String::from_utf8_lossy(&r.body).into_owned(),
        ));
    }
    let last = requests[4].json().unwrap();
    let tool_message = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("the tool result was sent to the model")
        .to_string();
    assert!(
        tool_message.contains("db_token: [REDACTED]"),
        "{tool_message}"
    );
    assert!(
        tool_message.contains("{token: [REDACTED]}"),
        "{tool_message}"
    );

    // The MCP server got the value in the Authorization header, and nowhere else.
    let mcp_requests = remote.mcp_log.lock().unwrap().clone();
    assert!(
        mcp_requests
            .iter()
            .any(|r| r.body.contains("\"tools/call\"")),
        "the tool was called over MCP: {mcp_requests:?}"
    );
    for r in &mcp_requests {
        if r.method == "POST" {
            assert_eq!(
                r.authorization.as_deref(),
                Some(format!("Bearer {CANARY_VALUE}").as_str()),
                "{} {}",
                r.method,
                r.uri
            );
        }
        everything.push((
            format!("MCP request {} {}", r.method, r.uri),
            format!("{}\n{}", r.headers.join("\n"), r.body),
        ));
    }

    // The audit trail: the tool call, succeeded.
    let records = audit.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].tool, "read_config");
    assert_eq!(records[0].outcome, AuditOutcome::Succeeded);
    everything.push((
        "audit (JSON)".into(),
        serde_json::to_string(&records).unwrap(),
    ));
    everything.push(("audit (Debug)".into(), format!("{records:?}")));

    for (i, e) in events1.iter().chain(&events2).enumerate() {
        everything.push((format!("event {i} (Debug)"), format!("{e:?}")));
        everything.push((
            format!("event {i} (JSON)"),
            serde_json::to_string(e).unwrap(),
        ));
    }
    let sessions = loaded.agent.sessions();
    let session = sessions.load(&out.session_id).await.unwrap().unwrap();
    everything.push(("session".into(), format!("{session:?}")));
    loaded.close().await;

    // ----- an MCP server that rejects the token and echoes it in its 401 -----
    let rejected = loader.load("prod", "rejected").await.unwrap_err();
    assert!(
        rejected.to_string().contains("Auth required"),
        "the 401 was met: {rejected}"
    );
    everything.push(("rejected load".into(), format!("{rejected}\n{rejected:?}")));
    // A 403 answer's body reaches the error (rmcp quotes it): the echoed header must not.
    let forbidden = loader.load("prod", "forbidden").await.unwrap_err();
    let text = forbidden.to_string();
    assert!(
        text.contains("403") && text.contains("invalid token: [REDACTED]"),
        "the 403 was met and its echo redacted: {text}"
    );
    everything.push((
        "forbidden load".into(),
        format!("{forbidden}\n{forbidden:?}"),
    ));

    // ----- nothing anywhere -----
    for (what, text) in &everything {
        assert_clean(what, text);
    }
    let log_text = logs.text();
    let field_text = fields.0.lock().unwrap().join("\n");
    // The capture worked: the runs were logged and their spans recorded.
    assert!(
        log_text.contains("agent run failed"),
        "log capture is not working"
    );
    assert!(
        log_text.contains("retrying model call"),
        "log capture is not working"
    );
    assert!(
        field_text.contains("span execute_tool")
            && field_text.contains("gen_ai.tool.name=read_config")
    );
    std::io::stderr()
        .write_all(
            format!(
                "captured {} bytes of logs, {} field lines\n",
                log_text.len(),
                fields.0.lock().unwrap().len()
            )
            .as_bytes(),
        )
        .unwrap();
    // KAGENT_CANARY_LOG=path keeps what was captured, to look at.
    if let Some(path) = std::env::var_os("KAGENT_CANARY_LOG") {
        std::fs::write(
            path,
            format!("{log_text}\n----- fields -----\n{field_text}"),
        )
        .unwrap();
    }
    assert_clean("logs", &log_text);
    assert_clean("span and event fields", &field_text);
}
