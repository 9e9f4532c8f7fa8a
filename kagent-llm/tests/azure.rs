//! PROVIDER-WIRE.md §Z (Azure OpenAI) against the wire server. Filter chunks follow Azure's
//! documented streaming shapes (`prompt_filter_results` first chunk with `choices: []`,
//! `content_filter_results` per choice, asynchronous-filter annotation chunks without `delta`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use kagent_core::{ApiErrorKind, FinishReason, ModelProvider, ProviderError};
use kagent_llm::ProviderOptions;
use kagent_llm::config::{ModelConfig, build_provider};
use kagent_llm::openai::{AzureApi, OpenAIProvider};
use kagent_llm::testing::{Reply, Scenario, WireServer};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::*;

fn ok_body() -> String {
    format!(
        "{}{}{DONE}",
        data(&delta(json!({"content":"hi"}))),
        data(&finish("stop"))
    )
}

fn azure_config(server: &WireServer, api_version: &str, extra: Value) -> ModelConfig {
    let mut block = json!({"azureEndpoint": server.url(), "apiVersion": api_version, "azureDeployment": "gpt4o-prod"});
    if let (Some(b), Some(e)) = (block.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(json!({"provider": "AzureOpenAI", "model": "gpt-4o", "apiKey": "azure-key-123", "azureOpenAI": block})).unwrap()
}

#[tokio::test]
async fn z_1_classic_path_api_version_api_key_header_and_deployment() {
    let server = WireServer::start(vec![
        Scenario::post("/openai/deployments/gpt4o-prod/chat/completions")
            .query("api-version", "2024-10-21")
            .header("api-key", "azure-key-123")
            .no_header("authorization")
            // The deployment is in the path; no `model` in the body.
            .body_absent("/model")
            .reply(Reply::sse([ok_body()])),
        // Entra ID token instead of the key.
        Scenario::post("/openai/deployments/gpt4o-prod/chat/completions")
            .query("api-version", "2024-10-21")
            .header("authorization", "Bearer entra-token")
            .no_header("api-key")
            .reply(Reply::sse([ok_body()])),
    ])
    .await;
    let p = build_provider(
        &azure_config(&server, "2024-10-21", json!({})),
        reqwest::Client::new(),
    )
    .unwrap();
    assert_eq!(p.info().provider, "azure.ai.openai");
    stream_chat(&*p, &request()).await.unwrap();
    let p = build_provider(
        &azure_config(
            &server,
            "2024-10-21",
            json!({"azureAdToken": "entra-token"}),
        ),
        reqwest::Client::new(),
    )
    .unwrap();
    stream_chat(&*p, &request()).await.unwrap();
    server.verify_all_used();
}

#[tokio::test]
async fn z_1_v1_base_without_api_version() {
    let server = WireServer::start(vec![
        Scenario::post("/openai/v1/chat/completions")
            .no_query("api-version")
            .header("api-key", "k")
            .body_includes(json!({"model": "gpt4o-prod"}))
            .reply(Reply::sse([ok_body()])),
        Scenario::get("/openai/v1/models")
            .reply(Reply::json(200, &json!({"data":[{"id":"gpt-4o"}]}))),
    ])
    .await;
    let p = OpenAIProvider::azure(
        reqwest::Client::new(),
        AzureApi::from_version(Some("v1")),
        "gpt4o-prod",
        ProviderOptions::new()
            .with_base_url(format!("{}/", server.url()))
            .with_api_key(SecretString::from("k".to_owned())),
    )
    .unwrap();
    stream_chat(&p, &request()).await.unwrap();
    assert_eq!(p.list_models().await.unwrap()[0].id, "gpt-4o");
    server.verify_all_used();
}

#[tokio::test]
async fn z_1_missing_endpoint_or_credentials_are_config_errors() {
    let c: ModelConfig = serde_json::from_value(json!({"provider":"AzureOpenAI","model":"m","azureOpenAI":{"azureEndpoint":"https://x.openai.azure.com","apiVersion":"2024-10-21"}})).unwrap();
    let err = build_provider(&c, reqwest::Client::new()).err().unwrap();
    assert!(err.to_string().contains("apiKey"), "{err}");
    let c: ModelConfig = serde_json::from_value(json!({"provider":"AzureOpenAI","model":"m","apiKey":"k","azureOpenAI":{"apiVersion":"2024-10-21"}})).unwrap();
    assert!(build_provider(&c, reqwest::Client::new()).is_err());
}

#[tokio::test]
async fn z_2_prompt_filter_per_choice_results_async_annotations_and_content_filter_finish() {
    let safe = json!({"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},
                      "sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}});
    let prompt_filter = json!({"choices":[],"created":0,"id":"","model":"","object":"",
        "prompt_filter_results":[{"prompt_index":0,"content_filter_results":safe}]});
    let text = |t: &str| {
        json!({"choices":[{"content_filter_results":safe,"delta":{"content":t},"finish_reason":null,"index":0,"logprobs":null}],
        "created":1727,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_1"})
    };
    let annotation = json!({"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":12},
        "content_filter_results":safe,"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""});
    let fin = |r: &str| {
        json!({"choices":[{"content_filter_results":{},"delta":{},"finish_reason":r,"index":0,"logprobs":null}],
        "created":1727,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk"})
    };
    let body: String = [
        prompt_filter.clone(),
        text("Hello "),
        annotation.clone(),
        text("there"),
        fin("stop"),
        annotation.clone(),
    ]
    .iter()
    .map(data)
    .collect::<String>()
        + DONE;
    let server = WireServer::start(vec![
        Scenario::post("/openai/deployments/gpt4o-prod/chat/completions").reply(Reply::sse([body])),
        Scenario::post("/openai/deployments/gpt4o-prod/chat/completions").reply(Reply::sse([[
            prompt_filter,
            text("I can"),
            fin("content_filter"),
        ]
        .iter()
        .map(data)
        .collect::<String>()
            + DONE])),
    ])
    .await;
    let p = build_provider(
        &azure_config(&server, "2024-10-21", json!({})),
        reqwest::Client::new(),
    )
    .unwrap();
    let r = stream_chat(&*p, &request()).await.unwrap();
    assert_eq!(r.message.text_content(), "Hello there");
    assert_eq!(r.finish_reason, FinishReason::Stop);
    let r = stream_chat(&*p, &request()).await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::ContentFilter);
    assert_eq!(r.message.text_content(), "I can");
    server.verify();
}

#[tokio::test]
async fn z_3_content_filter_400_is_non_retryable_typed_error() {
    let body = json!({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type":null,"param":"prompt","code":"content_filter","status":400,
        "innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{
            "hate":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}});
    let server = WireServer::start(vec![
        Scenario::post("/openai/deployments/gpt4o-prod/chat/completions")
            .reply(Reply::json(400, &body).header("apim-request-id", "apim-77")),
    ])
    .await;
    let p = build_provider(
        &azure_config(&server, "2024-10-21", json!({})),
        reqwest::Client::new(),
    )
    .unwrap();
    let err = p.chat_stream(&request()).await.err().unwrap();
    match &err {
        ProviderError::Api {
            kind: ApiErrorKind::ContentFiltered,
            details,
            ..
        } => {
            assert_eq!(details.status, Some(400));
            assert_eq!(
                details.code.as_deref(),
                Some("ResponsibleAIPolicyViolation")
            );
            assert_eq!(details.request_id.as_deref(), Some("apim-77"));
        }
        other => panic!("expected ContentFiltered, got {other:?}"),
    }
    assert!(!err.is_retryable());
}
