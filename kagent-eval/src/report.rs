//! Reports: per-scenario results, summaries (overall, per category, tuning vs held-out set),
//! JSON and Markdown output, the comparison of two reports, and CI thresholds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, io_err};
use crate::score::{Score, Verdict};

/// Identifies the report format.
pub const REPORT_SCHEMA: &str = "kagent-eval/report/v1";

/// The judge's grade of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeGrade {
    /// found / partly / missed, as the judge sees it.
    pub verdict: Verdict,
    /// Objects the answer wrongly reports as broken, as the judge counts them.
    pub false_alarms: u32,
    /// The judge's reasons.
    pub rationale: String,
}

/// The result of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub scenario: String,
    /// Its category.
    pub category: String,
    /// Its difficulty.
    pub difficulty: crate::scenario::Difficulty,
    /// Its hops.
    pub hops: u8,
    /// In the held-out set.
    #[serde(default)]
    pub held_out: bool,
    /// The deterministic score.
    #[serde(flatten)]
    pub score: Score,
    /// Model calls.
    pub model_calls: u32,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Tool calls proposed.
    pub tool_calls: u32,
    /// Wall time of the agent, in milliseconds.
    pub duration_ms: u64,
    /// The agent's error, when it gave no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The answer (cut to a few thousand characters).
    #[serde(default)]
    pub answer: String,
    /// The LLM judge's grade, when a judge ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeGrade>,
}

/// Totals over a set of results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenarios.
    pub scenarios: u32,
    /// Root cause found.
    pub found: u32,
    /// Partly found.
    pub partly: u32,
    /// Missed.
    pub missed: u32,
    /// No answer.
    pub errors: u32,
    /// `found / scenarios`.
    pub found_rate: f64,
    /// False alarms, summed.
    pub false_alarms: u32,
    /// False alarms per 10 scenarios.
    pub false_alarms_per_10: f64,
    /// Forbidden tool calls and wrong causes, summed.
    pub forbidden: u32,
    /// Model calls, summed.
    pub model_calls: u32,
    /// Tokens (prompt + completion), summed.
    pub tokens: u64,
    /// Agent wall time, summed, in milliseconds.
    pub duration_ms: u64,
    /// Judge verdict found, when a judge ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_found: Option<u32>,
}

impl Summary {
    /// Totals of `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a ScenarioResult>) -> Summary {
        let mut s = Summary::default();
        let mut judged = false;
        let mut judge_found = 0;
        for r in results {
            s.scenarios += 1;
            match r.score.verdict {
                Verdict::Found => s.found += 1,
                Verdict::Partly => s.partly += 1,
                Verdict::Missed => s.missed += 1,
                Verdict::Error => s.errors += 1,
            }
            s.false_alarms += u32::try_from(r.score.false_alarm_count()).unwrap_or(u32::MAX);
            s.forbidden += u32::try_from(r.score.forbidden_count()).unwrap_or(u32::MAX);
            s.model_calls += r.model_calls;
            s.tokens += r.input_tokens + r.output_tokens;
            s.duration_ms += r.duration_ms;
            if let Some(j) = &r.judge {
                judged = true;
                if j.verdict == Verdict::Found {
                    judge_found += 1;
                }
            }
        }
        if s.scenarios > 0 {
            s.found_rate = f64::from(s.found) / f64::from(s.scenarios);
            s.false_alarms_per_10 = f64::from(s.false_alarms) * 10.0 / f64::from(s.scenarios);
        }
        s.judge_found = judged.then_some(judge_found);
        s
    }
}

/// The judge's configuration, recorded in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeInfo {
    /// `provider/model`.
    pub model: String,
    /// The rubric it graded with.
    pub rubric: String,
}

/// A run of one agent over a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: String,
    /// The agent (`analyzers`, `playbook`, `model:...`).
    pub agent: String,
    /// The suite path.
    pub suite: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// kagent-eval's version.
    pub version: String,
    /// The judge, when one graded the answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeInfo>,
    /// Results in suite order.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// Totals over every scenario.
    pub fn overall(&self) -> Summary {
        Summary::of(&self.results)
    }

    /// Totals over the tuning set (not held out).
    pub fn tuning(&self) -> Summary {
        Summary::of(self.results.iter().filter(|r| !r.held_out))
    }

    /// Totals over the held-out set.
    pub fn held_out(&self) -> Summary {
        Summary::of(self.results.iter().filter(|r| r.held_out))
    }

    /// Totals per category, over every scenario.
    pub fn by_category(&self) -> BTreeMap<String, Summary> {
        self.by_category_of(None)
    }

    /// Totals per category over the tuning set (`Some(false)`), the held-out set
    /// (`Some(true)`) or every scenario (`None`).
    pub fn by_category_of(&self, held_out: Option<bool>) -> BTreeMap<String, Summary> {
        let mut cats: BTreeMap<String, Vec<&ScenarioResult>> = BTreeMap::new();
        for r in self
            .results
            .iter()
            .filter(|r| held_out.is_none_or(|h| r.held_out == h))
        {
            cats.entry(r.category.clone()).or_default().push(r);
        }
        cats.into_iter().map(|(k, v)| (k, Summary::of(v))).collect()
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|source| EvalError::Report {
            path: path.to_path_buf(),
            source,
        })?;
        std::fs::write(path, text).map_err(io_err(path))
    }

    /// Reads a JSON report.
    pub fn read_json(path: &Path) -> Result<Report> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        serde_json::from_str(&text).map_err(|source| EvalError::Report {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The report as Markdown: totals, per category, per scenario.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# kagent-eval: {}\n", self.agent);
        let _ = writeln!(
            out,
            "Suite `{}`, {} scenarios, run {} (kagent-eval {}).\n",
            self.suite,
            self.results.len(),
            self.started_at,
            self.version
        );
        out.push_str("## Totals\n\n");
        out.push_str(SUMMARY_HEADER);
        let mut rows = vec![("all".to_owned(), self.overall())];
        let held = self.held_out();
        if held.scenarios > 0 {
            rows.push(("tuning set".to_owned(), self.tuning()));
            rows.push(("held-out set".to_owned(), held));
        }
        for (name, s) in &rows {
            out.push_str(&summary_row(name, s));
        }
        let mut tables = vec![("Per category".to_owned(), None)];
        if self.held_out().scenarios > 0 && self.tuning().scenarios > 0 {
            tables.push(("Per category, tuning set".to_owned(), Some(false)));
            tables.push(("Per category, held-out set".to_owned(), Some(true)));
        }
        for (title, set) in tables {
            let _ = writeln!(out, "\n## {title}\n");
            out.push_str(SUMMARY_HEADER);
            for (name, s) in self.by_category_of(set) {
                out.push_str(&summary_row(&name, &s));
            }
        }
        if let Some(j) = &self.judge {
            let _ = writeln!(
                out,
                "\n## Judge\n\nModel `{}`. Rubric:\n\n```text\n{}\n```",
                j.model, j.rubric
            );
        }
        out.push_str("\n## Scenarios\n\n| scenario | category | difficulty | hops | verdict | false alarms | forbidden | model calls | tokens | time | why |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        for r in &self.results {
            let fa = match &r.score.false_alarms {
                Some(v) if v.is_empty() => "0".to_owned(),
                Some(v) => format!("{} ({})", v.len(), v.join(", ")),
                None => "—".to_owned(),
            };
            let mut forbidden = r.score.forbidden_calls.clone();
            forbidden.extend(r.score.wrong_causes.iter().map(|c| format!("cause /{c}/")));
            let judge = r
                .judge
                .as_ref()
                .map(|j| format!(" (judge: {})", j.verdict))
                .unwrap_or_default();
            let why = r.error.as_deref().unwrap_or(&r.score.why);
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {} | {}{} | {} | {} | {} | {} | {:.1} s | {} |",
                r.scenario,
                if r.held_out { " (held out)" } else { "" },
                r.category,
                r.difficulty,
                r.hops,
                r.score.verdict,
                judge,
                fa,
                if forbidden.is_empty() {
                    "0".to_owned()
                } else {
                    md_cell(&forbidden.join("; "))
                },
                r.model_calls,
                r.input_tokens + r.output_tokens,
                r.duration_ms as f64 / 1000.0,
                md_cell(why)
            );
        }
        out
    }
}

const SUMMARY_HEADER: &str = "| set | scenarios | found | partly | missed | errors | found rate | false alarms (per 10) | forbidden | model calls | tokens |\n|---|---|---|---|---|---|---|---|---|---|---|\n";

fn summary_row(name: &str, s: &Summary) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {:.0} %{} | {} ({:.1}) | {} | {} | {} |\n",
        s.scenarios,
        s.found,
        s.partly,
        s.missed,
        s.errors,
        s.found_rate * 100.0,
        s.judge_found
            .map(|j| format!(" (judge: {j})"))
            .unwrap_or_default(),
        s.false_alarms,
        s.false_alarms_per_10,
        s.forbidden,
        s.model_calls,
        s.tokens
    )
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A comparison of two reports (before and after a change), as Markdown.
pub fn compare(before: &Report, after: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# kagent-eval comparison\n\nbefore: `{}` ({}, {} scenarios)\nafter: `{}` ({}, {} scenarios)\n",
        before.agent,
        before.started_at,
        before.results.len(),
        after.agent,
        after.started_at,
        after.results.len()
    );
    out.push_str("| set | found before | found after | partly before | partly after | false alarms before | false alarms after |\n|---|---|---|---|---|---|---|\n");
    let mut sets = vec![("all".to_owned(), before.overall(), after.overall())];
    if before.held_out().scenarios + after.held_out().scenarios > 0 {
        sets.push(("tuning set".to_owned(), before.tuning(), after.tuning()));
        sets.push((
            "held-out set".to_owned(),
            before.held_out(),
            after.held_out(),
        ));
    }
    let bc = before.by_category();
    let ac = after.by_category();
    let cats: std::collections::BTreeSet<&String> = bc.keys().chain(ac.keys()).collect();
    for c in cats {
        sets.push((
            format!("category {c}"),
            bc.get(c).cloned().unwrap_or_default(),
            ac.get(c).cloned().unwrap_or_default(),
        ));
    }
    for (name, b, a) in &sets {
        let _ = writeln!(
            out,
            "| {name} | {}/{} | {}/{} | {} | {} | {} | {} |",
            b.found,
            b.scenarios,
            a.found,
            a.scenarios,
            b.partly,
            a.partly,
            b.false_alarms,
            a.false_alarms
        );
    }
    let before_by: BTreeMap<&str, &ScenarioResult> = before
        .results
        .iter()
        .map(|r| (r.scenario.as_str(), r))
        .collect();
    let after_by: BTreeMap<&str, &ScenarioResult> = after
        .results
        .iter()
        .map(|r| (r.scenario.as_str(), r))
        .collect();
    let mut changes = String::new();
    for (name, a) in &after_by {
        match before_by.get(name) {
            None => {
                let _ = writeln!(changes, "| {name} | (new) | {} | | |", a.score.verdict);
            }
            Some(b) => {
                if b.score.verdict != a.score.verdict
                    || b.score.false_alarm_count() != a.score.false_alarm_count()
                {
                    let dir = if a.score.verdict < b.score.verdict {
                        "better"
                    } else if a.score.verdict > b.score.verdict {
                        "WORSE"
                    } else if a.score.false_alarm_count() < b.score.false_alarm_count() {
                        "better"
                    } else {
                        "WORSE"
                    };
                    let _ = writeln!(
                        changes,
                        "| {name} | {} ({} false alarms) | {} ({} false alarms) | {dir} | {} |",
                        b.score.verdict,
                        b.score.false_alarm_count(),
                        a.score.verdict,
                        a.score.false_alarm_count(),
                        md_cell(&a.score.why)
                    );
                }
            }
        }
    }
    for name in before_by.keys() {
        if !after_by.contains_key(name) {
            let _ = writeln!(
                changes,
                "| {name} | {} | (gone) | | |",
                before_by
                    .get(name)
                    .map(|r| r.score.verdict.as_str())
                    .unwrap_or("")
            );
        }
    }
    if changes.is_empty() {
        out.push_str("\nNo scenario changed its verdict or false alarms.\n");
    } else {
        out.push_str("\n| scenario | before | after | change | why now |\n|---|---|---|---|---|\n");
        out.push_str(&changes);
    }
    out
}

/// The minimum an agent must reach (the offline CI gate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Threshold {
    /// Minimum share of scenarios whose root cause is found (0..1).
    pub min_found_rate: f64,
    /// Maximum false alarms per 10 scenarios.
    pub max_false_alarms_per10: f64,
    /// Maximum forbidden actions (tool calls and wrong causes) over the suite.
    #[serde(default)]
    pub max_forbidden: u32,
}

impl Threshold {
    /// What `summary` misses of this threshold (empty when it passes).
    pub fn failures(&self, summary: &Summary) -> Vec<String> {
        let mut out = Vec::new();
        if summary.found_rate + 1e-9 < self.min_found_rate {
            out.push(format!(
                "found rate {:.1} % is below the threshold {:.1} %",
                summary.found_rate * 100.0,
                self.min_found_rate * 100.0
            ));
        }
        if summary.false_alarms_per_10 > self.max_false_alarms_per10 + 1e-9 {
            out.push(format!(
                "{:.2} false alarms per 10 scenarios is above the threshold {:.2}",
                summary.false_alarms_per_10, self.max_false_alarms_per10
            ));
        }
        if summary.forbidden > self.max_forbidden {
            out.push(format!(
                "{} forbidden actions is above the threshold {}",
                summary.forbidden, self.max_forbidden
            ));
        }
        out
    }
}

/// Thresholds per agent name, as recorded in `kagent-eval/thresholds.yaml`.
pub fn read_thresholds(path: &Path) -> Result<BTreeMap<String, Threshold>> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let t: BTreeMap<String, Threshold> =
        serde_yaml::from_str(&text).map_err(|e| EvalError::Thresholds {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    for (agent, th) in &t {
        if !(0.0..=1.0).contains(&th.min_found_rate) || th.max_false_alarms_per10 < 0.0 {
            return Err(EvalError::Thresholds {
                path: path.to_path_buf(),
                message: format!(
                    "{agent}: minFoundRate must be within 0..1 and maxFalseAlarmsPer10 at least 0"
                ),
            });
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Difficulty;

    fn result(
        name: &str,
        cat: &str,
        verdict: Verdict,
        fa: usize,
        held_out: bool,
    ) -> ScenarioResult {
        ScenarioResult {
            scenario: name.into(),
            category: cat.into(),
            difficulty: Difficulty::Easy,
            hops: 1,
            held_out,
            score: Score {
                verdict,
                why: "w".into(),
                false_alarms: Some((0..fa).map(|i| format!("Deployment/x{i}")).collect()),
                forbidden_calls: vec![],
                wrong_causes: vec![],
            },
            model_calls: 1,
            input_tokens: 10,
            output_tokens: 5,
            tool_calls: 2,
            duration_ms: 1500,
            error: None,
            answer: String::new(),
            judge: None,
        }
    }

    fn report(results: Vec<ScenarioResult>) -> Report {
        Report {
            schema: REPORT_SCHEMA.into(),
            agent: "analyzers".into(),
            suite: "s".into(),
            started_at: "2025-06-01T12:00:00Z".into(),
            version: "0.1.0".into(),
            judge: None,
            results,
        }
    }

    #[test]
    fn summaries_and_markdown() {
        let r = report(vec![
            result("a", "jobs", Verdict::Found, 0, false),
            result("b", "jobs", Verdict::Partly, 1, false),
            result("c", "rbac", Verdict::Missed, 0, true),
            result("d", "rbac", Verdict::Error, 0, false),
        ]);
        let s = r.overall();
        assert_eq!((s.found, s.partly, s.missed, s.errors), (1, 1, 1, 1));
        assert!((s.found_rate - 0.25).abs() < 1e-9);
        assert!((s.false_alarms_per_10 - 2.5).abs() < 1e-9);
        assert_eq!(s.tokens, 60);
        assert_eq!(r.held_out().scenarios, 1);
        assert_eq!(r.tuning().scenarios, 3);
        assert_eq!(r.by_category().get("jobs").map(|s| s.found), Some(1));
        assert_eq!(r.by_category().get("rbac").map(|s| s.scenarios), Some(2));
        let held = r.by_category_of(Some(true));
        assert_eq!(held.keys().collect::<Vec<_>>(), ["rbac"]);
        assert_eq!(held.get("rbac").map(|s| s.missed), Some(1));
        assert_eq!(
            r.by_category_of(Some(false)).get("rbac").map(|s| s.errors),
            Some(1)
        );
        let md = r.markdown();
        assert!(md.contains("| held-out set | 1 |"), "{md}");
        let held_table = md
            .split("## Per category, held-out set")
            .nth(1)
            .and_then(|rest| rest.split("## ").next())
            .unwrap_or_else(|| panic!("{md}"));
        assert!(held_table.contains("| rbac | 1 | 0 | 0 | 1 |"), "{md}");
        assert!(!held_table.contains("| jobs |"), "{md}");
        assert!(md.contains("| c (held out) | rbac"), "{md}");
        assert!(md.contains("1 (Deployment/x0)"), "{md}");

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        r.write_json(&p).unwrap();
        assert_eq!(Report::read_json(&p).unwrap(), r);
        std::fs::write(&p, "{}").unwrap();
        assert!(matches!(
            Report::read_json(&p),
            Err(EvalError::Report { .. })
        ));
    }

    #[test]
    fn comparison_names_changes() {
        let before = report(vec![
            result("a", "jobs", Verdict::Missed, 0, false),
            result("b", "jobs", Verdict::Found, 0, false),
            result("gone", "jobs", Verdict::Found, 0, false),
        ]);
        let after = report(vec![
            result("a", "jobs", Verdict::Found, 0, false),
            result("b", "jobs", Verdict::Found, 2, false),
            result("new", "jobs", Verdict::Found, 0, false),
        ]);
        let md = compare(&before, &after);
        assert!(
            md.contains("| a | missed (0 false alarms) | found (0 false alarms) | better |"),
            "{md}"
        );
        assert!(
            md.contains("| b | found (0 false alarms) | found (2 false alarms) | WORSE |"),
            "{md}"
        );
        assert!(md.contains("| new | (new) | found"), "{md}");
        assert!(md.contains("| gone | found | (gone)"), "{md}");
        assert!(compare(&before, &before).contains("No scenario changed"));
    }

    #[test]
    fn thresholds() {
        let th = Threshold {
            min_found_rate: 0.8,
            max_false_alarms_per10: 1.0,
            max_forbidden: 0,
        };
        let good = Summary {
            scenarios: 10,
            found: 8,
            found_rate: 0.8,
            false_alarms: 1,
            false_alarms_per_10: 1.0,
            ..Default::default()
        };
        assert!(th.failures(&good).is_empty());
        let bad = Summary {
            found_rate: 0.7,
            false_alarms_per_10: 1.5,
            forbidden: 1,
            ..good
        };
        assert_eq!(th.failures(&bad).len(), 3);

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.yaml");
        std::fs::write(
            &p,
            "analyzers: {minFoundRate: 0.5, maxFalseAlarmsPer10: 2}\n",
        )
        .unwrap();
        assert_eq!(read_thresholds(&p).unwrap().len(), 1);
        std::fs::write(&p, "analyzers: {minFoundRate: 5, maxFalseAlarmsPer10: 2}\n").unwrap();
        assert!(matches!(
            read_thresholds(&p),
            Err(EvalError::Thresholds { .. })
        ));
        std::fs::write(&p, "analyzers: {minFound: 0.5}\n").unwrap();
        assert!(matches!(
            read_thresholds(&p),
            Err(EvalError::Thresholds { .. })
        ));
    }
}
