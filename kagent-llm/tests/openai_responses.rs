//! PROVIDER-WIRE.md §R (OpenAI Responses API) against the wire server. Event bodies follow the
//! Responses streaming reference (`response.created`, `response.output_item.added`,
//! `response.function_call_arguments.delta|done`, `response.output_item.done`,
//! `response.completed`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use kagent_core::{
    ApiErrorKind, AssistantMessage, ChatRequest, FinishReason, Message, ModelProvider,
    ProviderError, Reasoning, ToolArguments, ToolCall, ToolResult,
};
use kagent_llm::config::ApiFormat;
use kagent_llm::openai::{OpenAIProvider, OpenAISettings};
use kagent_llm::testing::{Reply, Scenario, WireServer, split_every};
use serde_json::{Value, json};
use support::*;

fn provider(server: &WireServer) -> OpenAIProvider {
    openai(server).with_settings(OpenAISettings::default().with_api_format(ApiFormat::Responses))
}

fn ev(v: &Value) -> String {
    format!("event: {}\ndata: {}\n\n", v["type"].as_str().unwrap(), v)
}

fn created() -> Value {
    json!({"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9","object":"response",
        "created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,
        "model":"gpt-4.1-2025-04-14","output":[],"usage":null}})
}

fn completed(status: &str, incomplete: Option<&str>) -> Value {
    json!({"type": format!("response.{status}"),"sequence_number":99,"response":{"id":"resp_67c9","object":"response",
        "status":status,"incomplete_details": incomplete.map(|r| json!({"reason": r})),
        "model":"gpt-4.1-2025-04-14",
        "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,
                 "output_tokens_details":{"reasoning_tokens":12},"total_tokens":123}}})
}

fn fc_added(oi: u64, id: &str, call_id: &str) -> Value {
    json!({"type":"response.output_item.added","sequence_number":2,"output_index":oi,
        "item":{"type":"function_call","id":id,"call_id":call_id,"name":"get_weather","arguments":"","status":"in_progress"}})
}

fn fc_delta(oi: u64, id: &str, delta: &str) -> Value {
    json!({"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":id,"output_index":oi,"delta":delta})
}

fn fc_done(oi: u64, id: &str, call_id: &str, args: &str) -> Vec<Value> {
    vec![
        json!({"type":"response.function_call_arguments.done","sequence_number":4,"item_id":id,"output_index":oi,"arguments":args}),
        json!({"type":"response.output_item.done","sequence_number":5,"output_index":oi,
            "item":{"type":"function_call","id":id,"call_id":call_id,"name":"get_weather","arguments":args,"status":"completed"}}),
    ]
}

async fn run(body: String) -> Result<kagent_core::ChatResponse, ProviderError> {
    let server = WireServer::start(vec![
        Scenario::post("/v1/responses").reply(Reply::sse(split_every(body.as_bytes(), 37))),
    ])
    .await;
    let r = stream_chat(&provider(&server), &request()).await;
    server.verify();
    r
}

#[tokio::test]
async fn r_1_named_events_routed_on_data_type_also_without_event_line() {
    let text = |d: &str| json!({"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":d});
    let mut body = ev(&created());
    body += &ev(&text("Hello"));
    // No `event:` line: routed on data.type.
    body += &data(&text(", world"));
    // A lying event name: data.type wins.
    body += &format!("event: response.completed\ndata: {}\n\n", text("!"));
    body += &ev(&completed("completed", None));
    let r = run(body).await.unwrap();
    assert_eq!(r.message.text_content(), "Hello, world!");
    assert_eq!(r.id.as_deref(), Some("resp_67c9"));
    assert_eq!(r.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    assert_eq!(r.finish_reason, FinishReason::Stop);
    let u = r.usage.unwrap();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.reasoning_tokens),
        (36, 87, Some(12))
    );
}

#[tokio::test]
async fn r_2_arguments_by_item_id_done_is_authoritative_and_call_id_differs() {
    let mut body = ev(&created());
    body += &ev(&fc_added(0, "fc_1", "call_A"));
    body += &ev(&fc_added(1, "fc_2", "call_B"));
    body += &ev(&fc_delta(0, "fc_1", "{\"location\":"));
    body += &ev(&fc_delta(1, "fc_2", "{\"location\":\"Ro"));
    body += &ev(&fc_delta(0, "fc_1", "\"Paris\"}"));
    // Deltas for fc_2 were lossy; .done carries the authoritative text.
    for v in fc_done(0, "fc_1", "call_A", "{\"location\":\"Paris\"}") {
        body += &ev(&v);
    }
    for v in fc_done(1, "fc_2", "call_B", "{\"location\":\"Rome\"}") {
        body += &ev(&v);
    }
    body += &ev(&completed("completed", None));
    let r = run(body).await.unwrap();
    let calls = &r.message.tool_calls;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_A");
    assert_eq!(
        calls[0].arguments,
        ToolArguments::Json(json!({"location":"Paris"}))
    );
    assert_eq!(calls[1].id, "call_B");
    assert_eq!(
        calls[1].arguments,
        ToolArguments::Json(json!({"location":"Rome"}))
    );
    assert_eq!(calls[1].provider_data, Some(json!({"item_id":"fc_2"})));
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
}

#[tokio::test]
async fn r_2_invalid_final_arguments_are_malformed() {
    let mut body = ev(&fc_added(0, "fc_1", "call_A"));
    for v in fc_done(0, "fc_1", "call_A", "{\"location\":") {
        body += &ev(&v);
    }
    body += &ev(&completed("incomplete", Some("max_output_tokens")));
    let r = run(body).await.unwrap();
    assert!(matches!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Malformed { .. }
    ));
}

#[tokio::test]
async fn r_3_deltas_without_content_index_parse() {
    let mut body = ev(&created());
    body += &ev(
        &json!({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"delta":"no index"}),
    );
    body += &ev(&completed("completed", None));
    assert_eq!(run(body).await.unwrap().message.text_content(), "no index");
}

#[tokio::test]
async fn r_4_terminal_events_and_no_done_marker() {
    // incomplete → Length.
    let mut body = ev(
        &json!({"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"cut"}),
    );
    body += &ev(&completed("incomplete", Some("max_output_tokens")));
    let r = run(body).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    assert_eq!(r.raw_finish_reason.as_deref(), Some("max_output_tokens"));
    // failed → typed error.
    let body = ev(
        &json!({"type":"response.failed","sequence_number":3,"response":{"id":"resp_1","status":"failed",
        "error":{"code":"server_error","message":"The model failed to generate a response."}}}),
    );
    let err = run(body).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::Server,
                ..
            }
        ),
        "{err:?}"
    );
    // error event.
    let body = ev(
        &json!({"type":"error","sequence_number":1,"code":"rate_limit_exceeded","message":"Rate limit reached","param":null}),
    );
    let err = run(body).await.unwrap_err();
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
    // No terminal event at all → truncated, partial kept.
    let body = ev(
        &json!({"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"partial"}),
    );
    match run(body).await.unwrap_err() {
        ProviderError::TruncatedStream { partial, .. } => {
            assert_eq!(partial.message.text_content(), "partial")
        }
        other => panic!("expected truncation, got {other:?}"),
    }
}

#[tokio::test]
async fn r_5_follow_up_carries_function_call_output_and_reasoning_items() {
    let reasoning_item = json!({"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Need weather."}],
        "encrypted_content":"gAAAAB..."});
    let mut req = request();
    req.system = Some("Be brief.".into());
    req.messages.push(Message::Assistant(
        AssistantMessage::default()
            .with_reasoning(vec![
                Reasoning::new("Need weather.").with_provider_data(reasoning_item.clone()),
            ])
            .with_tool_calls(vec![ToolCall::new(
                "call_A",
                "get_weather",
                json!({"location":"Paris"}),
            )]),
    ));
    req.messages.push(Message::Tool(ToolResult::ok(
        "call_A",
        "get_weather",
        "sunny",
    )));
    let server = WireServer::start(vec![Scenario::post("/v1/responses")
        .header("authorization", "Bearer sk-test")
        .body_json(json!({
            "model": "gpt-4o",
            "instructions": "Be brief.",
            "input": [
                {"role":"user","content":[{"type":"input_text","text":"What's the weather in Paris?"}]},
                reasoning_item,
                {"type":"function_call","call_id":"call_A","name":"get_weather","arguments":"{\"location\":\"Paris\"}"},
                {"type":"function_call_output","call_id":"call_A","output":"sunny"}
            ],
            "tools": [{"type":"function","name":"get_weather","description":"Current weather",
                "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]},"strict":false}],
            "reasoning": {"effort":"medium"},
            "include": ["reasoning.encrypted_content"],
            "store": false,
            "stream": true
        }))
        .reply(Reply::sse([ev(&completed("completed", None))]))])
    .await;
    let mut settings = OpenAISettings::default();
    settings.api_format = ApiFormat::Responses;
    settings.reasoning_effort = Some("medium".into());
    let p = openai(&server).with_settings(settings);
    stream_chat(&p, &req).await.unwrap();
    server.verify();
}

#[tokio::test]
async fn r_5_reasoning_item_is_captured_for_replay() {
    let item = json!({"type":"reasoning","id":"rs_9","summary":[{"type":"summary_text","text":"Thinking."}],"encrypted_content":"enc"});
    let mut body = ev(
        &json!({"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs_9","summary":[]}}),
    );
    body += &ev(
        &json!({"type":"response.reasoning_summary_text.delta","item_id":"rs_9","output_index":0,"summary_index":0,"delta":"Thinking."}),
    );
    body += &ev(&json!({"type":"response.output_item.done","output_index":0,"item":item}));
    body += &ev(&completed("completed", None));
    let r = run(body).await.unwrap();
    assert_eq!(r.message.reasoning.len(), 1);
    assert_eq!(r.message.reasoning[0].redacted.as_deref(), Some("enc"));
    assert_eq!(r.message.reasoning[0].provider_data.as_ref(), Some(&item));
}

#[tokio::test]
async fn r_6_unknown_and_extra_event_types_skipped() {
    let mut body = ev(&created());
    for v in [
        json!({"type":"response.web_search_call.in_progress","output_index":0,"item_id":"ws_1"}),
        json!({"type":"response.mcp_call.arguments.delta","output_index":1,"item_id":"mcp_1","delta":"{"}),
        json!({"type":"response.reasoning_summary_part.added","item_id":"rs_1","output_index":0,"summary_index":0}),
        json!({"type":"keepalive"}),
        json!({"type":"response.content_part.added","item_id":"msg_1","output_index":2,"content_index":0,"part":{"type":"output_text","text":""}}),
        json!({"type":"response.output_text.annotation.added","item_id":"msg_1","output_index":2,"annotation":{}}),
        json!({"type":"response.something_new","payload":[1,2,3]}),
    ] {
        body += &ev(&v);
    }
    body += &ev(
        &json!({"type":"response.output_text.delta","item_id":"msg_1","output_index":2,"content_index":0,"delta":"done"}),
    );
    body += &ev(&completed("completed", None));
    assert_eq!(run(body).await.unwrap().message.text_content(), "done");
}

#[tokio::test]
async fn r_non_streamed_response_object() {
    let server = WireServer::start(vec![Scenario::post("/v1/responses").body_absent("/stream").reply(Reply::json(200, &json!({
        "id":"resp_1","object":"response","status":"completed","model":"gpt-4.1",
        "output":[
            {"type":"reasoning","id":"rs_1","summary":[]},
            {"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Calling.","annotations":[]}]},
            {"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"location\":\"Paris\"}","status":"completed"}],
        "usage":{"input_tokens":5,"output_tokens":7,"total_tokens":12}})))])
    .await;
    let r = provider(&server)
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .unwrap();
    assert_eq!(r.message.text_content(), "Calling.");
    assert_eq!(r.message.tool_calls[0].id, "call_1");
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.usage.unwrap().total(), 12);
    server.verify();
}
