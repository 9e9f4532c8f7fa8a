//! A provider never echoes its own credentials: a server that puts the rejected key (or any
//! sensitive header value the request carried) into its error body does not get it into the
//! `ProviderError`, its `Display`, its `Debug` or its source chain.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use bytes::Bytes;
use kagent_core::{ApiErrorKind, ChatRequest, Message, ModelProvider, ProviderError};
use kagent_llm::anthropic::AnthropicProvider;
use kagent_llm::openai::OpenAIProvider;
use kagent_llm::testing::{Reply, Scenario, WireServer};
use kagent_llm::{ProviderOptions, header_map};
use serde_json::json;

/// A key that looks like no known key format: only known-value redaction catches it.
const KEY: &str = "kagent-canary-key/4f1c9e";
/// A credential-like default header (`x-gateway-token`).
const GATEWAY: &str = "kagent-canary-gateway-77ab";

fn ask() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

fn text_of(e: &ProviderError) -> String {
    let mut all = format!("{e} {e:?}");
    let mut cur = std::error::Error::source(e);
    while let Some(s) = cur {
        all.push_str(&format!(" {s} {s:?}"));
        cur = s.source();
    }
    all
}

fn assert_clean(e: &ProviderError) {
    let text = text_of(e);
    for secret in [KEY, GATEWAY, "kagent-canary"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("[REDACTED]"), "nothing was redacted: {text}");
}

fn openai(server: &WireServer) -> OpenAIProvider {
    OpenAIProvider::new(
        reqwest::Client::new(),
        "gpt-4o",
        ProviderOptions::new()
            .with_api_key(KEY)
            .with_base_url(format!("{}/v1", server.url()))
            .with_default_headers(header_map([("x-gateway-token", GATEWAY)]).unwrap()),
    )
    .unwrap()
}

#[tokio::test]
async fn openai_errors_never_carry_the_key_or_a_credential_header() {
    let server = WireServer::start(vec![
        // The key echoed in the OpenAI error shape (401).
        Scenario::post("/v1/chat/completions")
            .header("authorization", &format!("Bearer {KEY}"))
            .reply(Reply::json(
                401,
                &json!({"error": {"message": format!("Incorrect API key provided: {KEY}."),
                    "type": "invalid_request_error", "code": "invalid_api_key"}}),
            )),
        // The whole header echoed in a body that is not JSON (a gateway's 403 page).
        Scenario::post("/v1/chat/completions").reply(Reply::raw(
            403,
            "text/plain",
            format!("denied: Authorization: Bearer {KEY}; x-gateway-token: {GATEWAY}"),
        )),
        // The key JSON-escaped (`/` as `\/`): caught once the body is parsed.
        Scenario::post("/v1/chat/completions").reply(Reply::raw(
            401,
            "application/json",
            Bytes::from(format!(
                r#"{{"error":{{"message":"bad key {}","type":"invalid_request_error"}}}}"#,
                KEY.replace('/', "\\/")
            )),
        )),
        // The key in the request id and code.
        Scenario::post("/v1/chat/completions").reply(
            Reply::json(
                429,
                &json!({"error": {"message": "slow down", "code": KEY, "type": GATEWAY}}),
            )
            .header("x-request-id", KEY),
        ),
    ])
    .await;
    let p = openai(&server);
    let e = p.chat(&ask()).await.unwrap_err();
    assert_clean(&e);
    assert_eq!(e.api_kind(), Some(ApiErrorKind::Authentication), "{e:?}");
    assert_eq!(
        e.details().unwrap().message,
        "Incorrect API key provided: [REDACTED]."
    );
    let e = p.chat_stream(&ask()).await.err().unwrap();
    assert_clean(&e);
    assert_eq!(e.api_kind(), Some(ApiErrorKind::PermissionDenied), "{e:?}");
    let e = p.chat(&ask()).await.unwrap_err();
    assert_clean(&e);
    assert_eq!(e.details().unwrap().message, "bad key [REDACTED]");
    let e = p.chat(&ask()).await.unwrap_err();
    assert_clean(&e);
    assert!(e.is_retryable(), "still classified from the status: {e:?}");
    server.verify_all_used();
}

#[tokio::test]
async fn anthropic_errors_never_carry_the_key() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/messages")
            .header("x-api-key", KEY)
            .reply(Reply::json(
                401,
                &json!({"type": "error", "error": {"type": "authentication_error",
                    "message": format!("invalid x-api-key {KEY}")}}),
            )),
    ])
    .await;
    let p = AnthropicProvider::new(
        reqwest::Client::new(),
        "claude-test",
        ProviderOptions::new()
            .with_api_key(KEY)
            .with_base_url(server.url()),
    )
    .unwrap();
    let e = p.chat_stream(&ask()).await.err().unwrap();
    assert_clean(&e);
    assert_eq!(e.api_kind(), Some(ApiErrorKind::Authentication), "{e:?}");
    server.verify_all_used();
}

#[tokio::test]
async fn other_text_in_an_error_body_is_kept() {
    // Values shorter than 8 bytes are not redacted (a key that short is no secret worth the
    // damage of redacting it everywhere), and the rest of the message stays as the server said.
    let server = WireServer::start(vec![Scenario::post("/v1/chat/completions").reply(
        Reply::json(
            400,
            &json!({"error": {"message": "model gpt-4o does not exist", "type": "invalid_request_error"}}),
        ),
    )])
    .await;
    let p = OpenAIProvider::new(
        reqwest::Client::new(),
        "gpt-4o",
        ProviderOptions::new()
            .with_api_key("gpt-4o")
            .with_base_url(format!("{}/v1", server.url())),
    )
    .unwrap();
    let e = p.chat(&ask()).await.unwrap_err();
    assert_eq!(e.details().unwrap().message, "model gpt-4o does not exist");
}

#[tokio::test]
async fn an_error_event_inside_a_stream_never_carries_the_key() {
    // A 200 stream whose error event quotes the key (and the gateway header).
    let event = json!({"error": {"message": format!("key {KEY} revoked via {GATEWAY}"),
        "type": "invalid_request_error", "code": "invalid_api_key"}});
    let server = WireServer::start(vec![
        Scenario::post("/v1/chat/completions").reply(Reply::sse([format!("data: {event}\n\n")])),
    ])
    .await;
    let p = openai(&server);
    let mut stream = p.chat_stream(&ask()).await.unwrap();
    let e = loop {
        match futures::StreamExt::next(&mut stream).await {
            Some(Err(e)) => break e,
            Some(Ok(_)) => continue,
            None => panic!("the stream ended without the error"),
        }
    };
    assert_clean(&e);
    assert_eq!(
        e.details().unwrap().message,
        "key [REDACTED] revoked via [REDACTED]"
    );
    server.verify_all_used();
}
