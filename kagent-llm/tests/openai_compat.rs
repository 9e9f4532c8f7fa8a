//! OpenAI-compatible servers on the wire: the replayed tool-call turn a strict server
//! accepts, and the compatibility layer's one retry without a field a server rejects with a
//! 400, remembered for the endpoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use kagent_core::{
    AssistantMessage, ChatRequest, Message, ModelProvider, ProviderError, ToolCall, ToolChoice,
    ToolResult,
};
use kagent_llm::openai::{MaxTokensField, OpenAISettings, SystemRole};
use kagent_llm::testing::{Reply, Scenario, WireServer};
use serde_json::{Value, json};
use support::*;

const PATH: &str = "/v1/chat/completions";

fn ok_stream() -> Reply {
    Reply::sse([
        data(&delta(json!({"content": "ok"}))),
        data(&finish("stop")),
        DONE.to_owned(),
    ])
}

fn ok_json() -> Reply {
    Reply::json(
        200,
        &json!({"id": "c1", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}),
    )
}

/// A 400 in the shape vLLM and OpenAI use.
fn rejected(message: &str) -> Reply {
    Reply::json(
        400,
        &json!({"object": "error", "message": message, "type": "BadRequestError", "param": null, "code": 400}),
    )
}

/// A conversation after one tool call, with a system prompt, one tool and a token limit.
fn after_tool_call() -> ChatRequest {
    let mut req = request();
    req.system = Some("You are an SRE.".into());
    req.messages.push(Message::Assistant(
        AssistantMessage::default().with_tool_calls(vec![ToolCall::new(
            "call_1",
            "get_weather",
            json!({"location": "Paris"}),
        )]),
    ));
    req.messages.push(Message::Tool(ToolResult::ok(
        "call_1",
        "get_weather",
        "sunny",
    )));
    req.max_tokens = Some(64);
    req
}

/// llama-cpp-python 0.3.36 validates `content` as a string: `null` next to `tool_calls`
/// answers 500 (measured against the real server; reproduced here). The provider replays the
/// turn with `""`, which it accepts.
#[tokio::test]
async fn replayed_tool_call_turn_has_string_content_a_strict_server_accepts() {
    let llama_500 = Reply::json(
        500,
        &json!({"detail": [{"type": "string_type", "loc": ["body", "messages", 2, "content"],
                            "msg": "Input should be a valid string", "input": null}]}),
    );
    let server = WireServer::start(vec![
        Scenario::post(PATH)
            .reject_if("/messages/2/content", Value::Null, llama_500.clone())
            .body_includes(json!({"messages": [{}, {}, {"role": "assistant", "content": ""}, {}]}))
            .reply(ok_stream()),
        Scenario::post(PATH)
            .reject_if("/messages/2/content", Value::Null, llama_500)
            .reply(ok_json()),
    ])
    .await;
    let p = openai(&server);
    let r = stream_chat(&p, &after_tool_call()).await.unwrap();
    assert_eq!(r.message.text_content(), "ok");
    let r = p.chat(&after_tool_call()).await.unwrap();
    assert_eq!(r.message.text_content(), "ok");
    server.verify_all_used();
    for req in server.requests() {
        let body = req.json().unwrap();
        assert_eq!(body["messages"][2]["content"], "");
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["name"],
            "get_weather"
        );
    }
}

/// The wire server's rule itself: a body with null content is rejected with the scripted 500.
#[tokio::test]
async fn the_wire_server_reproduces_the_null_content_rejection() {
    let server = WireServer::start(vec![
        Scenario::post(PATH)
            .reject_if(
                "/messages/0/content",
                Value::Null,
                Reply::json(500, &json!({"detail": "Input should be a valid string"})),
            )
            .reply(ok_json()),
    ])
    .await;
    let resp = reqwest::Client::new()
        .post(format!("{}{PATH}", server.url()))
        .json(&json!({"messages": [{"role": "assistant", "content": null}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    server.verify();
}

/// One field: the first request carries it (`first_has`) and is rejected naming it; the
/// retry and every later request (a new one, and one from a clone of the provider) go
/// adapted (`adapted` included, `absent` not there).
async fn retried_without(
    settings: OpenAISettings,
    req: ChatRequest,
    stream: bool,
    message: &str,
    first_has: Value,
    adapted: Value,
    absent: Option<&str>,
) {
    let ok = if stream { ok_stream } else { ok_json };
    let later = || {
        let s = Scenario::post(PATH)
            .body_includes(adapted.clone())
            .reply(ok());
        match absent {
            Some(ptr) => s.body_absent(ptr),
            None => s,
        }
    };
    let server = WireServer::start(vec![
        Scenario::post(PATH)
            .body_includes(first_has)
            .reply(rejected(message)),
        later(),
        later(),
        later(),
    ])
    .await;
    let p = openai(&server).with_settings(settings);
    let call = |p: kagent_llm::openai::OpenAIProvider| {
        let req = req.clone();
        async move {
            if stream {
                stream_chat(&p, &req).await
            } else {
                p.chat(&req).await
            }
        }
    };
    let r = call(p.clone()).await.unwrap();
    assert_eq!(r.message.text_content(), "ok");
    call(p.clone()).await.unwrap();
    call(p).await.unwrap();
    server.verify_all_used();
    assert_eq!(server.requests().len(), 4, "exactly one retry");
}

#[tokio::test]
async fn stream_options_rejected_is_dropped_once_and_remembered() {
    retried_without(
        OpenAISettings::default(),
        request(),
        true,
        "Unknown parameter: 'stream_options'.",
        json!({"stream_options": {"include_usage": true}}),
        json!({"stream": true}),
        Some("/stream_options"),
    )
    .await;
}

#[tokio::test]
async fn max_completion_tokens_rejected_is_sent_as_max_tokens() {
    let settings =
        OpenAISettings::default().with_max_tokens_field(MaxTokensField::MaxCompletionTokens);
    retried_without(
        settings,
        after_tool_call(),
        false,
        "[{'type': 'extra_forbidden', 'loc': ('body', 'max_completion_tokens'), 'msg': 'Extra inputs are not permitted', 'input': 64}]",
        json!({"max_completion_tokens": 64}),
        json!({"max_tokens": 64}),
        Some("/max_completion_tokens"),
    )
    .await;
}

#[tokio::test]
async fn parallel_tool_calls_rejected_is_dropped() {
    retried_without(
        OpenAISettings::default().with_parallel_tool_calls(false),
        request(),
        true,
        "Unsupported parameter: 'parallel_tool_calls' is not supported with this model.",
        json!({"parallel_tool_calls": false}),
        json!({"tools": [{}]}),
        Some("/parallel_tool_calls"),
    )
    .await;
}

#[tokio::test]
async fn tool_choice_object_rejected_is_sent_as_required_with_the_named_tool() {
    let mut req = request();
    req.tools.push(
        kagent_core::ToolSpec::new(
            "get_time",
            "Current time",
            kagent_core::ToolEffect::ReadOnly,
        )
        .unwrap(),
    );
    req.tool_choice = ToolChoice::Tool("get_weather".into());
    retried_without(
        OpenAISettings::default(),
        req,
        false,
        "tool_choice: only 'none', 'auto' and 'required' are supported",
        json!({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "tools": [{}, {}]}),
        json!({"tool_choice": "required", "tools": [{"function": {"name": "get_weather"}}]}),
        None,
    )
    .await;
}

#[tokio::test]
async fn developer_role_rejected_is_sent_as_system() {
    let settings = OpenAISettings::default().with_system_role(SystemRole::Developer);
    retried_without(
        settings,
        after_tool_call(),
        true,
        "developer is not one of ['system', 'assistant', 'user', 'tool', 'function'] - 'messages.[0].role'",
        json!({"messages": [{"role": "developer"}, {}, {}, {}]}),
        json!({"messages": [{"role": "system", "content": "You are an SRE."}, {}, {}, {}]}),
        None,
    )
    .await;
}

/// A rejection that names no field the request carried, or another error, is not retried.
#[tokio::test]
async fn other_rejections_are_not_retried() {
    let server = WireServer::start(vec![
        Scenario::post(PATH).reply(rejected("model 'gpt-4o' does not exist")),
        // Names a field the non-streamed request does not carry.
        Scenario::post(PATH).reply(rejected("stream_options is not supported")),
        Scenario::post(PATH).reply(Reply::json(
            500,
            &json!({"error": {"message": "stream_options broke"}}),
        )),
    ])
    .await;
    let p = openai(&server);
    for _ in 0..2 {
        let e = p.chat(&request()).await.unwrap_err();
        assert!(matches!(e, ProviderError::Api { .. }), "{e:?}");
    }
    let e = stream_chat(&p, &request()).await.unwrap_err();
    assert!(matches!(e, ProviderError::Api { .. }), "{e:?}");
    server.verify_all_used();
    assert_eq!(server.requests().len(), 3);
}

/// A second rejection after the one retry is the caller's error: no loop.
#[tokio::test]
async fn the_retry_happens_once() {
    let server = WireServer::start(vec![
        Scenario::post(PATH).reply(rejected("Unknown parameter: 'stream_options'.")),
        Scenario::post(PATH).reply(rejected("Unknown parameter: 'stream_options'.")),
    ])
    .await;
    let e = stream_chat(&openai(&server), &request()).await.unwrap_err();
    assert!(e.to_string().contains("stream_options"), "{e}");
    server.verify_all_used();
    assert_eq!(server.requests().len(), 2);
}

/// Arguments sent as a JSON object instead of a string (llama.cpp's llama-server did for a
/// while) are accepted, streamed and not.
#[tokio::test]
async fn arguments_as_a_json_object_are_accepted() {
    let call = json!({"index": 0, "id": "call_1", "type": "function",
                      "function": {"name": "get_weather", "arguments": {"location": "Paris"}}});
    let server = WireServer::start(vec![
        Scenario::post(PATH).reply(Reply::sse([
            data(&delta(json!({"tool_calls": [call.clone()]}))),
            data(&finish("tool_calls")),
            DONE.to_owned(),
        ])),
        Scenario::post(PATH).reply(Reply::json(
            200,
            &json!({"choices": [{"index": 0,
            "message": {"role": "assistant", "content": null, "tool_calls": [call]},
            "finish_reason": "tool_calls"}]}),
        )),
    ])
    .await;
    let p = openai(&server);
    let streamed = stream_chat(&p, &request()).await.unwrap();
    let whole = p.chat(&request()).await.unwrap();
    for r in [streamed, whole] {
        assert_eq!(
            r.message.tool_calls[0].arguments,
            kagent_core::ToolArguments::Json(json!({"location": "Paris"}))
        );
        // No usage from the server: estimated.
        assert!(r.usage.unwrap().estimated);
    }
    server.verify_all_used();
}
