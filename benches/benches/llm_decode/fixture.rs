//! Recorded-style streamed responses for the decode benches: ~1 MB of OpenAI Chat Completions
//! SSE with many tool-call argument fragments, and ~1 MB of Ollama `/api/chat` NDJSON.

use bytes::Bytes;

/// Target body size.
pub const TARGET: usize = 1 << 20;

fn sse_chunk(choice_delta: &str, finish: &str) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_f9f4fb6dbf\",\"choices\":[{{\"index\":0,\"delta\":{choice_delta},\"logprobs\":null,\"finish_reason\":{finish}}}]}}\n\n"
    )
}

/// ~1 MB of Chat Completions SSE: text deltas, then parallel tool calls whose JSON arguments
/// (with non-ASCII text) arrive in fragments of a few characters, then usage and `[DONE]`.
pub fn openai_sse() -> String {
    let mut out = String::with_capacity(TARGET + 4096);
    out.push_str(&sse_chunk(
        "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
        "null",
    ));
    for word in [
        "Checking ",
        "the ",
        "pods ",
        "in ",
        "prod ",
        "— ",
        "été ",
        "✓ ",
    ] {
        out.push_str(&sse_chunk(&format!("{{\"content\":\"{word}\"}}"), "null"));
    }
    let mut call = 0usize;
    while out.len() < TARGET {
        out.push_str(&sse_chunk(
            &format!(
                "{{\"tool_calls\":[{{\"index\":{call},\"id\":\"call_{call:024}\",\"type\":\"function\",\"function\":{{\"name\":\"k8s_get_resources\",\"arguments\":\"\"}}}}]}}"
            ),
            "null",
        ));
        let args = format!(
            "{{\"namespace\":\"prod-{call}\",\"resource_type\":\"pods\",\"label_selector\":\"app=web-{call},tier=frontend\",\"output\":\"wide\",\"note\":\"vérifier l'état ✓\"}}"
        );
        let escaped = args.replace('\\', "\\\\").replace('"', "\\\"");
        let chars: Vec<char> = escaped.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            // Fragments of 4 to 9 characters, never splitting an escape sequence.
            let mut end = (i + 4 + (i + call) % 6).min(chars.len());
            if chars[end - 1] == '\\' && end < chars.len() {
                end += 1;
            }
            let frag: String = chars[i..end].iter().collect();
            out.push_str(&sse_chunk(
                &format!("{{\"tool_calls\":[{{\"index\":{call},\"function\":{{\"arguments\":\"{frag}\"}}}}]}}"),
                "null",
            ));
            i = end;
        }
        call += 1;
    }
    out.push_str(&sse_chunk("{}", "\"tool_calls\""));
    out.push_str("data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":1117,\"completion_tokens\":46000,\"total_tokens\":47117,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n");
    out.push_str("data: [DONE]\n\n");
    out
}

/// Number of tool calls in [`openai_sse`].
#[allow(dead_code)] // used by one of the two bench binaries
pub fn openai_calls(body: &str) -> usize {
    body.matches("\"type\":\"function\"").count()
}

/// ~1 MB of Ollama NDJSON: token lines with interleaved whole tool calls, then `done: true`.
pub fn ollama_ndjson() -> String {
    let mut out = String::with_capacity(TARGET + 4096);
    let mut n = 0usize;
    while out.len() < TARGET {
        if n % 10 == 9 {
            out.push_str(&format!(
                "{{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.{n:06}Z\",\"message\":{{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{{\"function\":{{\"name\":\"k8s_get_resources\",\"arguments\":{{\"namespace\":\"prod-{n}\",\"resource_type\":\"pods\",\"label_selector\":\"app=web\"}}}}}}]}},\"done\":false}}\n"
            ));
        } else {
            out.push_str(&format!(
                "{{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.{n:06}Z\",\"message\":{{\"role\":\"assistant\",\"content\":\" tok{n} é\"}},\"done\":false}}\n"
            ));
        }
        n += 1;
    }
    out.push_str("{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:01Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":885095291,\"prompt_eval_count\":122,\"eval_count\":9000}\n");
    out
}

/// Splits a body into chunks of `size` bytes, as network reads would deliver it (boundaries
/// fall anywhere, including inside UTF-8 characters).
pub fn chunks(body: &str, size: usize) -> Vec<Bytes> {
    body.as_bytes()
        .chunks(size)
        .map(Bytes::copy_from_slice)
        .collect()
}

/// The chunks as the stream of byte chunks a decoder reads (what a response body yields).
pub fn byte_stream(
    chunks: Vec<Bytes>,
) -> impl futures::Stream<Item = Result<Bytes, kagent_core::ProviderError>> + Send + 'static {
    futures::stream::iter(chunks.into_iter().map(Ok))
}
