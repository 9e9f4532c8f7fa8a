//! Property tests of every stream decoder: arbitrary bytes in arbitrary chunks never panic and
//! end in events or a typed `ProviderError`; valid recordings split at arbitrary points decode
//! to what the unsplit recording decodes to.
//!
//! OpenAI (Chat Completions and Responses, SSE) and Ollama (NDJSON) go through their public
//! `decode_*` functions in process; Anthropic and Gemini (SSE) and Bedrock (AWS event-stream
//! framing) through the wire server and each provider's `chat_stream`, fewer cases each.
//!
//! CI runs a small number of cases; `PROPTEST_CASES=20000 cargo test -p kagent-llm --test
//! properties --release` runs a long local session.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::pin::Pin;
use std::time::Duration;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message as EsMessage};
use bytes::Bytes;
use futures::StreamExt;
use kagent_core::{ChatEvent, ChatRequest, ChatStream, Message, ModelProvider, ProviderError};
use kagent_llm::anthropic::AnthropicProvider;
use kagent_llm::bedrock::BedrockProvider;
use kagent_llm::gemini::GeminiProvider;
use kagent_llm::testing::{Reply, Scenario, WireServer};
use kagent_llm::{Auth, ProviderOptions, Timeouts, ollama, openai};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// A stream of body chunks, as the decoders take it.
type ByteStream = Pin<Box<dyn futures::Stream<Item = Result<Bytes, ProviderError>> + Send>>;

fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `body` cut at `cuts` (offsets, any order, clamped).
fn split(body: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in at {
        out.push(Bytes::copy_from_slice(&body[from..c]));
        from = c;
    }
    out.push(Bytes::copy_from_slice(&body[from..]));
    out
}

fn stream_of(chunks: Vec<Bytes>) -> ByteStream {
    Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)))
}

/// Every event until the end or the first error; the events stay proportional to the input.
async fn drain(
    mut s: ChatStream,
    input: usize,
) -> Result<(Vec<ChatEvent>, Option<ProviderError>), TestCaseError> {
    let mut events = Vec::new();
    let mut error = None;
    let mut size = 0usize;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), s.next()).await {
            Err(_) => return Err(TestCaseError::fail("the decoder hung")),
            Ok(None) => break,
            Ok(Some(Ok(e))) => {
                size += format!("{e:?}").len();
                events.push(e);
            }
            Ok(Some(Err(e))) => {
                error = Some(e);
                break;
            }
        }
    }
    prop_assert!(
        size <= 64 * input + 4_096,
        "{size} bytes of events from {input} bytes"
    );
    Ok((events, error))
}

/// Bytes that look like the framing: SSE field lines, JSON fragments, NDJSON lines.
fn wire_soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just("data: ".to_owned()),
        Just("event: ".to_owned()),
        Just("event: message_start\n".to_owned()),
        Just("event: content_block_delta\n".to_owned()),
        Just("id: 1\n".to_owned()),
        Just(": keep-alive\n".to_owned()),
        Just("retry: 10\n".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just("[DONE]".to_owned()),
        Just("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}".to_owned()),
        Just("{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}".to_owned()),
        Just("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}".to_owned()),
        Just("{\"type\":\"response.output_text.delta\",\"delta\":\"x\"}".to_owned()),
        Just("{\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[]}}".to_owned()),
        Just("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false}".to_owned()),
        Just("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]},\"done\":false}".to_owned()),
        Just("{\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":4}".to_owned()),
        Just("{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":1}}}".to_owned()),
        Just("{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}".to_owned()),
        Just("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}".to_owned()),
        Just("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}".to_owned()),
        Just("{\"type\":\"message_stop\"}".to_owned()),
        Just("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}".to_owned()),
        Just("{\"error\":\"boom\"}".to_owned()),
        Just("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"STOP\"}]}".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\"".to_owned()),
        Just("\u{1F44B}".to_owned()),
        ".{0,6}",
    ];
    prop_oneof![
        4 => prop::collection::vec(token, 0..24).prop_map(|t| t.concat().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<usize>(), 0..8)
}

fn openai_recording() -> String {
    let chunk = |d: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",
                   "choices":[{"index":0,"delta":d,"finish_reason":finish}]})
        )
    };
    let mut s = String::new();
    s += &chunk(
        json!({"role":"assistant","content":"Il fait beau à Paris 👋 "}),
        Value::Null,
    );
    s += &chunk(
        json!({"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]}),
        Value::Null,
    );
    s += &chunk(
        json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]}),
        Value::Null,
    );
    s += &chunk(
        json!({"tool_calls":[{"index":0,"function":{"arguments":" \"Zürich\"}"}}]}),
        Value::Null,
    );
    s += &chunk(json!({}), json!("tool_calls"));
    s += &format!(
        "data: {}\n\n",
        json!({"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}})
    );
    s += "data: [DONE]\n\n";
    s
}

fn ollama_recording() -> String {
    [
        json!({"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Ça "},"done":false}),
        json!({"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"va 👍"},"done":false}),
        json!({"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"location":"Zürich"}}}]},"done":false}),
        json!({"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":7,"eval_count":5}),
    ]
    .iter()
    .map(|v| format!("{v}\n"))
    .collect()
}

/// The assembled response; ids a provider made up locally (Ollama sends none) are blanked, as
/// they are random.
async fn collect(s: ChatStream) -> Result<kagent_core::ChatResponse, ProviderError> {
    let mut response = kagent_core::collect_stream("p", s).await?;
    for call in &mut response.message.tool_calls {
        if call
            .provider_data
            .as_ref()
            .and_then(|d| d.get("synthetic_id"))
            == Some(&json!(true))
        {
            call.id.clear();
        }
    }
    Ok(response)
}

#[test]
fn openai_and_ollama_decoders_take_any_bytes_in_any_chunks() {
    let rt = runtime();
    let mut runner = TestRunner::new(config(512));
    runner
        .run(&(wire_soup(), cuts()), |(body, cuts)| {
            rt.block_on(async {
                let n = body.len();
                for decoder in [
                    openai::decode_chat_stream::<ByteStream> as fn(&str, ByteStream) -> ChatStream,
                    openai::decode_responses_stream::<ByteStream>,
                    ollama::decode_chat_stream::<ByteStream>,
                ] {
                    drain(decoder("p", stream_of(split(&body, &cuts))), n).await?;
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn a_transport_error_mid_stream_ends_the_stream_with_it() {
    let rt = runtime();
    let mut runner = TestRunner::new(config(128));
    runner
        .run(&(wire_soup(), cuts()), |(body, cuts)| {
            rt.block_on(async {
                for decoder in [
                    openai::decode_chat_stream::<ByteStream> as fn(&str, ByteStream) -> ChatStream,
                    ollama::decode_chat_stream::<ByteStream>,
                ] {
                    let mut chunks: Vec<Result<Bytes, ProviderError>> =
                        split(&body, &cuts).into_iter().map(Ok).collect();
                    chunks.push(Err(ProviderError::transport("p", "reset", None)));
                    let s = decoder("p", Box::pin(futures::stream::iter(chunks)));
                    let (events, error) = drain(s, body.len()).await?;
                    // Either the stream finished before the fault (a `[DONE]`, a final
                    // object) or the fault ends it.
                    let finished = events.iter().any(|e| matches!(e, ChatEvent::Finish { .. }));
                    prop_assert!(
                        finished || error.is_some(),
                        "the transport error was swallowed"
                    );
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn valid_recordings_split_anywhere_decode_like_the_whole() {
    let rt = runtime();
    let openai_body = openai_recording().into_bytes();
    let ollama_body = ollama_recording().into_bytes();
    let whole_openai = rt
        .block_on(collect(openai::decode_chat_stream(
            "p",
            stream_of(vec![Bytes::from(openai_body.clone())]),
        )))
        .unwrap();
    assert_eq!(whole_openai.message.tool_calls.len(), 1);
    let whole_ollama = rt
        .block_on(collect(ollama::decode_chat_stream(
            "p",
            stream_of(vec![Bytes::from(ollama_body.clone())]),
        )))
        .unwrap();
    assert_eq!(whole_ollama.message.text_content(), "Ça va 👍");
    let mut runner = TestRunner::new(config(512));
    runner
        .run(&cuts(), |cuts| {
            rt.block_on(async {
                let got = collect(openai::decode_chat_stream(
                    "p",
                    stream_of(split(&openai_body, &cuts)),
                ))
                .await;
                prop_assert_eq!(
                    got.as_ref().ok(),
                    Some(&whole_openai),
                    "{:?}",
                    got.as_ref().err()
                );
                let got = collect(ollama::decode_chat_stream(
                    "p",
                    stream_of(split(&ollama_body, &cuts)),
                ))
                .await;
                prop_assert_eq!(
                    got.as_ref().ok(),
                    Some(&whole_ollama),
                    "{:?}",
                    got.as_ref().err()
                );
                Ok(())
            })
        })
        .unwrap();
}

// ---------- providers behind the wire server ----------

fn options(server: &WireServer) -> ProviderOptions {
    ProviderOptions::new()
        .with_auth(Auth::ApiKey("k".into()))
        .with_base_url(server.url())
        .with_timeouts(
            Timeouts::NONE
                .with_connect(Some(Duration::from_secs(5)))
                .with_request(Some(Duration::from_secs(10)))
                .with_stream_idle(Some(Duration::from_secs(5))),
        )
}

fn ask() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

fn es_event(event_type: &str, payload: &Value) -> Vec<u8> {
    let m = EsMessage::new(Bytes::from(payload.to_string()))
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
    out
}

fn bedrock_recording() -> Vec<u8> {
    [
        es_event("messageStart", &json!({"role": "assistant"})),
        es_event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "Hé 👋"}})),
        es_event("contentBlockStop", &json!({"contentBlockIndex": 0})),
        es_event("contentBlockStart", &json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "get_weather"}}})),
        es_event("contentBlockDelta", &json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"location\":"}}})),
        es_event("contentBlockDelta", &json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Zürich\"}"}}})),
        es_event("contentBlockStop", &json!({"contentBlockIndex": 1})),
        es_event("messageStop", &json!({"stopReason": "tool_use"})),
        es_event("metadata", &json!({"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {"latencyMs": 1}})),
    ]
    .concat()
}

/// Event-stream-shaped bytes: valid frames, cut frames, frames with flipped bits, noise.
fn event_stream_soup() -> impl Strategy<Value = Vec<u8>> {
    let frame = prop_oneof![
        Just(es_event("messageStart", &json!({"role": "assistant"}))),
        Just(es_event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": "x"}})
        )),
        Just(es_event(
            "contentBlockStart",
            &json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}})
        )),
        Just(es_event("messageStop", &json!({"stopReason": "end_turn"}))),
        Just(es_event("bogus", &json!({"a": 1}))),
        prop::collection::vec(any::<u8>(), 0..32),
        // A prelude that announces a huge frame.
        Just(vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];
    (
        prop::collection::vec(frame, 0..8),
        any::<usize>(),
        any::<u8>(),
    )
        .prop_map(|(frames, at, bit)| {
            let mut body = frames.concat();
            if !body.is_empty() && bit % 3 == 0 {
                let i = at % body.len();
                body[i] ^= 1 << (bit % 8);
            }
            body
        })
}

/// Serves `body` (cut at `cuts`) to `provider`'s streamed chat and drains what it decodes.
async fn over_the_wire<P: ModelProvider>(
    make: impl Fn(&WireServer) -> P,
    content_type: &str,
    body: &[u8],
    cuts: &[usize],
) -> Result<Result<kagent_core::ChatResponse, ProviderError>, TestCaseError> {
    let server = WireServer::start(vec![
        Scenario::any().reply(
            Reply::status(200)
                .header("content-type", content_type)
                .chunks(split(body, cuts)),
        ),
    ])
    .await;
    let provider = make(&server);
    let stream = match provider.chat_stream(&ask()).await {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let out = tokio::time::timeout(Duration::from_secs(30), collect(stream))
        .await
        .map_err(|_| TestCaseError::fail("the decoder hung"))?;
    Ok(out)
}

fn anthropic(server: &WireServer) -> AnthropicProvider {
    AnthropicProvider::new(reqwest::Client::new(), "claude-test", options(server)).unwrap()
}

fn gemini(server: &WireServer) -> GeminiProvider {
    GeminiProvider::new(reqwest::Client::new(), "gemini-test", options(server)).unwrap()
}

fn bedrock(server: &WireServer) -> BedrockProvider {
    BedrockProvider::new(
        reqwest::Client::new(),
        "us-east-1",
        "anthropic.claude-test",
        options(server),
    )
    .unwrap()
}

#[test]
fn anthropic_gemini_and_bedrock_take_any_bytes_in_any_chunks() {
    let rt = runtime();
    let mut runner = TestRunner::new(config(24));
    runner
        .run(
            &(wire_soup(), event_stream_soup(), cuts()),
            |(sse, es, cuts)| {
                rt.block_on(async {
                    // Events or a typed `ProviderError`, never a panic or a hang.
                    let _ = over_the_wire(anthropic, "text/event-stream", &sse, &cuts).await?;
                    let _ = over_the_wire(gemini, "text/event-stream", &sse, &cuts).await?;
                    let _ =
                        over_the_wire(bedrock, "application/vnd.amazon.eventstream", &es, &cuts)
                            .await?;
                    Ok(())
                })
            },
        )
        .unwrap();
}

#[test]
fn a_bedrock_recording_split_anywhere_decodes_like_the_whole() {
    let rt = runtime();
    let body = bedrock_recording();
    let whole = rt
        .block_on(over_the_wire(
            bedrock,
            "application/vnd.amazon.eventstream",
            &body,
            &[],
        ))
        .unwrap()
        .unwrap();
    assert_eq!(whole.message.text_content(), "Hé 👋");
    assert_eq!(whole.message.tool_calls.len(), 1);
    let mut runner = TestRunner::new(config(24));
    runner
        .run(&cuts(), |cuts| {
            rt.block_on(async {
                let got =
                    over_the_wire(bedrock, "application/vnd.amazon.eventstream", &body, &cuts)
                        .await?;
                prop_assert_eq!(got.as_ref().ok(), Some(&whole), "{:?}", got.as_ref().err());
                Ok(())
            })
        })
        .unwrap();
}
