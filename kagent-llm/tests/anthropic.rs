//! Anthropic Messages (direct and on Vertex AI) against the byte-exact wire server:
//! PROVIDER-WIRE.md section A, plus T-1/T-7/T-8/T-9 and E-1..E-3 on this provider.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use kagent_core::{
    ApiErrorKind, AssistantMessage, ChatEvent, ChatRequest, ChatResponse, FinishReason, Message,
    ModelProvider, ProviderError, Reasoning, ToolArguments, ToolCall, ToolEffect, ToolResult,
    ToolSpec, collect_stream,
};
use kagent_llm::anthropic::AnthropicProvider;
use kagent_llm::testing::{Reply, Scenario, WireServer, split_at, split_inside, sse_body};
use kagent_llm::vertex::{GoogleAuth, VertexLocation};
use kagent_llm::{Auth, ProviderOptions, Timeouts};
use serde_json::{Value, json};

const KEY: &str = "sk-ant-test-SECRET";

fn provider(server: &WireServer) -> AnthropicProvider {
    provider_with(options(server))
}

fn options(server: &WireServer) -> ProviderOptions {
    ProviderOptions::new()
        .with_api_key(KEY)
        .with_base_url(server.url())
        .with_timeouts(
            Timeouts::NONE
                .with_connect(Some(Duration::from_secs(5)))
                .with_request(Some(Duration::from_secs(10)))
                .with_stream_idle(Some(Duration::from_secs(10))),
        )
}

fn provider_with(options: ProviderOptions) -> AnthropicProvider {
    AnthropicProvider::new(reqwest::Client::new(), "claude-test", options).unwrap()
}

fn messages_scenario(reply: Reply) -> Scenario {
    Scenario::post("/v1/messages")
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .reply(reply)
}

fn ask() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

async fn stream_result(
    p: &AnthropicProvider,
    req: &ChatRequest,
) -> Result<ChatResponse, ProviderError> {
    let stream = p.chat_stream(req).await?;
    collect_stream("anthropic", stream).await
}

async fn stream_events(
    p: &AnthropicProvider,
    req: &ChatRequest,
) -> Vec<Result<ChatEvent, ProviderError>> {
    let stream = p.chat_stream(req).await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), stream.collect::<Vec<_>>())
        .await
        .expect("stream hung")
}

const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-test-20250101","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#;
const STOP: &str = r#"{"type":"message_stop"}"#;

fn delta_stop(reason: &str, output_tokens: u64) -> String {
    format!(
        r#"{{"type":"message_delta","delta":{{"stop_reason":"{reason}","stop_sequence":null}},"usage":{{"output_tokens":{output_tokens}}}}}"#
    )
}

fn tool_start(index: usize, id: &str, name: &str) -> String {
    format!(
        r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"tool_use","id":"{id}","name":"{name}","input":{{}}}}}}"#
    )
}

fn json_delta(index: usize, partial: &str) -> String {
    let escaped = serde_json::to_string(partial).unwrap();
    format!(
        r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"input_json_delta","partial_json":{escaped}}}}}"#
    )
}

fn block_stop(index: usize) -> String {
    format!(r#"{{"type":"content_block_stop","index":{index}}}"#)
}

fn text_start(index: usize) -> String {
    format!(
        r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"text","text":""}}}}"#
    )
}

fn text_delta(index: usize, text: &str) -> String {
    let escaped = serde_json::to_string(text).unwrap();
    format!(
        r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta","text":{escaped}}}}}"#
    )
}

fn tool_spec(name: &str) -> ToolSpec {
    ToolSpec::new(name, format!("{name} tool"), ToolEffect::ReadOnly)
        .unwrap()
        .with_input_schema(
            json!({"type": "object", "properties": {"location": {"type": "string"}}}),
        )
        .idempotent(true)
}

#[tokio::test]
async fn a_1_input_json_delta_concatenated_and_placeholder_ignored() {
    let s1 = tool_start(0, "toolu_1", "get_weather");
    let d1 = json_delta(0, "{\"location\": \"Par");
    let d2 = json_delta(0, "is, Fr");
    let d3 = json_delta(0, "ance\"}");
    let d4 = delta_stop("tool_use", 40);
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", s1.as_str()),
        ("content_block_delta", d1.as_str()),
        ("content_block_delta", d2.as_str()),
        ("content_block_delta", d3.as_str()),
        ("content_block_stop", block_stop(0).as_str()),
        ("message_delta", d4.as_str()),
        ("message_stop", STOP),
    ]);
    // Split inside the JSON string `"Par|is"` of the escaped partial_json.
    let chunks = split_inside(body.as_bytes(), "Par", 2);
    let server = WireServer::start(vec![messages_scenario(Reply::sse(chunks))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(r.message.tool_calls.len(), 1);
    let call = &r.message.tool_calls[0];
    assert_eq!(call.id, "toolu_1");
    assert_eq!(call.name, "get_weather");
    assert_eq!(
        call.arguments,
        ToolArguments::Json(json!({"location": "Paris, France"}))
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.raw_finish_reason.as_deref(), Some("tool_use"));
    server.verify();
}

#[tokio::test]
async fn a_2_zero_arg_tool_empty_partial_json_is_empty_object() {
    let s1 = tool_start(0, "toolu_z", "list_pods");
    let d1 = json_delta(0, "");
    let d4 = delta_stop("tool_use", 12);
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", s1.as_str()),
        ("content_block_delta", d1.as_str()),
        ("content_block_stop", block_stop(0).as_str()),
        ("message_delta", d4.as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Json(json!({}))
    );
}

#[tokio::test]
async fn a_3_text_then_parallel_tool_uses_by_index() {
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        (
            "content_block_delta",
            text_delta(0, "Checking both.").as_str(),
        ),
        ("content_block_stop", block_stop(0).as_str()),
        (
            "content_block_start",
            tool_start(1, "toolu_a", "get_pods").as_str(),
        ),
        (
            "content_block_start",
            tool_start(2, "toolu_b", "get_events").as_str(),
        ),
        // Interleaved fragments of two calls, routed by `index`.
        ("content_block_delta", json_delta(2, "{\"ns\":").as_str()),
        (
            "content_block_delta",
            json_delta(1, "{\"ns\":\"a\"}").as_str(),
        ),
        ("content_block_delta", json_delta(2, "\"b\"}").as_str()),
        ("content_block_stop", block_stop(1).as_str()),
        ("content_block_stop", block_stop(2).as_str()),
        ("message_delta", delta_stop("tool_use", 50).as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse(split_at(
        body.as_bytes(),
        &[7, 300, 301, 900],
    )))])
    .await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "Checking both.");
    let calls: Vec<(&str, &ToolArguments)> = r
        .message
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), &c.arguments))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("toolu_a", &ToolArguments::Json(json!({"ns": "a"}))),
            ("toolu_b", &ToolArguments::Json(json!({"ns": "b"}))),
        ]
    );
}

#[tokio::test]
async fn a_4_ping_and_unknown_events_ignored() {
    let unknown_delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}"#;
    let body = sse_body([
        ("ping", r#"{"type": "ping"}"#),
        ("message_start", START),
        ("ping", r#"{"type": "ping"}"#),
        ("content_block_start", text_start(0).as_str()),
        ("content_block_delta", text_delta(0, "ok").as_str()),
        ("content_block_delta", unknown_delta),
        (
            "future_event",
            r#"{"type":"future_event","whatever":[1,2,3]}"#,
        ),
        ("content_block_stop", block_stop(0).as_str()),
        ("ping", r#"{"type": "ping"}"#),
        ("message_delta", delta_stop("end_turn", 3).as_str()),
        ("message_stop", STOP),
    ]);
    // Also a comment line and an `id:` field, and trailing spaces in a data line (T-3, T-5).
    let body = format!(
        ": keep-alive\nid: 7\n\n{}",
        body.replace(r#"data: {"type": "ping"}"#, "data: {\"type\": \"ping\"}   ")
    );
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "ok");
    assert_eq!(r.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn a_5_in_band_overloaded_error_is_retryable() {
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        ("content_block_delta", text_delta(0, "partial").as_str()),
        (
            "error",
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
        ),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let events = stream_events(&provider(&server), &ask()).await;
    assert!(matches!(events[0], Ok(ChatEvent::ResponseMetadata { .. })));
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.details().unwrap().message, "Overloaded");
    assert_eq!(
        err.details().unwrap().error_type.as_deref(),
        Some("overloaded_error")
    );
}

#[tokio::test]
async fn t_9_anthropic_in_band_invalid_request_is_typed_not_parse_error() {
    let body = sse_body([
        ("message_start", START),
        (
            "error",
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
        ),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let err = stream_result(&provider(&server), &ask()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::InvalidRequest,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_6_usage_cumulative_last_wins() {
    // (a) input only in message_start, output cumulative in message_delta.
    let body_a = sse_body([
        ("message_start", START),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":10}}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{},"usage":{"output_tokens":15}}"#,
        ),
        ("message_stop", STOP),
    ]);
    // (b) a gateway that reports everything only in message_delta, cache fields included.
    let start_no_usage = r#"{"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","content":[],"model":"m"}}"#;
    let body_b = sse_body([
        ("message_start", start_no_usage),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":7,"cache_read_input_tokens":100,"cache_creation_input_tokens":3,"output_tokens":9}}"#,
        ),
        ("message_stop", STOP),
    ]);
    // (c) both: message_delta overwrites what it repeats.
    let body_c = sse_body([
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"m3","model":"m","usage":{"input_tokens":5,"cache_read_input_tokens":1,"output_tokens":1}}}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":6,"output_tokens":4}}"#,
        ),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![
        messages_scenario(Reply::sse([body_a])),
        messages_scenario(Reply::sse([body_b])),
        messages_scenario(Reply::sse([body_c])),
    ])
    .await;
    let p = provider(&server);
    let a = stream_result(&p, &ask()).await.unwrap().usage.unwrap();
    assert_eq!((a.input_tokens, a.output_tokens), (25, 15));
    let b = stream_result(&p, &ask()).await.unwrap().usage.unwrap();
    assert_eq!((b.input_tokens, b.output_tokens), (110, 9));
    assert_eq!(b.cached_input_tokens, Some(100));
    assert_eq!(b.cache_creation_input_tokens, Some(3));
    let c = stream_result(&p, &ask()).await.unwrap().usage.unwrap();
    assert_eq!((c.input_tokens, c.output_tokens), (7, 4));
    assert_eq!(c.cached_input_tokens, Some(1));
}

#[tokio::test]
async fn a_7_max_tokens_mid_tool_json_reports_incomplete_call() {
    let body = sse_body([
        ("message_start", START),
        (
            "content_block_start",
            tool_start(0, "toolu_cut", "apply_manifest").as_str(),
        ),
        (
            "content_block_delta",
            json_delta(0, "{\"manifest\": \"apiVersion: v1\\nkind: Pod").as_str(),
        ),
        // No content_block_stop: the token limit hit inside the JSON.
        ("message_delta", delta_stop("max_tokens", 4096).as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(r.raw_finish_reason.as_deref(), Some("max_tokens"));
    let call = &r.message.tool_calls[0];
    match &call.arguments {
        ToolArguments::Malformed { raw, error } => {
            assert!(raw.starts_with("{\"manifest\""));
            assert!(error.contains("max_tokens"), "{error}");
        }
        other => panic!("an incomplete call must not be runnable: {other:?}"),
    }
}

#[tokio::test]
async fn a_7_invalid_final_tool_json_is_malformed() {
    let body = sse_body([
        ("message_start", START),
        (
            "content_block_start",
            tool_start(0, "toolu_bad", "t").as_str(),
        ),
        ("content_block_delta", json_delta(0, "{\"a\": tru").as_str()),
        ("content_block_stop", block_stop(0).as_str()),
        ("message_delta", delta_stop("tool_use", 5).as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert!(matches!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Malformed { .. }
    ));
}

const SIG: &str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDYYmw/5jKpQ9FqBoiMLqX+QZ/sIGnV4ZqD7==";

#[tokio::test]
async fn a_8_thinking_signature_replayed() {
    let thinking_start = r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#;
    let th1 = r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants pods. "}}"#;
    let th2 = r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Call the tool."}}"#;
    let sig = format!(
        r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"signature_delta","signature":"{SIG}"}}}}"#
    );
    let redacted = r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"}}"#;
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", thinking_start),
        ("content_block_delta", th1),
        ("content_block_delta", th2),
        ("content_block_delta", sig.as_str()),
        ("content_block_stop", block_stop(0).as_str()),
        ("content_block_start", redacted),
        ("content_block_stop", block_stop(1).as_str()),
        (
            "content_block_start",
            tool_start(2, "toolu_p", "get_pods").as_str(),
        ),
        (
            "content_block_delta",
            json_delta(2, "{\"ns\":\"default\"}").as_str(),
        ),
        ("content_block_stop", block_stop(2).as_str()),
        ("message_delta", delta_stop("tool_use", 80).as_str()),
        ("message_stop", STOP),
    ]);
    // Split inside the signature.
    let chunks = split_inside(body.as_bytes(), SIG, 10);
    let expected_replay = json!({
        "model": "claude-test",
        "max_tokens": 8000,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tools": [{"name": "get_pods", "description": "get_pods tool", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}],
        "tool_choice": {"type": "auto"},
        "stream": true,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "list pods"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "The user wants pods. Call the tool.", "signature": SIG},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
                {"type": "tool_use", "id": "toolu_p", "name": "get_pods", "input": {"ns": "default"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_p", "content": [{"type": "text", "text": "pod-a Running"}]}
            ]}
        ]
    });
    let done = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        (
            "content_block_delta",
            text_delta(0, "pod-a is running").as_str(),
        ),
        ("content_block_stop", block_stop(0).as_str()),
        ("message_delta", delta_stop("end_turn", 9).as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![
        messages_scenario(Reply::sse(chunks)),
        messages_scenario(Reply::sse([done])).body_json(expected_replay),
    ])
    .await;
    let p = provider_with(options(&server).with_max_output_tokens(8000)).with_thinking_budget(2000);
    let mut req = ChatRequest::new(vec![Message::user("list pods")]);
    req.tools.push(tool_spec("get_pods"));
    let first = stream_result(&p, &req).await.unwrap();
    assert_eq!(first.message.reasoning.len(), 2);
    assert_eq!(first.message.reasoning[0].signature.as_deref(), Some(SIG));
    assert!(first.message.reasoning[1].redacted.is_some());
    req.messages.push(Message::Assistant(first.message.clone()));
    req.messages.push(Message::Tool(ToolResult::ok(
        "toolu_p",
        "get_pods",
        "pod-a Running",
    )));
    let second = stream_result(&p, &req).await.unwrap();
    assert_eq!(second.message.text_content(), "pod-a is running");
    server.verify_all_used();
}

#[tokio::test]
async fn a_9_server_tool_use_not_client_call_and_pause_turn() {
    let server_tool = r#"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}}"#;
    let server_tool_delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\":\"k8s\"}"}}"#;
    let result = r#"{"type":"content_block_start","index":1,"content_block":{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://k8s.io","title":"K8s"}]}}"#;
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", server_tool),
        ("content_block_delta", server_tool_delta),
        ("content_block_stop", block_stop(0).as_str()),
        ("content_block_start", result),
        ("content_block_stop", block_stop(1).as_str()),
        ("content_block_start", text_start(2).as_str()),
        ("content_block_delta", text_delta(2, "searching").as_str()),
        ("content_block_stop", block_stop(2).as_str()),
        ("message_delta", delta_stop("pause_turn", 30).as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert!(
        r.message.tool_calls.is_empty(),
        "server tools are not client calls"
    );
    assert_eq!(r.message.text_content(), "searching");
    assert_eq!(r.finish_reason, FinishReason::Other("pause_turn".into()));
}

#[tokio::test]
async fn a_10_request_system_top_level_results_first_merged() {
    let done = sse_body([
        ("message_start", START),
        ("message_delta", delta_stop("end_turn", 1).as_str()),
        ("message_stop", STOP),
    ]);
    let expected = json!({
        "model": "claude-test",
        "max_tokens": 4096,
        "system": "You are a Kubernetes expert.",
        "stream": true,
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "check a and b"}, {"type": "text", "text": "quickly"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "t1", "name": "get", "input": {"n": "a"}},
                {"type": "tool_use", "id": "t2", "name": "get", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "ok"}]},
                {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "not found"}], "is_error": true},
                {"type": "text", "text": "also this"}
            ]}
        ]
    });
    let server = WireServer::start(vec![
        messages_scenario(Reply::sse([done])).body_json(expected),
    ])
    .await;
    let mut malformed = ToolCall::new("t2", "get", json!({}));
    malformed.arguments = ToolArguments::Malformed {
        raw: "{\"n\":".into(),
        error: "EOF".into(),
    };
    let mut req = ChatRequest::new(vec![
        Message::user("check a and b"),
        Message::user("quickly"),
        Message::Assistant(
            AssistantMessage::text("Looking.")
                .with_reasoning(vec![Reasoning::new(
                    "unsigned reasoning from another provider",
                )])
                .with_tool_calls(vec![
                    ToolCall::new("t1", "get", json!({"n": "a"})),
                    malformed,
                ]),
        ),
        Message::Tool(ToolResult::ok("t1", "get", "ok")),
        Message::user("also this"),
        Message::Tool(ToolResult::error("t2", "get", "not found")),
    ]);
    req.system = Some("You are a Kubernetes expert.".into());
    req.temperature = Some(0.5);
    req.stop = vec!["END".into()];
    stream_result(&provider(&server), &req).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn a_11_http_529_overloaded_is_retryable() {
    let server = WireServer::start(vec![messages_scenario(
        Reply::json(529, &json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_529"}))
            .header("request-id", "req_529"),
    )])
    .await;
    let err = provider(&server).chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(529));
    assert_eq!(
        err.details().unwrap().request_id.as_deref(),
        Some("req_529")
    );
}

#[tokio::test]
async fn a_11_429_with_and_without_retry_hints() {
    let body = json!({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}});
    let server = WireServer::start(vec![
        messages_scenario(Reply::json(429, &body).header("retry-after", "7")),
        messages_scenario(
            Reply::json(429, &body)
                .header("retry-after-ms", "1500")
                .header("retry-after", "9"),
        ),
        messages_scenario(Reply::json(429, &body)),
        messages_scenario(Reply::json(429, &body).header("x-should-retry", "false")),
    ])
    .await;
    let p = provider(&server);
    let e1 = p.chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            e1,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ),
        "{e1:?}"
    );
    assert_eq!(e1.retry_after(), Some(Duration::from_secs(7)));
    let e2 = p.chat_stream(&ask()).await.err().unwrap();
    assert_eq!(e2.retry_after(), Some(Duration::from_millis(1500)));
    let e3 = p.chat_stream(&ask()).await.err().unwrap();
    assert!(e3.is_retryable());
    assert_eq!(e3.retry_after(), None);
    let e4 = p.chat_stream(&ask()).await.err().unwrap();
    assert!(!e4.is_retryable(), "x-should-retry: false wins");
}

#[tokio::test]
async fn a_11_400_json_error_on_streaming_request() {
    let server = WireServer::start(vec![messages_scenario(
        Reply::json(
            400,
            &json!({"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0: unexpected `tool_use_id`"}}),
        )
        .header("content-type", "text/event-stream"),
    )])
    .await;
    let err = provider(&server).chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::InvalidRequest,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("unexpected `tool_use_id`"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_12_vertex_stream_raw_predict_url_body_and_bearer() {
    let done = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        ("content_block_delta", text_delta(0, "from vertex").as_str()),
        ("content_block_stop", block_stop(0).as_str()),
        ("message_delta", delta_stop("end_turn", 2).as_str()),
        ("message_stop", STOP),
    ]);
    let server = WireServer::start(vec![
        Scenario::post("/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict")
            .header("authorization", "Bearer ya29.vertex-token")
            .no_header("x-api-key")
            .body_includes(json!({"anthropic_version": "vertex-2023-10-16", "stream": true, "max_tokens": 4096}))
            .body_absent("/model")
            .reply(Reply::sse([done])),
        Scenario::post("/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")
            .body_absent("/model")
            .body_absent("/stream")
            .reply(Reply::json(200, &json!({"id":"msg_v","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"sync"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}))),
        // Google-style error body from the Vertex front end.
        Scenario::post("/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict")
            .reply(Reply::json(429, &json!({"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model","status":"RESOURCE_EXHAUSTED"}}))),
    ])
    .await;
    let p = AnthropicProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("proj-1", "us-east5").with_base_url(server.url()),
        "claude-sonnet-4-5@20250929",
        ProviderOptions::new().with_auth(Auth::Google(GoogleAuth::token("ya29.vertex-token"))),
    )
    .unwrap();
    assert_eq!(p.info().provider, "gcp.vertex_ai");
    let r = stream_result(&p, &ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "from vertex");
    let sync = p.chat(&ask()).await.unwrap();
    assert_eq!(sync.message.text_content(), "sync");
    let err = p.chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.details().unwrap().error_type.as_deref(),
        Some("RESOURCE_EXHAUSTED")
    );
    server.verify_all_used();
}

#[test]
fn a_12_vertex_global_multi_region_and_regional_hosts() {
    let url = |l: &str| {
        VertexLocation::new("p", l).model_url("anthropic", "claude-x", "streamRawPredict")
    };
    assert!(url("global").starts_with("https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/claude-x:streamRawPredict"));
    assert!(url("us").starts_with("https://aiplatform.us.rep.googleapis.com/"));
    assert!(url("eu").starts_with("https://aiplatform.eu.rep.googleapis.com/"));
    assert!(url("europe-west1").starts_with("https://europe-west1-aiplatform.googleapis.com/"));
}

#[tokio::test]
async fn t_1_anthropic_split_inside_utf8_characters() {
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        (
            "content_block_delta",
            text_delta(0, "Pod café 🚀 prêt").as_str(),
        ),
        ("content_block_stop", block_stop(0).as_str()),
        ("message_delta", delta_stop("end_turn", 4).as_str()),
        ("message_stop", STOP),
    ]);
    let bytes = body.as_bytes();
    let e_acute = bytes.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    let rocket = bytes.windows(4).position(|w| w == "🚀".as_bytes()).unwrap();
    let chunks = split_at(bytes, &[e_acute + 1, rocket + 1, rocket + 2, rocket + 3]);
    assert!(chunks.len() >= 5);
    let server = WireServer::start(vec![messages_scenario(Reply::sse(chunks))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "Pod café 🚀 prêt");
}

#[tokio::test]
async fn t_7_anthropic_truncated_without_message_stop() {
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        ("content_block_delta", text_delta(0, "half an ans").as_str()),
    ]);
    let server = WireServer::start(vec![
        messages_scenario(Reply::sse([body.clone()])),
        messages_scenario(Reply::sse([body]).then_cut()),
    ])
    .await;
    let p = provider(&server);
    match stream_result(&p, &ask()).await {
        Err(ProviderError::TruncatedStream { partial, .. }) => {
            assert_eq!(partial.message.text_content(), "half an ans");
        }
        other => panic!("expected truncation, got {other:?}"),
    }
    // A cut connection is a transport error or a truncation, never success.
    let cut = stream_result(&p, &ask()).await.unwrap_err();
    assert!(
        matches!(
            cut,
            ProviderError::TruncatedStream { .. } | ProviderError::Transport { .. }
        ),
        "{cut:?}"
    );
}

#[tokio::test]
async fn t_8_anthropic_error_status_with_event_stream_content_type() {
    let server = WireServer::start(vec![messages_scenario(
        Reply::raw(
            401,
            "text/event-stream",
            Bytes::from_static(br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#),
        ),
    )])
    .await;
    let err = provider(&server).chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::Authentication,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn e_1_anthropic_idle_stream_times_out() {
    let body = sse_body([("message_start", START)]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]).then_hang())]).await;
    let p = provider_with(
        options(&server).with_timeouts(
            Timeouts::NONE
                .with_connect(Some(Duration::from_secs(5)))
                .with_request(Some(Duration::from_secs(5)))
                .with_stream_idle(Some(Duration::from_millis(300))),
        ),
    );
    let events = stream_events(&p, &ask()).await;
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(err, ProviderError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn e_2_anthropic_401_403_404_not_retried() {
    let server = WireServer::start(vec![
        messages_scenario(Reply::json(401, &json!({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}))),
        messages_scenario(Reply::json(403, &json!({"type":"error","error":{"type":"permission_error","message":"no access"}}))),
        messages_scenario(Reply::json(404, &json!({"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}}))),
    ])
    .await;
    let p = provider(&server);
    let e401 = p.chat(&ask()).await.unwrap_err();
    assert!(
        matches!(
            e401,
            ProviderError::Api {
                kind: ApiErrorKind::Authentication,
                ..
            }
        ) && !e401.is_retryable()
    );
    let e403 = p.chat(&ask()).await.unwrap_err();
    assert!(
        matches!(
            e403,
            ProviderError::Api {
                kind: ApiErrorKind::PermissionDenied,
                ..
            }
        ) && !e403.is_retryable()
    );
    let e404 = p.chat(&ask()).await.unwrap_err();
    assert!(
        matches!(
            e404,
            ProviderError::Api {
                kind: ApiErrorKind::NotFound,
                ..
            }
        ) && !e404.is_retryable()
    );
    // Exactly one request each: the provider never retries by itself.
    assert_eq!(server.requests().len(), 3);
    for e in [e401, e403, e404] {
        assert!(!e.to_string().contains(KEY), "{e}");
        assert!(!format!("{e:?}").contains(KEY));
    }
}

#[tokio::test]
async fn e_3_anthropic_error_preserves_status_type_message_request_id() {
    let server = WireServer::start(vec![messages_scenario(
        Reply::json(
            500,
            &json!({"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}),
        )
        .header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
    )])
    .await;
    let err = provider(&server).chat(&ask()).await.unwrap_err();
    let d = err.details().unwrap();
    assert_eq!(d.status, Some(500));
    assert_eq!(d.error_type.as_deref(), Some("api_error"));
    assert_eq!(d.message, "Internal server error");
    assert_eq!(
        d.request_id.as_deref(),
        Some("req_011CSHoEeqs5C35K2UUqR7Fy")
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn anthropic_non_streamed_chat_maps_blocks_and_usage() {
    let body = json!({
        "id": "msg_sync", "type": "message", "role": "assistant", "model": "claude-test-1",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "SIG1"},
            {"type": "text", "text": "Let me check."},
            {"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}},
            {"type": "tool_use", "id": "toolu_s", "name": "get_pods", "input": {"ns": "x"}}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 20}
    });
    let server = WireServer::start(vec![
        messages_scenario(Reply::json(200, &body)).body_absent("/stream"),
    ])
    .await;
    let r = provider(&server).chat(&ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "Let me check.");
    assert_eq!(
        r.message.tool_calls,
        vec![ToolCall::new("toolu_s", "get_pods", json!({"ns": "x"}))]
    );
    assert_eq!(r.message.reasoning[0].signature.as_deref(), Some("SIG1"));
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    let u = r.usage.unwrap();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cached_input_tokens),
        (15, 20, Some(5))
    );
    assert_eq!(r.id.as_deref(), Some("msg_sync"));
}

#[tokio::test]
async fn anthropic_lists_models_across_pages() {
    let server = WireServer::start(vec![
        Scenario::get("/v1/models")
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
            .no_query("after_id")
            .reply(Reply::json(200, &json!({"data":[{"type":"model","id":"claude-a","display_name":"Claude A","created_at":"2025-01-01T00:00:00Z"}],"has_more":true,"first_id":"claude-a","last_id":"claude-a"}))),
        Scenario::get("/v1/models")
            .query("after_id", "claude-a")
            .reply(Reply::json(200, &json!({"data":[{"type":"model","id":"claude-b","display_name":"Claude B"}],"has_more":false,"first_id":"claude-b","last_id":"claude-b"}))),
    ])
    .await;
    let models = provider(&server).list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["claude-a", "claude-b"]);
    assert_eq!(models[0].display_name.as_deref(), Some("Claude A"));
    server.verify_all_used();
}

#[test]
fn anthropic_debug_never_shows_the_key() {
    let p = AnthropicProvider::new(
        reqwest::Client::new(),
        "claude-test",
        ProviderOptions::new().with_api_key(KEY),
    )
    .unwrap();
    let dbg = format!("{p:?}");
    assert!(!dbg.contains(KEY), "{dbg}");
    assert!(dbg.contains("redacted"));
    let _unused: Value = Value::Null;
}

#[tokio::test]
async fn t_10_anthropic_dropping_the_stream_closes_the_connection() {
    let body = sse_body([
        ("message_start", START),
        ("content_block_start", text_start(0).as_str()),
        ("content_block_delta", text_delta(0, "first").as_str()),
    ]);
    let server = WireServer::start(vec![messages_scenario(Reply::sse([body]).then_hang())]).await;
    let mut stream = provider(&server).chat_stream(&ask()).await.unwrap();
    // Read until the text arrives, then stop listening.
    loop {
        match stream.next().await {
            Some(Ok(ChatEvent::TextDelta { text })) => {
                assert_eq!(text, "first");
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(stream);
    assert!(
        server
            .wait_for_disconnects(1, Duration::from_secs(10))
            .await,
        "the connection must close when the caller drops the stream"
    );
}
