//! The Prometheus tools against Debian's real Prometheus 2.42 (`scripts/setup/prometheus.sh`),
//! scraping a metrics endpoint the test serves (250 pods, 500 series).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use kagent_core::message::render_tool_content;
use kagent_core::testing::ScriptedProvider;
use kagent_core::{ToolContext, ToolError, Toolset};
use kagent_tools::PrometheusTools;
use kagent_tools::prometheus::client::QueryResult;
use kagent_tools::testing::{PromStack, StackOptions, free_port};
use serde_json::{Value, json};

fn stack() -> PromStack {
    PromStack::start(StackOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

async fn call(tools: &Toolset, name: &str, args: Value) -> Result<String, ToolError> {
    tools
        .call(name, args, ToolContext::detached("t"))
        .await
        .map(|o| render_tool_content(&o.content))
}

async fn ok(tools: &Toolset, name: &str, args: Value) -> String {
    match call(tools, name, args.clone()).await {
        Ok(t) => t,
        Err(e) => panic!("{name} {args} failed: {e}"),
    }
}

/// Waits until Prometheus has scraped every pod's counter at least `points` times.
async fn wait_for_data(stack: &PromStack, points: f64) {
    let client = PrometheusTools::builder(stack.prometheus_url())
        .build_client()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let q = "min(count_over_time(kagent_test_cpu_usage_seconds_total[1m])) and count(kagent_test_cpu_usage_seconds_total) == 250";
    loop {
        if let Ok(r) = client.query(q, None).await
            && let QueryResult::Vector(v) = &r.data
            && let Some(s) = v.first()
            && let Some((_, val)) = &s.value
            && val.parse::<f64>().unwrap_or(0.0) >= points
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus has no data after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instant_and_range_queries_render_compact_tables() {
    let stack = stack();
    let tools = PrometheusTools::builder(stack.prometheus_url())
        .build()
        .unwrap();
    wait_for_data(&stack, 6.0).await;
    let instance = format!("127.0.0.1:{}", stack.metrics_port());

    let range = ok(
        &tools,
        "prometheus_query_range_tool",
        json!({"query": "kagent_test_memory_working_set_bytes", "start": "now-1m", "step": "1s"}),
    )
    .await;
    println!("{range}");
    let mut lines = range.lines();
    let head = lines.next().unwrap();
    assert!(head.starts_with("matrix: 250 series, "), "{head}");
    assert!(head.contains(", step 1s ("), "{head}");
    assert!(
        head.contains(&format!(
            "labels common to all: kagent_test_memory_working_set_bytes{{container=\"app\", env=\"test\", instance=\"{instance}\", job=\"shop\", namespace=\"shop\"}}"
        )),
        "{head}"
    );
    let header = lines.next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["pod", "MIN", "MAX", "LAST", "TREND"],
        "{range}"
    );
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("web-249 "),
        "highest last value first: {first}"
    );
    assert_eq!(range.lines().filter(|l| l.starts_with("web-")).count(), 50);
    assert!(
        range.contains("... 200 more series not shown (last values"),
        "{range}"
    );
    assert!(range.contains("sum by (pod)"), "{range}");

    // A counter's rate: trend, rounding, and the limit argument.
    let rates = ok(
        &tools,
        "prometheus_query_range_tool",
        json!({"query": "rate(kagent_test_cpu_usage_seconds_total[5s])", "start": "-30s", "end": "now", "step": "2s", "limit": "5"}),
    )
    .await;
    assert!(rates.contains("... 245 more series not shown"), "{rates}");
    let fastest: f64 = rates
        .lines()
        .nth(2)
        .unwrap()
        .split_whitespace()
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (0.4..=0.6).contains(&fastest),
        "the fastest pods use 0.5 cores: {rates}"
    );

    // Instant vectors, through the tool and its alias.
    for name in ["prometheus_query_tool", "prometheus_query"] {
        let top = ok(
            &tools,
            name,
            json!({"query": "topk(3, kagent_test_memory_working_set_bytes)"}),
        )
        .await;
        let rows: Vec<&str> = top.lines().collect();
        assert!(rows[0].starts_with("vector: 3 series at "), "{top}");
        assert_eq!(
            rows[1].split_whitespace().collect::<Vec<_>>(),
            ["pod", "VALUE"]
        );
        assert!(rows[2].starts_with("web-249 "), "{top}");
        assert!(rows[2].ends_with("e8"), "rounded to 4 digits: {top}");
    }
    let scalar = ok(
        &tools,
        "prometheus_query_tool",
        json!({"query": "scalar(count(up))"}),
    )
    .await;
    assert!(
        scalar.starts_with("scalar at ") && scalar.trim_end().ends_with(": 2"),
        "{scalar}"
    );
    let nothing = ok(
        &tools,
        "prometheus_query_tool",
        json!({"query": "kagent_no_such_metric"}),
    )
    .await;
    assert!(
        nothing.contains("no series match kagent_no_such_metric"),
        "{nothing}"
    );

    // kagent passes prometheus_url; the configured one (any spelling) is accepted.
    let same = ok(
        &tools,
        "prometheus_query_tool",
        json!({"query": "count(up)", "prometheus_url": format!("{}/", stack.prometheus_url())}),
    )
    .await;
    assert!(same.contains("VALUE\n2"), "{same}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_and_arguments_come_back_as_errors_the_model_can_fix() {
    let stack = PromStack::start(StackOptions {
        pods: 5,
        alertmanager: false,
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let tools = PrometheusTools::builder(stack.prometheus_url())
        .build()
        .unwrap();

    let syntax = call(
        &tools,
        "prometheus_query_tool",
        json!({"query": "sum(rate(kagent_test_cpu_usage_seconds_total[5m])"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(syntax, ToolError::InvalidArguments { .. }),
        "{syntax:?}"
    );
    let msg = syntax.to_string();
    assert!(msg.contains("Prometheus answered 400 (bad_data)"), "{msg}");
    assert!(msg.contains("parse error"), "{msg}");

    let range_syntax = call(
        &tools,
        "prometheus_query_range_tool",
        json!({"query": "rate(up[5m]", "start": "now-5m"}),
    )
    .await
    .unwrap_err();
    assert!(
        range_syntax.to_string().contains("(bad_data)"),
        "{range_syntax}"
    );

    let step = call(
        &tools,
        "prometheus_query_range_tool",
        json!({"query": "up", "step": "fast"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(step, ToolError::InvalidArguments { .. }));
    assert!(
        step.to_string()
            .contains("invalid step: \"fast\" is not a duration"),
        "{step}"
    );

    let order = call(
        &tools,
        "prometheus_query_range_tool",
        json!({"query": "up", "start": "now", "end": "now-1h"}),
    )
    .await
    .unwrap_err();
    assert!(order.to_string().contains("is after end"), "{order}");

    let time = call(
        &tools,
        "prometheus_query_tool",
        json!({"query": "up", "time": "1700000000000"}),
    )
    .await
    .unwrap_err();
    assert!(time.to_string().contains("milliseconds"), "{time}");

    let missing = call(&tools, "prometheus_query_tool", json!({"time": "now"}))
        .await
        .unwrap_err();
    assert!(matches!(missing, ToolError::InvalidArguments { .. }));
    assert!(missing.to_string().contains("query"), "{missing}");

    let empty = call(&tools, "prometheus_query_tool", json!({"query": "  "}))
        .await
        .unwrap_err();
    assert!(
        empty.to_string().contains("the PromQL expression is empty"),
        "{empty}"
    );

    let label = call(
        &tools,
        "prometheus_label_values_tool",
        json!({"label": "1pod"}),
    )
    .await
    .unwrap_err();
    assert!(label.to_string().contains("is not a label name"), "{label}");

    // Any other prometheus_url is refused, and the error says which one is configured.
    for other in [
        "http://169.254.169.254/latest/meta-data".to_owned(),
        format!("http://127.0.0.1:{}", stack.metrics_port()),
    ] {
        let e = call(
            &tools,
            "prometheus_query_tool",
            json!({"query": "up", "prometheus_url": other}),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("is not the Prometheus server this tool is configured for"),
            "{msg}"
        );
        assert!(msg.contains(&stack.prometheus_url()), "{msg}");
    }
    let e = call(
        &tools,
        "prometheus_targets_tool",
        json!({"prometheus_url": "http://localhost:9090"}),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("omit prometheus_url"), "{e}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_fault() {
    let port = free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let tools = PrometheusTools::builder(&url)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for (name, args) in [
        ("prometheus_query_tool", json!({"query": "up"})),
        ("prometheus_targets_tool", json!({})),
        ("prometheus_label_names_tool", json!({})),
    ] {
        let e = call(&tools, name, args).await.unwrap_err();
        assert!(matches!(e, ToolError::Transport { .. }), "{name}: {e:?}");
        assert!(e.is_fault());
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("Prometheus at {url}/api/v1/")),
            "{msg}"
        );
        assert!(msg.contains("could not be reached"), "{msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_tools_describe_the_server() {
    let stack = stack();
    let tools = PrometheusTools::builder(stack.prometheus_url())
        .build()
        .unwrap();
    wait_for_data(&stack, 2.0).await;

    let names = ok(&tools, "prometheus_label_names_tool", json!({})).await;
    for l in ["__name__", "container", "namespace", "pod", "queue"] {
        assert!(names.lines().any(|x| x == l), "{l}: {names}");
    }
    let restricted = ok(
        &tools,
        "prometheus_label_names_tool",
        json!({"match": "kagent_test_queue_depth"}),
    )
    .await;
    assert!(
        restricted.lines().any(|x| x == "queue") && !restricted.lines().any(|x| x == "pod"),
        "{restricted}"
    );

    let values = ok(
        &tools,
        "prometheus_label_values_tool",
        json!({"label": "queue"}),
    )
    .await;
    assert_eq!(values, "2 values of queue:\norders\nrefunds\n");
    let metrics = ok(
        &tools,
        "prometheus_label_values_tool",
        json!({"label": "__name__", "match": ["{job=\"shop\"}"], "limit": 2}),
    )
    .await;
    assert!(
        metrics.contains("... ") && metrics.contains("more not shown"),
        "{metrics}"
    );

    let series = ok(
        &tools,
        "prometheus_series_tool",
        json!({"match": ["kagent_test_queue_depth"], "start": "now-5m"}),
    )
    .await;
    assert!(
        series.starts_with("2 series; labels common to all: kagent_test_queue_depth{"),
        "{series}"
    );
    assert!(series.contains("queue\norders\nrefunds\n"), "{series}");
    let none = call(&tools, "prometheus_series_tool", json!({"match": []}))
        .await
        .unwrap_err();
    assert!(
        none.to_string().contains("at least one series selector"),
        "{none}"
    );

    let meta = ok(
        &tools,
        "prometheus_metric_metadata_tool",
        json!({"metric": "kagent_test_queue_depth"}),
    )
    .await;
    assert!(meta.contains("kagent_test_queue_depth  gauge"), "{meta}");
    assert!(meta.contains("Items waiting in the queue."), "{meta}");

    let targets = ok(&tools, "prometheus_targets_tool", json!({})).await;
    println!("{targets}");
    assert!(
        targets.starts_with("2 active targets: 1 up, 1 down, 0 unknown"),
        "{targets}"
    );
    let rows: Vec<&str> = targets.lines().collect();
    assert!(
        rows[2].starts_with("checkout-legacy ") && rows[2].contains("down"),
        "down first: {targets}"
    );
    assert!(rows[2].contains("connection refused"), "{targets}");
    let up = ok(&tools, "prometheus_targets_tool", json!({"health": "up"})).await;
    assert!(
        up.contains("shop") && !up.contains("checkout-legacy "),
        "{up}"
    );
    let bad = call(&tools, "prometheus_targets_tool", json!({"health": "sick"}))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("not up, down or unknown"), "{bad}");

    let rules = ok(&tools, "prometheus_rules_tool", json!({})).await;
    assert!(rules.starts_with("2 of 2 rules in 1 groups"), "{rules}");
    assert!(
        rules.contains("KagentTestQueueBacklog") && rules.contains("kagent_test_queue_depth > 100"),
        "{rules}"
    );
    assert!(
        rules.contains("namespace:kagent_test_cpu_usage:rate1m"),
        "{rules}"
    );
    let alerting = ok(&tools, "prometheus_rules_tool", json!({"type": "alert"})).await;
    assert!(!alerting.contains("namespace:kagent_test"), "{alerting}");

    // The alert fires within a few evaluations.
    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let a = ok(&tools, "prometheus_alerts_tool", json!({"state": "firing"})).await;
        if a.contains("KagentTestQueueBacklog") {
            break a;
        }
        assert!(Instant::now() < deadline, "no firing alert: {a}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!("{alerts}");
    assert!(alerts.starts_with("1 alerts (1 firing)"), "{alerts}");
    assert!(
        alerts.contains("Queue orders has 150 items waiting"),
        "{alerts}"
    );

    let tsdb = ok(&tools, "prometheus_tsdb_status_tool", json!({"limit": 3})).await;
    assert!(tsdb.starts_with("head: "), "{tsdb}");
    assert!(tsdb.contains("metrics with most series:"), "{tsdb}");
    assert!(
        tsdb.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["kagent_test_cpu_usage_seconds_total", "250"]),
        "{tsdb}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promql_generation_is_validated_against_the_server() {
    let stack = stack();
    wait_for_data(&stack, 2.0).await;
    let provider = Arc::new(
        ScriptedProvider::new()
            .text("```promql\nsum by (pod) (rate(kagent_test_cpu_usage_seconds_total{namespace=\"shop\"}[1m]))\n```\nCPU cores per pod.")
            .text("```promql\nsum(rate(kagent_test_cpu_usage_seconds_total[5m])\n```")
            .text("rate(kagent_test_disk_io_total[5m])"),
    );
    let tools = PrometheusTools::builder(stack.prometheus_url())
        .model(provider.clone())
        .build()
        .unwrap();

    let good = ok(
        &tools,
        "prometheus_promql_tool",
        json!({"query_description": "CPU usage per pod in namespace shop"}),
    )
    .await;
    println!("{good}");
    assert!(good.contains("syntax: valid"), "{good}");
    assert!(
        good.contains("metrics: kagent_test_cpu_usage_seconds_total (exists)"),
        "{good}"
    );
    assert!(good.contains("aggregations: sum by (pod)"), "{good}");
    assert!(good.contains("range windows: 1m"), "{good}");
    assert!(
        good.contains("trial evaluation now: instant vector, 250 series"),
        "{good}"
    );
    assert!(
        good.contains("model's explanation: CPU cores per pod."),
        "{good}"
    );
    let req = &provider.requests()[0];
    assert!(req.system.as_deref().unwrap_or("").contains("PromQL"));
    let prompt = kagent_core::testing::last_user_text(req).unwrap();
    assert!(
        prompt.contains("kagent_test_cpu_usage_seconds_total"),
        "grounded in real names: {prompt}"
    );

    let bad = ok(
        &tools,
        "prometheus_promql_tool",
        json!({"query_description": "total CPU"}),
    )
    .await;
    assert!(bad.contains("syntax: NOT VALID (bad_data)"), "{bad}");
    assert!(
        !bad.contains("trial evaluation"),
        "an invalid query is not run: {bad}"
    );

    let unknown = ok(
        &tools,
        "prometheus_promql_tool",
        json!({"query_description": "disk io"}),
    )
    .await;
    assert!(
        unknown.contains("kagent_test_disk_io_total (NOT on this server)"),
        "{unknown}"
    );
    assert!(unknown.contains("it returns no data now"), "{unknown}");

    let no_model = PrometheusTools::builder(stack.prometheus_url())
        .build()
        .unwrap();
    let e = call(
        &no_model,
        "prometheus_promql_tool",
        json!({"query_description": "cpu"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ToolError::Failed { .. }));
    assert!(e.to_string().contains("no model is configured"), "{e}");
}

#[tokio::test]
async fn a_cancelled_call_stops_waiting_for_a_silent_server() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock);
        }
    });
    let tools = PrometheusTools::builder(&url).build().unwrap();
    let ctx = ToolContext::detached("c");
    let cancel = ctx.cancellation.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let e = tools
        .call("prometheus_query_tool", json!({"query": "up"}), ctx)
        .await
        .unwrap_err();
    assert!(matches!(e, ToolError::Cancelled), "{e:?}");
    hold.abort();
}
