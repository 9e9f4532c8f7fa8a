//! Engine overhead: one agent run of 10 tool turns plus the answer against a zero-latency
//! scripted provider and a no-op tool, so everything measured is the engine (planner, policy,
//! argument validation, events, transcript, session save). Per-turn overhead = time / 11 model
//! turns. Then a sweep of 1, 64 and 1,024 concurrent runs.

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kagent_benches::{looping_agent, noop_tools};
use kagent_core::{Agent, EventSink, RunRequest};

const TURNS: usize = 10;

fn single_run(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let agent = Arc::new(looping_agent(TURNS, noop_tools()));
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(TURNS as u64 + 1));
    group.bench_function("run_10_tool_turns", |b| {
        b.to_async(&rt).iter(|| {
            let agent = agent.clone();
            async move {
                let out = agent
                    .run(RunRequest::new("go"), EventSink::discard())
                    .await
                    .unwrap();
                assert_eq!(out.tool_calls, TURNS as u32);
            }
        });
    });
    group.bench_function("run_10_tool_turns_with_events", |b| {
        b.to_async(&rt).iter(|| {
            let agent = agent.clone();
            async move {
                let (sink, mut rx) = EventSink::channel(1024);
                let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                agent.run(RunRequest::new("go"), sink).await.unwrap();
                drain.await.unwrap();
            }
        });
    });
    group.finish();
}

fn concurrent_runs(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let agent = Arc::new(looping_agent(TURNS, noop_tools()));
    let mut group = c.benchmark_group("engine_concurrent");
    group.sample_size(10);
    for n in [1usize, 64, 1024] {
        group.throughput(Throughput::Elements((n * (TURNS + 1)) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.to_async(&rt).iter(|| {
                let agent = agent.clone();
                async move {
                    let runs = (0..n).map(|_| {
                        let agent = agent.clone();
                        tokio::spawn(async move {
                            agent.run(RunRequest::new("go"), EventSink::discard()).await
                        })
                    });
                    for r in futures::future::join_all(runs).await {
                        r.unwrap().unwrap();
                    }
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, single_run, concurrent_runs);
criterion_main!(benches);
