//! kagent-mcp's client against `@modelcontextprotocol/server-everything`, a server nobody here
//! wrote, over all three transports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::time::Duration;

use kagent_core::{ToolContent, ToolContext, ToolEffect, ToolError, Toolset};
use kagent_mcp::{HttpServerConfig, McpClient, McpError, McpToolset};
use serde_json::json;
use support::*;

async fn check_everything_tools(set: &Toolset) {
    assert!(
        set.len() >= 10,
        "server-everything offers at least 10 tools, got {:?}",
        set.names().collect::<Vec<_>>()
    );
    let echo = set.get("echo").expect("echo tool");
    assert_eq!(echo.spec().effect, ToolEffect::ReadOnly);
    assert!(echo.spec().idempotent);
    assert_eq!(
        echo.spec().input_schema["properties"]["message"]["type"],
        "string"
    );
    // readOnlyHint false, destructiveHint false: mutating.
    assert_eq!(
        set.get("toggle-simulated-logging").unwrap().spec().effect,
        ToolEffect::Mutating
    );

    let out = set
        .call(
            "echo",
            json!({"message": "hello kagent"}),
            ToolContext::detached("1"),
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.content[0], ToolContent::Text { text } if text.contains("hello kagent")),
        "{out:?}"
    );

    let sum = set
        .call(
            "get-sum",
            json!({"a": 2, "b": 40}),
            ToolContext::detached("2"),
        )
        .await
        .unwrap();
    assert!(format!("{:?}", sum.content).contains("42"), "{sum:?}");

    // Arguments are validated against the remote schema before anything is sent.
    let bad = set
        .call("get-sum", json!({"a": "two"}), ToolContext::detached("3"))
        .await
        .unwrap_err();
    assert!(matches!(bad, ToolError::InvalidArguments { .. }), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_lists_and_calls_tools() {
    init_tracing();
    let client = McpClient::new(everything_stdio_config());
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    check_everything_tools(&tools.toolset()).await;
    let info = client.server_info().await.expect("handshake info");
    assert!(info.server_info.is_some());
    client.close().await;
    let err = client.list_tools().await.unwrap_err();
    assert!(matches!(err, McpError::Closed { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_lists_and_calls_tools() {
    init_tracing();
    let port = free_port();
    let _server = start_everything("streamableHttp", port).await;
    let client = remote(
        "everything-http",
        HttpServerConfig::streamable_http(format!("http://127.0.0.1:{port}/mcp")),
    );
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    check_everything_tools(&tools.toolset()).await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_lists_and_calls_tools() {
    init_tracing();
    let port = free_port();
    let _server = start_everything("sse", port).await;
    let client = remote(
        "everything-sse",
        HttpServerConfig::sse(format!("http://127.0.0.1:{port}/sse")),
    );
    let tools = McpToolset::connect(client.clone()).await.unwrap();
    check_everything_tools(&tools.toolset()).await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_results_are_kept() {
    init_tracing();
    let client = McpClient::new(everything_stdio_config());
    let set = McpToolset::connect(client.clone()).await.unwrap().toolset();

    let image = set
        .call("get-tiny-image", json!({}), ToolContext::detached("i"))
        .await
        .unwrap();
    assert!(
        image.content.iter().any(|c| matches!(c, ToolContent::Image { media_type, data } if media_type == "image/png" && !data.is_empty())),
        "{image:?}"
    );

    let links = set
        .call(
            "get-resource-links",
            json!({"count": 2}),
            ToolContext::detached("l"),
        )
        .await
        .unwrap();
    let n = links
        .content
        .iter()
        .filter(|c| {
            matches!(
                c,
                ToolContent::Resource {
                    name: Some(_),
                    text: None,
                    ..
                }
            )
        })
        .count();
    assert_eq!(n, 2, "{links:?}");

    let structured = set
        .call(
            "get-structured-content",
            json!({"location": "New York"}),
            ToolContext::detached("s"),
        )
        .await
        .unwrap();
    assert!(
        structured
            .structured
            .as_ref()
            .is_some_and(|v| v.is_object()),
        "{structured:?}"
    );

    let embedded = set
        .call(
            "get-resource-reference",
            json!({"resourceType": "Text", "resourceId": 1}),
            ToolContext::detached("r"),
        )
        .await
        .unwrap();
    assert!(
        embedded
            .content
            .iter()
            .any(|c| matches!(c, ToolContent::Resource { text: Some(_), .. })),
        "{embedded:?}"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_names_filter_keeps_order_and_names_missing_tools() {
    init_tracing();
    let client = McpClient::new(everything_stdio_config());
    let set = McpToolset::with_tool_names(client.clone(), &["get-sum", "echo"])
        .await
        .unwrap();
    assert_eq!(
        set.toolset().names().collect::<Vec<_>>(),
        ["get-sum", "echo"]
    );

    let err = McpToolset::with_tool_names(client.clone(), &["echo", "k8s_get_pods", "helm_list"])
        .await
        .unwrap_err();
    match &err {
        McpError::UnknownTools { names, .. } => assert_eq!(names, &["helm_list", "k8s_get_pods"]),
        other => panic!("expected UnknownTools, got {other}"),
    }
    assert!(err.to_string().contains("k8s_get_pods"), "{err}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_and_resources_are_listable_and_readable() {
    init_tracing();
    let client = McpClient::new(everything_stdio_config());
    let prompts = client.list_prompts().await.unwrap();
    assert!(
        prompts.iter().any(|p| p.name == "args-prompt"),
        "{prompts:?}"
    );
    let mut args = serde_json::Map::new();
    args.insert("city".into(), json!("Paris"));
    let rendered = client.get_prompt("args-prompt", Some(args)).await.unwrap();
    assert!(
        serde_json::to_string(&rendered.messages)
            .unwrap()
            .contains("Paris")
    );

    let resources = client.list_resources().await.unwrap();
    assert!(!resources.is_empty());
    let first = &resources[0];
    let read = client.read_resource(&first.uri).await.unwrap();
    assert!(!read.contents.is_empty());
    let templates = client.list_resource_templates().await.unwrap();
    assert!(!templates.is_empty());

    let err = client.get_prompt("no-such-prompt", None).await.unwrap_err();
    assert!(matches!(err, McpError::Server { .. }), "{err}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_changed_notifications_are_seen() {
    init_tracing();
    // server-everything announces notifications/tools/list_changed during startup.
    let client = McpClient::new(everything_stdio_config());
    let mut changes = client.tools_changed();
    let set = McpToolset::connect(client.clone()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        while *changes.borrow_and_update() == 0 {
            changes.changed().await.unwrap();
        }
    })
    .await
    .expect("a tools/list_changed notification");
    // The toolset refreshes itself; it keeps all tools.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(set.toolset().len() >= 10);
    assert!(set.refresh().await.unwrap().contains(&"echo".to_owned()));
    client.close().await;
}
