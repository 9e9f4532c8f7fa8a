//! Prometheus tools: what a 500-series range query costs a model in tokens, and how long the
//! rendering takes.
//!
//! Starts Debian's real Prometheus (`scripts/setup/prometheus.sh`) with one hour of history for
//! 500 series (`kagent_bench_cpu_usage_cores`, one sample every 15 s, backfilled with
//! `promtool tsdb create-blocks-from openmetrics`), runs the same range query (1 h, step 15 s,
//! 241 points per series) through `prometheus_query_range_tool` and directly against
//! `/api/v1/query_range`, and prints the token counts (o200k, tiktoken-rs) of:
//!
//! - Prometheus's own JSON response body, as served;
//! - the same JSON pretty-printed (what kagent's Go tool returns: `json.MarshalIndent`);
//! - our tool's output with its default row bound (50 series) and with every series shown.
//!
//! Then the timed benches: rendering the parsed 500-series matrix in memory, and the tool call
//! end to end (HTTP from the local Prometheus, JSON parse, summarise, render).
//!
//! Run: `cargo bench -p kagent-benches --bench prom_render`.

use criterion::{Criterion, criterion_group, criterion_main};
use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, Toolset};
use kagent_tools::PrometheusTools;
use kagent_tools::prometheus::client::QueryResult;
use kagent_tools::prometheus::render::{RenderOptions, render_result};
use kagent_tools::testing::{PromStack, StackOptions, history_openmetrics};
use serde_json::{Value, json};

const SERIES: usize = 500;
const RANGE: f64 = 3600.0;
const STEP: f64 = 15.0;
const QUERY: &str = "kagent_bench_cpu_usage_cores";

struct Setup {
    _stack: PromStack,
    url: String,
    tools: Toolset,
    args: Value,
    start: f64,
    end: f64,
}

fn setup(rt: &tokio::runtime::Runtime) -> Setup {
    // Whole minutes, a little in the past, so every sample of the range is in the backfill.
    let now = jiff::Timestamp::now().as_second() as f64;
    let end = (now / 60.0).floor() * 60.0 - 60.0;
    let start = end - RANGE;
    let stack = PromStack::start(StackOptions {
        pods: 1,
        alertmanager: false,
        backfill_openmetrics: Some(history_openmetrics(SERIES, end, RANGE, STEP)),
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = stack.prometheus_url();
    let tools = PrometheusTools::builder(&url).build().unwrap();
    let args = json!({"query": QUERY, "start": format!("{start}"), "end": format!("{end}"), "step": "15s"});
    // Wait until the backfilled blocks answer.
    let client = PrometheusTools::builder(&url).build_client().unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            if let Ok(r) = client.query_range(QUERY, start, end, STEP).await
                && let QueryResult::Matrix(m) = &r.data
                && m.len() == SERIES
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("the backfilled series did not appear in Prometheus");
    });
    Setup {
        _stack: stack,
        url,
        tools,
        args,
        start,
        end,
    }
}

fn token_report(rt: &tokio::runtime::Runtime, s: &Setup) {
    let bpe = tiktoken_rs::o200k_base().unwrap();
    let tokens = |t: &str| bpe.encode_ordinary(t).len();
    let raw = rt.block_on(async {
        reqwest::Client::new()
            // (the query has no characters that need encoding)
            .get(format!(
                "{}/api/v1/query_range?query={QUERY}&start={}&end={}&step=15",
                s.url, s.start, s.end
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let parsed: Value = serde_json::from_str(&raw).unwrap();
    let result = parsed["data"]["result"].as_array().unwrap();
    let points: usize = result
        .iter()
        .map(|r| r["values"].as_array().unwrap().len())
        .sum();
    assert_eq!(result.len(), SERIES);
    let pretty = serde_json::to_string_pretty(&parsed).unwrap();
    let call = |tools: &Toolset, args: Value| {
        rt.block_on(tools.call(
            "prometheus_query_range_tool",
            args,
            ToolContext::detached("b"),
        ))
        .map(|o| render_tool_content(&o.content))
        .unwrap()
    };
    let ours = call(&s.tools, s.args.clone());
    // Every row: a toolset whose output bound does not cut the 500 rows.
    let unbounded = PrometheusTools::builder(&s.url)
        .max_output_chars(1_000_000)
        .build()
        .unwrap();
    let mut all_args = s.args.clone();
    all_args["limit"] = json!(SERIES);
    let ours_all = call(&unbounded, all_args);
    assert_eq!(
        ours_all.lines().filter(|l| l.contains(" web-")).count(),
        SERIES
    );

    let (t_raw, t_pretty, t_ours, t_all) = (
        tokens(&raw),
        tokens(&pretty),
        tokens(&ours),
        tokens(&ours_all),
    );
    println!(
        "\nprom_render: 500-series range query, 1 h at 15 s ({points} samples), o200k tokens:"
    );
    println!(
        "  Prometheus JSON as served                  {t_raw:>9}   ({} bytes)",
        raw.len()
    );
    println!(
        "  same JSON pretty-printed (kagent's tool)   {t_pretty:>9}   ({} bytes)",
        pretty.len()
    );
    println!(
        "  prometheus_query_range_tool (50 rows)      {t_ours:>9}   ({:.4}x JSON, {} bytes)",
        t_ours as f64 / t_raw as f64,
        ours.len()
    );
    println!(
        "  prometheus_query_range_tool (all 500 rows) {t_all:>9}   ({:.4}x JSON, {} bytes)",
        t_all as f64 / t_raw as f64,
        ours_all.len()
    );
    println!("  first lines of ours:");
    for line in ours.lines().take(5) {
        println!("    {line}");
    }
    println!("    ...");
    println!("    {}", ours.lines().last().unwrap_or(""));
    assert!(
        t_ours as f64 <= 0.1 * t_raw as f64,
        "target: at most 0.1x of Prometheus's JSON"
    );
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = setup(&rt);
    token_report(&rt, &s);

    let client = PrometheusTools::builder(&s.url).build_client().unwrap();
    let res = rt
        .block_on(client.query_range(QUERY, s.start, s.end, STEP))
        .unwrap();
    let opts = RenderOptions {
        query: QUERY,
        max_rows: 50,
        range: Some((s.start, s.end, STEP)),
    };
    c.bench_function("render_500_series_range", |b| {
        b.iter(|| render_result(&res.data, &res.warnings, &opts))
    });
    c.bench_function("query_range_tool_500_series_end_to_end", |b| {
        b.to_async(&rt).iter(|| async {
            s.tools
                .call(
                    "prometheus_query_range_tool",
                    s.args.clone(),
                    ToolContext::detached("b"),
                )
                .await
                .unwrap()
        })
    });
}

criterion_group! {
    name = prom;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(prom);
