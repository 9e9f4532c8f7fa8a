//! Building the Anthropic, Gemini, Vertex AI and Bedrock providers from a kagent `ModelConfig`
//! spec, and the Vertex token cache under concurrency.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use kagent_core::{ChatRequest, Message, ModelProvider, collect_stream};
use kagent_llm::testing::{Reply, Scenario, WireServer, sse_body};
use kagent_llm::vertex::{GoogleAuth, ServiceAccountKey, VertexLocation};
use kagent_llm::{ConfigError, ModelConfig, build_provider};
use serde_json::json;

fn config(spec: serde_json::Value) -> ModelConfig {
    serde_json::from_value(spec).unwrap()
}

fn ask() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

const ANTHROPIC_DONE: &[(&str, &str)] = &[
    (
        "message_start",
        r#"{"type":"message_start","message":{"id":"m","model":"claude","usage":{"input_tokens":1,"output_tokens":1}}}"#,
    ),
    (
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    ),
    (
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}"#,
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
];

fn gemini_done() -> String {
    format!(
        "data: {}\r\n\r\n",
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]})
    )
}

#[tokio::test]
async fn anthropic_from_model_config_spec() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/messages")
            .header("x-api-key", "sk-ant-cfg")
            .header("x-team", "sre")
            .body_includes(json!({"model": "claude-sonnet-4-5", "max_tokens": 1000, "temperature": 0.2, "top_k": 5}))
            .reply(Reply::sse([sse_body(ANTHROPIC_DONE.iter().copied())])),
    ])
    .await;
    let c = config(json!({
        "provider": "Anthropic",
        "model": "claude-sonnet-4-5",
        "apiKey": "sk-ant-cfg",
        "defaultHeaders": {"x-team": "sre"},
        "anthropic": {"baseUrl": server.url(), "maxTokens": 1000, "temperature": "0.2", "topK": 5}
    }));
    let p = build_provider(&c, reqwest::Client::new()).unwrap();
    assert_eq!(p.info().provider, "anthropic");
    let r = collect_stream("anthropic", p.chat_stream(&ask()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(r.message.text_content(), "ok");
    server.verify_all_used();
    assert!(!format!("{c:?}").contains("sk-ant-cfg"));
}

#[tokio::test]
async fn anthropic_vertex_and_gemini_vertex_from_model_config_spec() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/projects/proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict")
            .header("authorization", "Bearer ya29.cfg")
            .body_includes(json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 2000}))
            .body_absent("/model")
            .reply(Reply::sse([sse_body(ANTHROPIC_DONE.iter().copied())])),
        Scenario::post("/v1/projects/proj/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent")
            .query("alt", "sse")
            .header("authorization", "Bearer ya29.cfg")
            .body_includes(json!({"generationConfig": {"maxOutputTokens": 300, "topK": 3}}))
            .reply(Reply::sse([gemini_done()])),
    ])
    .await;
    let claude = config(json!({
        "provider": "AnthropicVertexAI",
        "model": "claude-sonnet-4-5@20250929",
        "baseUrl": server.url(),
        "anthropicVertexAI": {"projectID": "proj", "location": "us-east5", "accessToken": "ya29.cfg", "maxTokens": 2000}
    }));
    let p = build_provider(&claude, reqwest::Client::new()).unwrap();
    assert_eq!(p.info().provider, "gcp.vertex_ai");
    collect_stream("v", p.chat_stream(&ask()).await.unwrap())
        .await
        .unwrap();
    // kagent keeps a plain token (or the service-account JSON) in the API key secret.
    let gemini = config(json!({
        "provider": "GeminiVertexAI",
        "model": "gemini-2.5-pro",
        "apiKey": "ya29.cfg",
        "baseUrl": server.url(),
        "geminiVertexAI": {"projectID": "proj", "location": "global", "maxOutputTokens": 300, "topK": 3}
    }));
    let p = build_provider(&gemini, reqwest::Client::new()).unwrap();
    collect_stream("v", p.chat_stream(&ask()).await.unwrap())
        .await
        .unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn gemini_and_bedrock_from_model_config_spec() {
    let server = WireServer::start(vec![
        Scenario::post("/v1beta/models/gemini-2.5-flash:generateContent")
            .header("x-goog-api-key", "AIza-cfg")
            .reply(Reply::json(200, &json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}))),
        Scenario::post("/model/amazon.nova-pro-v1%3A0/converse")
            .body_includes(json!({"additionalModelRequestFields": {"top_k": 50}}))
            .reply(Reply::json(200, &json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}))),
    ])
    .await;
    let gemini = config(json!({
        "provider": "Gemini", "model": "gemini-2.5-flash", "apiKey": "AIza-cfg", "baseUrl": server.url()
    }));
    let p = build_provider(&gemini, reqwest::Client::new()).unwrap();
    assert_eq!(p.chat(&ask()).await.unwrap().message.text_content(), "ok");
    let bedrock = config(json!({
        "provider": "Bedrock", "model": "amazon.nova-pro-v1:0", "baseUrl": server.url(),
        "bedrock": {"region": "eu-west-1", "accessKeyID": "AKIDCFG", "secretAccessKey": "cfg-SECRET",
                    "additionalModelRequestFields": {"top_k": 50}}
    }));
    let p = build_provider(&bedrock, reqwest::Client::new()).unwrap();
    assert_eq!(p.info().provider, "aws.bedrock");
    assert_eq!(p.chat(&ask()).await.unwrap().message.text_content(), "ok");
    let auth = server
        .last_request()
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(auth.contains("Credential=AKIDCFG/"), "{auth}");
    assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
    server.verify_all_used();
}

#[test]
fn missing_fields_are_configuration_errors_without_secrets() {
    let cases = [
        json!({"provider": "Anthropic", "model": "claude"}),
        json!({"provider": "Gemini", "model": "gemini"}),
        json!({"provider": "GeminiVertexAI", "model": "gemini", "geminiVertexAI": {"location": "global", "accessToken": "t"}}),
    ];
    for spec in cases {
        let err = build_provider(&config(spec.clone()), reqwest::Client::new())
            .err()
            .unwrap();
        assert!(
            matches!(err, ConfigError::MissingField { .. }),
            "{spec}: {err:?}"
        );
    }
    let bad_key = config(json!({
        "provider": "GeminiVertexAI", "model": "gemini",
        "geminiVertexAI": {"projectID": "p", "location": "global",
            "credentialsJson": "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nSECRETBYTES\\n-----END PRIVATE KEY-----\\n\", \"client_email\": \"a@b\"}"}
    }));
    let err = build_provider(&bad_key, reqwest::Client::new())
        .err()
        .unwrap();
    assert!(matches!(err, ConfigError::InvalidValue { .. }), "{err:?}");
    assert!(!err.to_string().contains("SECRETBYTES"), "{err}");
}

/// A throwaway RSA key generated for this test run.
fn service_account(token_uri: &str) -> ServiceAccountKey {
    use aws_lc_rs::encoding::AsDer;
    use base64::Engine as _;
    let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(kp.as_der().unwrap().as_ref());
    let body: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        body.join("\n")
    );
    ServiceAccountKey::from_json(
        &json!({"type": "service_account", "private_key_id": "k1", "private_key": pem,
                "client_email": "sa@p.iam.gserviceaccount.com", "token_uri": token_uri})
        .to_string(),
    )
    .unwrap()
}

#[tokio::test]
async fn vertex_concurrent_callers_share_one_token_refresh() {
    let path = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent";
    let mut scenarios = vec![
        Scenario::post("/token").reply(
            Reply::json(
                200,
                &json!({"access_token": "ya29.shared", "expires_in": 3599}),
            )
            .pause(Duration::from_millis(50)),
        ),
    ];
    for _ in 0..4 {
        scenarios.push(
            Scenario::post(path)
                .header("authorization", "Bearer ya29.shared")
                .reply(Reply::sse([gemini_done()])),
        );
    }
    let server = WireServer::start(scenarios).await;
    let auth = GoogleAuth::service_account(
        service_account(&format!("{}/token", server.url())),
        reqwest::Client::new(),
    )
    .unwrap();
    let p = kagent_llm::gemini::GeminiProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p", "us-central1").with_base_url(server.url()),
        "gemini-2.5-pro",
        kagent_llm::ProviderOptions::new().with_auth(kagent_llm::Auth::Google(auth)),
    )
    .unwrap();
    let calls = (0..4).map(|_| {
        let p = p.clone();
        async move {
            collect_stream("v", p.chat_stream(&ask()).await.unwrap())
                .await
                .unwrap()
        }
    });
    futures::future::join_all(calls).await;
    let token_requests = server
        .requests()
        .iter()
        .filter(|r| r.path == "/token")
        .count();
    assert_eq!(token_requests, 1);
    server.verify_all_used();
}

#[tokio::test]
async fn gemini_vertex_stop_sequences_mime_type_and_bedrock_prompt_caching_from_config() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent")
            .body_includes(json!({"generationConfig": {"stopSequences": ["END"], "responseMimeType": "application/json"}}))
            .reply(Reply::sse([gemini_done()])),
        Scenario::post("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse")
            .body_includes(json!({
                "system": [{"text": "sys"}, {"cachePoint": {"type": "default"}}],
                "toolConfig": {"tools": [{"toolSpec": {"name": "t"}}, {"cachePoint": {"type": "default"}}]}
            }))
            .reply(Reply::json(200, &json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn"}))),
    ])
    .await;
    let gemini = config(json!({
        "provider": "GeminiVertexAI", "model": "gemini-2.5-pro", "apiKey": "ya29.t", "baseUrl": server.url(),
        "geminiVertexAI": {"projectID": "p", "location": "global", "stopSequences": ["END"], "responseMimeType": "application/json"}
    }));
    let p = build_provider(&gemini, reqwest::Client::new()).unwrap();
    collect_stream("v", p.chat_stream(&ask()).await.unwrap())
        .await
        .unwrap();
    let bedrock = config(json!({
        "provider": "Bedrock", "model": "anthropic.claude-3-5-haiku-20241022-v1:0", "apiKey": "br-key", "baseUrl": server.url(),
        "bedrock": {"region": "us-east-1", "promptCaching": true, "accessKeyID": "AKID", "secretAccessKey": "s"}
    }));
    let p = build_provider(&bedrock, reqwest::Client::new()).unwrap();
    let mut req = ask();
    req.system = Some("sys".into());
    req.tools.push(
        kagent_core::ToolSpec::new("t", "d", kagent_core::ToolEffect::ReadOnly)
            .unwrap()
            .with_input_schema(json!({"type": "object"}))
            .idempotent(true),
    );
    p.chat(&req).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn vertex_metadata_server_tokens_are_cached() {
    let path =
        "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x:streamRawPredict";
    let server = WireServer::start(vec![
        Scenario::get("/computeMetadata/v1/instance/service-accounts/default/token")
            .header("metadata-flavor", "Google")
            .reply(Reply::json(
                200,
                &json!({"access_token": "ya29.gke", "expires_in": 3599, "token_type": "Bearer"}),
            )),
        Scenario::post(path)
            .header("authorization", "Bearer ya29.gke")
            .reply(Reply::sse([sse_body(ANTHROPIC_DONE.iter().copied())])),
        Scenario::post(path)
            .header("authorization", "Bearer ya29.gke")
            .reply(Reply::sse([sse_body(ANTHROPIC_DONE.iter().copied())])),
    ])
    .await;
    let auth = GoogleAuth::metadata_server_at(reqwest::Client::new(), server.url());
    assert!(format!("{auth:?}").contains("MetadataServer"));
    let p = kagent_llm::anthropic::AnthropicProvider::vertex(
        reqwest::Client::new(),
        VertexLocation::new("p", "us-east5").with_base_url(server.url()),
        "claude-x",
        kagent_llm::ProviderOptions::new().with_auth(kagent_llm::Auth::Google(auth)),
    )
    .unwrap();
    for _ in 0..2 {
        collect_stream("v", p.chat_stream(&ask()).await.unwrap())
            .await
            .unwrap();
    }
    server.verify_all_used();
}

#[test]
fn vertex_without_credentials_falls_back_to_application_default_credentials() {
    // Assumes GOOGLE_APPLICATION_CREDENTIALS is unset (then the metadata server is used).
    let c = config(json!({"provider": "AnthropicVertexAI", "model": "claude",
        "anthropicVertexAI": {"projectID": "p", "location": "us-east5"}}));
    let p = build_provider(&c, reqwest::Client::new()).unwrap();
    assert_eq!(p.info().provider, "gcp.vertex_ai");
}
