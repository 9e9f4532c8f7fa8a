//! `prometheus_promql_tool`: natural language to PromQL on the injected model, with what the
//! model proposed checked against the configured Prometheus (syntax through `format_query`,
//! metric names against the server's, a trial evaluation) and explained, never trusted blindly.

use std::collections::BTreeSet;

use kagent_core::{ChatRequest, Message, ToolContext, ToolEffect, ToolOutput};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Shared;
use super::client::QueryResult;
use super::tools::output;
use crate::common::HttpToolError;
use crate::common::render::one_line;
use crate::family::family_tool;

/// Aggregation operators (they take `by` / `without`).
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Words that are not metric names.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "atan2",
    "inf",
    "nan",
    "start",
    "end",
];

/// What a PromQL expression refers to, read without a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PromqlAnalysis {
    /// Metric names it selects, in order of appearance.
    pub metrics: Vec<String>,
    /// Functions it calls (`rate`, `histogram_quantile`, ...).
    pub functions: Vec<String>,
    /// Aggregations with their grouping (`sum by (pod)`).
    pub aggregations: Vec<String>,
    /// Range and subquery windows (`5m`, `1h:1m`).
    pub windows: Vec<String>,
    /// Label matchers (`namespace="shop"`).
    pub matchers: Vec<String>,
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Reads a PromQL expression's metric names, functions, aggregations, windows and matchers
/// with a small lexer (strings and comments skipped). It does not check syntax: Prometheus
/// does that.
pub fn analyze_promql(expr: &str) -> PromqlAnalysis {
    let chars: Vec<char> = expr.chars().collect();
    let mut a = PromqlAnalysis::default();
    let mut i = 0usize;
    let at = |i: usize| chars.get(i).copied();
    let skip_ws = |mut j: usize| {
        while at(j).is_some_and(char::is_whitespace) {
            j += 1;
        }
        j
    };
    // Reads up to the matching closer, skipping strings; returns (inner text, index after).
    let read_group = |start: usize, open: char, close: char| -> (String, usize) {
        let mut depth = 0usize;
        let mut j = start;
        let mut inner = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = at(j) {
            if let Some(q) = quote {
                inner.push(c);
                if c == '\\' {
                    if let Some(n) = at(j + 1) {
                        inner.push(n);
                    }
                    j += 2;
                    continue;
                }
                if c == q {
                    quote = None;
                }
            } else if c == '"' || c == '\'' || c == '`' {
                quote = Some(c);
                inner.push(c);
            } else if c == open {
                depth += 1;
                if depth > 1 {
                    inner.push(c);
                }
            } else if c == close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (inner, j + 1);
                }
                inner.push(c);
            } else {
                inner.push(c);
            }
            j += 1;
        }
        (inner, j)
    };
    let mut pending_agg: Option<usize> = None;
    while let Some(c) = at(i) {
        match c {
            '"' | '\'' | '`' => {
                let mut j = i + 1;
                while let Some(d) = at(j) {
                    if d == '\\' {
                        j += 2;
                        continue;
                    }
                    j += 1;
                    if d == c {
                        break;
                    }
                }
                i = j;
            }
            '#' => {
                while at(i).is_some_and(|d| d != '\n') {
                    i += 1;
                }
            }
            '{' => {
                let (inner, next) = read_group(i, '{', '}');
                for m in split_matchers(&inner) {
                    let compact: String = m.split_whitespace().collect::<Vec<_>>().join("");
                    if let Some(v) = compact.strip_prefix("__name__=") {
                        push_unique(&mut a.metrics, v.trim_matches(['"', '\'', '`']).to_owned());
                    } else if !compact.is_empty() {
                        push_unique(&mut a.matchers, compact);
                    }
                }
                i = next;
            }
            '[' => {
                let (inner, next) = read_group(i, '[', ']');
                push_unique(&mut a.windows, inner.trim().to_owned());
                i = next;
            }
            c if c.is_ascii_digit()
                || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                // numbers and durations (5m, 1.5, 0x1f, 1e3)
                while at(i).is_some_and(|d| d.is_ascii_alphanumeric() || d == '.' || d == '_') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while at(i).is_some_and(|d| d.is_ascii_alphanumeric() || d == '_' || d == ':') {
                    i += 1;
                }
                let word: String = chars
                    .get(start..i)
                    .map(|s| s.iter().collect())
                    .unwrap_or_default();
                let next = skip_ws(i);
                let lower = word.to_ascii_lowercase();
                if matches!(
                    lower.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) {
                    if at(next) == Some('(') {
                        let (inner, after) = read_group(next, '(', ')');
                        let labels: Vec<&str> = inner
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .collect();
                        if matches!(lower.as_str(), "by" | "without")
                            && let Some(idx) = pending_agg.take()
                            && let Some(agg) = a.aggregations.get_mut(idx)
                        {
                            *agg = format!("{agg} {lower} ({})", labels.join(", "));
                        }
                        i = after;
                    }
                    continue;
                }
                if AGGREGATIONS.contains(&lower.as_str())
                    && (at(next) == Some('(')
                        || chars.get(next..).is_some_and(|rest| {
                            let r: String = rest.iter().take(8).collect();
                            r.starts_with("by") || r.starts_with("without")
                        }))
                {
                    a.aggregations.push(lower.clone());
                    pending_agg = Some(a.aggregations.len() - 1);
                    continue;
                }
                if at(next) == Some('(') {
                    push_unique(&mut a.functions, word);
                    continue;
                }
                if KEYWORDS.contains(&lower.as_str()) {
                    continue;
                }
                push_unique(&mut a.metrics, word);
            }
            _ => i += 1,
        }
    }
    a
}

/// Splits `a="x", b=~"y,z"` at commas outside quotes.
fn split_matchers(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some(_), '\\') => {
                cur.push(c);
                escaped = true;
            }
            (Some(q), c) if c == q => {
                cur.push(c);
                quote = None;
            }
            (None, '"' | '\'' | '`') => {
                cur.push(c);
                quote = Some(c);
            }
            (None, ',') => out.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// The PromQL inside the first fenced block of a model answer, or its first non-empty line;
/// plus the rest of the answer (the model's explanation).
pub(crate) fn extract_promql(answer: &str) -> (String, String) {
    let t = answer.trim();
    if let Some(start) = t.find("```") {
        let after = t.get(start + 3..).unwrap_or("");
        let body = after
            .split_once('\n')
            .map(|(_, rest)| rest)
            .unwrap_or(after);
        if let Some(end) = body.find("```") {
            let query = body.get(..end).unwrap_or(body).trim().to_owned();
            let before = t.get(..start).unwrap_or("").trim();
            let after_fence = body.get(end + 3..).unwrap_or("").trim();
            let explanation = [before, after_fence]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            return (query, explanation);
        }
    }
    let mut lines = t.lines().map(str::trim).filter(|l| !l.is_empty());
    let query = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("PromQL:")
        .trim()
        .trim_matches('`')
        .to_owned();
    (query, lines.collect::<Vec<_>>().join(" "))
}

const SYSTEM_PROMPT: &str = "You write PromQL for Prometheus. Turn the user's description into \
one PromQL expression. Use only metric names that exist on the server when a list is given; \
use rate() or increase() on counters (names ending in _total, _count, _sum, _bucket), \
histogram_quantile over rate of _bucket series with `by (le)` kept, and aggregate with \
sum by (...) when the description asks for a per-something view. Answer with the expression \
alone inside a ```promql fence, then at most three sentences explaining it.";

/// Arguments of `prometheus_promql_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PromqlArgs {
    /// What the query should compute, in plain words (for example "p99 request latency of the
    /// checkout service over 5 minutes").
    pub query_description: String,
}

family_tool!(
    /// `prometheus_promql_tool`: natural language to PromQL, validated against the server.
    GeneratePromql,
    Shared,
    "prometheus_promql_tool",
    ToolEffect::ReadOnly,
    PromqlArgs,
    "Generate a PromQL query from a description (uses the agent's model), then check it \
     against Prometheus: syntax, whether its metrics exist, and how many series it returns now. \
     Runs nothing else; execute it with prometheus_query_tool or prometheus_query_range_tool."
);

/// Metric names matching the description's words, to ground the model (bounded).
fn relevant_metrics(all: &[String], description: &str) -> Vec<String> {
    let words: Vec<String> = description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 3)
        .map(str::to_ascii_lowercase)
        .collect();
    let mut hits: Vec<String> = all
        .iter()
        .filter(|m| {
            let lm = m.to_ascii_lowercase();
            words.iter().any(|w| lm.contains(w.as_str()))
        })
        .take(200)
        .cloned()
        .collect();
    if hits.is_empty() {
        hits = all.iter().take(200).cloned().collect();
    }
    hits
}

impl GeneratePromql {
    async fn exec(
        &self,
        args: PromqlArgs,
        _ctx: &ToolContext,
    ) -> Result<ToolOutput, HttpToolError> {
        let s = &self.0;
        let Some(model) = &s.model else {
            return Err(HttpToolError::Unsupported {
                message: "no model is configured for PromQL generation \
                          (PrometheusToolsBuilder::model); write the query yourself and run it \
                          with prometheus_query_tool"
                    .into(),
            });
        };
        let description = args.query_description.trim();
        if description.is_empty() {
            return Err(HttpToolError::invalid(
                "query_description",
                "describe what to compute, like \"CPU usage per pod in namespace shop\"",
            ));
        }
        // Ground the model in the server's metric names when the server answers.
        let names = s
            .client
            .label_values("__name__", &[], None, None)
            .await
            .map(|r| r.data)
            .ok();
        let mut prompt = description.to_owned();
        if let Some(all) = &names {
            let hits = relevant_metrics(all, description);
            prompt.push_str(&format!(
                "\n\nMetric names on this Prometheus ({} of {}):\n{}",
                hits.len(),
                all.len(),
                hits.join("\n")
            ));
        }
        let mut req = ChatRequest::new(vec![Message::user(prompt)]);
        req.system = Some(SYSTEM_PROMPT.to_owned());
        req.temperature = Some(0.0);
        let span = tracing::info_span!(
            "chat",
            "gen_ai.operation.name" = "chat",
            "gen_ai.request.model" = s.model_name.as_deref().unwrap_or("")
        );
        let resp = tracing::Instrument::instrument(model.chat(&req), span)
            .await
            .map_err(|e| HttpToolError::Unsupported {
                message: format!("the model call failed: {e}"),
            })?;
        let (query, explanation) = extract_promql(&resp.message.text_content());
        if query.is_empty() {
            return Err(HttpToolError::Unsupported {
                message: "the model proposed no PromQL; rephrase the description".into(),
            });
        }
        let analysis = analyze_promql(&query);
        let mut out = format!(
            "proposed PromQL (written by the model, checked against Prometheus):\n  {query}\n"
        );
        // 1. syntax, by Prometheus's own parser.
        let (valid, syntax_line, formatted) = match s.client.format_query(&query).await {
            Ok(r) => {
                let formatted = r.data;
                let line = if formatted.trim() != query.trim() {
                    format!(
                        "syntax: valid (Prometheus formats it as: {})",
                        one_line(&formatted, 300)
                    )
                } else {
                    "syntax: valid".to_owned()
                };
                (Some(true), line, Some(formatted))
            }
            Err(HttpToolError::Api {
                error_type,
                message,
                status,
                ..
            }) if status == 400 || error_type.as_deref() == Some("bad_data") => (
                Some(false),
                format!(
                    "syntax: NOT VALID ({}): {} - do not run it as is; fix it or call this tool again with a clearer description",
                    error_type.as_deref().unwrap_or("error"),
                    one_line(&message, 300)
                ),
                None,
            ),
            Err(e) => (None, format!("syntax: not checked ({e})"), None),
        };
        out.push_str(&syntax_line);
        out.push('\n');
        // 2. metric names against the server's.
        let mut missing = Vec::new();
        if !analysis.metrics.is_empty() {
            let known: Option<BTreeSet<&str>> = names
                .as_ref()
                .map(|n| n.iter().map(String::as_str).collect());
            let parts: Vec<String> = analysis
                .metrics
                .iter()
                .map(|m| match &known {
                    Some(k) if k.contains(m.as_str()) => format!("{m} (exists)"),
                    Some(_) => {
                        missing.push(m.clone());
                        format!("{m} (NOT on this server)")
                    }
                    None => format!("{m} (not checked)"),
                })
                .collect();
            out.push_str(&format!("metrics: {}\n", parts.join(", ")));
        }
        if !analysis.functions.is_empty() {
            out.push_str(&format!("functions: {}\n", analysis.functions.join(", ")));
        }
        if !analysis.aggregations.is_empty() {
            out.push_str(&format!(
                "aggregations: {}\n",
                analysis.aggregations.join("; ")
            ));
        }
        if !analysis.windows.is_empty() {
            out.push_str(&format!("range windows: {}\n", analysis.windows.join(", ")));
        }
        if !analysis.matchers.is_empty() {
            out.push_str(&format!(
                "label matchers: {}\n",
                analysis.matchers.join(", ")
            ));
        }
        // 3. a trial evaluation, only of a valid expression.
        let mut series_now = None;
        if valid != Some(false) {
            match s.client.query(&query, None).await {
                Ok(r) => {
                    let (kind, n) = match &r.data {
                        QueryResult::Vector(v) => ("instant vector", v.len()),
                        QueryResult::Matrix(m) => ("range vector", m.len()),
                        QueryResult::Scalar(_) => ("scalar", 1),
                        QueryResult::String(_) => ("string", 1),
                    };
                    series_now = Some(n);
                    out.push_str(&format!("trial evaluation now: {kind}, {n} series\n"));
                    if n == 0 {
                        out.push_str("warning: it returns no data now; check the metric and label values before relying on it\n");
                    }
                }
                Err(e) => out.push_str(&format!("trial evaluation failed: {e}\n")),
            }
        }
        if !missing.is_empty() {
            out.push_str(&format!(
                "warning: {} not found on this Prometheus; list real names with \
                 prometheus_label_values_tool (label __name__)\n",
                missing.join(", ")
            ));
        }
        if !explanation.is_empty() {
            out.push_str(&format!(
                "model's explanation: {}\n",
                one_line(&explanation, 600)
            ));
        }
        let structured = json!({
            "query": query,
            "valid": valid,
            "formatted": formatted,
            "missing_metrics": missing,
            "series_now": series_now,
            "analysis": analysis,
        });
        Ok(output(s.bound(out, ""), Some(structured)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_finds_metrics_functions_and_groupings() {
        let a = analyze_promql(
            "histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket{namespace=\"shop\", path=~\"/api/.*,x\"}[5m])))",
        );
        assert_eq!(a.metrics, vec!["http_request_duration_seconds_bucket"]);
        assert_eq!(a.functions, vec!["histogram_quantile", "rate"]);
        assert_eq!(a.aggregations, vec!["sum by (le, service)"]);
        assert_eq!(a.windows, vec!["5m"]);
        assert_eq!(
            a.matchers,
            vec!["namespace=\"shop\"", "path=~\"/api/.*,x\""]
        );

        let b = analyze_promql(
            "sum(rate(a_total[1m])) without (instance) / on (job) group_left max(b) > bool 3 and c offset 5m # comment d",
        );
        assert_eq!(b.metrics, vec!["a_total", "b", "c"]);
        assert_eq!(b.aggregations, vec!["sum without (instance)", "max"]);
        let c = analyze_promql("{__name__=\"up\", job=\"x\"} == 0");
        assert_eq!(c.metrics, vec!["up"]);
        let d = analyze_promql("max_over_time(deriv(x[10m])[1h:1m])");
        assert_eq!(d.windows, vec!["10m", "1h:1m"]);
        assert_eq!(d.metrics, vec!["x"]);
    }

    #[test]
    fn queries_are_taken_from_fences_or_the_first_line() {
        assert_eq!(
            extract_promql("Here:\n```promql\nsum(up)\n```\nCounts targets."),
            ("sum(up)".to_owned(), "Here: Counts targets.".to_owned())
        );
        assert_eq!(
            extract_promql("`up == 0`\nTargets that are down."),
            ("up == 0".to_owned(), "Targets that are down.".to_owned())
        );
    }

    #[test]
    fn relevant_metric_names_ground_the_model() {
        let all: Vec<String> = ["node_cpu_seconds_total", "http_requests_total", "up"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(
            relevant_metrics(&all, "CPU per node"),
            vec!["node_cpu_seconds_total"]
        );
        assert_eq!(relevant_metrics(&all, "xyz").len(), 3);
    }
}
