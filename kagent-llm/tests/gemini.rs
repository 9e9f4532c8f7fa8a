//! Gemini (AI Studio and Vertex AI) against the byte-exact wire server: PROVIDER-WIRE.md
//! section G, plus T-1/T-2/T-7/T-8/T-9 and E-1..E-3 on this provider.
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
    ModelProvider, ProviderError, ToolArguments, ToolCall, ToolChoice, ToolEffect, ToolResult,
    ToolSpec, collect_stream,
};
use kagent_llm::gemini::{GeminiProvider, GeminiToolSchema, SYNTHETIC_ID_PREFIX};
use kagent_llm::testing::{Reply, Scenario, WireServer, split_at, split_inside};
use kagent_llm::vertex::{GoogleAuth, VertexLocation};
use kagent_llm::{Auth, ProviderOptions, Timeouts};
use serde_json::{Value, json};

const KEY: &str = "AIza-test-SECRET";
const MODEL: &str = "gemini-2.5-flash";
const STREAM_PATH: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
const SYNC_PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

fn timeouts() -> Timeouts {
    Timeouts::NONE
        .with_connect(Some(Duration::from_secs(5)))
        .with_request(Some(Duration::from_secs(10)))
        .with_stream_idle(Some(Duration::from_secs(10)))
}

fn provider(server: &WireServer) -> GeminiProvider {
    provider_with(options(server))
}

fn options(server: &WireServer) -> ProviderOptions {
    ProviderOptions::new()
        .with_api_key(KEY)
        .with_base_url(server.url())
        .with_timeouts(timeouts())
}

fn provider_with(options: ProviderOptions) -> GeminiProvider {
    GeminiProvider::new(reqwest::Client::new(), MODEL, options).unwrap()
}

fn stream_scenario(reply: Reply) -> Scenario {
    Scenario::post(STREAM_PATH)
        .query("alt", "sse")
        .header("x-goog-api-key", KEY)
        .reply(reply)
}

/// Gemini's framing: `data: {json}` events separated by `\r\n\r\n`.
fn gsse(chunks: &[Value]) -> String {
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect()
}

fn ask() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

async fn stream_result(
    p: &GeminiProvider,
    req: &ChatRequest,
) -> Result<ChatResponse, ProviderError> {
    let stream = p.chat_stream(req).await?;
    tokio::time::timeout(Duration::from_secs(20), collect_stream("gemini", stream))
        .await
        .expect("stream hung")
}

fn text_chunk(text: &str) -> Value {
    json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}],
           "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1, "totalTokenCount": 10},
           "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
}

fn final_chunk(parts: Value, reason: &str, usage: Value) -> Value {
    json!({"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": reason, "index": 0}],
           "usageMetadata": usage, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
}

fn usage(p: u64, c: u64) -> Value {
    json!({"promptTokenCount": p, "candidatesTokenCount": c, "totalTokenCount": p + c})
}

fn tool(name: &str, schema: Value) -> ToolSpec {
    ToolSpec::new(name, format!("{name} tool"), ToolEffect::ReadOnly)
        .unwrap()
        .with_input_schema(schema)
        .idempotent(true)
}

#[tokio::test]
async fn g_1_alt_sse_crlf_separators_and_no_done() {
    let body = gsse(&[
        text_chunk("Hel"),
        text_chunk("lo, wörld"),
        final_chunk(json!([{"text": "!"}]), "STOP", usage(9, 5)),
    ]);
    // Split inside `\r\n\r\n` and inside `ö`.
    let bytes = body.as_bytes();
    let crlf = memchr_find(bytes, b"\r\n\r\n");
    let o = memchr_find(bytes, "ö".as_bytes());
    let server = WireServer::start(vec![stream_scenario(Reply::sse(split_at(
        bytes,
        &[crlf + 1, crlf + 3, o + 1],
    )))])
    .await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "Hello, wörld!");
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.id.as_deref(), Some("resp-1"));
    server.verify();
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[tokio::test]
async fn g_2_function_calls_whole_parallel_and_repeated_get_distinct_ids() {
    // Two calls in one chunk, then a third call (same function again) in another chunk.
    let body = gsse(&[
        json!({"candidates": [{"content": {"parts": [
            {"functionCall": {"name": "get_pods", "args": {"ns": "a"}}},
            {"functionCall": {"name": "get_events", "args": {"ns": "a"}}}
        ], "role": "model"}, "index": 0}]}),
        final_chunk(
            json!([{"functionCall": {"name": "get_pods", "args": {"ns": "b"}}}]),
            "STOP",
            usage(20, 10),
        ),
    ]);
    let chunks = split_inside(body.as_bytes(), "get_events", 4);
    let server = WireServer::start(vec![stream_scenario(Reply::sse(chunks))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    let calls = &r.message.tool_calls;
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].name, "get_pods");
    assert_eq!(calls[1].name, "get_events");
    assert_eq!(calls[2].name, "get_pods");
    assert_eq!(calls[2].arguments, ToolArguments::Json(json!({"ns": "b"})));
    let mut ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.iter().all(|i| i.starts_with(SYNTHETIC_ID_PREFIX)));
    ids.dedup();
    assert_eq!(ids.len(), 3, "synthetic ids must be distinct");
    // STOP with function calls is a tool turn.
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.raw_finish_reason.as_deref(), Some("STOP"));
}

#[tokio::test]
async fn g_3_synthetic_ids_not_sent_back_real_ids_echoed() {
    let first = gsse(&[final_chunk(
        json!([
            {"functionCall": {"name": "get_pods", "args": {"ns": "a"}}},
            {"functionCall": {"id": "fc-real-1", "name": "get_logs", "args": {"pod": "p"}}}
        ]),
        "STOP",
        usage(10, 4),
    )]);
    let done = gsse(&[final_chunk(json!([{"text": "done"}]), "STOP", usage(30, 1))]);
    let server = WireServer::start(vec![
        stream_scenario(Reply::sse([first])),
        stream_scenario(Reply::sse([done])).body_includes(json!({
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_pods", "args": {"ns": "a"}}},
                    {"functionCall": {"id": "fc-real-1", "name": "get_logs", "args": {"pod": "p"}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_pods", "response": {"output": "pod-a"}}},
                    {"functionResponse": {"id": "fc-real-1", "name": "get_logs", "response": {"output": "log line"}}}
                ]}
            ]
        })),
    ])
    .await;
    let p = provider(&server);
    let mut req = ask();
    let r = stream_result(&p, &req).await.unwrap();
    let synthetic = r.message.tool_calls[0].id.clone();
    assert!(synthetic.starts_with(SYNTHETIC_ID_PREFIX));
    assert_eq!(r.message.tool_calls[1].id, "fc-real-1");
    req.messages.push(Message::Assistant(r.message.clone()));
    req.messages.push(Message::Tool(ToolResult::ok(
        synthetic.clone(),
        "get_pods",
        "pod-a",
    )));
    req.messages.push(Message::Tool(ToolResult::ok(
        "fc-real-1",
        "get_logs",
        "log line",
    )));
    stream_result(&p, &req).await.unwrap();
    // Whether Gemini rejects unknown ids is unverified: we never send ours.
    let sent = server.last_request().json().unwrap();
    assert!(
        !sent.to_string().contains(&synthetic),
        "synthetic id leaked: {sent}"
    );
    server.verify_all_used();
}

#[tokio::test]
async fn g_4_thought_signature_captured_per_part_and_replayed_unchanged() {
    let sig_a = "CiQB0e2Kb8Xq+Jx0sOMeThingOpaque/base64==";
    let sig_text = "CmQBTextSignatureOpaque==";
    let first = gsse(&[
        json!({"candidates": [{"content": {"parts": [
            {"text": "Thinking about pods", "thought": true}
        ], "role": "model"}, "index": 0}]}),
        final_chunk(
            json!([
                {"functionCall": {"name": "get_pods", "args": {"ns": "a"}}, "thoughtSignature": sig_a},
                {"functionCall": {"name": "get_pods", "args": {"ns": "b"}}}
            ]),
            "STOP",
            json!({"promptTokenCount": 10, "candidatesTokenCount": 6, "thoughtsTokenCount": 40, "totalTokenCount": 56}),
        ),
    ]);
    let second = gsse(&[final_chunk(
        json!([{"text": "Both fine."}, {"text": "", "thoughtSignature": sig_text}]),
        "STOP",
        usage(70, 3),
    )]);
    let third = gsse(&[final_chunk(json!([{"text": "ok"}]), "STOP", usage(80, 1))]);
    let server = WireServer::start(vec![
        stream_scenario(Reply::sse(split_inside(first.as_bytes(), sig_a, 7))),
        stream_scenario(Reply::sse([second])).body_includes(json!({
            "contents": [
                {"role": "user", "parts": [{"text": "check"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_pods", "args": {"ns": "a"}}, "thoughtSignature": sig_a},
                    {"functionCall": {"name": "get_pods", "args": {"ns": "b"}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_pods", "response": {"output": "a ok"}}},
                    {"functionResponse": {"name": "get_pods", "response": {"error": "b gone"}}}
                ]}
            ]
        })),
        stream_scenario(Reply::sse([third])).body_includes(json!({
            "contents": [
                {"role": "user", "parts": [{"text": "check"}]},
                {"role": "model", "parts": [{}, {}]},
                {"role": "user", "parts": [{}, {}]},
                {"role": "model", "parts": [{"text": "Both fine.", "thoughtSignature": sig_text}]},
                {"role": "user", "parts": [{"text": "thanks"}]}
            ]
        })),
    ])
    .await;
    let p = provider(&server);
    let mut req = ChatRequest::new(vec![Message::user("check")]);
    let r = stream_result(&p, &req).await.unwrap();
    // Thoughts count as output.
    let u = r.usage.unwrap();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.reasoning_tokens),
        (10, 46, Some(40))
    );
    let calls = r.message.tool_calls.clone();
    req.messages.push(Message::Assistant(r.message.clone()));
    req.messages.push(Message::Tool(ToolResult::ok(
        calls[0].id.clone(),
        "get_pods",
        "a ok",
    )));
    req.messages.push(Message::Tool(ToolResult::error(
        calls[1].id.clone(),
        "get_pods",
        "b gone",
    )));
    let r2 = stream_result(&p, &req).await.unwrap();
    req.messages.push(Message::Assistant(r2.message.clone()));
    req.messages.push(Message::user("thanks"));
    stream_result(&p, &req).await.unwrap();
    // The thought text itself had no signature, so it is not replayed (only signed parts are).
    let second_body = server.requests()[1].json().unwrap();
    assert!(!second_body.to_string().contains("Thinking about pods"));
    server.verify_all_used();
}

#[tokio::test]
async fn g_4_missing_signature_400_is_a_clear_invalid_request() {
    let server = WireServer::start(vec![stream_scenario(Reply::json(
        400,
        &json!({"error": {"code": 400, "message": "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance.", "status": "INVALID_ARGUMENT"}}),
    ))])
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
    assert!(err.to_string().contains("thought_signature"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn g_5_finish_reasons_and_prompt_block() {
    let cases = [
        (
            "MALFORMED_FUNCTION_CALL",
            FinishReason::Other("MALFORMED_FUNCTION_CALL".into()),
        ),
        (
            "UNEXPECTED_TOOL_CALL",
            FinishReason::Other("UNEXPECTED_TOOL_CALL".into()),
        ),
        ("SAFETY", FinishReason::ContentFilter),
        ("MAX_TOKENS", FinishReason::Length),
        (
            "SOME_FUTURE_REASON",
            FinishReason::Other("SOME_FUTURE_REASON".into()),
        ),
    ];
    let mut scenarios = Vec::new();
    for (raw, _) in &cases {
        let mut chunk = final_chunk(json!([]), raw, usage(5, 0));
        if *raw == "MALFORMED_FUNCTION_CALL" {
            chunk["candidates"][0]["finishMessage"] =
                json!("Malformed function call: print(default_api.get_pods(ns=))");
            chunk["candidates"][0]
                .as_object_mut()
                .unwrap()
                .remove("content");
        }
        scenarios.push(stream_scenario(Reply::sse([gsse(&[
            text_chunk("x"),
            chunk,
        ])])));
    }
    scenarios.push(stream_scenario(Reply::sse([gsse(&[json!({
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7}
    })])])));
    let server = WireServer::start(scenarios).await;
    let p = provider(&server);
    for (raw, expected) in cases {
        let r = stream_result(&p, &ask()).await.unwrap();
        assert_eq!(r.finish_reason, expected, "{raw}");
        assert_eq!(r.raw_finish_reason.as_deref(), Some(raw));
    }
    let blocked = stream_result(&p, &ask()).await.unwrap_err();
    assert!(
        matches!(
            blocked,
            ProviderError::Api {
                kind: ApiErrorKind::ContentFiltered,
                ..
            }
        ),
        "{blocked:?}"
    );
    assert!(!blocked.is_retryable());
}

#[tokio::test]
async fn g_6_cumulative_usage_metadata_last_wins() {
    let body = gsse(&[
        text_chunk("a"),
        json!({"candidates": [{"content": {"parts": [{"text": "b"}], "role": "model"}, "index": 0}],
               "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2, "totalTokenCount": 11}}),
        final_chunk(
            json!([{"text": "c"}]),
            "STOP",
            json!({"promptTokenCount": 9, "candidatesTokenCount": 3, "thoughtsTokenCount": 12, "cachedContentTokenCount": 4, "totalTokenCount": 24}),
        ),
    ]);
    let server = WireServer::start(vec![stream_scenario(Reply::sse([body]))]).await;
    let r = stream_result(&provider(&server), &ask()).await.unwrap();
    let u = r.usage.unwrap();
    assert_eq!(u.input_tokens, 9);
    assert_eq!(
        u.output_tokens, 15,
        "candidates + thoughts, not a sum over chunks"
    );
    assert_eq!(u.cached_input_tokens, Some(4));
    assert_eq!(u.total(), 24);
}

#[tokio::test]
async fn g_7_mid_stream_raw_and_array_wrapped_errors() {
    // A raw multi-line JSON error object as one SSE event (data lines joined with `\n`).
    let raw_err = "data: {\r\ndata:   \"error\": {\r\ndata:     \"code\": 503,\r\ndata:     \"message\": \"The model is overloaded. Please try again later.\",\r\ndata:     \"status\": \"UNAVAILABLE\"\r\ndata:   }\r\ndata: }\r\n\r\n";
    let body1 = format!("{}{raw_err}", gsse(&[text_chunk("par")]));
    let body2 = format!(
        "{}data: [{{\"error\": {{\"code\": 500, \"message\": \"An internal error has occurred.\", \"status\": \"INTERNAL\"}}}}]\r\n\r\n",
        gsse(&[text_chunk("par")])
    );
    let server = WireServer::start(vec![
        stream_scenario(Reply::sse([body1])),
        stream_scenario(Reply::sse([body2])),
    ])
    .await;
    let p = provider(&server);
    let e1 = stream_result(&p, &ask()).await.unwrap_err();
    assert!(
        matches!(
            e1,
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ),
        "{e1:?}"
    );
    assert!(e1.is_retryable());
    let e2 = stream_result(&p, &ask()).await.unwrap_err();
    assert!(
        matches!(
            e2,
            ProviderError::Api {
                kind: ApiErrorKind::Server,
                ..
            }
        ),
        "{e2:?}"
    );
}

#[tokio::test]
async fn g_7_429_resource_exhausted_retry_info_and_503_unavailable() {
    let server = WireServer::start(vec![
        stream_scenario(Reply::json(429, &json!({"error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
            ]}}))),
        stream_scenario(Reply::json(503, &json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}))),
    ])
    .await;
    let p = provider(&server);
    let e = p.chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(37)));
    assert_eq!(
        e.details().unwrap().error_type.as_deref(),
        Some("RESOURCE_EXHAUSTED")
    );
    let e = p.chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn g_8_request_system_instruction_roles_object_responses_and_schemas() {
    let done = gsse(&[final_chunk(json!([{"text": "ok"}]), "STOP", usage(1, 1))]);
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": false,
        "properties": {"ns": {"type": ["string", "null"]}},
        "required": []
    });
    let expected_json_schema = json!({
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [{"text": "calling"}, {"functionCall": {"id": "c1", "name": "get_pods", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "get_pods", "response": {"output": ["a", "b"]}}}]}
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "get_pods", "description": "get_pods tool", "parametersJsonSchema": schema.clone()}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_pods"]}},
        "generationConfig": {"maxOutputTokens": 100, "temperature": 0.25}
    });
    let expected_sanitized = json!({
        "tools": [{"functionDeclarations": [{"name": "get_pods", "description": "get_pods tool",
            "parameters": {"type": "object", "properties": {"ns": {"type": "string", "nullable": true}}, "required": []}}]}]
    });
    let server = WireServer::start(vec![
        stream_scenario(Reply::sse([done.clone()])).body_json(expected_json_schema),
        stream_scenario(Reply::sse([done]))
            .body_includes(expected_sanitized)
            .body_absent("/tools/0/functionDeclarations/0/parametersJsonSchema"),
    ])
    .await;
    let mut result = ToolResult::ok("c1", "get_pods", "a\nb");
    result.structured = Some(json!(["a", "b"]));
    let mut req = ChatRequest::new(vec![
        Message::user("q"),
        Message::Assistant(
            AssistantMessage::text("calling").with_tool_calls(vec![ToolCall::new(
                "c1",
                "get_pods",
                json!({}),
            )]),
        ),
        Message::Tool(result),
    ]);
    req.system = Some("Be brief.".into());
    req.tools.push(tool("get_pods", schema));
    req.tool_choice = ToolChoice::Tool("get_pods".into());
    req.max_tokens = Some(100);
    req.temperature = Some(0.25);
    stream_result(&provider(&server), &req).await.unwrap();
    stream_result(
        &provider(&server).with_tool_schema(GeminiToolSchema::SanitizedParameters),
        &req,
    )
    .await
    .unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn g_9_vertex_partial_args_assembled_by_json_path() {
    // Vertex AI `streamFunctionCallArguments`: the exact chunking is not verified against a
    // live endpoint; this follows the documented FunctionCall.partialArgs / willContinue shape.
    let body = gsse(&[
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "scale", "willContinue": true}, "thoughtSignature": "SIGV"}]}}]}),
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"partialArgs": [{"jsonPath": "$.deployment", "stringValue": "web-", "willContinue": true}], "willContinue": true}}]}}]}),
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"partialArgs": [
                {"jsonPath": "$.deployment", "stringValue": "frontend"},
                {"jsonPath": "$.replicas", "numberValue": 3},
                {"jsonPath": "$.labels['app.kubernetes.io/name']", "stringValue": "web"},
                {"jsonPath": "$.ports[1]", "numberValue": 8443},
                {"jsonPath": "$.dryRun", "boolValue": false}
            ], "willContinue": true}}]}}]}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {}}]}, "finishReason": "STOP"}],
               "usageMetadata": usage(10, 8)}),
    ]);
    let server = WireServer::start(vec![
        Scenario::post("/v1/projects/p1/locations/global/publishers/google/models/gemini-3-pro:streamGenerateContent")
            .query("alt", "sse")
            .header("authorization", "Bearer ya29.static")
            .no_header("x-goog-api-key")
            .reply(Reply::sse([body])),
    ])
    .await;
    let p = GeminiProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p1", "global").with_base_url(server.url()),
        "gemini-3-pro",
        ProviderOptions::new()
            .with_auth(Auth::Google(GoogleAuth::token("ya29.static")))
            .with_timeouts(timeouts()),
    )
    .unwrap();
    let r = stream_result(&p, &ask()).await.unwrap();
    assert_eq!(r.message.tool_calls.len(), 1);
    let call = &r.message.tool_calls[0];
    assert_eq!(call.name, "scale");
    assert_eq!(
        call.arguments,
        ToolArguments::Json(json!({
            "deployment": "web-frontend",
            "replicas": 3,
            "labels": {"app.kubernetes.io/name": "web"},
            "ports": [null, 8443],
            "dryRun": false
        }))
    );
    assert_eq!(
        call.provider_data.as_ref().unwrap()["gemini"]["thought_signature"],
        "SIGV"
    );
    server.verify_all_used();
}

/// A throwaway RSA key generated for this test run, as a service-account JSON key.
fn service_account(token_uri: &str) -> (kagent_llm::vertex::ServiceAccountKey, Vec<u8>) {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair as _;
    use base64::Engine as _;
    let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = kp.as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let json = json!({
        "type": "service_account",
        "project_id": "p1",
        "private_key_id": "kid-123",
        "private_key": pem,
        "client_email": "agent@p1.iam.gserviceaccount.com",
        "token_uri": token_uri,
    });
    let key = kagent_llm::vertex::ServiceAccountKey::from_json(&json.to_string()).unwrap();
    (key, kp.public_key().as_ref().to_vec())
}

fn verify_assertion(body: &[u8], public_key: &[u8], token_uri: &str) {
    use base64::Engine as _;
    let form = std::str::from_utf8(body).unwrap();
    assert!(
        form.starts_with(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
        ),
        "{form}"
    );
    let jwt = form.split("assertion=").nth(1).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "kid-123");
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["iss"], "agent@p1.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], token_uri);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    let signed = format!("{}.{}", parts[0], parts[1]);
    let sig = b64.decode(parts[2]).unwrap();
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(signed.as_bytes(), &sig)
    .expect("the assertion is signed with the service account key (RS256)");
}

#[tokio::test]
async fn g_9_vertex_service_account_token_cached_and_refreshed_before_expiry() {
    let done = gsse(&[final_chunk(json!([{"text": "ok"}]), "STOP", usage(1, 1))]);
    let model_path = "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent";
    let server = WireServer::start(vec![
        // Long-lived token: fetched once, reused for the second call.
        Scenario::post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .reply(Reply::json(
                200,
                &json!({"access_token": "ya29.long", "expires_in": 3599, "token_type": "Bearer"}),
            )),
        Scenario::post(model_path)
            .query("alt", "sse")
            .header("authorization", "Bearer ya29.long")
            .reply(Reply::sse([done.clone()])),
        Scenario::post(model_path)
            .query("alt", "sse")
            .header("authorization", "Bearer ya29.long")
            .reply(Reply::sse([done.clone()])),
    ])
    .await;
    let token_uri = format!("{}/token", server.url());
    let (key, public_key) = service_account(&token_uri);
    let auth = GoogleAuth::service_account(key, reqwest::Client::new()).unwrap();
    let p = GeminiProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p1", "us-central1").with_base_url(server.url()),
        "gemini-2.5-pro",
        ProviderOptions::new().with_auth(Auth::Google(auth)),
    )
    .unwrap();
    stream_result(&p, &ask()).await.unwrap();
    stream_result(&p, &ask()).await.unwrap();
    let reqs = server.requests();
    assert_eq!(
        reqs.iter().filter(|r| r.path == "/token").count(),
        1,
        "token cached"
    );
    verify_assertion(&reqs[0].body, &public_key, &token_uri);
    server.verify_all_used();

    // A token that expires within the refresh margin is refreshed before the next call.
    let server = WireServer::start(vec![
        Scenario::post("/token").reply(Reply::json(
            200,
            &json!({"access_token": "ya29.first", "expires_in": 120}),
        )),
        Scenario::post(model_path)
            .header("authorization", "Bearer ya29.first")
            .reply(Reply::sse([done.clone()])),
        Scenario::post("/token").reply(Reply::json(
            200,
            &json!({"access_token": "ya29.second", "expires_in": 3599}),
        )),
        Scenario::post(model_path)
            .header("authorization", "Bearer ya29.second")
            .reply(Reply::sse([done])),
    ])
    .await;
    let token_uri = format!("{}/token", server.url());
    let (key, _) = service_account(&token_uri);
    // Default margin is 5 minutes: a 120 s token is refreshed on next use.
    let auth = GoogleAuth::service_account(key, reqwest::Client::new()).unwrap();
    let p = GeminiProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p1", "us-central1").with_base_url(server.url()),
        "gemini-2.5-pro",
        ProviderOptions::new().with_auth(Auth::Google(auth)),
    )
    .unwrap();
    stream_result(&p, &ask()).await.unwrap();
    stream_result(&p, &ask()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn g_9_vertex_token_endpoint_rejection_is_authentication_error() {
    let server = WireServer::start(vec![Scenario::post("/token").reply(Reply::json(
        400,
        &json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
    ))])
    .await;
    let (key, _) = service_account(&format!("{}/token", server.url()));
    let auth = GoogleAuth::service_account(key, reqwest::Client::new()).unwrap();
    let p = GeminiProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p1", "us-central1").with_base_url(server.url()),
        "gemini-2.5-pro",
        ProviderOptions::new().with_auth(Auth::Google(auth)),
    )
    .unwrap();
    let err = p.chat_stream(&ask()).await.err().unwrap();
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
    assert!(err.to_string().contains("Invalid JWT Signature"));
    assert!(!err.to_string().contains("PRIVATE KEY"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn t_7_gemini_stream_without_finish_reason_is_truncated() {
    let body = gsse(&[text_chunk("partial "), text_chunk("answer")]);
    let server = WireServer::start(vec![
        stream_scenario(Reply::sse([body.clone()])),
        stream_scenario(Reply::sse([body]).then_cut()),
    ])
    .await;
    let p = provider(&server);
    match stream_result(&p, &ask()).await {
        Err(ProviderError::TruncatedStream { partial, .. }) => {
            assert_eq!(partial.message.text_content(), "partial answer");
            assert_eq!(partial.usage.unwrap().input_tokens, 9);
        }
        other => panic!("expected truncation, got {other:?}"),
    }
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
async fn t_8_gemini_404_with_event_stream_content_type() {
    let server = WireServer::start(vec![stream_scenario(Reply::raw(
        404,
        "text/event-stream",
        Bytes::from(json!({"error": {"code": 404, "message": "models/gemini-nope is not found for API version v1beta, or is not supported for generateContent.", "status": "NOT_FOUND"}}).to_string()),
    ))])
    .await;
    let err = provider(&server).chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                kind: ApiErrorKind::NotFound,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn e_1_gemini_idle_stream_times_out_and_e_2_auth_not_retried() {
    let server = WireServer::start(vec![
        stream_scenario(Reply::sse([gsse(&[text_chunk("a")])]).then_hang()),
        stream_scenario(Reply::json(403, &json!({"error": {"code": 403, "message": "Method doesn't allow unregistered callers.", "status": "PERMISSION_DENIED"}}))),
        stream_scenario(Reply::json(400, &json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}))),
    ])
    .await;
    let p = provider_with(
        options(&server).with_timeouts(timeouts().with_stream_idle(Duration::from_millis(300))),
    );
    let events: Vec<_> = p.chat_stream(&ask()).await.unwrap().collect().await;
    assert!(matches!(
        events.last().unwrap(),
        Err(ProviderError::Timeout { .. })
    ));
    let e403 = p.chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            e403,
            ProviderError::Api {
                kind: ApiErrorKind::PermissionDenied,
                ..
            }
        ) && !e403.is_retryable()
    );
    let e400 = p.chat_stream(&ask()).await.err().unwrap();
    assert!(!e400.is_retryable());
    assert!(!format!("{e400:?}").contains(KEY));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn gemini_non_streamed_chat_and_model_listing() {
    let server = WireServer::start(vec![
        Scenario::post(SYNC_PATH).no_query("alt").header("x-goog-api-key", KEY).reply(Reply::json(
            200,
            &final_chunk(json!([{"text": "sync answer"}, {"functionCall": {"name": "t", "args": {"a": 1}}}]), "STOP", usage(3, 4)),
        )),
        Scenario::get("/v1beta/models").no_query("pageToken").reply(Reply::json(200, &json!({
            "models": [{"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash", "supportedGenerationMethods": ["generateContent"]}],
            "nextPageToken": "tok2"}))),
        Scenario::get("/v1beta/models").query("pageToken", "tok2").reply(Reply::json(200, &json!({
            "models": [{"name": "models/gemini-2.5-pro", "displayName": "Gemini 2.5 Pro"}]}))),
    ])
    .await;
    let p = provider(&server);
    let r = p.chat(&ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "sync answer");
    assert_eq!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Json(json!({"a": 1}))
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    let models = p.list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["gemini-2.5-flash", "gemini-2.5-pro"]);
    server.verify_all_used();
}

#[tokio::test]
async fn t_11_gemini_unknown_fields_and_parts_do_not_abort() {
    let body = gsse(&[
        json!({"candidates": [{"content": {"parts": [{"executableCode": {"language": "PYTHON", "code": "print(1)"}}, {"text": "a"}], "role": "model"},
               "citationMetadata": {"citations": []}, "avgLogprobs": -0.1, "index": 0}], "newTopLevel": {"x": 1}}),
        final_chunk(
            json!([{"text": "b", "someNewField": true}]),
            "STOP",
            usage(1, 2),
        ),
    ]);
    let server = WireServer::start(vec![stream_scenario(Reply::sse([body]))]).await;
    let events: Vec<ChatEvent> = provider(&server)
        .chat_stream(&ask())
        .await
        .unwrap()
        .map(|e| e.unwrap())
        .collect()
        .await;
    assert!(matches!(events.last(), Some(ChatEvent::Finish { .. })));
}

#[test]
fn gemini_debug_never_shows_the_key() {
    let p = GeminiProvider::new(
        reqwest::Client::new(),
        MODEL,
        ProviderOptions::new().with_api_key(KEY),
    )
    .unwrap();
    assert!(!format!("{p:?}").contains(KEY));
}

#[tokio::test]
async fn g_7_429_resource_exhausted_without_retry_info_is_still_a_rate_limit() {
    // Google's canonical per-minute quota text mentions "quota"; it is retryable with backoff.
    let server = WireServer::start(vec![stream_scenario(Reply::json(
        429,
        &json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}),
    ))])
    .await;
    let e = provider(&server).chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), None);
}

#[tokio::test]
async fn e_1_gemini_in_band_resource_exhausted_mid_stream_is_retryable() {
    let body = format!(
        "{}data: {{\"error\": {{\"code\": 429, \"message\": \"Resource has been exhausted (e.g. check quota).\", \"status\": \"RESOURCE_EXHAUSTED\", \"details\": [{{\"@type\": \"type.googleapis.com/google.rpc.RetryInfo\", \"retryDelay\": \"2.5s\"}}]}}}}\r\n\r\n",
        gsse(&[text_chunk("par")])
    );
    let server = WireServer::start(vec![stream_scenario(Reply::sse([body]))]).await;
    let events: Vec<_> = provider(&server)
        .chat_stream(&ask())
        .await
        .unwrap()
        .collect()
        .await;
    assert!(matches!(events[0], Ok(ChatEvent::ResponseMetadata { .. })));
    let e = events.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.retry_after(), Some(Duration::from_millis(2500)));
}

#[tokio::test]
async fn t_10_gemini_dropping_the_stream_closes_the_connection() {
    let server = WireServer::start(vec![stream_scenario(
        Reply::sse([gsse(&[text_chunk("first")])]).then_hang(),
    )])
    .await;
    let mut stream = provider(&server).chat_stream(&ask()).await.unwrap();
    while let Some(ev) = stream.next().await {
        if matches!(ev.unwrap(), ChatEvent::TextDelta { .. }) {
            break;
        }
    }
    drop(stream);
    assert!(
        server
            .wait_for_disconnects(1, Duration::from_secs(10))
            .await
    );
}
