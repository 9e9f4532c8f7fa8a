//! Compact text for a model: aligned tables, rounded numbers, label sets.

use std::collections::BTreeMap;

/// Collapses whitespace to one line and cuts to `max` characters (with `…`): the Kubernetes
/// tools' helper, shared.
pub use kagent_k8s::render::one_line;

/// A table with aligned columns and two spaces between them, laid out as
/// `kagent_k8s::render::Table` (which the Helm and Argo tools use); this one takes headers
/// computed at run time (the label names that vary across a query's series).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Cells, one vector per row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers and no rows.
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Renders the table; the last column is not padded.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::with_capacity((self.rows.len() + 1) * 64);
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut pending = None;
            for (cell, w) in cells.zip(&widths) {
                if let Some(pad) = pending {
                    for _ in 0..pad + 2 {
                        out.push(' ');
                    }
                }
                out.push_str(cell);
                pending = Some(w.saturating_sub(cell.chars().count()));
            }
            out.push('\n');
        };
        line(&mut self.headers.iter().map(String::as_str));
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str));
        }
        out
    }
}

/// A number rounded for reading: four significant digits, no trailing zeros, scientific only
/// for very large or very small magnitudes (`0.0123`, `1235`, `1.235e+09`, `NaN`, `+Inf`).
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let a = v.abs();
    if !(1e-4..1e7).contains(&a) {
        let s = format!("{v:.3e}");
        // 1.230e9 -> 1.23e9
        return match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
            None => s,
        };
    }
    let digits = a.log10().floor() as i32;
    let decimals = (3 - digits).clamp(0, 8) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Parses a Prometheus sample value (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
pub fn parse_sample(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// `{a="1", b="2"}` in PromQL selector syntax (`__name__` first, written bare in front).
pub fn label_set(labels: &BTreeMap<String, String>) -> String {
    let name = labels.get("__name__").map(String::as_str).unwrap_or("");
    let inner: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    if inner.is_empty() {
        if name.is_empty() {
            "{}".to_owned()
        } else {
            name.to_owned()
        }
    } else {
        format!("{name}{{{}}}", inner.join(", "))
    }
}

/// A label value quoted the way PromQL writes it.
pub fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `"-"` for an empty cell.
pub fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rounded_for_reading() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(0.123456), "0.1235");
        assert_eq!(fmt_num(12.3456), "12.35");
        assert_eq!(fmt_num(1234.5678), "1235");
        assert_eq!(fmt_num(-42.0), "-42");
        assert_eq!(fmt_num(123_456.7), "123457");
        assert_eq!(fmt_num(1_234_567_890.0), "1.235e9");
        assert_eq!(fmt_num(0.000_012_34), "1.234e-5");
        assert_eq!(fmt_num(f64::NAN), "NaN");
        assert_eq!(fmt_num(f64::INFINITY), "+Inf");
        assert_eq!(parse_sample("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sample("x"), None);
    }

    #[test]
    fn label_sets_read_like_promql() {
        let mut l = BTreeMap::new();
        l.insert("__name__".to_owned(), "up".to_owned());
        l.insert("job".to_owned(), "api \"x\"".to_owned());
        assert_eq!(label_set(&l), "up{job=\"api \\\"x\\\"\"}");
        l.remove("job");
        assert_eq!(label_set(&l), "up");
        assert_eq!(label_set(&BTreeMap::new()), "{}");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(["A", "LONGER"]);
        t.push(vec!["xxxx".into(), "1".into()]);
        assert_eq!(t.render(), "A     LONGER\nxxxx  1\n");
    }
}
