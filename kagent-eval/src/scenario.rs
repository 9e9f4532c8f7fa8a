//! The scenario format and its loader.
//!
//! A scenario is a multi-document YAML stream (one file, or every `*.yaml`/`*.yml`/`*.json` file
//! of a folder that holds a `scenario.yaml`): one document of kind `Scenario`
//! (`apiVersion: eval.kagent.dev/v1alpha1`) says what the cluster's problem is and what a correct
//! answer names; every other document is a cluster object exactly as the API server returns it
//! (status included), or a `PodLogs` pseudo-object (`apiVersion: testing.kagent.dev/v1`) with the
//! current and previous logs of a pod's containers. See the crate README for the fields.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{EvalError, Result, io_err};

/// `apiVersion` of the `Scenario` document.
pub const SCENARIO_API_VERSION: &str = "eval.kagent.dev/v1alpha1";
/// `kind` of the scenario document.
pub const SCENARIO_KIND: &str = "Scenario";
/// The file that makes a folder one scenario.
pub const SCENARIO_FILE: &str = "scenario.yaml";

/// How hard a scenario is for a person who knows Kubernetes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    /// The cause is written on the broken object (an event, a status message, a log line).
    Easy,
    /// The cause needs reading the right log or comparing two fields.
    Medium,
    /// The cause is on another object than the symptom, or only in metrics.
    Hard,
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        })
    }
}

/// A tool effect an answer must not use (kagent-core's `ToolEffect`, by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EffectName {
    /// Read-only tools (forbidding them is unusual).
    #[serde(alias = "read_only", alias = "readonly")]
    ReadOnly,
    /// Tools that change something.
    Mutating,
    /// Tools that delete or cannot be undone.
    Destructive,
}

impl EffectName {
    /// The matching kagent-core effect.
    pub fn matches(self, effect: kagent_core::ToolEffect) -> bool {
        matches!(
            (self, effect),
            (EffectName::ReadOnly, kagent_core::ToolEffect::ReadOnly)
                | (EffectName::Mutating, kagent_core::ToolEffect::Mutating)
                | (
                    EffectName::Destructive,
                    kagent_core::ToolEffect::Destructive
                )
        )
    }
}

/// One thing a correct answer must name: any of the alternatives (regular expressions, matched
/// case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatternGroup {
    /// Alternatives; one match is enough.
    pub any_of: Vec<String>,
}

/// What a correct answer contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expectation {
    /// Every group must match the answer's root-cause statements for the cause to count as found.
    pub root_cause: Vec<PatternGroup>,
    /// The objects an answer may report as broken: `Kind/name` globs (`*` matches any run of
    /// characters; `Pod/orders-api-*`). A finding about any other object is a false alarm.
    pub affected: Vec<String>,
}

/// What an answer must not do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Forbidden {
    /// Tool effects the agent must not use (default: mutating and destructive: diagnosing changes
    /// nothing).
    #[serde(default = "default_forbidden_effects")]
    pub effects: Vec<EffectName>,
    /// Tools the agent must not call, by name.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Wrong causes (regular expressions) an answer must not state as the root cause.
    #[serde(default)]
    pub causes: Vec<String>,
}

fn default_forbidden_effects() -> Vec<EffectName> {
    vec![EffectName::Mutating, EffectName::Destructive]
}

impl Default for Forbidden {
    fn default() -> Self {
        Forbidden {
            effects: default_forbidden_effects(),
            tools: Vec::new(),
            causes: Vec::new(),
        }
    }
}

/// One Prometheus series in promtool's unit-test notation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Series {
    /// The series: `metric_name{label="value", ...}`.
    pub series: String,
    /// Samples, one per interval, the last one at `now`: promtool's expanding notation
    /// (`1 2 3`, `0+10x5` = 0 10 20 30 40 50, `5x3` = 5 5 5 5, `_` = no sample, `stale`).
    pub values: String,
}

/// One alert as Prometheus' `/api/v1/alerts` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alert {
    /// Labels (`alertname`, `severity`, ...).
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `description`, ...).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `firing` or `pending`.
    pub state: String,
    /// When it became active (RFC 3339, in the scenario's timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_at: Option<String>,
    /// The value of the alert expression, as a string (a number is accepted and kept as text).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    pub value: Option<String>,
}

/// Prometheus data of a scenario: series and alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusData {
    /// Time between two samples of a series (`15s`, `1m`, `5m`).
    #[serde(default = "default_interval")]
    pub interval: String,
    /// Series.
    #[serde(default)]
    pub series: Vec<Series>,
    /// Alerts.
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "alert value must be a string or a number, not {other}"
            )));
        }
    })
}

fn default_interval() -> String {
    "1m".to_owned()
}

/// One sample of an expanded series: a value, or none (`_` or `stale`).
pub type Sample = Option<f64>;

impl PrometheusData {
    /// The interval in seconds.
    pub fn interval_seconds(&self) -> Option<u64> {
        parse_interval(&self.interval)
    }
}

impl Series {
    /// The metric name and labels of [`Series::series`].
    pub fn parse_selector(&self) -> Option<(String, BTreeMap<String, String>)> {
        parse_series_selector(&self.series)
    }

    /// The samples of [`Series::values`], oldest first.
    pub fn expand(&self) -> Option<Vec<Sample>> {
        expand_values(&self.values)
    }
}

/// The `spec` of a `Scenario` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenarioSpec {
    /// Area of the problem: workloads, networking, storage, scheduling, configuration, rbac,
    /// autoscaling, jobs, rollouts, observability (or one of your own).
    pub category: String,
    /// How hard it is.
    pub difficulty: Difficulty,
    /// How many objects lie between the symptom and the cause (1: the cause is on the broken
    /// object itself).
    #[serde(default = "one")]
    pub hops: u8,
    /// Part of the held-out set, reported separately and never looked at while tuning.
    #[serde(default)]
    pub held_out: bool,
    /// The instant the objects' timestamps treat as "now" (`YYYY-MM-DDTHH:MM:SSZ`); the runner
    /// moves it to the moment of loading. Without it, timestamps are loaded as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
    /// The namespace the agent looks at; none for the whole cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The task as an operator would type it.
    pub task: String,
    /// The true root cause, in prose (for people and the LLM judge).
    pub root_cause: String,
    /// What a correct answer names.
    pub expect: Expectation,
    /// What it must not do.
    #[serde(default)]
    pub forbidden: Forbidden,
    /// Prometheus series and alerts, for agents that query Prometheus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusData>,
    /// Free notes for authors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn one() -> u8 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScenarioDoc {
    metadata: ScenarioMeta,
    spec: ScenarioSpec,
}

#[derive(Debug, Deserialize)]
struct ScenarioMeta {
    name: String,
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (`metadata.name`).
    pub name: String,
    /// Where it was loaded from (a file, or the folder of a folder scenario).
    pub path: PathBuf,
    /// The header.
    pub spec: ScenarioSpec,
    /// The cluster objects and `PodLogs`, as JSON documents (in file order).
    pub objects: Vec<Value>,
    root_cause: Vec<Vec<Regex>>,
    affected: Vec<Regex>,
    wrong_causes: Vec<Regex>,
}

impl Scenario {
    /// Loads one scenario: a YAML file, or a folder holding `scenario.yaml`.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario> {
        let path = path.as_ref();
        if path.is_dir() {
            let mut docs = Vec::new();
            let mut files = Vec::new();
            collect_files(path, &mut files)?;
            for f in &files {
                docs.extend(read_docs(f)?);
            }
            Scenario::from_documents(path, docs)
        } else {
            Scenario::from_documents(path, read_docs(path)?)
        }
    }

    /// Parses a scenario from the text of one multi-document YAML stream (`origin` names it in
    /// errors).
    pub fn from_yaml(origin: impl Into<PathBuf>, text: &str) -> Result<Scenario> {
        let origin = origin.into();
        let docs = parse_docs(&origin, text)?;
        Scenario::from_documents(&origin, docs)
    }

    fn from_documents(origin: &Path, docs: Vec<Value>) -> Result<Scenario> {
        let shown = origin.display().to_string();
        let mut header: Option<ScenarioDoc> = None;
        let mut objects = Vec::new();
        for doc in docs {
            let is_header = doc.get("kind").and_then(Value::as_str) == Some(SCENARIO_KIND)
                && doc
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.starts_with("eval.kagent.dev/"));
            if !is_header {
                objects.push(doc);
                continue;
            }
            if doc.get("apiVersion").and_then(Value::as_str) != Some(SCENARIO_API_VERSION) {
                return Err(invalid(
                    &shown,
                    format!("the Scenario document must have apiVersion {SCENARIO_API_VERSION}"),
                ));
            }
            if header.is_some() {
                return Err(invalid(
                    &shown,
                    "more than one Scenario document: a scenario has exactly one",
                ));
            }
            let parsed: ScenarioDoc = serde_json::from_value(doc).map_err(|e| {
                invalid(&shown, format!("the Scenario document does not parse: {e}"))
            })?;
            header = Some(parsed);
        }
        let Some(header) = header else {
            return Err(invalid(
                &shown,
                format!(
                    "no Scenario document (apiVersion: {SCENARIO_API_VERSION}, kind: {SCENARIO_KIND}) found"
                ),
            ));
        };
        let name = header.metadata.name;
        let spec = header.spec;
        validate(&name, &spec, &objects)?;
        let compile = |p: &str| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .build()
                .map_err(|source| EvalError::Pattern {
                    scenario: name.clone(),
                    pattern: p.to_owned(),
                    source,
                })
        };
        let root_cause = spec
            .expect
            .root_cause
            .iter()
            .map(|g| {
                g.any_of
                    .iter()
                    .map(|p| compile(p))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let wrong_causes = spec
            .forbidden
            .causes
            .iter()
            .map(|p| compile(p))
            .collect::<Result<Vec<_>>>()?;
        let affected = spec
            .expect
            .affected
            .iter()
            .map(|g| compile(&glob_to_regex(g)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Scenario {
            name,
            path: origin.to_path_buf(),
            spec,
            objects,
            root_cause,
            affected,
            wrong_causes,
        })
    }

    /// The cluster objects as one multi-document YAML stream (JSON documents), for
    /// `FakeCluster::load_yaml`.
    pub fn cluster_yaml(&self) -> String {
        let mut out = String::new();
        for o in &self.objects {
            out.push_str("---\n");
            out.push_str(&o.to_string());
            out.push('\n');
        }
        out
    }

    /// Whether every root-cause group matches `text`; and which groups do.
    pub fn root_cause_matches(&self, text: &str) -> Vec<bool> {
        self.root_cause
            .iter()
            .map(|g| g.iter().any(|r| r.is_match(text)))
            .collect()
    }

    /// The wrong causes (as written) that `text` states.
    pub fn wrong_causes_in(&self, text: &str) -> Vec<String> {
        self.wrong_causes
            .iter()
            .zip(&self.spec.forbidden.causes)
            .filter(|(r, _)| r.is_match(text))
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Whether `Kind/name` is one of the objects the scenario expects to be reported.
    pub fn is_affected(&self, kind_name: &str) -> bool {
        self.affected.iter().any(|r| r.is_match(kind_name))
    }
}

fn invalid(scenario: &str, message: impl Into<String>) -> EvalError {
    EvalError::InvalidScenario {
        scenario: scenario.to_owned(),
        message: message.into(),
    }
}

fn validate(name: &str, spec: &ScenarioSpec, objects: &[Value]) -> Result<()> {
    let ok_name = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok_name {
        return Err(invalid(
            name,
            "metadata.name must be lower-case letters, digits, `-` and `.`, starting with a letter or digit",
        ));
    }
    if spec.category.trim().is_empty() {
        return Err(invalid(name, "spec.category is empty"));
    }
    if spec.task.trim().is_empty() {
        return Err(invalid(
            name,
            "spec.task is empty: write the task as an operator would type it",
        ));
    }
    if spec.root_cause.trim().is_empty() {
        return Err(invalid(
            name,
            "spec.rootCause is empty: state the true root cause",
        ));
    }
    if spec.hops == 0 {
        return Err(invalid(name, "spec.hops must be at least 1"));
    }
    if spec.expect.root_cause.is_empty() {
        return Err(invalid(
            name,
            "spec.expect.rootCause is empty: list what a correct answer must name (groups of anyOf patterns)",
        ));
    }
    if spec.expect.root_cause.iter().any(|g| g.any_of.is_empty()) {
        return Err(invalid(
            name,
            "a group of spec.expect.rootCause has an empty anyOf",
        ));
    }
    if spec.expect.affected.is_empty() {
        return Err(invalid(
            name,
            "spec.expect.affected is empty: list the objects (Kind/name globs) an answer may report as broken",
        ));
    }
    if let Some(g) = spec
        .expect
        .affected
        .iter()
        .find(|g| !g.contains('/') || g.starts_with('/') || g.ends_with('/'))
    {
        return Err(invalid(
            name,
            format!("spec.expect.affected entry {g:?} must be Kind/name (a glob: Pod/web-*)"),
        ));
    }
    if let Some(now) = &spec.now
        && now.parse::<jiff::Timestamp>().is_err()
    {
        return Err(invalid(
            name,
            format!("spec.now {now:?} is not a timestamp like 2025-06-01T12:00:00Z"),
        ));
    }
    if let Some(ns) = &spec.namespace
        && ns.trim().is_empty()
    {
        return Err(invalid(
            name,
            "spec.namespace is empty: omit it to look at the whole cluster",
        ));
    }
    if objects.is_empty() {
        return Err(invalid(name, "the scenario has no cluster objects"));
    }
    for (i, o) in objects.iter().enumerate() {
        if !o.is_object()
            || o.get("kind").and_then(Value::as_str).is_none()
            || o.get("apiVersion").and_then(Value::as_str).is_none()
        {
            return Err(invalid(
                name,
                format!("cluster document {i} is not an object with apiVersion and kind"),
            ));
        }
    }
    if let Some(p) = &spec.prometheus {
        if p.interval_seconds().is_none() {
            return Err(invalid(
                name,
                format!(
                    "spec.prometheus.interval {:?} is not a duration like 15s, 1m or 5m",
                    p.interval
                ),
            ));
        }
        for s in &p.series {
            if s.parse_selector().is_none() {
                return Err(invalid(
                    name,
                    format!(
                        "spec.prometheus.series {:?} is not metric_name{{label=\"value\",...}}",
                        s.series
                    ),
                ));
            }
            if s.expand().is_none() {
                return Err(invalid(
                    name,
                    format!(
                        "values {:?} of series {} are not in promtool's notation (1 2 3, 0+10x5, 5x3, _, stale)",
                        s.values, s.series
                    ),
                ));
            }
        }
        for a in &p.alerts {
            if !a.labels.contains_key("alertname") {
                return Err(invalid(
                    name,
                    "a spec.prometheus alert has no alertname label",
                ));
            }
            if a.state != "firing" && a.state != "pending" {
                return Err(invalid(
                    name,
                    format!("alert state {:?} must be firing or pending", a.state),
                ));
            }
        }
    }
    Ok(())
}

/// `Pod/web-*` → an anchored regex (only `*` is special).
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^");
    for (i, part) in glob.split('*').enumerate() {
        if i > 0 {
            out.push_str(".*");
        }
        out.push_str(&regex::escape(part));
    }
    out.push('$');
    out
}

fn parse_docs(origin: &Path, text: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(de).map_err(|source| EvalError::Yaml {
            path: origin.to_path_buf(),
            index,
            source,
        })?;
        match v {
            Value::Null => {}
            Value::Object(_) => {
                if v.get("kind").and_then(Value::as_str) == Some("List") {
                    if let Some(items) = v.get("items").and_then(Value::as_array) {
                        out.extend(items.iter().cloned());
                    }
                } else {
                    out.push(v);
                }
            }
            _ => {
                return Err(invalid(
                    &origin.display().to_string(),
                    format!("document {index} is not a mapping"),
                ));
            }
        }
    }
    Ok(out)
}

fn read_docs(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    parse_docs(path, &text)
}

fn is_doc_file(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .map(|e| e.map(|e| e.path()).map_err(io_err(dir)))
        .collect::<Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

/// Every document file under `dir` (recursively), sorted.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in sorted_entries(dir)? {
        if is_hidden(&p) {
            continue;
        }
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if is_doc_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Loads every scenario under `path`: a scenario file, a scenario folder (one holding
/// `scenario.yaml`), or a folder of them (searched recursively; hidden entries and files that
/// are not YAML or JSON are skipped). Scenarios come back sorted by name; names must be unique.
pub fn load_suite(path: impl AsRef<Path>) -> Result<Vec<Scenario>> {
    let path = path.as_ref();
    let mut out = Vec::new();
    if !path.exists() {
        return Err(EvalError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        });
    }
    load_into(path, &mut out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in out.windows(2) {
        if let [a, b] = pair
            && a.name == b.name
        {
            return Err(EvalError::DuplicateScenario {
                name: a.name.clone(),
                first: a.path.clone(),
                second: b.path.clone(),
            });
        }
    }
    Ok(out)
}

fn load_into(path: &Path, out: &mut Vec<Scenario>) -> Result<()> {
    if path.is_file() {
        out.push(Scenario::load(path)?);
        return Ok(());
    }
    if path.join(SCENARIO_FILE).is_file() {
        out.push(Scenario::load(path)?);
        return Ok(());
    }
    for p in sorted_entries(path)? {
        if is_hidden(&p) {
            continue;
        }
        if p.is_dir() {
            load_into(&p, out)?;
        } else if is_doc_file(&p) {
            out.push(Scenario::load(&p)?);
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ Prometheus notation

fn parse_interval(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "ms" => return (n >= 1000).then_some(n / 1000),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    (n > 0).then_some(n * mult)
}

fn parse_series_selector(s: &str) -> Option<(String, BTreeMap<String, String>)> {
    let s = s.trim();
    let (name, rest) = match s.find('{') {
        Some(i) => (s.get(..i)?, Some(s.get(i..)?)),
        None => (s, None),
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !name_ok {
        return None;
    }
    let mut labels = BTreeMap::new();
    if let Some(rest) = rest {
        let inner = rest.strip_prefix('{')?.strip_suffix('}')?;
        let mut chars = inner.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let key: String =
                std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_'))
                    .collect();
            if key.is_empty() || chars.next() != Some('=') || chars.next() != Some('"') {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '"' => break,
                    c => value.push(c),
                }
            }
            labels.insert(key, value);
        }
    }
    Some((name.to_owned(), labels))
}

fn expand_values(s: &str) -> Option<Vec<Sample>> {
    let mut out = Vec::new();
    for tok in s.split_whitespace() {
        if tok == "_" || tok == "stale" {
            out.push(None);
            continue;
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n: usize = n.parse().ok()?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        // a+bxn, a-bxn, axn, a
        let (head, times) = match tok.rsplit_once('x') {
            Some((h, n))
                if !h.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() =>
            {
                (h, Some(n.parse::<usize>().ok()?))
            }
            _ => (tok, None),
        };
        // split start and step at a sign that is not the leading one nor part of an exponent
        let bytes: Vec<char> = head.chars().collect();
        let mut split = None;
        for (i, c) in bytes.iter().enumerate().skip(1) {
            if (*c == '+' || *c == '-') && !matches!(bytes.get(i - 1), Some('e' | 'E')) {
                split = Some(i);
                break;
            }
        }
        let (start, step) = match split {
            Some(i) => {
                let a: String = bytes.get(..i)?.iter().collect();
                let b: String = bytes.get(i..)?.iter().collect();
                (a.parse::<f64>().ok()?, b.parse::<f64>().ok()?)
            }
            None => (head.parse::<f64>().ok()?, 0.0),
        };
        match times {
            Some(n) => {
                for k in 0..=n {
                    out.push(Some(start + step * k as f64));
                }
            }
            None if split.is_none() => out.push(Some(start)),
            None => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
apiVersion: eval.kagent.dev/v1alpha1
kind: Scenario
metadata: {name: tiny}
spec:
  category: workloads
  difficulty: easy
  task: what is wrong?
  rootCause: the pod crashes
  expect:
    rootCause:
    - anyOf: ["crash", "exit 1"]
    affected: ["Pod/web-*"]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"#;

    #[test]
    fn minimal_scenario_loads_with_defaults() {
        let s = Scenario::from_yaml("tiny.yaml", MINIMAL).unwrap();
        assert_eq!(s.name, "tiny");
        assert_eq!(s.spec.hops, 1);
        assert!(!s.spec.held_out);
        assert_eq!(
            s.spec.forbidden.effects,
            vec![EffectName::Mutating, EffectName::Destructive]
        );
        assert_eq!(s.objects.len(), 1);
        assert_eq!(s.root_cause_matches("it keeps CRASHING"), vec![true]);
        assert!(s.is_affected("Pod/web-7d9f-abc"));
        assert!(!s.is_affected("Pod/api-1"));
        assert!(!s.is_affected("Deployment/web-7d9f-abc"));
        assert!(s.cluster_yaml().contains("\"Namespace\""));
    }

    #[test]
    fn bad_inputs_are_typed_errors_that_say_how_to_fix_them() {
        let no_header = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
        let e = Scenario::from_yaml("x.yaml", no_header)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no Scenario document"), "{e}");

        let bad_regex = MINIMAL.replace("\"crash\"", "\"crash(\"");
        let e = Scenario::from_yaml("x.yaml", &bad_regex).unwrap_err();
        assert!(matches!(e, EvalError::Pattern { .. }), "{e}");
        assert!(e.to_string().contains("escape"), "{e}");

        let no_objects = MINIMAL.split("---").next().unwrap();
        let e = Scenario::from_yaml("x.yaml", no_objects)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no cluster objects"), "{e}");

        let bad_affected = MINIMAL.replace("Pod/web-*", "web");
        let e = Scenario::from_yaml("x.yaml", &bad_affected)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Kind/name"), "{e}");

        let unknown_field = MINIMAL.replace("difficulty: easy", "difficulty: easy\n  colour: red");
        let e = Scenario::from_yaml("x.yaml", &unknown_field)
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");

        let bad_difficulty = MINIMAL.replace("difficulty: easy", "difficulty: trivial");
        assert!(Scenario::from_yaml("x.yaml", &bad_difficulty).is_err());

        let two = format!("{MINIMAL}\n---\n{}", MINIMAL.split("---").next().unwrap());
        let e = Scenario::from_yaml("x.yaml", &two).unwrap_err().to_string();
        assert!(e.contains("more than one"), "{e}");

        let e = Scenario::from_yaml("x.yaml", "a: [1, 2\n").unwrap_err();
        assert!(matches!(e, EvalError::Yaml { .. }), "{e}");

        let bad_now = MINIMAL.replace("difficulty: easy", "difficulty: easy\n  now: yesterday");
        let e = Scenario::from_yaml("x.yaml", &bad_now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("spec.now"), "{e}");
    }

    #[test]
    fn prometheus_notation() {
        assert_eq!(
            expand_values("1 2 3"),
            Some(vec![Some(1.0), Some(2.0), Some(3.0)])
        );
        assert_eq!(
            expand_values("0+10x3"),
            Some(vec![Some(0.0), Some(10.0), Some(20.0), Some(30.0)])
        );
        assert_eq!(
            expand_values("5-1x2 _ stale"),
            Some(vec![Some(5.0), Some(4.0), Some(3.0), None, None])
        );
        assert_eq!(expand_values("7x2"), Some(vec![Some(7.0); 3]));
        assert_eq!(expand_values("1e+02"), Some(vec![Some(100.0)]));
        assert_eq!(expand_values("_x2"), Some(vec![None, None]));
        assert_eq!(expand_values("abc"), None);
        assert_eq!(expand_values("1+2"), None);
        assert_eq!(expand_values(""), None);
        let (name, labels) = parse_series_selector(r#"up{job="a",instance="b\"c"}"#).unwrap();
        assert_eq!(name, "up");
        assert_eq!(labels.get("instance").map(String::as_str), Some("b\"c"));
        assert!(parse_series_selector("up").is_some());
        assert!(parse_series_selector("1up").is_none());
        assert!(parse_series_selector("up{job=a}").is_none());
        assert_eq!(parse_interval("1m"), Some(60));
        assert_eq!(parse_interval("15s"), Some(15));
        assert_eq!(parse_interval("1x"), None);
        assert_eq!(parse_interval("m"), None);
    }

    #[test]
    fn globs() {
        let r = Regex::new(&glob_to_regex("Pod/a.b-*")).unwrap();
        assert!(r.is_match("Pod/a.b-1"));
        assert!(!r.is_match("Pod/aXb-1"));
    }

    #[test]
    fn folder_scenario_and_suite() {
        let dir = tempfile::tempdir().unwrap();
        let (header, objects) = MINIMAL.split_once("---").unwrap();
        let folder = dir.path().join("suite").join("folder-one");
        std::fs::create_dir_all(folder.join("cluster")).unwrap();
        std::fs::write(
            folder.join(SCENARIO_FILE),
            header.replace("tiny", "folder-one"),
        )
        .unwrap();
        std::fs::write(folder.join("cluster").join("ns.yaml"), objects).unwrap();
        std::fs::write(dir.path().join("suite").join("tiny.yaml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("suite").join("README.md"), "not a scenario").unwrap();
        let suite = load_suite(dir.path().join("suite")).unwrap();
        let names: Vec<_> = suite.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["folder-one", "tiny"]);
        assert_eq!(suite.first().unwrap().objects.len(), 1);

        std::fs::write(dir.path().join("suite").join("again.yaml"), MINIMAL).unwrap();
        let e = load_suite(dir.path().join("suite")).unwrap_err();
        assert!(matches!(e, EvalError::DuplicateScenario { .. }), "{e}");
        assert!(matches!(
            load_suite(dir.path().join("missing")),
            Err(EvalError::Io { .. })
        ));
    }
}
