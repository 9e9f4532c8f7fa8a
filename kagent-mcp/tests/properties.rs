//! Property tests of the server side: arbitrary bodies and JSON-RPC messages POSTed to
//! [`kagent_mcp::router`] in process, in session mode (with a live session, so the direct
//! `tools/call` path is reached) and in stateless JSON mode. Every request gets an HTTP answer
//! (never a panic, a 5xx or a hang), and the answer stays proportional to the request.
//!
//! CI runs a small number of cases; `PROPTEST_CASES=5000 cargo test -p kagent-mcp --test
//! properties --release` runs a long local session.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kagent_core::{
    IntoTool, ToolContext, ToolEffect, ToolError, ToolOutput, Toolset, TypedTool, async_trait,
};
use kagent_mcp::{HttpServeOptions, ToolsetServer, router};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// Text to echo.
    text: String,
    /// How often.
    times: Option<u8>,
}

struct Echo;

#[async_trait]
impl TypedTool for Echo {
    type Args = EchoArgs;
    fn name(&self) -> &str {
        "echo"
    }
    fn description(&self) -> &str {
        "Echoes text"
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, args: EchoArgs, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(
            args.text
                .repeat(usize::from(args.times.unwrap_or(1).min(4))),
        ))
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just("echo".to_owned()), Just("2.0".to_owned()), ".{0,12}"]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("arguments".to_owned()),
                    Just("text".to_owned()),
                    Just("times".to_owned()),
                    Just("_meta".to_owned()),
                    Just("progressToken".to_owned()),
                    Just("cursor".to_owned()),
                    Just("requestId".to_owned()),
                    Just("protocolVersion".to_owned()),
                    Just("capabilities".to_owned()),
                    Just("clientInfo".to_owned()),
                    "[a-zA-Z]{1,6}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One JSON-RPC message: mostly well-formed, with arbitrary ids, methods and params.
fn message() -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        Just("tools/call"),
        Just("tools/list"),
        Just("initialize"),
        Just("ping"),
        Just("notifications/initialized"),
        Just("notifications/cancelled"),
        Just("resources/list"),
        Just("completion/complete"),
        Just("nope/never"),
        Just(""),
    ];
    let id = prop_oneof![
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
        Just(Value::Null),
        json_value(),
    ];
    let call_params = (
        prop_oneof![Just("echo".to_owned()), ".{0,10}"],
        prop_oneof![
            (".{0,40}", proptest::option::of(any::<u8>()))
                .prop_map(|(text, times)| json!({"text": text, "times": times})),
            json_value(),
        ],
    )
        .prop_map(|(name, arguments)| json!({"name": name, "arguments": arguments}));
    let params = prop_oneof![call_params, json_value()];
    (
        prop_oneof![Just(json!("2.0")), json_value()],
        proptest::option::of(id),
        method,
        proptest::option::of(params),
    )
        .prop_map(|(jsonrpc, id, method, params)| {
            let mut m = json!({"jsonrpc": jsonrpc, "method": method});
            if let Some(id) = id {
                m["id"] = id;
            }
            if let Some(params) = params {
                m["params"] = params;
            }
            m
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => message().prop_map(|m| m.to_string().into_bytes()),
        1 => prop::collection::vec(message(), 0..4).prop_map(|b| Value::Array(b).to_string().into_bytes()),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

fn request(body: Vec<u8>, session: Option<&str>, content_type: &str) -> Request<Body> {
    let mut builder = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", content_type)
        .header("accept", "application/json, text/event-stream")
        .header("content-length", body.len());
    if let Some(s) = session {
        builder = builder
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-06-18");
    }
    builder.body(Body::from(body)).unwrap()
}

/// Starts a session with `initialize` and `notifications/initialized`; returns its id.
async fn open_session(app: &Router) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "proptest", "version": "1"}}});
    let response = app
        .clone()
        .oneshot(request(
            init.to_string().into_bytes(),
            None,
            "application/json",
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = response.into_body().collect().await.unwrap();
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = app
        .clone()
        .oneshot(request(
            done.to_string().into_bytes(),
            Some(&session),
            "application/json",
        ))
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    session
}

async fn check(app: Router, body: Vec<u8>, session: Option<String>) -> Result<(), TestCaseError> {
    let sent = body.len();
    let shown = String::from_utf8_lossy(&body).into_owned();
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        app.oneshot(request(body, session.as_deref(), "application/json")),
    )
    .await
    .map_err(|_| TestCaseError::fail(format!("no answer to {shown}")))?
    .unwrap();
    let status = response.status();
    prop_assert!(!status.is_server_error(), "{status} for {shown}");
    let answer = tokio::time::timeout(Duration::from_secs(10), response.into_body().collect())
        .await
        .map_err(|_| TestCaseError::fail(format!("the answer to {shown} never ended")))?
        .map_err(|e| TestCaseError::fail(format!("body error {e} for {shown}")))?
        .to_bytes();
    // Echo repeats its text at most 4 times; everything else is a fixed-size answer.
    prop_assert!(
        answer.len() <= 8 * sent + 8_192,
        "{} bytes answered {sent} bytes: {shown}",
        answer.len()
    );
    Ok(())
}

fn app(stateless: bool) -> Router {
    let tools = Toolset::new().with(Echo.into_tool().unwrap()).unwrap();
    router(
        ToolsetServer::new("proptest", "1.0.0", tools),
        HttpServeOptions::new().stateless_json(stateless),
    )
}

fn run_cases(stateless: bool, with_session: bool, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = app(stateless);
    let session = with_session.then(|| rt.block_on(open_session(&app)));
    let mut runner = TestRunner::new(config(cases));
    runner
        .run(&body(), |body| {
            rt.block_on(check(app.clone(), body, session.clone()))
        })
        .unwrap();
}

#[test]
fn arbitrary_posts_to_a_live_session_get_an_answer() {
    run_cases(false, true, 96);
}

#[test]
fn arbitrary_posts_without_a_session_get_an_answer() {
    run_cases(false, false, 48);
}

#[test]
fn arbitrary_posts_in_stateless_mode_get_an_answer() {
    run_cases(true, false, 96);
}

#[test]
fn odd_content_types_are_refused_cleanly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = app(false);
    for ct in [
        "text/plain",
        "",
        "application/json; charset=utf-16",
        "multipart/form-data",
    ] {
        let response = rt
            .block_on(app.clone().oneshot(request(b"{}".to_vec(), None, ct)))
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{ct}: {}",
            response.status()
        );
    }
}

/// The generated traffic reaches the tools: a well-formed call in the live session is answered
/// by the tool (so the cases above exercise the call path, not only rejections).
#[test]
fn a_well_formed_call_reaches_the_tool() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = app(false);
    let session = rt.block_on(open_session(&app));
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hello-", "times": 2}}});
    let response = rt
        .block_on(app.clone().oneshot(request(
            call.to_string().into_bytes(),
            Some(&session),
            "application/json",
        )))
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = rt
        .block_on(response.into_body().collect())
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("hello-hello-"), "{text}");
}
