//! PROVIDER-WIRE.md §T (transport and framing), proven through the OpenAI provider (SSE) and
//! the Ollama provider (NDJSON) against the wire server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use kagent_core::{
    ApiErrorKind, ChatEvent, FinishReason, ModelProvider, ProviderError, TimeoutPhase,
    ToolArguments,
};
use kagent_llm::ProviderOptions;
use kagent_llm::ollama::OllamaProvider;
use kagent_llm::testing::{Reply, Scenario, WireServer, split_at, split_every, split_inside};
use serde_json::json;
use support::*;

fn weather_body() -> String {
    let mut s = String::new();
    s += &data(&delta(
        json!({"role":"assistant","content":"Il fait beau à Paris 👋 "}),
    ));
    s += &data(&delta(
        json!({"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]}),
    ));
    s += &data(&delta(
        json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]}),
    ));
    s += &data(&delta(
        json!({"tool_calls":[{"index":0,"function":{"arguments":" \"Zürich\"}"}}]}),
    ));
    s += &data(&finish("tool_calls"));
    s += DONE;
    s
}

async fn run_openai(chunks: Vec<bytes::Bytes>) -> Result<kagent_core::ChatResponse, ProviderError> {
    let server = WireServer::start(vec![
        Scenario::post("/v1/chat/completions").reply(Reply::sse(chunks)),
    ])
    .await;
    let r = stream_chat(&openai(&server), &request()).await;
    server.verify();
    r
}

fn assert_weather(r: &kagent_core::ChatResponse) {
    assert_eq!(r.message.text_content(), "Il fait beau à Paris 👋 ");
    assert_eq!(r.message.tool_calls.len(), 1);
    let call = &r.message.tool_calls[0];
    assert_eq!(call.id, "call_abc");
    assert_eq!(
        call.arguments,
        ToolArguments::Json(json!({"location": "Zürich"}))
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
}

#[tokio::test]
async fn t_1_split_inside_utf8_char() {
    let body = weather_body();
    // Between the two bytes of `à`, inside the 4-byte emoji, inside `ü`.
    for (needle, off) in [("à", 1), ("👋", 1), ("👋", 2), ("👋", 3), ("ü", 1)] {
        let r = run_openai(split_inside(body.as_bytes(), needle, off))
            .await
            .unwrap();
        assert_weather(&r);
    }
}

#[tokio::test]
async fn t_1_split_inside_data_line_and_json_string() {
    let body = weather_body();
    for (needle, off) in [("data: ", 3), ("\"location", 4), ("[DONE]", 2), ("\n\n", 1)] {
        let r = run_openai(split_inside(body.as_bytes(), needle, off))
            .await
            .unwrap();
        assert_weather(&r);
    }
}

#[tokio::test]
async fn t_1_split_at_every_byte() {
    let body = weather_body();
    let r = run_openai(split_every(body.as_bytes(), 1)).await.unwrap();
    assert_weather(&r);
    // And a few odd chunk sizes.
    for n in [2, 3, 7, 64] {
        let r = run_openai(split_every(body.as_bytes(), n)).await.unwrap();
        assert_weather(&r);
    }
}

#[tokio::test]
async fn t_2_crlf_cr_and_data_without_space() {
    let lf = weather_body();
    let crlf = lf.replace('\n', "\r\n");
    let cr = lf.replace('\n', "\r");
    let nospace = lf.replace("data: ", "data:");
    for body in [crlf, cr, nospace] {
        // Split right after a `\r` so the decoder must wait for a possible `\n`.
        let offsets: Vec<usize> = body
            .match_indices('\r')
            .map(|(i, _)| i + 1)
            .take(3)
            .collect();
        let r = run_openai(split_at(body.as_bytes(), &offsets))
            .await
            .unwrap();
        assert_weather(&r);
    }
}

#[tokio::test]
async fn t_3_comments_and_unknown_fields_ignored() {
    let body = format!(
        ": keep-alive\n\nid: 1\nretry: 3000\n{}: ping\n\nid: 2\nevent: message\n{}{DONE}",
        data(&delta(json!({"content":"hi"}))).trim_end(),
        data(&finish("stop")),
    );
    let body = body.replacen("}: ping", "}\n: ping", 1);
    let r = run_openai(vec![body.into()]).await.unwrap();
    assert_eq!(r.message.text_content(), "hi");
    assert_eq!(r.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn t_4_multi_line_data_joined_with_newline() {
    // A JSON chunk pretty-printed over several data: lines is valid JSON once joined with \n.
    let chunk = serde_json::to_string_pretty(&delta(json!({"content":"multi"}))).unwrap();
    let mut body = String::new();
    for line in chunk.lines() {
        body += &format!("data: {line}\n");
    }
    body += "\n";
    body += &data(&finish("stop"));
    body += DONE;
    let r = run_openai(vec![body.into()]).await.unwrap();
    assert_eq!(r.message.text_content(), "multi");
}

#[tokio::test]
async fn t_5_empty_data_and_whitespace_padded_json() {
    let body = format!(
        "data:\n\ndata: \n\ndata:   {}   \n\n{}{DONE}",
        delta(json!({"content":"padded"})),
        data(&finish("stop"))
    );
    let r = run_openai(vec![body.into()]).await.unwrap();
    assert_eq!(r.message.text_content(), "padded");
}

#[tokio::test]
async fn t_6_ndjson_final_line_without_newline_blank_lines_crlf() {
    let lines = [
        r#"{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"lo é"},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":2}"#,
    ];
    let body = format!("{}\r\n\n\r\n{}\n\n{}", lines[0], lines[1], lines[2]);
    let server = WireServer::start(vec![
        Scenario::post("/api/chat").reply(Reply::ndjson(split_inside(body.as_bytes(), "é", 1))),
    ])
    .await;
    let p = OllamaProvider::new(
        reqwest::Client::new(),
        "llama3.2",
        ProviderOptions::new()
            .with_base_url(server.url())
            .with_timeouts(test_timeouts()),
    )
    .unwrap();
    let r = stream_chat(&p, &request()).await.unwrap();
    assert_eq!(r.message.text_content(), "Hello é");
    assert_eq!(r.usage.unwrap().output_tokens, 2);
    server.verify();
}

#[tokio::test]
async fn t_7_stream_without_done_is_truncation_with_partial_output() {
    let mut body = String::new();
    body += &data(&delta(json!({"content":"partial "})));
    body += &data(&delta(
        json!({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Par"}}]}),
    ));
    let server = WireServer::start(vec![
        Scenario::post("/v1/chat/completions").reply(Reply::sse([body])),
    ])
    .await;
    let s = openai(&server).chat_stream(&request()).await.unwrap();
    let (events, err) = drain(s).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ChatEvent::TextDelta { .. }))
    );
    match err {
        Some(ProviderError::TruncatedStream {
            partial, reason, ..
        }) => {
            assert!(reason.contains("[DONE]"), "{reason}");
            assert_eq!(partial.message.text_content(), "partial ");
            // The half-streamed call is kept, flagged as malformed, never as valid arguments.
            assert!(matches!(
                partial.message.tool_calls[0].arguments,
                ToolArguments::Malformed { .. }
            ));
        }
        other => panic!("expected truncation, got {other:?}"),
    }
}

#[tokio::test]
async fn t_7_finish_reason_without_done_is_still_truncated() {
    let body = format!(
        "{}{}",
        data(&delta(json!({"content":"x"}))),
        data(&finish("stop"))
    );
    let err = run_openai(vec![body.into()]).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::TruncatedStream { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn t_7_ndjson_without_done_true_is_truncated() {
    let body = r#"{"model":"m","message":{"role":"assistant","content":"cut"},"done":false}"#
        .to_owned()
        + "\n";
    let server = WireServer::start(vec![
        Scenario::post("/api/chat").reply(Reply::ndjson([body])),
    ])
    .await;
    let p = OllamaProvider::new(
        reqwest::Client::new(),
        "m",
        ProviderOptions::new().with_base_url(server.url()),
    )
    .unwrap();
    match stream_chat(&p, &request()).await {
        Err(ProviderError::TruncatedStream { partial, .. }) => {
            assert_eq!(partial.message.text_content(), "cut")
        }
        other => panic!("expected truncation, got {other:?}"),
    }
}

#[tokio::test]
async fn t_8_error_status_on_stream_request_decided_by_status_not_content_type() {
    let body = r#"{"error":{"message":"The model `gpt-5x` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
    let server =
        WireServer::start(vec![Scenario::post("/v1/chat/completions").reply(
            Reply::raw(404, "text/event-stream", body).header("x-request-id", "req_404"),
        )])
        .await;
    let err = openai(&server).chat_stream(&request()).await.err().unwrap();
    match &err {
        ProviderError::Api {
            kind: ApiErrorKind::NotFound,
            details,
            ..
        } => {
            assert_eq!(details.status, Some(404));
            assert_eq!(details.code.as_deref(), Some("model_not_found"));
            assert!(details.message.contains("does not exist"));
            assert_eq!(details.request_id.as_deref(), Some("req_404"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn t_9_in_band_error_after_200_is_typed() {
    let body = format!(
        "{}data: {}\n\n",
        data(&delta(json!({"content":"hi"}))),
        json!({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})
    );
    let err = run_openai(vec![body.into()]).await.unwrap_err();
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
    assert!(err.is_retryable());
    // Ollama's in-band error line.
    let server = WireServer::start(vec![Scenario::post("/api/chat").reply(Reply::ndjson([
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"a\"},\"done\":false}\n",
        "{\"error\":\"an error was encountered while running the model: unexpected EOF\"}\n",
    ]))])
    .await;
    let p = OllamaProvider::new(
        reqwest::Client::new(),
        "m",
        ProviderOptions::new().with_base_url(server.url()),
    )
    .unwrap();
    let err = stream_chat(&p, &request()).await.unwrap_err();
    match err {
        ProviderError::Api {
            kind: ApiErrorKind::Server,
            details,
            ..
        } => {
            assert!(details.message.contains("unexpected EOF"))
        }
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn t_10_idle_connection_times_out_and_cancel_drops_connection() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/chat/completions")
            .reply(Reply::sse([data(&delta(json!({"content":"hi"})))]).then_hang()),
        Scenario::post("/v1/chat/completions")
            .reply(Reply::sse([data(&delta(json!({"content":"hi"})))]).then_hang()),
    ])
    .await;
    let mut t = test_timeouts();
    t.stream_idle = Some(Duration::from_millis(300));
    let p = openai_with(&server, openai_options(&server).with_timeouts(t));
    let s = p.chat_stream(&request()).await.unwrap();
    let (events, err) = drain(s).await;
    assert_eq!(events.len(), 2, "{events:?}"); // metadata + text
    match err {
        Some(ProviderError::Timeout { phase, after, .. }) => {
            assert_eq!(phase, TimeoutPhase::IdleStream);
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected idle timeout, got {other:?}"),
    }
    assert!(
        server.wait_for_disconnects(1, Duration::from_secs(5)).await,
        "timeout did not drop the connection"
    );

    // Cancelling: drop the stream after the first event.
    let p = openai(&server);
    let mut s = p.chat_stream(&request()).await.unwrap();
    let _ = s.next().await;
    drop(s);
    assert!(
        server.wait_for_disconnects(2, Duration::from_secs(5)).await,
        "dropping the stream kept the connection"
    );
}

#[tokio::test]
async fn t_10_hang_before_headers_hits_request_timeout() {
    // The server never answers: use a listener that accepts and stays silent.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let (_sock, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut t = test_timeouts();
    t.request = Some(Duration::from_millis(300));
    let p = kagent_llm::openai::OpenAIProvider::new(
        reqwest::Client::new(),
        "m",
        ProviderOptions::new()
            .with_base_url(format!("http://{addr}/v1"))
            .with_timeouts(t),
    )
    .unwrap();
    let err = p.chat_stream(&request()).await.err().unwrap();
    assert!(
        matches!(
            err,
            ProviderError::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    hold.abort();
}

#[tokio::test]
async fn t_10_connection_cut_mid_body_is_transport_error() {
    let server = WireServer::start(vec![
        Scenario::post("/v1/chat/completions")
            .reply(Reply::sse([data(&delta(json!({"content":"hi"})))]).then_cut()),
    ])
    .await;
    let s = openai(&server).chat_stream(&request()).await.unwrap();
    let (events, err) = drain(s).await;
    assert!(!events.is_empty());
    assert!(
        matches!(err, Some(ProviderError::Transport { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn t_11_unknown_events_fields_and_enum_values_never_abort() {
    let body = format!(
        "event: mystery\ndata: {{\"foo\":1}}\n\n{}{}{}{DONE}",
        data(
            &json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","new_field":{"x":[1,2]},
                     "choices":[{"index":0,"delta":{"content":"ok","brand_new":true},"finish_reason":null,"extra":1}]})
        ),
        data(
            &json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[]})
        ),
        data(&finish("a_reason_from_the_future")),
    );
    // `event: mystery` has a body without choices: it parses as an empty chunk and is skipped.
    let r = run_openai(vec![body.into()]).await.unwrap();
    assert_eq!(r.message.text_content(), "ok");
    assert_eq!(
        r.finish_reason,
        FinishReason::Other("a_reason_from_the_future".into())
    );
}
