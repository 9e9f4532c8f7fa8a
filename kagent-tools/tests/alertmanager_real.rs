//! The Alertmanager tools against Debian's real Alertmanager 0.25 fed by a real Prometheus 2.42
//! (`scripts/setup/prometheus.sh`): a rule fires, reaches the Alertmanager, is silenced and
//! unsilenced through the tools.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, ToolError, Toolset};
use kagent_tools::AlertmanagerTools;
use kagent_tools::testing::{PromStack, StackOptions, free_port};
use serde_json::{Value, json};

async fn call_ctx(
    tools: &Toolset,
    name: &str,
    args: Value,
    ctx: ToolContext,
) -> Result<String, ToolError> {
    tools
        .call(name, args, ctx)
        .await
        .map(|o| render_tool_content(&o.content))
}

async fn call(tools: &Toolset, name: &str, args: Value) -> Result<String, ToolError> {
    call_ctx(tools, name, args, ToolContext::detached("t")).await
}

async fn ok(tools: &Toolset, name: &str, args: Value) -> String {
    match call(tools, name, args.clone()).await {
        Ok(t) => t,
        Err(e) => panic!("{name} {args} failed: {e}"),
    }
}

async fn wait_until(
    tools: &Toolset,
    name: &str,
    args: Value,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = ok(tools, name, args.clone()).await;
        if pred(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in 60 s; last answer:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_rule_is_silenced_and_unsilenced_through_the_tools() {
    let stack = PromStack::start(StackOptions {
        pods: 5,
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let am = stack.alertmanager_url().unwrap();
    let tools = AlertmanagerTools::builder(&am).build().unwrap();

    // Prometheus evaluates the rule every second and sends the alert to the Alertmanager.
    let listed = wait_until(
        &tools,
        "alertmanager_list_alerts",
        json!({}),
        "the alert reaching Alertmanager",
        |t| t.contains("KagentTestQueueBacklog"),
    )
    .await;
    println!("{listed}");
    assert!(
        listed.starts_with("1 alerts in 1 groups (1 active, 0 suppressed)"),
        "{listed}"
    );
    assert!(
        listed.contains(
            "group {alertname=\"KagentTestQueueBacklog\"} -> receiver blackhole: 1 alerts"
        ),
        "{listed}"
    );
    assert!(listed.contains("active"), "{listed}");
    assert!(
        listed.contains("labels: {env=\"test\"")
            && listed.contains("queue=\"orders\", severity=\"critical\", team=\"shop\"}"),
        "{listed}"
    );
    assert!(
        listed.contains("Queue orders has 150 items waiting"),
        "{listed}"
    );
    let flat = ok(
        &tools,
        "alertmanager_list_alerts",
        json!({"grouped": false, "filter": "severity=\"critical\""}),
    )
    .await;
    assert!(
        flat.starts_with("1 alerts (1 active, 0 suppressed)"),
        "{flat}"
    );
    let none = ok(
        &tools,
        "alertmanager_list_alerts",
        json!({"filter": ["severity=\"info\""]}),
    )
    .await;
    assert!(none.starts_with("0 alerts in 0 groups"), "{none}");

    // A dry run (from the context, as an approval preview) creates nothing.
    let mut dry = ToolContext::detached("d");
    dry.dry_run = true;
    let preview = call_ctx(
        &tools,
        "alertmanager_create_silence",
        json!({"matchers": ["alertname=\"KagentTestQueueBacklog\"", "queue=orders"], "duration": "2h", "comment": "draining the backlog"}),
        dry,
    )
    .await
    .unwrap();
    println!("{preview}");
    assert!(
        preview.starts_with("DRY RUN: nothing created."),
        "{preview}"
    );
    assert!(
        preview.contains("{alertname=\"KagentTestQueueBacklog\", queue=\"orders\"}"),
        "{preview}"
    );
    assert!(preview.contains("(2h)"), "{preview}");
    assert!(preview.contains("It matches 1 alerts now"), "{preview}");
    let silences = ok(
        &tools,
        "alertmanager_list_silences",
        json!({"state": "all"}),
    )
    .await;
    assert!(silences.starts_with("0 silences shown"), "{silences}");

    // The silence, for real.
    let mut ctx = ToolContext::detached("c");
    ctx.agent = "alert-responder".to_owned();
    let created = call_ctx(
        &tools,
        "alertmanager_create_silence",
        json!({"matchers": "{alertname=\"KagentTestQueueBacklog\", queue=\"orders\"}", "duration": "2h", "comment": "draining the backlog"}),
        ctx,
    )
    .await
    .unwrap();
    println!("{created}");
    let id = created
        .strip_prefix("created silence ")
        .and_then(|r| r.split(':').next())
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {created}");
    assert!(
        created.contains("created by \"kagent/alert-responder\""),
        "{created}"
    );

    let silenced = wait_until(
        &tools,
        "alertmanager_list_alerts",
        json!({}),
        "the alert being silenced",
        |t| t.contains(&format!("silenced by {id}")),
    )
    .await;
    assert!(silenced.contains("(0 active, 1 suppressed)"), "{silenced}");
    let active_only = ok(
        &tools,
        "alertmanager_list_alerts",
        json!({"silenced": "false"}),
    )
    .await;
    assert!(active_only.starts_with("0 alerts"), "{active_only}");

    let listed = ok(&tools, "alertmanager_list_silences", json!({})).await;
    assert!(
        listed.starts_with("1 silences shown (1 active, 0 pending, 0 expired in total)"),
        "{listed}"
    );
    assert!(
        listed.contains(&id) && listed.contains("draining the backlog"),
        "{listed}"
    );
    assert!(
        listed.contains("in 1h59m") || listed.contains("in 2h"),
        "{listed}"
    );

    // Expire: the preview first, then for real.
    let preview = ok(
        &tools,
        "alertmanager_expire_silence",
        json!({"silence_id": id, "dry_run": true}),
    )
    .await;
    assert!(
        preview.starts_with(&format!(
            "DRY RUN: nothing expired. Would expire silence {id} (active"
        )),
        "{preview}"
    );
    assert!(preview.contains("It silences 1 alerts now"), "{preview}");
    let still = ok(&tools, "alertmanager_list_silences", json!({})).await;
    assert!(still.contains(&id), "{still}");

    let expired = ok(
        &tools,
        "alertmanager_expire_silence",
        json!({"silence_id": id}),
    )
    .await;
    assert!(
        expired.starts_with(&format!("expired silence {id}")),
        "{expired}"
    );
    let after = ok(
        &tools,
        "alertmanager_list_silences",
        json!({"state": "expired"}),
    )
    .await;
    assert!(after.contains(&id) && after.contains("expired"), "{after}");
    let again = ok(
        &tools,
        "alertmanager_expire_silence",
        json!({"silence_id": id}),
    )
    .await;
    assert!(again.contains("already expired"), "{again}");
    wait_until(
        &tools,
        "alertmanager_list_alerts",
        json!({}),
        "the alert becoming active again",
        |t| t.contains("(1 active, 0 suppressed)"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_silences_and_unknown_ids_are_errors_the_model_can_fix() {
    let stack = PromStack::start(StackOptions {
        pods: 1,
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let tools = AlertmanagerTools::builder(stack.alertmanager_url().unwrap())
        .build()
        .unwrap();
    let create = |args: Value| {
        let tools = tools.clone();
        async move {
            call(&tools, "alertmanager_create_silence", args)
                .await
                .unwrap_err()
        }
    };
    let e = create(json!({"matchers": [], "comment": "x"})).await;
    assert!(e.to_string().contains("at least one matcher"), "{e}");
    let e = create(json!({"matchers": "team=\"\"", "comment": "x"})).await;
    assert!(e.to_string().contains("would match every alert"), "{e}");
    let e = create(json!({"matchers": "alertname", "comment": "x"})).await;
    assert!(e.to_string().contains("is not a matcher"), "{e}");
    let e = create(json!({"matchers": "alertname=X", "comment": " "})).await;
    assert!(e.to_string().contains("say why"), "{e}");
    let e = create(json!({"matchers": "alertname=X", "comment": "c", "duration": "30d"})).await;
    assert!(
        e.to_string()
            .contains("longer than the 7d this toolset allows"),
        "{e}"
    );
    assert!(matches!(e, ToolError::InvalidArguments { .. }));
    let e = create(json!({"matchers": "alertname=X", "comment": "c", "duration": "soon"})).await;
    assert!(e.to_string().contains("invalid duration"), "{e}");
    let e = create(json!({"comment": "c"})).await;
    assert!(
        matches!(e, ToolError::InvalidArguments { .. }),
        "schema: {e}"
    );
    // Alertmanager's own validation comes back too (an invalid regex).
    let e = create(json!({"matchers": "alertname=~\"(\"", "comment": "c"})).await;
    assert!(e.to_string().contains("Alertmanager answered 400"), "{e}");

    let e = call(
        &tools,
        "alertmanager_expire_silence",
        json!({"silence_id": "0f1e2d3c-0000-4000-8000-000000000000"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("alertmanager_list_silences"), "{e}");
    let e = call(
        &tools,
        "alertmanager_expire_silence",
        json!({"silence_id": "../../api/v2/status"}),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("is not a silence id"), "{e}");
    let e = call(
        &tools,
        "alertmanager_list_silences",
        json!({"state": "gone"}),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("not active, pending, expired or all"),
        "{e}"
    );
    let e = call(
        &tools,
        "alertmanager_list_alerts",
        json!({"filter": "severity=="}),
    )
    .await;
    // `severity==` parses as severity="=": a valid (if odd) matcher; Alertmanager answers.
    assert!(e.is_ok(), "{e:?}");

    // Read-only mode has no writes.
    let ro = AlertmanagerTools::builder(stack.alertmanager_url().unwrap())
        .read_only(true)
        .build()
        .unwrap();
    assert!(
        !ro.contains("alertmanager_create_silence") && !ro.contains("alertmanager_expire_silence")
    );
}

#[tokio::test]
async fn an_unreachable_alertmanager_is_a_transport_fault() {
    let url = format!("http://127.0.0.1:{}", free_port().unwrap());
    let tools = AlertmanagerTools::builder(&url).build().unwrap();
    let e = call(&tools, "alertmanager_list_alerts", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, ToolError::Transport { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&format!(
            "Alertmanager at {url}/api/v2/alerts/groups could not be reached"
        )),
        "{e}"
    );
    let e = call(
        &tools,
        "alertmanager_create_silence",
        json!({"matchers": "alertname=X", "comment": "c"}),
    )
    .await
    .unwrap_err();
    assert!(e.is_fault(), "{e:?}");
}
