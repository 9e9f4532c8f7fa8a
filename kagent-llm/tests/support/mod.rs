//! Helpers shared by the OpenAI, Azure and Ollama conformance tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    dead_code
)]

use std::time::Duration;

use futures::StreamExt;
use kagent_core::{
    ChatEvent, ChatRequest, ChatResponse, ChatStream, Message, ProviderError, ToolEffect, ToolSpec,
};
use kagent_llm::openai::OpenAIProvider;
use kagent_llm::testing::WireServer;
use kagent_llm::{ProviderOptions, Timeouts};
use serde_json::{Value, json};

/// An OpenAI provider pointed at the wire server, key `sk-test`.
pub fn openai(server: &WireServer) -> OpenAIProvider {
    openai_with(server, openai_options(server))
}

/// The options of [`openai`]: key `sk-test`, the wire server, [`test_timeouts`].
pub fn openai_options(server: &WireServer) -> ProviderOptions {
    ProviderOptions::new()
        .with_api_key("sk-test")
        .with_base_url(format!("{}/v1", server.url()))
        .with_timeouts(test_timeouts())
}

/// An OpenAI provider for `gpt-4o` with these options.
pub fn openai_with(_server: &WireServer, options: ProviderOptions) -> OpenAIProvider {
    OpenAIProvider::new(reqwest::Client::new(), "gpt-4o", options).unwrap()
}

/// Short timeouts so a hang becomes a failure quickly.
pub fn test_timeouts() -> Timeouts {
    Timeouts::NONE
        .with_connect(Some(Duration::from_secs(5)))
        .with_request(Some(Duration::from_secs(10)))
        .with_stream_idle(Some(Duration::from_secs(10)))
}

/// `data: {json}\n\n`.
pub fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

/// A Chat Completions chunk with one choice-0 delta.
pub fn delta(d: Value) -> Value {
    json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1721120283,"model":"gpt-4o-2024-08-06",
           "system_fingerprint":"fp_1","choices":[{"index":0,"delta":d,"logprobs":null,"finish_reason":null}]})
}

/// A chunk with an empty delta and a finish reason.
pub fn finish(reason: &str) -> Value {
    json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1721120283,"model":"gpt-4o-2024-08-06",
           "choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":reason}]})
}

pub const DONE: &str = "data: [DONE]\n\n";

/// A request with one user message and one tool.
pub fn request() -> ChatRequest {
    let mut r = ChatRequest::new(vec![Message::user("What's the weather in Paris?")]);
    r.tools.push(weather_tool());
    r
}

pub fn weather_tool() -> ToolSpec {
    ToolSpec::new("get_weather", "Current weather", ToolEffect::ReadOnly)
        .unwrap()
        .with_input_schema(json!({"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}))
        .idempotent(true)
}

/// Runs a stream to its end, returning every event and the terminal error, if any.
pub async fn drain(mut s: ChatStream) -> (Vec<ChatEvent>, Option<ProviderError>) {
    let mut events = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            item = s.next() => match item {
                Some(Ok(ev)) => events.push(ev),
                Some(Err(e)) => {
                    // Nothing may follow an error.
                    assert!(s.next().await.is_none(), "events after an error");
                    return (events, Some(e));
                }
                None => return (events, None),
            },
            () = &mut deadline => panic!("stream did not finish within 20 s"),
        }
    }
}

/// Streams `request` and assembles the response.
pub async fn stream_chat<P: kagent_core::ModelProvider + ?Sized>(
    p: &P,
    req: &ChatRequest,
) -> Result<ChatResponse, ProviderError> {
    let s = p.chat_stream(req).await?;
    kagent_core::collect_stream("test", s).await
}
