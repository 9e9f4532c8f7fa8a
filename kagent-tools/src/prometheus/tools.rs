//! The Prometheus tools.

use std::collections::BTreeMap;
use std::sync::Arc;

use kagent_core::{ToolContext, ToolEffect, ToolError, ToolOutput};
use kagent_k8s::Count;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::Shared;
use super::render::{RenderOptions, render_result};
use crate::common::render::{Table, dash, fmt_num, label_set, one_line};
use crate::common::time::{now_unix, parse_duration, parse_time, rfc3339, short_duration};
use crate::common::{HttpToolError, StringList};
use crate::family::{family_tool, non_empty};

type Result<T, E = HttpToolError> = std::result::Result<T, E>;

pub(crate) const QUERY_TOOL: &str = "prometheus_query_tool";
pub(crate) const QUERY_ALIAS: &str = "prometheus_query";

/// Arguments of `prometheus_query_tool` (and its alias `prometheus_query`).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryArgs {
    /// PromQL expression to evaluate at one instant.
    pub query: String,
    /// Evaluation time: Unix seconds, RFC 3339, `now` or `now-1h` (default now).
    #[serde(default)]
    pub time: Option<String>,
    /// Most series to show (default set by the toolset, usually 50); the rest are summarised.
    #[serde(default)]
    pub limit: Option<Count>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

/// `prometheus_query_tool` / `prometheus_query`: an instant query.
pub struct PromQuery {
    shared: Arc<Shared>,
    name: &'static str,
}

impl PromQuery {
    pub(crate) fn named(shared: Arc<Shared>, name: &'static str) -> Self {
        PromQuery { shared, name }
    }
}

impl std::fmt::Debug for PromQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

#[kagent_core::async_trait]
impl kagent_core::TypedTool for PromQuery {
    type Args = QueryArgs;
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        "Execute a PromQL instant query against Prometheus. Returns a compact table: labels shared \
         by every series in the header, one row per series (highest value first), values \
         rounded; large results are cut with a note on how to narrow the query. PromQL errors \
         come back with Prometheus's errorType and message."
    }
    fn effect(&self) -> ToolEffect {
        ToolEffect::ReadOnly
    }
    async fn run(&self, args: QueryArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        use tracing::Instrument as _;
        let span = tracing::info_span!(
            "execute_tool",
            "gen_ai.operation.name" = "execute_tool",
            "gen_ai.tool.name" = self.name,
            "gen_ai.tool.call.id" = %ctx.call_id,
        );
        let cancel = ctx.cancellation.clone();
        let work = instant_query(&self.shared, args).instrument(span);
        tokio::select! {
            res = work => res.map_err(|e| e.into_tool_error(self.name)),
            () = cancel.cancelled() => Err(ToolError::Cancelled),
        }
    }
}

fn need_query(q: &str) -> Result<&str> {
    let q = q.trim();
    if q.is_empty() {
        return Err(HttpToolError::invalid(
            "query",
            "the PromQL expression is empty; pass one like up{job=\"api\"}",
        ));
    }
    Ok(q)
}

fn limit_of(s: &Shared, limit: Option<Count>) -> usize {
    limit
        .map(|c| c.0 as usize)
        .filter(|n| *n > 0)
        .unwrap_or(s.max_series)
        .min(5_000)
}

async fn instant_query(s: &Shared, args: QueryArgs) -> Result<ToolOutput> {
    s.check_url(&args.prometheus_url)?;
    let query = need_query(&args.query)?;
    let time = match non_empty(&args.time) {
        Some(t) => Some(parse_time("time", t, now_unix())?),
        None => None,
    };
    let res = s.client.query(query, time).await?;
    let opts = RenderOptions {
        query,
        max_rows: limit_of(s, args.limit),
        range: None,
    };
    let text = render_result(&res.data, &res.warnings, &opts);
    Ok(ToolOutput::text(s.bound(
        text,
        "Narrow the query (label matchers, topk, sum by) to see less.",
    )))
}

/// Arguments of `prometheus_query_range_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct QueryRangeArgs {
    /// PromQL expression to evaluate over a range.
    pub query: String,
    /// Start time: Unix seconds, RFC 3339, `now-1h` or `-1h` (default: one hour before end).
    #[serde(default)]
    pub start: Option<String>,
    /// End time, same forms (default now).
    #[serde(default)]
    pub end: Option<String>,
    /// Query resolution step: `15s`, `1m`, or seconds (default 15s; widened automatically when
    /// the range would need more than 11 000 points).
    #[serde(default)]
    pub step: Option<String>,
    /// Most series to show (default set by the toolset, usually 50); the rest are summarised.
    #[serde(default)]
    pub limit: Option<Count>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_query_range_tool`: a range query, summarised per series.
    PromQueryRange,
    Shared,
    "prometheus_query_range_tool",
    ToolEffect::ReadOnly,
    QueryRangeArgs,
    "Execute a PromQL range query against Prometheus. Each series is summarised as min / max / \
     last value / trend over the range (labels shared by all series shown once), highest last \
     value first; large results are cut with a note on how to narrow the query."
);

impl PromQueryRange {
    async fn exec(&self, args: QueryRangeArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let query = need_query(&args.query)?;
        let now = now_unix();
        let end = match non_empty(&args.end) {
            Some(t) => parse_time("end", t, now)?,
            None => now,
        };
        let start = match non_empty(&args.start) {
            Some(t) => parse_time("start", t, now)?,
            None => end - s.default_range,
        };
        if start > end {
            return Err(HttpToolError::invalid(
                "start",
                format!(
                    "start ({}) is after end ({}); swap them or use start like now-1h",
                    rfc3339(start),
                    rfc3339(end)
                ),
            ));
        }
        let mut step = match non_empty(&args.step) {
            Some(st) => parse_duration("step", st)?,
            None => s.default_step,
        };
        if step <= 0.0 {
            return Err(HttpToolError::invalid(
                "step",
                "step must be greater than zero, like 15s",
            ));
        }
        let mut note = String::new();
        if (end - start) / step > s.max_points {
            let wider = ((end - start) / 250.0).ceil().max(1.0);
            note = format!(
                "note: step widened from {} to {} (Prometheus allows at most 11000 points per \
                 series)\n",
                short_duration(step),
                short_duration(wider)
            );
            step = wider;
        }
        let res = s.client.query_range(query, start, end, step).await?;
        let opts = RenderOptions {
            query,
            max_rows: limit_of(s, args.limit),
            range: Some((start, end, step)),
        };
        let text = note + &render_result(&res.data, &res.warnings, &opts);
        Ok(ToolOutput::text(s.bound(
            text,
            "Narrow the query (label matchers, topk, sum by) to see less.",
        )))
    }
}

/// Arguments of `prometheus_label_names_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LabelNamesArgs {
    /// Series selectors to restrict the label names to (`up{job="api"}`); default all series.
    #[serde(default, rename = "match")]
    pub matchers: Option<StringList>,
    /// Start of the time window (Unix seconds, RFC 3339, `now-1h`).
    #[serde(default)]
    pub start: Option<String>,
    /// End of the time window.
    #[serde(default)]
    pub end: Option<String>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

fn window(start: &Option<String>, end: &Option<String>) -> Result<(Option<f64>, Option<f64>)> {
    let now = now_unix();
    let s = non_empty(start)
        .map(|t| parse_time("start", t, now))
        .transpose()?;
    let e = non_empty(end)
        .map(|t| parse_time("end", t, now))
        .transpose()?;
    Ok((s, e))
}

fn list_text(what: &str, items: &[String], max: usize, hint: &str) -> String {
    let mut out = format!("{} {what}", items.len());
    if items.is_empty() {
        out.push_str(&format!(". {hint}\n"));
        return out;
    }
    out.push_str(":\n");
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    out.push_str(&shown.join("\n"));
    out.push('\n');
    if items.len() > max {
        out.push_str(&format!(
            "... {} more not shown. {hint}\n",
            items.len() - max
        ));
    }
    out
}

family_tool!(
    /// `prometheus_label_names_tool`: label names.
    PromLabelNames,
    Shared,
    "prometheus_label_names_tool",
    ToolEffect::ReadOnly,
    LabelNamesArgs,
    "Get all available label names from Prometheus (optionally only those of series matching \
     selectors, in a time window)."
);

impl PromLabelNames {
    async fn exec(&self, args: LabelNamesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let (start, end) = window(&args.start, &args.end)?;
        let matchers = args.matchers.map(|m| m.0).unwrap_or_default();
        let res = s.client.label_names(&matchers, start, end).await?;
        let text = list_text(
            "label names",
            &res.data,
            2_000,
            "Restrict with match (a series selector) to see fewer.",
        );
        Ok(ToolOutput::text(
            s.bound(text, "Restrict with match to see fewer."),
        ))
    }
}

/// Arguments of `prometheus_label_values_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LabelValuesArgs {
    /// The label (`job`, `namespace`; `__name__` lists metric names).
    pub label: String,
    /// Series selectors to restrict the values to (`kube_pod_info{namespace="shop"}`).
    #[serde(default, rename = "match")]
    pub matchers: Option<StringList>,
    /// Start of the time window (Unix seconds, RFC 3339, `now-1h`).
    #[serde(default)]
    pub start: Option<String>,
    /// End of the time window.
    #[serde(default)]
    pub end: Option<String>,
    /// Most values to show (default 500).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_label_values_tool`: values of one label.
    PromLabelValues,
    Shared,
    "prometheus_label_values_tool",
    ToolEffect::ReadOnly,
    LabelValuesArgs,
    "Get the values of one label from Prometheus (label __name__ gives metric names), optionally \
     only for series matching selectors."
);

fn valid_label_name(label: &str) -> Result<&str> {
    let l = label.trim();
    let ok = !l.is_empty()
        && l.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if ok {
        Ok(l)
    } else {
        Err(HttpToolError::invalid(
            "label",
            format!(
                "{label:?} is not a label name (letters, digits and _, not starting with a digit); \
                 list them with prometheus_label_names_tool"
            ),
        ))
    }
}

impl PromLabelValues {
    async fn exec(&self, args: LabelValuesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let label = valid_label_name(&args.label)?;
        let (start, end) = window(&args.start, &args.end)?;
        let matchers = args.matchers.map(|m| m.0).unwrap_or_default();
        let res = s.client.label_values(label, &matchers, start, end).await?;
        let max = args
            .limit
            .map(|c| c.0 as usize)
            .filter(|n| *n > 0)
            .unwrap_or(500);
        let text = list_text(
            &format!("values of {label}"),
            &res.data,
            max,
            "Restrict with match (a series selector such as up{job=\"api\"}) or raise limit.",
        );
        Ok(ToolOutput::text(
            s.bound(text, "Restrict with match to see fewer."),
        ))
    }
}

/// Arguments of `prometheus_series_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SeriesArgs {
    /// Series selectors (at least one), like `up{job="api"}` or `{__name__=~"http_.*"}`.
    #[serde(rename = "match")]
    pub matchers: StringList,
    /// Start of the time window (Unix seconds, RFC 3339, `now-1h`).
    #[serde(default)]
    pub start: Option<String>,
    /// End of the time window.
    #[serde(default)]
    pub end: Option<String>,
    /// Most series to show (default set by the toolset, usually 50).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_series_tool`: series matching selectors.
    PromSeries,
    Shared,
    "prometheus_series_tool",
    ToolEffect::ReadOnly,
    SeriesArgs,
    "Find the series (label sets) matching selectors in Prometheus; labels shared by all are \
     shown once."
);

impl PromSeries {
    async fn exec(&self, args: SeriesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        if args.matchers.0.is_empty() {
            return Err(HttpToolError::invalid(
                "match",
                "give at least one series selector, like up{job=\"api\"}",
            ));
        }
        let (start, end) = window(&args.start, &args.end)?;
        let res = s.client.series(&args.matchers.0, start, end).await?;
        let max = limit_of(s, args.limit);
        let series = res.data;
        if series.is_empty() {
            return Ok(ToolOutput::text(format!(
                "no series match {}. Check names with prometheus_label_values_tool (label \
                 __name__).",
                args.matchers.0.join(", ")
            )));
        }
        let (common, varying) = super::render::factor_labels(series.iter());
        let mut out = format!("{} series", series.len());
        if !common.is_empty() {
            out.push_str(&format!("; labels common to all: {}", label_set(&common)));
        }
        out.push('\n');
        if !varying.is_empty() {
            let mut t = Table::new(varying.iter().map(|k| {
                if k == "__name__" {
                    "METRIC".to_owned()
                } else {
                    k.clone()
                }
            }));
            for set in series.iter().take(max) {
                t.push(
                    varying
                        .iter()
                        .map(|k| dash(&one_line(set.get(k).map(String::as_str).unwrap_or(""), 80)))
                        .collect(),
                );
            }
            out.push_str(&t.render());
        }
        if series.len() > max {
            out.push_str(&format!(
                "... {} more series not shown. Use a narrower selector or raise limit.\n",
                series.len() - max
            ));
        }
        Ok(ToolOutput::text(s.bound(out, "Use a narrower selector.")))
    }
}

/// Arguments of `prometheus_metric_metadata_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct MetadataArgs {
    /// A metric name (default: all metrics).
    #[serde(default)]
    pub metric: Option<String>,
    /// Most metrics to return (default 200).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_metric_metadata_tool`: type, help and unit of metrics.
    PromMetricMetadata,
    Shared,
    "prometheus_metric_metadata_tool",
    ToolEffect::ReadOnly,
    MetadataArgs,
    "Get the type (counter, gauge, histogram, summary), help text and unit of one metric or of \
     all metrics Prometheus scrapes."
);

impl PromMetricMetadata {
    async fn exec(&self, args: MetadataArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let metric = non_empty(&args.metric);
        let limit = args.limit.map(|c| c.0).filter(|n| *n > 0).unwrap_or(200);
        // Ask for one more to know whether there are more.
        let res = s.client.metadata(metric, Some(limit + 1)).await?;
        if res.data.is_empty() {
            return Ok(ToolOutput::text(match metric {
                Some(m) => format!(
                    "no metadata for {m}: no target exposes it (recording rules and \
                     metrics without HELP/TYPE have none). Check the name with \
                     prometheus_label_values_tool (label __name__)."
                ),
                None => "no metric metadata (no active targets?)".to_owned(),
            }));
        }
        let mut t = Table::new(["METRIC", "TYPE", "UNIT", "HELP"]);
        for (name, metas) in res.data.iter().take(limit as usize) {
            for m in metas.iter().take(3) {
                t.push(vec![
                    name.clone(),
                    dash(&m.kind),
                    dash(&m.unit),
                    one_line(&m.help, 160),
                ]);
            }
        }
        let mut out = t.render();
        if res.data.len() > limit as usize {
            out.push_str(&format!(
                "... more metrics not shown (limit {limit}). Ask for one metric or raise limit.\n"
            ));
        }
        Ok(ToolOutput::text(s.bound(out, "Ask for one metric.")))
    }
}

/// Arguments of `prometheus_targets_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TargetsArgs {
    /// Only targets with this health: `up`, `down` or `unknown` (default all).
    #[serde(default)]
    pub health: Option<String>,
    /// Only targets of this scrape job.
    #[serde(default)]
    pub job: Option<String>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_targets_tool`: scrape targets and their health.
    PromTargets,
    Shared,
    "prometheus_targets_tool",
    ToolEffect::ReadOnly,
    TargetsArgs,
    "Get all Prometheus scrape targets and their status: job, instance, health, last scrape, \
     scrape duration and last error (down targets first)."
);

impl PromTargets {
    async fn exec(&self, args: TargetsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let health = non_empty(&args.health).map(str::to_ascii_lowercase);
        if let Some(h) = &health
            && !matches!(h.as_str(), "up" | "down" | "unknown")
        {
            return Err(HttpToolError::invalid(
                "health",
                format!("{h:?} is not up, down or unknown"),
            ));
        }
        let job = non_empty(&args.job);
        let res = s.client.targets(Some("active")).await?;
        let active = res
            .data
            .get("activeTargets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let dropped = res
            .data
            .get("droppedTargets")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        let str_at = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut rows: Vec<&Value> = active
            .iter()
            .filter(|t| health.as_deref().is_none_or(|h| str_at(t, "health") == h))
            .filter(|t| job.is_none_or(|j| str_at(t, "scrapePool") == j))
            .collect();
        let rank = |t: &Value| match str_at(t, "health").as_str() {
            "down" => 0,
            "unknown" => 1,
            _ => 2,
        };
        rows.sort_by_key(|t| (rank(t), str_at(t, "scrapePool"), str_at(t, "scrapeUrl")));
        let count = |h: &str| active.iter().filter(|t| str_at(t, "health") == h).count();
        let now = jiff::Timestamp::now();
        let mut out = format!(
            "{} active targets: {} up, {} down, {} unknown",
            active.len(),
            count("up"),
            count("down"),
            count("unknown")
        );
        if dropped > 0 {
            out.push_str(&format!("; {dropped} dropped by relabelling"));
        }
        out.push('\n');
        let mut t = Table::new([
            "JOB",
            "INSTANCE",
            "HEALTH",
            "LAST-SCRAPE",
            "DURATION",
            "ERROR",
        ]);
        for target in rows.iter().take(500) {
            let instance = target
                .pointer("/labels/instance")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| str_at(target, "scrapeUrl"));
            let last = str_at(target, "lastScrape");
            let ago = last
                .parse::<jiff::Timestamp>()
                .ok()
                .filter(|t| t.as_second() > 0)
                .map(|t| {
                    format!(
                        "{} ago",
                        short_duration((now.as_millisecond() - t.as_millisecond()) as f64 / 1000.0)
                    )
                })
                .unwrap_or_else(|| "never".to_owned());
            let dur = target
                .get("lastScrapeDuration")
                .and_then(Value::as_f64)
                .map(short_duration)
                .unwrap_or_else(|| "-".to_owned());
            t.push(vec![
                str_at(target, "scrapePool"),
                one_line(&instance, 80),
                str_at(target, "health"),
                ago,
                dur,
                dash(&one_line(&str_at(target, "lastError"), 200)),
            ]);
        }
        out.push_str(&t.render());
        if rows.len() > 500 {
            out.push_str(&format!(
                "... {} more targets not shown. Filter by job or health.\n",
                rows.len() - 500
            ));
        }
        Ok(ToolOutput::text(s.bound(out, "Filter by job or health.")))
    }
}

/// Arguments of `prometheus_alerts_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AlertsArgs {
    /// Only alerts in this state: `firing` or `pending` (default both).
    #[serde(default)]
    pub state: Option<String>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_alerts_tool`: active alerts of Prometheus's rules.
    PromAlerts,
    Shared,
    "prometheus_alerts_tool",
    ToolEffect::ReadOnly,
    AlertsArgs,
    "List the alerts Prometheus's alerting rules currently produce (firing and pending), with \
     their labels, since when, value and summary. For silences and routing use the \
     alertmanager tools."
);

impl PromAlerts {
    async fn exec(&self, args: AlertsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let state = non_empty(&args.state).map(str::to_ascii_lowercase);
        if let Some(st) = &state
            && !matches!(st.as_str(), "firing" | "pending")
        {
            return Err(HttpToolError::invalid(
                "state",
                format!("{st:?} is not firing or pending"),
            ));
        }
        let res = s.client.alerts().await?;
        let alerts: Vec<Value> = res
            .data
            .get("alerts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let shown: Vec<&Value> = alerts
            .iter()
            .filter(|a| {
                state
                    .as_deref()
                    .is_none_or(|st| a.get("state").and_then(Value::as_str) == Some(st))
            })
            .collect();
        if shown.is_empty() {
            return Ok(ToolOutput::text(format!(
                "no {}alerts ({} in total)",
                state.map(|s| format!("{s} ")).unwrap_or_default(),
                alerts.len()
            )));
        }
        let text = render_prom_alerts(&shown, jiff::Timestamp::now());
        Ok(ToolOutput::text(s.bound(text, "Filter by state.")))
    }
}

fn labels_of(v: &Value, key: &str) -> BTreeMap<String, String> {
    v.get(key)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn since(ts: &str, now: jiff::Timestamp) -> String {
    ts.parse::<jiff::Timestamp>()
        .map(|t| short_duration((now.as_millisecond() - t.as_millisecond()) as f64 / 1000.0))
        .unwrap_or_else(|_| "-".to_owned())
}

/// Prometheus `/api/v1/alerts` entries as a table.
pub(crate) fn render_prom_alerts(alerts: &[&Value], now: jiff::Timestamp) -> String {
    let label_sets: Vec<BTreeMap<String, String>> =
        alerts.iter().map(|a| labels_of(a, "labels")).collect();
    let (common, mut varying) = super::render::factor_labels(label_sets.iter());
    varying.retain(|k| k != "alertname");
    let firing = alerts
        .iter()
        .filter(|a| a.get("state").and_then(Value::as_str) == Some("firing"))
        .count();
    let mut out = format!("{} alerts ({firing} firing)", alerts.len());
    if !common.is_empty() && alerts.len() > 1 {
        out.push_str(&format!("; labels common to all: {}", label_set(&common)));
    }
    out.push('\n');
    let mut headers = vec!["ALERT".to_owned(), "STATE".to_owned(), "SINCE".to_owned()];
    headers.extend(varying.iter().cloned());
    headers.extend(["VALUE".to_owned(), "SUMMARY".to_owned()]);
    let mut t = Table::new(headers);
    for (a, labels) in alerts.iter().zip(&label_sets) {
        let ann = labels_of(a, "annotations");
        let mut row = vec![
            labels.get("alertname").cloned().unwrap_or_default(),
            a.get("state")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            since(a.get("activeAt").and_then(Value::as_str).unwrap_or(""), now),
        ];
        row.extend(
            varying
                .iter()
                .map(|k| dash(labels.get(k).map(String::as_str).unwrap_or(""))),
        );
        row.push(
            a.get("value")
                .and_then(Value::as_str)
                .and_then(crate::common::render::parse_sample)
                .map(fmt_num)
                .unwrap_or_else(|| "-".to_owned()),
        );
        let summary = ann
            .get("summary")
            .or_else(|| ann.get("description"))
            .or_else(|| ann.get("message"))
            .map(String::as_str)
            .unwrap_or("");
        row.push(dash(&one_line(summary, 160)));
        t.push(row);
    }
    out.push_str(&t.render());
    out
}

/// Arguments of `prometheus_rules_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RulesArgs {
    /// `alert` (alerting rules) or `record` (recording rules); default both.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Only rules whose name contains this text (case-insensitive).
    #[serde(default)]
    pub name: Option<String>,
    /// Only rules whose health is not ok, or alerting rules that are firing or pending.
    #[serde(default)]
    pub only_active: Option<kagent_k8s::Flag>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_rules_tool`: alerting and recording rules.
    PromRules,
    Shared,
    "prometheus_rules_tool",
    ToolEffect::ReadOnly,
    RulesArgs,
    "List Prometheus's alerting and recording rules by group: name, state (firing / pending / \
     inactive), health, last error, `for` and the expression."
);

impl PromRules {
    async fn exec(&self, args: RulesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let kind = non_empty(&args.kind).map(str::to_ascii_lowercase);
        let kind = match kind.as_deref() {
            None => None,
            Some("alert" | "alerting") => Some("alert"),
            Some("record" | "recording") => Some("record"),
            Some(other) => {
                return Err(HttpToolError::invalid(
                    "type",
                    format!("{other:?} is not alert or record"),
                ));
            }
        };
        let name = non_empty(&args.name).map(str::to_ascii_lowercase);
        let only_active = args.only_active.map(|f| f.0).unwrap_or(false);
        let res = s.client.rules(kind).await?;
        let groups = res
            .data
            .get("groups")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = String::new();
        let mut total = 0usize;
        let mut shown = 0usize;
        for g in &groups {
            let rules = g
                .get("rules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut t = Table::new([
                "RULE",
                "TYPE",
                "STATE",
                "HEALTH",
                "FOR",
                "EXPR",
                "LAST-ERROR",
            ]);
            for r in &rules {
                total += 1;
                let get = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                let rname = get("name");
                if name
                    .as_deref()
                    .is_some_and(|n| !rname.to_ascii_lowercase().contains(n))
                {
                    continue;
                }
                let state = get("state");
                let health = get("health");
                if only_active && health == "ok" && !matches!(state.as_str(), "firing" | "pending")
                {
                    continue;
                }
                shown += 1;
                let for_ = r
                    .get("duration")
                    .and_then(Value::as_f64)
                    .filter(|d| *d > 0.0)
                    .map(short_duration)
                    .unwrap_or_else(|| "-".to_owned());
                let alerts = r
                    .get("alerts")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0);
                t.push(vec![
                    rname,
                    get("type"),
                    if state.is_empty() {
                        "-".to_owned()
                    } else if alerts > 0 {
                        format!("{state}({alerts})")
                    } else {
                        state
                    },
                    dash(&health),
                    for_,
                    one_line(&get("query"), 200),
                    dash(&one_line(&get("lastError"), 200)),
                ]);
            }
            if !t.rows.is_empty() {
                out.push_str(&format!(
                    "group {} ({}, every {}):\n",
                    g.get("name").and_then(Value::as_str).unwrap_or(""),
                    g.get("file").and_then(Value::as_str).unwrap_or(""),
                    g.get("interval")
                        .and_then(Value::as_f64)
                        .map(short_duration)
                        .unwrap_or_default()
                ));
                out.push_str(&t.render());
            }
        }
        let head = format!("{shown} of {total} rules in {} groups\n", groups.len());
        Ok(ToolOutput::text(s.bound(
            head + &out,
            "Filter by type, name or only_active.",
        )))
    }
}

/// Arguments of `prometheus_tsdb_status_tool`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TsdbStatusArgs {
    /// Entries per top-10 list to show (default 10).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Prometheus server URL. Optional; when given it must be the URL this tool is configured
    /// with (any other server is refused).
    #[serde(default)]
    pub prometheus_url: Option<String>,
}

family_tool!(
    /// `prometheus_tsdb_status_tool`: cardinality statistics.
    PromTsdbStatus,
    Shared,
    "prometheus_tsdb_status_tool",
    ToolEffect::ReadOnly,
    TsdbStatusArgs,
    "Get Prometheus TSDB cardinality statistics: head series and chunks, and the metrics, labels \
     and label pairs with the most series (to find what drives cardinality)."
);

impl PromTsdbStatus {
    async fn exec(&self, args: TsdbStatusArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        s.check_url(&args.prometheus_url)?;
        let max = args
            .limit
            .map(|c| c.0 as usize)
            .filter(|n| *n > 0)
            .unwrap_or(10);
        let res = s.client.tsdb_status().await?;
        let d = &res.data;
        let head = d.get("headStats").cloned().unwrap_or(Value::Null);
        let num = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_f64)
                .map(fmt_num)
                .unwrap_or_else(|| "-".into())
        };
        let time = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_f64)
                .filter(|t| *t > 0.0 && *t < 9.0e15)
                .map(|ms| rfc3339(ms / 1000.0))
                .unwrap_or_else(|| "-".into())
        };
        let mut out = format!(
            "head: {} series, {} chunks, {} label pairs; data from {} to {}\n",
            num(&head, "numSeries"),
            num(&head, "chunkCount"),
            num(&head, "numLabelPairs"),
            time(&head, "minTime"),
            time(&head, "maxTime"),
        );
        for (key, title, col) in [
            (
                "seriesCountByMetricName",
                "metrics with most series",
                "SERIES",
            ),
            (
                "labelValueCountByLabelName",
                "labels with most values",
                "VALUES",
            ),
            (
                "seriesCountByLabelValuePair",
                "label pairs in most series",
                "SERIES",
            ),
            (
                "memoryInBytesByLabelName",
                "labels using most memory",
                "BYTES",
            ),
        ] {
            let Some(items) = d.get(key).and_then(Value::as_array) else {
                continue;
            };
            out.push_str(&format!("{title}:\n"));
            let mut t = Table::new(["NAME", col]);
            for item in items.iter().take(max) {
                t.push(vec![
                    item.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    num(item, "value"),
                ]);
            }
            out.push_str(&t.render());
        }
        Ok(ToolOutput::text(s.bound(out, "Lower limit.")))
    }
}

/// `prometheus_promql_tool` is declared in `promql.rs`.
pub use super::promql::GeneratePromql;

/// Wraps text into tool output with structured data.
pub(crate) fn output(text: String, structured: Option<Value>) -> ToolOutput {
    let mut out = ToolOutput::text(text);
    out.structured = structured;
    out
}
