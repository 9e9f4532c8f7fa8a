//! Allocations while decoding the ~1 MB recorded streams of `llm_decode` (no per-byte
//! allocation: the count must stay far below one per byte). Counted with `stats_alloc`'s
//! instrumented system allocator (no `unsafe` here).
//!
//! `cargo bench -p kagent-benches --bench llm_decode_alloc`

#[path = "llm_decode/fixture.rs"]
mod fixture;

use std::alloc::System;

use kagent_core::collect_stream;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn measure(name: &str, body: &str, events: usize, run: impl Fn(Vec<bytes::Bytes>)) {
    for size in [4096usize, 65536] {
        let chunks = fixture::chunks(body, size);
        run(chunks.clone()); // warm-up
        let region = Region::new(GLOBAL);
        run(chunks);
        let stats = region.change();
        let mb = body.len() as f64 / (1024.0 * 1024.0);
        let allocs = stats.allocations + stats.reallocations;
        println!(
            "{name} ({} KiB chunks): {:.2} MB, {} frames, {} allocations+reallocations = {:.0} per MB, {:.4} per byte, {:.1} per frame, {:.1} MB allocated",
            size / 1024,
            mb,
            events,
            allocs,
            allocs as f64 / mb,
            allocs as f64 / body.len() as f64,
            allocs as f64 / events as f64,
            stats.bytes_allocated as f64 / (1024.0 * 1024.0),
        );
        assert!(
            (allocs as f64 / body.len() as f64) < 0.1,
            "{name}: more than one allocation per 10 bytes"
        );
    }
}

fn main() {
    let sse = fixture::openai_sse();
    let frames = sse.matches("\n\n").count();
    measure("openai_sse", &sse, frames, |chunks| {
        let s = kagent_llm::openai::decode_chat_stream("openai", fixture::byte_stream(chunks));
        futures::executor::block_on(collect_stream("openai", s)).expect("decodes");
    });
    let ndjson = fixture::ollama_ndjson();
    let lines = ndjson.lines().count();
    measure("ollama_ndjson", &ndjson, lines, |chunks| {
        let s = kagent_llm::ollama::decode_chat_stream("ollama", fixture::byte_stream(chunks));
        futures::executor::block_on(collect_stream("ollama", s)).expect("decodes");
    });
}
