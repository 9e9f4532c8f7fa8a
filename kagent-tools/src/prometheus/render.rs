//! Query results as compact tables: labels constant across series factored out, values
//! rounded, a range summarised per series (min / max / last / trend), rows bounded with a note
//! on what was cut and how to narrow the query.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::{QueryResult, RangeSeries, VectorSample};
use crate::common::render::{Table, fmt_num, label_set, one_line, parse_sample};
use crate::common::time::{rfc3339, short_duration};

/// Longest label value shown in a cell.
const MAX_CELL: usize = 80;

/// How to render a result.
#[derive(Debug, Clone)]
pub struct RenderOptions<'a> {
    /// The query, for the hints on how to narrow it.
    pub query: &'a str,
    /// Most rows (series) shown.
    pub max_rows: usize,
    /// The range of a range query: start, end, step (Unix seconds, seconds).
    pub range: Option<(f64, f64, f64)>,
}

/// Renders any query result.
pub fn render_result(
    result: &QueryResult,
    warnings: &[String],
    opts: &RenderOptions<'_>,
) -> String {
    let mut out = match result {
        QueryResult::Vector(samples) => render_vector(samples, opts),
        QueryResult::Matrix(series) => render_matrix(series, opts),
        QueryResult::Scalar((t, v)) => format!(
            "scalar at {}: {}\n",
            rfc3339(*t),
            parse_sample(v).map(fmt_num).unwrap_or_else(|| v.clone())
        ),
        QueryResult::String((t, v)) => format!("string at {}: {v}\n", rfc3339(*t)),
    };
    for w in warnings {
        out.push_str(&format!("warning from Prometheus: {}\n", one_line(w, 300)));
    }
    out
}

/// Splits label sets into the labels every series shares (same value) and the label names
/// that vary, in display order (`__name__` first, then alphabetical).
pub fn factor_labels<'a, I>(sets: I) -> (BTreeMap<String, String>, Vec<String>)
where
    I: IntoIterator<Item = &'a BTreeMap<String, String>> + Clone,
{
    let mut iter = sets.clone().into_iter();
    let Some(first) = iter.next() else {
        return (BTreeMap::new(), Vec::new());
    };
    let mut common: BTreeMap<String, String> = first.clone();
    let mut all_names: std::collections::BTreeSet<String> = first.keys().cloned().collect();
    let mut count = 1usize;
    for set in iter {
        count += 1;
        common.retain(|k, v| set.get(k) == Some(v));
        all_names.extend(set.keys().cloned());
    }
    if count == 1 {
        // One series: everything is "common"; show its labels in the header.
        return (common, Vec::new());
    }
    let mut varying: Vec<String> = all_names
        .into_iter()
        .filter(|k| !common.contains_key(k))
        .collect();
    varying.sort_by_key(|k| (k != "__name__", k.clone()));
    (common, varying)
}

fn common_line(common: &BTreeMap<String, String>) -> String {
    if common.is_empty() {
        String::new()
    } else {
        format!("; labels common to all: {}", label_set(common))
    }
}

fn header_cells(varying: &[String]) -> Vec<String> {
    varying
        .iter()
        .map(|k| {
            if k == "__name__" {
                "METRIC".to_owned()
            } else {
                k.clone()
            }
        })
        .collect()
}

fn label_cells(labels: &BTreeMap<String, String>, varying: &[String]) -> Vec<String> {
    varying
        .iter()
        .map(|k| match labels.get(k) {
            Some(v) if !v.is_empty() => one_line(v, MAX_CELL),
            _ => "-".to_owned(),
        })
        .collect()
}

fn narrow_hint(query: &str, varying: &[String]) -> String {
    let by = varying
        .iter()
        .find(|k| k.as_str() != "__name__")
        .map(String::as_str)
        .unwrap_or("job");
    let q = one_line(query, 120);
    format!(
        "To see others, narrow the query: add a label matcher (for example {by}=\"...\"), use \
         topk(10, {q}) / bottomk, aggregate with sum by ({by}) ({q}), or raise limit."
    )
}

/// An instant vector: one row per series, highest value first.
pub fn render_vector(samples: &[VectorSample], opts: &RenderOptions<'_>) -> String {
    if samples.is_empty() {
        return format!(
            "vector: no series match {}. Check metric and label names with \
             prometheus_label_values_tool (label __name__) or prometheus_series_tool.\n",
            one_line(opts.query, 200)
        );
    }
    let (common, varying) = factor_labels(samples.iter().map(|s| &s.metric));
    let at = samples
        .iter()
        .find_map(|s| {
            s.value
                .as_ref()
                .map(|v| v.0)
                .or(s.histogram.as_ref().map(|h| h.0))
        })
        .map(rfc3339)
        .unwrap_or_default();
    let mut rows: Vec<(f64, &VectorSample)> = samples
        .iter()
        .map(|s| {
            let v = s
                .value
                .as_ref()
                .and_then(|(_, v)| parse_sample(v))
                .or_else(|| s.histogram.as_ref().and_then(|(_, h)| hist_count(h)))
                .unwrap_or(f64::NAN);
            (v, s)
        })
        .collect();
    rows.sort_by(|a, b| order_desc(a.0, b.0));
    let mut out = format!(
        "vector: {} series at {at}{}{}\n",
        samples.len(),
        common_line(&common),
        if samples.len() > 1 {
            "; highest value first"
        } else {
            ""
        }
    );
    let mut table = Table::new(
        header_cells(&varying)
            .into_iter()
            .chain(["VALUE".to_owned()]),
    );
    for (v, s) in rows.iter().take(opts.max_rows) {
        let mut row = label_cells(&s.metric, &varying);
        row.push(match &s.histogram {
            Some((_, h)) if s.value.is_none() => hist_summary(h),
            _ => fmt_num(*v),
        });
        table.push(row);
    }
    out.push_str(&table.render());
    if rows.len() > opts.max_rows {
        let rest: Vec<f64> = rows
            .iter()
            .skip(opts.max_rows)
            .map(|(v, _)| *v)
            .filter(|v| !v.is_nan())
            .collect();
        let (lo, hi) = min_max(&rest);
        out.push_str(&format!(
            "... {} more series not shown (values {} to {}). {}\n",
            rows.len() - opts.max_rows,
            fmt_num(lo),
            fmt_num(hi),
            narrow_hint(opts.query, &varying)
        ));
    }
    out
}

/// Per-series statistics of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSummary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Last value.
    pub last: f64,
    /// Time of the last value.
    pub last_at: f64,
    /// Number of points.
    pub points: usize,
    /// `up 35%`, `down 2.1`, `flat`, `-`.
    pub trend: String,
}

/// Summarises one series' float points.
pub fn summarize(values: &[(f64, f64)]) -> SeriesSummary {
    let finite: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let (min, max) = min_max(&finite.iter().map(|p| p.1).collect::<Vec<_>>());
    let (last_at, last) = values.last().copied().unwrap_or((0.0, f64::NAN));
    SeriesSummary {
        min,
        max,
        last,
        last_at,
        points: values.len(),
        trend: trend(&finite, min, max),
    }
}

/// The direction of a series from a least-squares line through its points: `flat` when the
/// fitted change is under 30% of the spread of values (noise, or a spike on a level line) or
/// under 1% of the series' level, else `up`/`down` with the change
/// relative to the fitted start (or absolute when that is near zero).
pub fn trend(points: &[(f64, f64)], min: f64, max: f64) -> String {
    let n = points.len();
    if n < 2 {
        return "-".to_owned();
    }
    let nf = n as f64;
    let t0 = points.first().map(|p| p.0).unwrap_or(0.0);
    let t1 = points.last().map(|p| p.0).unwrap_or(0.0);
    let mean_t = points.iter().map(|p| p.0 - t0).sum::<f64>() / nf;
    let mean_v = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let (mut num, mut den) = (0.0, 0.0);
    for (t, v) in points {
        let dt = t - t0 - mean_t;
        num += dt * (v - mean_v);
        den += dt * dt;
    }
    if den == 0.0 {
        return "-".to_owned();
    }
    let slope = num / den;
    let delta = slope * (t1 - t0);
    let spread = max - min;
    if spread == 0.0 || delta.abs() < 0.3 * spread {
        return "flat".to_owned();
    }
    let start = mean_v - slope * mean_t;
    let dir = if delta > 0.0 { "up" } else { "down" };
    if start.abs() > 1e-9 * mean_v.abs().max(1e-300) && (delta / start).abs() < 100.0 {
        let pct = (delta / start.abs() * 100.0).abs();
        if pct < 1.0 {
            // Less than 1% of its level: the series is level, whatever its wiggles.
            return "flat".to_owned();
        }
        if pct >= 10.0 {
            format!("{dir} {}%", pct.round())
        } else {
            format!("{dir} {:.1}%", pct)
        }
    } else {
        format!("{dir} {}", fmt_num(delta.abs()))
    }
}

/// A range vector: one row per series with min / max / last / trend, highest last value first.
pub fn render_matrix(series: &[RangeSeries], opts: &RenderOptions<'_>) -> String {
    let span = match opts.range {
        Some((s, e, step)) => format!(
            ", {} to {}, step {}",
            rfc3339(s),
            rfc3339(e),
            short_duration(step)
        ),
        None => String::new(),
    };
    if series.is_empty() {
        return format!(
            "matrix: no series match {}{span}. Check metric and label names with \
             prometheus_label_values_tool (label __name__) or widen the range.\n",
            one_line(opts.query, 200)
        );
    }
    let (common, varying) = factor_labels(series.iter().map(|s| &s.metric));
    let mut rows: Vec<(SeriesSummary, &RangeSeries)> = series
        .iter()
        .map(|s| {
            let pts: Vec<(f64, f64)> = if s.values.is_empty() {
                s.histograms
                    .iter()
                    .filter_map(|(t, h)| hist_count(h).map(|c| (*t, c)))
                    .collect()
            } else {
                s.values
                    .iter()
                    .filter_map(|(t, v)| parse_sample(v).map(|v| (*t, v)))
                    .collect()
            };
            (summarize(&pts), s)
        })
        .collect();
    rows.sort_by(|a, b| order_desc(a.0.last, b.0.last).then(order_desc(a.0.max, b.0.max)));
    let expected = rows.iter().map(|r| r.0.points).max().unwrap_or(0);
    let uneven = rows.iter().any(|r| r.0.points != expected);
    let latest = rows.iter().map(|r| r.0.last_at).fold(0.0, f64::max);
    let stale = rows
        .iter()
        .any(|r| latest - r.0.last_at > opts.range.map(|r| r.2).unwrap_or(0.0));
    let hist = series
        .iter()
        .any(|s| s.values.is_empty() && !s.histograms.is_empty());
    let mut out = format!(
        "matrix: {} series{span} ({} points{}){}; highest last value first{}\n",
        series.len(),
        expected,
        if uneven { " at most" } else { " each" },
        common_line(&common),
        if hist {
            "; native histograms summarised by observation count"
        } else {
            ""
        }
    );
    let mut headers = header_cells(&varying);
    headers.extend(["MIN", "MAX", "LAST", "TREND"].map(str::to_owned));
    if uneven {
        headers.push("POINTS".to_owned());
    }
    if stale {
        headers.push("LAST-AT".to_owned());
    }
    let mut table = Table::new(headers);
    for (sum, s) in rows.iter().take(opts.max_rows) {
        let mut row = label_cells(&s.metric, &varying);
        row.push(fmt_num(sum.min));
        row.push(fmt_num(sum.max));
        row.push(fmt_num(sum.last));
        row.push(sum.trend.clone());
        if uneven {
            row.push(sum.points.to_string());
        }
        if stale {
            row.push(rfc3339(sum.last_at));
        }
        table.push(row);
    }
    out.push_str(&table.render());
    if rows.len() > opts.max_rows {
        let rest: Vec<f64> = rows
            .iter()
            .skip(opts.max_rows)
            .map(|(s, _)| s.last)
            .filter(|v| !v.is_nan())
            .collect();
        let (lo, hi) = min_max(&rest);
        out.push_str(&format!(
            "... {} more series not shown (last values {} to {}). {}\n",
            rows.len() - opts.max_rows,
            fmt_num(lo),
            fmt_num(hi),
            narrow_hint(opts.query, &varying)
        ));
    }
    out
}

fn hist_count(h: &Value) -> Option<f64> {
    h.get("count")
        .and_then(Value::as_str)
        .and_then(parse_sample)
}

fn hist_summary(h: &Value) -> String {
    let get = |k: &str| {
        h.get(k)
            .and_then(Value::as_str)
            .and_then(parse_sample)
            .map(fmt_num)
            .unwrap_or_else(|| "?".to_owned())
    };
    format!("histogram count={} sum={}", get("count"), get("sum"))
}

/// Descending order with NaN last.
fn order_desc(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let mut it = values.iter().copied().filter(|v| !v.is_nan());
    let Some(first) = it.next() else {
        return (f64::NAN, f64::NAN);
    };
    it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn opts(q: &str, max_rows: usize) -> RenderOptions<'_> {
        RenderOptions {
            query: q,
            max_rows,
            range: Some((1_700_000_000.0, 1_700_003_600.0, 15.0)),
        }
    }

    #[test]
    fn constant_labels_are_factored_out() {
        let a = labels(&[("__name__", "up"), ("job", "api"), ("instance", "a:1")]);
        let b = labels(&[("__name__", "up"), ("job", "api"), ("instance", "b:1")]);
        let (common, varying) = factor_labels([&a, &b]);
        assert_eq!(common, labels(&[("__name__", "up"), ("job", "api")]));
        assert_eq!(varying, vec!["instance".to_owned()]);
        let c = labels(&[("__name__", "down"), ("instance", "c:1")]);
        let (common, varying) = factor_labels([&a, &b, &c]);
        assert!(common.is_empty());
        assert_eq!(varying, vec!["__name__", "instance", "job"]);
    }

    #[test]
    fn trends_read_the_direction() {
        let rising: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64, 100.0 + 5.0 * i as f64))
            .collect();
        assert_eq!(summarize(&rising).trend, "up 45%");
        let falling: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 10.0 - i as f64)).collect();
        assert_eq!(summarize(&falling).trend, "down 90%");
        let noisy: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64, if i % 2 == 0 { 1.0 } else { 2.0 }))
            .collect();
        assert_eq!(summarize(&noisy).trend, "flat");
        let from_zero: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(summarize(&from_zero).trend, "up 9");
        assert_eq!(summarize(&[(1.0, 1.0)]).trend, "-");
        let s = summarize(&[(1.0, 3.0), (2.0, f64::NAN), (3.0, 1.0)]);
        assert_eq!((s.min, s.max, s.points), (1.0, 3.0, 3));
    }

    #[test]
    fn matrix_rows_are_bounded_with_a_note() {
        let series: Vec<RangeSeries> = (0..30)
            .map(|i| {
                serde_json::from_value(json!({
                    "metric": {"__name__": "cpu", "namespace": "shop", "pod": format!("web-{i}")},
                    "values": [[1_700_000_000.0, "1"], [1_700_000_015.0, format!("{}", i)]]
                }))
                .unwrap()
            })
            .collect();
        let text = render_matrix(&series, &opts("cpu", 5));
        assert!(
            text.starts_with("matrix: 30 series, 2023-11-14T22:13:20Z to 2023-11-14T23:13:20Z, step 15s (2 points each); labels common to all: cpu{namespace=\"shop\"}"),
            "{text}"
        );
        assert!(text.contains("pod     MIN  MAX  LAST  TREND"), "{text}");
        assert!(
            text.contains("web-29  1    29   29    up 2800%")
                || text.contains("web-29  1    29   29    up 28"),
            "{text}"
        );
        assert!(
            text.contains("... 25 more series not shown (last values 0 to 24)"),
            "{text}"
        );
        assert!(text.contains("topk(10, cpu)"), "{text}");
        assert!(!text.contains("web-0 "), "{text}");
    }

    #[test]
    fn vectors_sort_by_value_and_say_when_empty() {
        let samples: Vec<VectorSample> = serde_json::from_value(json!([
            {"metric": {"job": "a"}, "value": [1_700_000_000.0, "0.5"]},
            {"metric": {"job": "b"}, "value": [1_700_000_000.0, "12.345678"]},
            {"metric": {"job": "c"}, "value": [1_700_000_000.0, "NaN"]}
        ]))
        .unwrap();
        let text = render_vector(&samples, &opts("x", 10));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "job  VALUE");
        assert_eq!(lines[2], "b    12.35");
        assert_eq!(lines[3], "a    0.5");
        assert_eq!(lines[4], "c    NaN");
        let empty = render_vector(&[], &opts("nope", 10));
        assert!(empty.contains("no series match nope"), "{empty}");
    }

    #[test]
    fn single_series_shows_its_labels_in_the_header() {
        let samples: Vec<VectorSample> = serde_json::from_value(json!([
            {"metric": {"__name__": "up", "job": "a"}, "value": [1_700_000_000.0, "1"]}
        ]))
        .unwrap();
        let text = render_vector(&samples, &opts("up", 10));
        assert_eq!(
            text,
            "vector: 1 series at 2023-11-14T22:13:20Z; labels common to all: up{job=\"a\"}\nVALUE\n1\n"
        );
    }
}
