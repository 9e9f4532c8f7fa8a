//! The shared `ProviderOptions` on the wire: every provider takes the same options, sends the
//! sampling defaults in its own request fields (the request's values win), sends no credential
//! for `Auth::None`, and refuses at construction a credential or setting it cannot use.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::time::Duration;

use aws_credential_types::Credentials;
use futures::StreamExt;
use http::{HeaderName, HeaderValue};
use kagent_core::{ChatRequest, Message, ModelProvider, ProviderError};
use kagent_llm::anthropic::AnthropicProvider;
use kagent_llm::bedrock::BedrockProvider;
use kagent_llm::gemini::GeminiProvider;
use kagent_llm::ollama::OllamaProvider;
use kagent_llm::openai::{AzureApi, OpenAIProvider};
use kagent_llm::testing::{Reply, Scenario, WireServer, sse_body};
use kagent_llm::vertex::{GoogleAuth, VertexLocation};
use kagent_llm::{Auth, ConfigError, ProviderKind, ProviderOptions, Timeouts};
use serde_json::json;
use support::*;

/// Defaults every provider receives in these tests.
fn defaults(server: &WireServer) -> ProviderOptions {
    ProviderOptions::new()
        .with_base_url(server.url())
        .with_temperature(0.5)
        .with_top_p(0.9)
        .with_top_k(40)
        .with_stop_sequences(["END"])
        .with_max_output_tokens(321)
        .with_default_header(
            HeaderName::from_static("x-team"),
            HeaderValue::from_static("sre"),
        )
        .with_timeouts(test_timeouts())
}

/// A request that sets its own temperature, token limit and stop sequences.
fn own_values() -> ChatRequest {
    let mut r = ChatRequest::new(vec![Message::user("hi")]);
    r.temperature = Some(0.1);
    r.max_tokens = Some(7);
    r.stop = vec!["HALT".into()];
    r
}

fn plain() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

const ANTHROPIC_OK: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}"#;

#[tokio::test]
async fn openai_sends_the_shared_defaults_and_the_request_wins() {
    let body = format!(
        "{}{}{DONE}",
        data(&delta(json!({"content":"ok"}))),
        data(&finish("stop"))
    );
    let ok = Reply::sse([body]);
    let server = WireServer::start(vec![
        Scenario::post("/chat/completions")
            .header("x-team", "sre")
            .no_header("authorization")
            .body_includes(json!({"temperature": 0.5, "top_p": 0.9, "top_k": 40,
                                  "stop": ["END"], "max_tokens": 321}))
            .reply(ok.clone()),
        Scenario::post("/chat/completions")
            .body_includes(
                json!({"temperature": 0.1, "top_p": 0.9, "stop": ["HALT"], "max_tokens": 7}),
            )
            .reply(ok),
    ])
    .await;
    // `Auth::None`: no credential at all (a gateway in front may add one).
    let p = OpenAIProvider::new(reqwest::Client::new(), "m", defaults(&server)).unwrap();
    stream_chat(&p, &plain()).await.unwrap();
    stream_chat(&p, &own_values()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn anthropic_sends_the_shared_defaults_and_no_key_without_one() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/messages")
            .header("x-team", "sre")
            .header("anthropic-version", "2023-06-01")
            .no_header("x-api-key")
            .body_includes(json!({"temperature": 0.5, "top_p": 0.9, "top_k": 40,
                                  "stop_sequences": ["END"], "max_tokens": 321}))
            .reply(Reply::json(
                200,
                &serde_json::from_str(ANTHROPIC_OK).unwrap(),
            )),
        Scenario::post("/v1/messages")
            .header("x-api-key", "sk-ant-1")
            .body_includes(json!({"temperature": 0.1, "stop_sequences": ["HALT"], "max_tokens": 7}))
            .reply(Reply::json(
                200,
                &serde_json::from_str(ANTHROPIC_OK).unwrap(),
            )),
    ])
    .await;
    let p = AnthropicProvider::new(reqwest::Client::new(), "claude-x", defaults(&server)).unwrap();
    assert_eq!(p.chat(&plain()).await.unwrap().message.text_content(), "ok");
    let p = AnthropicProvider::new(
        reqwest::Client::new(),
        "claude-x",
        defaults(&server).with_api_key("sk-ant-1"),
    )
    .unwrap();
    p.chat(&own_values()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn gemini_sends_the_shared_defaults() {
    let answer = json!({"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP","index":0}]});
    let server = WireServer::start(vec![
        Scenario::post("/v1beta/models/gemini-x:generateContent")
            .header("x-goog-api-key", "AIza-1")
            .header("x-team", "sre")
            .body_includes(json!({"generationConfig": {"temperature": 0.5, "topP": 0.9, "topK": 40,
                                  "stopSequences": ["END"], "maxOutputTokens": 321}}))
            .reply(Reply::json(200, &answer)),
        Scenario::post("/v1beta/models/gemini-x:generateContent")
            .body_includes(json!({"generationConfig": {"temperature": 0.1, "stopSequences": ["HALT"], "maxOutputTokens": 7}}))
            .reply(Reply::json(200, &answer)),
    ])
    .await;
    let p = GeminiProvider::new(
        reqwest::Client::new(),
        "gemini-x",
        defaults(&server).with_api_key("AIza-1"),
    )
    .unwrap();
    p.chat(&plain()).await.unwrap();
    p.chat(&own_values()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn ollama_puts_the_defaults_in_options_below_its_own_options_and_the_request() {
    let done = json!({"model":"m","message":{"role":"assistant","content":"ok"},"done":true,"done_reason":"stop"});
    let server = WireServer::start(vec![
        Scenario::post("/api/chat")
            .header("authorization", "Bearer ollama-token")
            .header("x-team", "sre")
            .body_includes(json!({"options": {"temperature": 0.5, "top_p": 0.9, "top_k": 20,
                                  "num_predict": 321, "stop": ["END"], "num_ctx": 8192}}))
            .reply(Reply::ndjson([format!("{done}\n")])),
        Scenario::post("/api/chat")
            .body_includes(json!({"options": {"temperature": 0.1, "top_k": 20, "num_predict": 7, "stop": ["HALT"]}}))
            .reply(Reply::ndjson([format!("{done}\n")])),
    ])
    .await;
    let p = OllamaProvider::new(
        reqwest::Client::new(),
        "m",
        defaults(&server).with_bearer_token("ollama-token"),
    )
    .unwrap()
    // The provider's own option wins over the shared default.
    .with_option("top_k", json!("20"))
    .with_option("num_ctx", json!(8192));
    stream_chat(&p, &plain()).await.unwrap();
    stream_chat(&p, &own_values()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn bedrock_sends_the_shared_defaults_with_a_bedrock_api_key() {
    let answer = json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}});
    let server = WireServer::start(vec![
        Scenario::post("/model/m/converse")
            .header("authorization", "Bearer bedrock-key")
            .header("x-team", "sre")
            .body_includes(json!({"inferenceConfig": {"temperature": 0.5, "maxTokens": 321, "stopSequences": ["END"]}}))
            .reply(Reply::json(200, &answer)),
    ])
    .await;
    let mut options = defaults(&server).with_api_key("bedrock-key");
    options.top_k = None; // the Converse API has none (see below)
    let p = BedrockProvider::new(reqwest::Client::new(), "us-east-1", "m", options).unwrap();
    p.chat(&plain()).await.unwrap();
    server.verify_all_used();
}

#[test]
fn credentials_and_settings_a_provider_cannot_use_are_refused_when_it_is_built() {
    let client = reqwest::Client::new;
    let aws = || Auth::Aws(Credentials::new("AKID", "SECRET", None, None, "test"));
    let unsupported = |r: Result<(), ConfigError>, kind: ProviderKind| match r {
        Err(ConfigError::Unsupported { provider, message }) => {
            assert_eq!(provider, kind);
            assert!(!message.contains("SECRET"), "{message}");
        }
        other => panic!("{kind}: expected Unsupported, got {other:?}"),
    };
    unsupported(
        OpenAIProvider::new(client(), "m", ProviderOptions::new().with_auth(aws())).map(drop),
        ProviderKind::OpenAI,
    );
    unsupported(
        AnthropicProvider::new(client(), "m", ProviderOptions::new().with_bearer_token("t"))
            .map(drop),
        ProviderKind::Anthropic,
    );
    unsupported(
        GeminiProvider::vertex(
            client(),
            VertexLocation::new("p", "global"),
            "m",
            ProviderOptions::new().with_api_key("AIza"),
        )
        .map(drop),
        ProviderKind::GeminiVertexAI,
    );
    unsupported(
        OllamaProvider::new(
            client(),
            "m",
            ProviderOptions::new().with_auth(Auth::Google(GoogleAuth::token("t"))),
        )
        .map(drop),
        ProviderKind::Ollama,
    );
    unsupported(
        BedrockProvider::new(
            client(),
            "us-east-1",
            "m",
            ProviderOptions::new().with_auth(aws()).with_top_k(5),
        )
        .map(drop),
        ProviderKind::Bedrock,
    );
    assert!(matches!(
        BedrockProvider::new(client(), " ", "m", ProviderOptions::new()),
        Err(ConfigError::MissingField { .. })
    ));
    // Azure needs its resource endpoint; the classic API needs a deployment.
    let azure = |api, deployment: &str, options| {
        OpenAIProvider::azure(client(), api, deployment, options).map(drop)
    };
    assert!(matches!(
        azure(AzureApi::V1, "d", ProviderOptions::new().with_api_key("k")),
        Err(ConfigError::MissingField { ref field, .. }) if field == "azureOpenAI.azureEndpoint"
    ));
    assert!(matches!(
        azure(
            AzureApi::from_version(Some("2024-10-21")),
            "",
            ProviderOptions::new().with_base_url("https://x.openai.azure.com")
        ),
        Err(ConfigError::MissingField { ref field, .. }) if field == "azureOpenAI.azureDeployment"
    ));
    assert_eq!(AzureApi::from_version(Some(" v1 ")), AzureApi::V1);
    assert_eq!(AzureApi::from_version(None), AzureApi::V1);
}

#[tokio::test]
async fn a_vertex_access_token_is_a_bearer_token_and_the_base_url_replaces_the_host() {
    let server = WireServer::start(vec![
        Scenario::post(
            "/v1/projects/p/locations/global/publishers/anthropic/models/claude-x:rawPredict",
        )
        .header("authorization", "Bearer ya29.token")
        .reply(Reply::json(
            200,
            &serde_json::from_str(ANTHROPIC_OK).unwrap(),
        )),
    ])
    .await;
    let p = AnthropicProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p", "global"),
        "claude-x",
        ProviderOptions::new()
            .with_bearer_token("ya29.token")
            .with_base_url(server.url())
            .with_timeouts(test_timeouts()),
    )
    .unwrap();
    p.chat(&plain()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn anthropic_stops_reading_at_message_stop() {
    // The server keeps the connection open after `message_stop`: the answer is complete at
    // once, not after the idle timeout.
    let body = sse_body([
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"done"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    let server = WireServer::start(vec![
        Scenario::post("/v1/messages").reply(Reply::sse([body]).then_hang()),
    ])
    .await;
    let p = AnthropicProvider::new(
        reqwest::Client::new(),
        "claude-x",
        ProviderOptions::new()
            .with_base_url(server.url())
            .with_timeouts(Timeouts::NONE.with_stream_idle(Duration::from_secs(30))),
    )
    .unwrap();
    let mut s = p.chat_stream(&plain()).await.unwrap();
    let mut text = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = s.next().await {
            if let kagent_core::ChatEvent::TextDelta { text: t } = ev? {
                text.push_str(&t);
            }
        }
        Ok::<(), ProviderError>(())
    })
    .await;
    assert!(matches!(ended, Ok(Ok(()))), "{ended:?}");
    assert_eq!(text, "done");
}

#[test]
fn options_never_print_credentials_and_providers_expose_them_redacted() {
    let o = ProviderOptions::new()
        .with_api_key("sk-SECRET-1")
        .with_default_header(
            HeaderName::from_static("authorization"),
            HeaderValue::from_static("Bearer SECRET-2"),
        );
    let p = OpenAIProvider::new(reqwest::Client::new(), "m", o).unwrap();
    let dbg = format!("{p:?} {:?}", p.options());
    assert!(!dbg.contains("SECRET"), "{dbg}");
}
