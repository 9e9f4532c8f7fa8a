//! Decode throughput of the streaming providers, without network: a recorded-style ~1 MB
//! response is fed as a stream of byte chunks through the real decoder (sseer
//! inside kagent-llm, or its NDJSON splitter) and the provider state machine (Chat
//! Completions, Ollama), through the public `decode_chat_stream` functions, and assembled into a
//! `ChatResponse`.
//!
//! `cargo bench -p kagent-benches --bench llm_decode` (target: ≥ 100 MB/s).
//! Allocation counts: `cargo bench -p kagent-benches --bench llm_decode_alloc`.

#[path = "llm_decode/fixture.rs"]
mod fixture;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kagent_core::collect_stream;

fn decode(c: &mut Criterion) {
    let sse = fixture::openai_sse();
    let ndjson = fixture::ollama_ndjson();
    let calls = fixture::openai_calls(&sse);

    // Sanity: the decoded response is what was recorded.
    let r = futures::executor::block_on(collect_stream(
        "openai",
        kagent_llm::openai::decode_chat_stream(
            "openai",
            fixture::byte_stream(fixture::chunks(&sse, 4096)),
        ),
    ))
    .expect("SSE fixture decodes");
    assert_eq!(r.message.tool_calls.len(), calls);
    assert!(
        r.message
            .tool_calls
            .iter()
            .all(|c| c.arguments.as_json().is_some())
    );

    let mut g = c.benchmark_group("llm_decode");
    g.sample_size(30);
    for size in [4096usize, 65536] {
        let chunks = fixture::chunks(&sse, size);
        g.throughput(Throughput::Bytes(sse.len() as u64));
        g.bench_function(format!("openai_sse_{}k_chunks", size / 1024), |b| {
            b.iter(|| {
                let s = kagent_llm::openai::decode_chat_stream(
                    "openai",
                    fixture::byte_stream(chunks.clone()),
                );
                futures::executor::block_on(collect_stream("openai", s)).expect("decodes")
            })
        });
        let chunks = fixture::chunks(&ndjson, size);
        g.throughput(Throughput::Bytes(ndjson.len() as u64));
        g.bench_function(format!("ollama_ndjson_{}k_chunks", size / 1024), |b| {
            b.iter(|| {
                let s = kagent_llm::ollama::decode_chat_stream(
                    "ollama",
                    fixture::byte_stream(chunks.clone()),
                );
                futures::executor::block_on(collect_stream("ollama", s)).expect("decodes")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
