//! PROVIDER-WIRE.md §L (Ollama native `/api/chat`, NDJSON) against the wire server. Lines
//! follow the Ollama API documentation's examples.
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
use kagent_llm::ProviderOptions;
use kagent_llm::config::{ModelConfig, build_provider};
use kagent_llm::ollama::OllamaProvider;
use kagent_llm::testing::{Reply, Scenario, WireServer, split_every};
use serde_json::{Value, json};
use support::*;

fn provider(server: &WireServer) -> OllamaProvider {
    OllamaProvider::new(
        reqwest::Client::new(),
        "llama3.2",
        ProviderOptions::new()
            .with_base_url(server.url())
            .with_timeouts(test_timeouts()),
    )
    .unwrap()
}

fn line(v: &Value) -> String {
    format!("{v}\n")
}

fn msg(content: &str) -> Value {
    json!({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":content},"done":false})
}

fn done(reason: &str) -> Value {
    json!({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":""},
        "done_reason":reason,"done":true,"total_duration":885095291,"load_duration":3753500,
        "prompt_eval_count":122,"prompt_eval_duration":328493000,"eval_count":33,"eval_duration":552222000})
}

fn call_obj(tool_calls: Value) -> Value {
    json!({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z",
        "message":{"role":"assistant","content":"","tool_calls":tool_calls},"done":false})
}

async fn run(lines: &[Value]) -> Result<kagent_core::ChatResponse, ProviderError> {
    let body: String = lines.iter().map(line).collect();
    let server = WireServer::start(vec![
        Scenario::post("/api/chat").reply(Reply::ndjson(split_every(body.as_bytes(), 29))),
    ])
    .await;
    let r = stream_chat(&provider(&server), &request()).await;
    server.verify();
    r
}

#[tokio::test]
async fn l_1_ndjson_stream_and_single_object_without_stream() {
    let r = run(&[msg("The sky"), msg(" is blue."), done("stop")])
        .await
        .unwrap();
    assert_eq!(r.message.text_content(), "The sky is blue.");
    assert_eq!(r.finish_reason, FinishReason::Stop);
    let u = r.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (122, 33));
    // stream: false → one object.
    let mut whole = done("stop");
    whole["message"]["content"] = json!("Hello!");
    let server = WireServer::start(vec![
        Scenario::post("/api/chat")
            .body_includes(json!({"stream": false, "model": "llama3.2"}))
            .reply(Reply::json(200, &whole)),
    ])
    .await;
    let r = provider(&server).chat(&request()).await.unwrap();
    assert_eq!(r.message.text_content(), "Hello!");
    server.verify();
}

#[tokio::test]
async fn l_2_tool_call_placements() {
    let paris = json!([{"function":{"name":"get_weather","arguments":{"location":"Paris, FR"}}}]);
    let rome = json!([{"function":{"name":"get_weather","arguments":{"location":"Rome, IT"}}}]);
    // Whole call in a done:false object, then an empty done:true object.
    let r = run(&[call_obj(paris.clone()), done("stop")]).await.unwrap();
    assert_eq!(r.message.tool_calls.len(), 1);
    assert_eq!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Json(json!({"location":"Paris, FR"}))
    );
    // Tool calls on the done:true object itself.
    let mut fin = done("stop");
    fin["message"]["tool_calls"] = paris.clone();
    let r = run(&[fin]).await.unwrap();
    assert_eq!(r.message.tool_calls.len(), 1);
    // One object per parallel call.
    let r = run(&[call_obj(paris), call_obj(rome), done("stop")])
        .await
        .unwrap();
    assert_eq!(r.message.tool_calls.len(), 2);
    assert_eq!(
        r.message.tool_calls[1].arguments,
        ToolArguments::Json(json!({"location":"Rome, IT"}))
    );
    assert_ne!(r.message.tool_calls[0].id, r.message.tool_calls[1].id);
}

#[tokio::test]
async fn l_3_object_arguments_with_and_without_ids() {
    let with_id = json!([{"id":"call_k1","function":{"index":0,"name":"get_weather","arguments":{"location":"Oslo"}}}]);
    let r = run(&[call_obj(with_id), done("stop")]).await.unwrap();
    assert_eq!(r.message.tool_calls[0].id, "call_k1");
    assert_eq!(r.message.tool_calls[0].provider_data, None);
    let without = json!([{"function":{"name":"get_weather","arguments":{}}}]);
    let r = run(&[call_obj(without.clone()), call_obj(without), done("stop")])
        .await
        .unwrap();
    let calls = &r.message.tool_calls;
    assert!(calls[0].id.starts_with("call_"));
    assert_ne!(calls[0].id, calls[1].id, "synthetic ids must be distinct");
    assert_eq!(calls[0].provider_data, Some(json!({"synthetic_id": true})));
    assert_eq!(calls[0].arguments, ToolArguments::Json(json!({})));
    // Arguments as a string that is not JSON: reported, not passed on.
    let bad = json!([{"function":{"name":"get_weather","arguments":"{location: Oslo"}}]);
    let r = run(&[call_obj(bad), done("stop")]).await.unwrap();
    assert!(matches!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Malformed { .. }
    ));
}

#[tokio::test]
async fn l_4_done_reasons() {
    let calls = json!([{"function":{"name":"get_weather","arguments":{"location":"Paris"}}}]);
    let r = run(&[call_obj(calls), done("stop")]).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.raw_finish_reason.as_deref(), Some("stop"));
    let r = run(&[msg("trunc"), done("length")]).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    let r = run(&[done("load")]).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::Other("load".into()));
}

#[tokio::test]
async fn l_5_missing_metrics_mean_no_usage() {
    let r = run(&[msg("hi"), json!({"model":"llama3.2","created_at":"2024-07-22T20:33:28Z","message":{"role":"assistant","content":""},"done":true})])
        .await
        .unwrap();
    assert_eq!(r.usage, None);
    assert_eq!(r.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn l_6_in_band_error_line_and_404_model_not_found() {
    let err = run(&[
        msg("a"),
        json!({"error":"an error was encountered while running the model: CUDA out of memory"}),
    ])
    .await
    .unwrap_err();
    match err {
        ProviderError::Api {
            kind: ApiErrorKind::Server,
            details,
            ..
        } => assert!(details.message.contains("CUDA")),
        other => panic!("expected a server error, got {other:?}"),
    }
    let server = WireServer::start(vec![Scenario::post("/api/chat").reply(Reply::json(
        404,
        &json!({"error":"model \"llama9\" not found, try pulling it first"}),
    ))])
    .await;
    let err = provider(&server)
        .chat_stream(&request())
        .await
        .err()
        .unwrap();
    match &err {
        ProviderError::Api {
            kind: ApiErrorKind::NotFound,
            details,
            ..
        } => {
            assert!(details.message.contains("try pulling it first"))
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn l_7_request_tool_name_call_id_object_arguments_thinking_and_options() {
    let mut req = request();
    req.system = Some("Be brief.".into());
    req.messages.push(Message::Assistant(
        AssistantMessage::default()
            .with_reasoning(vec![Reasoning::new("Need the weather.")])
            .with_tool_calls(vec![ToolCall::new(
                "call_1",
                "get_weather",
                json!({"location":"Paris"}),
            )]),
    ));
    req.messages.push(Message::Tool(ToolResult::ok(
        "call_1",
        "get_weather",
        "sunny",
    )));
    req.temperature = Some(0.2);
    let server = WireServer::start(vec![Scenario::post("/api/chat")
        .body_json(json!({
            "model": "llama3.2",
            "messages": [
                {"role":"system","content":"Be brief."},
                {"role":"user","content":"What's the weather in Paris?"},
                {"role":"assistant","content":"","thinking":"Need the weather.",
                 "tool_calls":[{"function":{"name":"get_weather","arguments":{"location":"Paris"}}}]},
                {"role":"tool","content":"sunny","tool_name":"get_weather","tool_call_id":"call_1"}
            ],
            "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",
                "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}],
            "options": {"num_ctx": 8192, "temperature": 0.2, "use_mmap": true},
            "stream": true
        }))
        .reply(Reply::ndjson([line(&done("stop"))]))])
    .await;
    // kagent stores options as strings; they are sent as numbers and booleans.
    let config: ModelConfig = serde_json::from_value(json!({
        "provider": "Ollama", "model": "llama3.2",
        "ollama": {"host": server.url(), "options": {"num_ctx": "8192", "use_mmap": "true"}}
    }))
    .unwrap();
    let p = build_provider(&config, reqwest::Client::new()).unwrap();
    stream_chat(&*p, &req).await.unwrap();
    server.verify();
}

#[tokio::test]
async fn list_models_from_api_tags() {
    let server = WireServer::start(vec![Scenario::get("/api/tags").reply(Reply::json(200, &json!({"models":[
        {"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2024-09-25T00:00:00Z","size":2019393189,
         "digest":"a80c4f17acd5","details":{"format":"gguf","family":"llama","parameter_size":"3.2B","quantization_level":"Q4_K_M"}}]})))])
    .await;
    let models = provider(&server).list_models().await.unwrap();
    assert_eq!(models[0].id, "llama3.2:latest");
    let _ = ChatRequest::default();
}
