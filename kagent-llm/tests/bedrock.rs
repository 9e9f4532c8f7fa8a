//! Bedrock Converse / ConverseStream against the wire server: SigV4 headers (known answer from
//! the aws-sigv4 crate for fixed credentials and time), request/response mapping, and
//! ConverseStream bodies built with aws-smithy-eventstream's encoder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use futures::StreamExt;
use kagent_core::{
    ApiErrorKind, AssistantMessage, ChatRequest, ChatResponse, FinishReason,
    Message as ChatMessage, ModelProvider, ProviderError, Reasoning, ToolArguments, ToolCall,
    ToolChoice, ToolEffect, ToolResult, ToolSpec, collect_stream,
};
use kagent_llm::bedrock::BedrockProvider;
use kagent_llm::testing::{Reply, Scenario, WireServer, split_at, split_every};
use kagent_llm::{Auth, ProviderOptions, Timeouts};
use serde_json::{Value, json};

const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const CONVERSE: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
const CONVERSE_STREAM: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn creds(session: Option<&str>) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        SECRET,
        session.map(str::to_owned),
        None,
        "test",
    )
}

fn fixed_time() -> SystemTime {
    // 2015-08-30T12:36:00Z, the time of AWS's SigV4 test suite.
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn provider(server: &WireServer, session: Option<&str>) -> BedrockProvider {
    provider_with(options(server, session))
}

fn options(server: &WireServer, session: Option<&str>) -> ProviderOptions {
    ProviderOptions::new()
        .with_auth(Auth::Aws(creds(session)))
        .with_base_url(server.url())
        .with_timeouts(
            Timeouts::NONE
                .with_connect(Some(Duration::from_secs(5)))
                .with_request(Some(Duration::from_secs(10)))
                .with_stream_idle(Some(Duration::from_secs(10))),
        )
}

fn provider_with(options: ProviderOptions) -> BedrockProvider {
    BedrockProvider::new(reqwest::Client::new(), "us-east-1", MODEL, options)
        .unwrap()
        .with_signing_time(fixed_time())
}

fn ask() -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::user("hi")])
}

fn converse_ok(content: Value, stop: &str) -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
        "metrics": {"latencyMs": 321}
    })
}

/// The signature aws-sigv4 computes for the same request (known answer for fixed inputs).
fn expected_authorization(url: &str, body: &[u8], session: Option<&str>) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = creds(session).into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("bedrock")
        .time(fixed_time())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        [("content-type", "application/json")].into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions
        .headers()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .unwrap()
        .1
        .to_owned()
}

#[tokio::test]
async fn bedrock_sigv4_headers_present_and_match_known_answer() {
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE)
            .header("x-amz-date", "20150830T123600Z")
            .no_header("x-amz-security-token")
            .reply(Reply::json(
                200,
                &converse_ok(json!([{"text": "hello"}]), "end_turn"),
            )),
        Scenario::post(CONVERSE)
            .header("x-amz-security-token", "session-token-SECRET")
            .reply(Reply::json(
                200,
                &converse_ok(json!([{"text": "hello"}]), "end_turn"),
            )),
    ])
    .await;
    let p = provider(&server, None);
    let r = p.chat(&ask()).await.unwrap();
    assert_eq!(r.message.text_content(), "hello");
    let req = server.requests()[0].clone();
    let auth = req.header("authorization").unwrap().to_owned();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="),
        "{auth}"
    );
    let sig = auth.rsplit("Signature=").next().unwrap();
    assert_eq!(sig.len(), 64);
    assert!(sig.chars().all(|c| c.is_ascii_hexdigit()));
    let url = format!("{}{CONVERSE}", server.url());
    assert_eq!(auth, expected_authorization(&url, &req.body, None));

    let with_session = provider(&server, Some("session-token-SECRET"));
    with_session.chat(&ask()).await.unwrap();
    let req = server.requests()[1].clone();
    let auth = req.header("authorization").unwrap();
    assert!(
        auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
        "{auth}"
    );
    assert_eq!(
        auth,
        expected_authorization(&url, &req.body, Some("session-token-SECRET"))
    );
    server.verify_all_used();
}

#[tokio::test]
async fn bedrock_api_key_is_a_bearer_token() {
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE)
            .header("authorization", "Bearer bedrock-api-key-SECRET")
            .no_header("x-amz-date")
            .reply(Reply::json(
                200,
                &converse_ok(json!([{"text": "ok"}]), "end_turn"),
            )),
    ])
    .await;
    let p = BedrockProvider::new(
        reqwest::Client::new(),
        "us-west-2",
        MODEL,
        ProviderOptions::new()
            .with_api_key("bedrock-api-key-SECRET")
            .with_base_url(server.url()),
    )
    .unwrap();
    p.chat(&ask()).await.unwrap();
    server.verify_all_used();
    assert!(!format!("{p:?}").contains("SECRET"));
}

#[tokio::test]
async fn bedrock_converse_request_and_response_mapping() {
    let expected = json!({
        "system": [{"text": "You are terse."}],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.5, "stopSequences": ["STOP"]},
        "toolConfig": {
            "tools": [{"toolSpec": {"name": "get_pods", "description": "lists pods", "inputSchema": {"json": {"type": "object", "properties": {"ns": {"type": "string"}}}}}}],
            "toolChoice": {"any": {}}
        },
        "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
        "messages": [
            {"role": "user", "content": [{"text": "list pods"}]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "need tool", "signature": "SIG"}}},
                {"text": "Listing."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_pods", "input": {"ns": "default"}}},
                {"toolUse": {"toolUseId": "tooluse_2", "name": "get_pods", "input": {"ns": "kube-system"}}}
            ]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [{"json": {"pods": ["a"]}}, {"text": "a"}]}},
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "forbidden"}], "status": "error"}}
            ]}
        ]
    });
    let reply = converse_ok(
        json!([
            {"reasoningContent": {"reasoningText": {"text": "thinking", "signature": "SIG2"}}},
            {"text": "Pods: a. "},
            {"toolUse": {"toolUseId": "tooluse_3", "name": "get_logs", "input": {"pod": "a"}}}
        ]),
        "tool_use",
    );
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE)
            .header("content-type", "application/json")
            .body_json(expected)
            .reply(Reply::json(200, &reply)),
    ])
    .await;
    let p = provider(&server, None).with_additional_model_request_fields(
        json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
    );
    let mut ok = ToolResult::ok("tooluse_1", "get_pods", "a");
    ok.structured = Some(json!({"pods": ["a"]}));
    let mut req = ChatRequest::new(vec![
        ChatMessage::user("list pods"),
        ChatMessage::Assistant(
            AssistantMessage::text("Listing.")
                .with_reasoning(vec![Reasoning::new("need tool").with_signature("SIG")])
                .with_tool_calls(vec![
                    ToolCall::new("tooluse_1", "get_pods", json!({"ns": "default"})),
                    ToolCall::new("tooluse_2", "get_pods", json!({"ns": "kube-system"})),
                ]),
        ),
        ChatMessage::Tool(ok),
        ChatMessage::Tool(ToolResult::error("tooluse_2", "get_pods", "forbidden")),
    ]);
    req.system = Some("You are terse.".into());
    req.max_tokens = Some(512);
    req.temperature = Some(0.5);
    req.stop = vec!["STOP".into()];
    req.tool_choice = ToolChoice::Required;
    req.tools.push(
        ToolSpec::new("get_pods", "lists pods", ToolEffect::ReadOnly)
            .unwrap()
            .with_input_schema(json!({"type": "object", "properties": {"ns": {"type": "string"}}}))
            .idempotent(true),
    );
    let r = p.chat(&req).await.unwrap();
    server.verify_all_used();
    assert_eq!(r.message.text_content(), "Pods: a. ");
    assert_eq!(
        r.message.tool_calls,
        vec![ToolCall::new("tooluse_3", "get_logs", json!({"pod": "a"}))]
    );
    assert_eq!(r.message.reasoning[0].signature.as_deref(), Some("SIG2"));
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.raw_finish_reason.as_deref(), Some("tool_use"));
    let u = r.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (12, 7));
}

fn event(event_type: &str, payload: Value) -> Bytes {
    let m = Message::new(Bytes::from(payload.to_string()))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&m, &mut out).unwrap();
    Bytes::from(out)
}

fn exception(kind: &str, message: &str) -> Bytes {
    let m = Message::new(Bytes::from(json!({"message": message}).to_string()))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("exception".into()),
        ))
        .add_header(Header::new(
            ":exception-type",
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&m, &mut out).unwrap();
    Bytes::from(out)
}

fn concat(parts: &[Bytes]) -> Vec<u8> {
    parts.iter().flat_map(|b| b.iter().copied()).collect()
}

fn event_stream(body: Vec<Bytes>) -> Reply {
    Reply::status(200)
        .header("content-type", "application/vnd.amazon.eventstream")
        .chunks(body)
}

async fn stream_result(
    p: &BedrockProvider,
    req: &ChatRequest,
) -> Result<ChatResponse, ProviderError> {
    let s = p.chat_stream(req).await?;
    tokio::time::timeout(Duration::from_secs(20), collect_stream("aws.bedrock", s))
        .await
        .expect("stream hung")
}

#[tokio::test]
async fn t_1_bedrock_converse_stream_event_stream_body_assembled() {
    let frames = [
        event(
            "messageStart",
            json!({"role": "assistant", "p": "abcdefgh"}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Let me check. "}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "SIGB"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"text": "Déploiement 🚀 "}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 1})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_A", "name": "scale"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"replicas\":"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": " 3}"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 2})),
        event("someFutureEvent", json!({"x": 1})),
        event("messageStop", json!({"stopReason": "tool_use"})),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 30, "outputTokens": 20, "totalTokens": 50, "cacheReadInputTokens": 5}, "metrics": {"latencyMs": 10}}),
        ),
    ];
    let body = concat(&frames);
    // Odd chunk boundaries: inside preludes, headers, payload JSON and the UTF-8 of the emoji.
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE_STREAM).reply(event_stream(split_every(&body, 37))),
        Scenario::post(CONVERSE_STREAM).reply(event_stream(split_at(&body, &[3, 13, 200]))),
    ])
    .await;
    let p = provider(&server, None);
    for _ in 0..2 {
        let r = stream_result(&p, &ask()).await.unwrap();
        assert_eq!(r.message.text_content(), "Déploiement 🚀 ");
        assert_eq!(r.message.reasoning[0].signature.as_deref(), Some("SIGB"));
        assert_eq!(r.message.tool_calls[0].id, "tooluse_A");
        assert_eq!(
            r.message.tool_calls[0].arguments,
            ToolArguments::Json(json!({"replicas": 3}))
        );
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        let u = r.usage.unwrap();
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.cached_input_tokens),
            (35, 20, Some(5))
        );
    }
    server.verify_all_used();
}

#[tokio::test]
async fn t_9_bedrock_stream_exception_frame_is_typed_and_retryable() {
    let body = concat(&[
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "par"}}),
        ),
        exception(
            "throttlingException",
            "Too many tokens, please wait before trying again.",
        ),
    ]);
    let body2 = concat(&[
        event("messageStart", json!({"role": "assistant"})),
        exception(
            "validationException",
            "Input is too long for requested model.",
        ),
    ]);
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(body)])),
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(body2)])),
    ])
    .await;
    let p = provider(&server, None);
    let e = stream_result(&p, &ask()).await.unwrap_err();
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
    let e = stream_result(&p, &ask()).await.unwrap_err();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::ContextLengthExceeded,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn t_7_bedrock_stream_truncated_without_message_stop_and_corrupt_frame() {
    let frames = [
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "half"}}),
        ),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "x"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"a\""}}}),
        ),
    ];
    let body = concat(&frames);
    // Cut in the middle of the last frame as well.
    let cut = body[..body.len() - 5].to_vec();
    let mut corrupt = concat(&[event("messageStart", json!({"role": "assistant"}))]);
    let n = corrupt.len();
    corrupt[n - 1] ^= 0xff; // breaks the message CRC
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(body)])),
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(cut)])),
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(corrupt)])),
    ])
    .await;
    let p = provider(&server, None);
    match stream_result(&p, &ask()).await {
        Err(ProviderError::TruncatedStream { partial, .. }) => {
            assert_eq!(partial.message.text_content(), "half");
            assert!(matches!(
                partial.message.tool_calls[0].arguments,
                ToolArguments::Malformed { .. }
            ));
        }
        other => panic!("expected truncation, got {other:?}"),
    }
    assert!(matches!(
        stream_result(&p, &ask()).await,
        Err(ProviderError::TruncatedStream { .. })
    ));
    assert!(matches!(
        stream_result(&p, &ask()).await,
        Err(ProviderError::Decode { .. })
    ));
}

#[tokio::test]
async fn bedrock_max_tokens_mid_tool_input_is_incomplete_call() {
    let body = concat(&[
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "apply"}}}),
        ),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{\"manifest\": \"kind: Po"}}}),
        ),
        event("messageStop", json!({"stopReason": "max_tokens"})),
    ]);
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(body)])),
    ])
    .await;
    let r = stream_result(&provider(&server, None), &ask())
        .await
        .unwrap();
    assert_eq!(r.raw_finish_reason.as_deref(), Some("max_tokens"));
    assert!(matches!(
        r.message.tool_calls[0].arguments,
        ToolArguments::Malformed { .. }
    ));
}

#[tokio::test]
async fn e_3_bedrock_http_errors_are_typed_with_request_id() {
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE).reply(
            Reply::json(403, &json!({"message": "User: arn:aws:iam::123:user/x is not authorized to perform: bedrock:InvokeModel"}))
                .header("x-amzn-errortype", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/")
                .header("x-amzn-requestid", "rid-403"),
        ),
        Scenario::post(CONVERSE).reply(
            Reply::json(429, &json!({"message": "Too many requests, please wait before trying again."}))
                .header("x-amzn-errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        ),
        Scenario::post(CONVERSE_STREAM).reply(
            Reply::json(400, &json!({"message": "The model returned the following errors: Input is too long for requested model."}))
                .header("x-amzn-errortype", "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        ),
    ])
    .await;
    let p = provider(&server, None);
    let e = p.chat(&ask()).await.unwrap_err();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::PermissionDenied,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert_eq!(e.details().unwrap().request_id.as_deref(), Some("rid-403"));
    assert_eq!(
        e.details().unwrap().error_type.as_deref(),
        Some("AccessDeniedException")
    );
    let e = p.chat(&ask()).await.unwrap_err();
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
    let e = p.chat_stream(&ask()).await.err().unwrap();
    assert!(
        matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::ContextLengthExceeded,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!format!("{e:?}").contains(SECRET));
}

#[tokio::test]
async fn e_1_bedrock_idle_stream_times_out() {
    let body = concat(&[event("messageStart", json!({"role": "assistant"}))]);
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(body)]).then_hang()),
    ])
    .await;
    let p = provider_with(
        options(&server, None).with_timeouts(
            Timeouts::NONE
                .with_connect(Some(Duration::from_secs(5)))
                .with_request(Some(Duration::from_secs(5)))
                .with_stream_idle(Some(Duration::from_millis(300))),
        ),
    );
    let events: Vec<_> = p.chat_stream(&ask()).await.unwrap().collect().await;
    assert!(matches!(
        events.last().unwrap(),
        Err(ProviderError::Timeout { .. })
    ));
}

#[test]
fn bedrock_debug_never_shows_secrets() {
    let p = BedrockProvider::new(
        reqwest::Client::new(),
        "us-east-1",
        MODEL,
        ProviderOptions::new().with_auth(Auth::Aws(creds(Some("tok-SECRET")))),
    )
    .unwrap();
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains(SECRET) && !dbg.contains("tok-SECRET"),
        "{dbg}"
    );
    assert!(dbg.contains("AKIDEXAMPLE"));
}

#[tokio::test]
async fn t_10_bedrock_dropping_the_stream_closes_the_connection() {
    let body = concat(&[
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "first"}}),
        ),
    ]);
    let server = WireServer::start(vec![
        Scenario::post(CONVERSE_STREAM).reply(event_stream(vec![Bytes::from(body)]).then_hang()),
    ])
    .await;
    let mut stream = provider(&server, None).chat_stream(&ask()).await.unwrap();
    while let Some(ev) = stream.next().await {
        if matches!(ev.unwrap(), kagent_core::ChatEvent::TextDelta { .. }) {
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

#[tokio::test]
async fn bedrock_lists_foundation_models_with_a_signed_get() {
    let server = WireServer::start(vec![Scenario::get("/foundation-models")
        .header("x-amz-date", "20150830T123600Z")
        .reply(Reply::json(200, &json!({"modelSummaries": [
            {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
             "modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0", "modelName": "Claude 3.5 Sonnet",
             "providerName": "Anthropic", "responseStreamingSupported": true},
            {"modelId": "amazon.nova-pro-v1:0", "modelName": "Nova Pro"}
        ]})))])
    .await;
    let p = provider(&server, None).with_control_plane_url(server.url());
    let models = p.list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "amazon.nova-pro-v1:0"
        ]
    );
    let auth = server
        .last_request()
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(
        auth.contains("/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date,"),
        "{auth}"
    );
    server.verify_all_used();
}
