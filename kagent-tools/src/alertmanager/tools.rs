//! The Alertmanager tools.

use std::collections::BTreeMap;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::Flag;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::client::{AlertFilter, Matcher, NewSilence};
use crate::common::render::{Table, dash, label_set, one_line};
use crate::common::time::{now_unix, parse_duration, parse_time, rfc3339, short_duration};
use crate::common::{HttpToolError, StringList};
use crate::family::{family_tool, non_empty};

type Result<T, E = HttpToolError> = std::result::Result<T, E>;

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

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn ago(ts: &str, now: f64) -> String {
    match parse_time("time", ts, now) {
        Ok(t) if t <= now => format!("{} ago", short_duration(now - t)),
        Ok(t) => format!("in {}", short_duration(t - now)),
        Err(_) => "-".to_owned(),
    }
}

/// The state of an alert as one cell: `active`, `silenced by <id>`, `inhibited`, ...
fn alert_state(a: &Value) -> String {
    let state = str_at(a, "/status/state");
    let ids = |k: &str| -> Vec<String> {
        a.pointer(&format!("/status/{k}"))
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let silenced = ids("silencedBy");
    let inhibited = ids("inhibitedBy");
    let mut parts = Vec::new();
    if !silenced.is_empty() {
        parts.push(format!("silenced by {}", silenced.join(",")));
    }
    if !inhibited.is_empty() {
        parts.push(format!("inhibited by {}", inhibited.join(",")));
    }
    if parts.is_empty() {
        dash(state)
    } else {
        format!("{state} ({})", parts.join("; "))
    }
}

fn summary_of(a: &Value) -> String {
    let ann = labels_of(a, "annotations");
    let s = ann
        .get("summary")
        .or_else(|| ann.get("description"))
        .or_else(|| ann.get("message"))
        .map(String::as_str)
        .unwrap_or("");
    dash(&one_line(s, 160))
}

/// Alerts as a table: labels shared by all factored out (and `alertname` as its own column).
pub(crate) fn alerts_table(
    alerts: &[&Value],
    max: usize,
    now: f64,
    skip: &BTreeMap<String, String>,
) -> String {
    let sets: Vec<BTreeMap<String, String>> =
        alerts.iter().map(|a| labels_of(a, "labels")).collect();
    let (mut common, mut varying) = crate::prometheus::render::factor_labels(sets.iter());
    varying.retain(|k| k != "alertname" && !skip.contains_key(k));
    common.retain(|k, _| k != "alertname" && !skip.contains_key(k));
    let mut out = String::new();
    if !common.is_empty() {
        let what = if alerts.len() > 1 {
            "labels common to these alerts"
        } else {
            "labels"
        };
        out.push_str(&format!("{what}: {}\n", label_set(&common)));
    }
    let mut headers = vec!["ALERT".to_owned(), "STATE".to_owned(), "SINCE".to_owned()];
    headers.extend(varying.iter().cloned());
    headers.push("SUMMARY".to_owned());
    let mut t = Table::new(headers);
    for (a, labels) in alerts.iter().zip(&sets).take(max) {
        let mut row = vec![
            labels.get("alertname").cloned().unwrap_or_default(),
            alert_state(a),
            ago(str_at(a, "/startsAt"), now),
        ];
        row.extend(varying.iter().map(|k| {
            dash(&one_line(
                labels.get(k).map(String::as_str).unwrap_or(""),
                80,
            ))
        }));
        row.push(summary_of(a));
        t.push(row);
    }
    out.push_str(&t.render());
    if alerts.len() > max {
        out.push_str(&format!(
            "... {} more alerts not shown. Filter with matchers (alertname=\"...\", severity=\"critical\").\n",
            alerts.len() - max
        ));
    }
    out
}

/// Arguments of `alertmanager_list_alerts`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListAlertsArgs {
    /// Matchers the alerts must satisfy: `alertname="HighCPU"`, `severity=~"critical|page"`,
    /// `namespace!="dev"` (one string or a list).
    #[serde(default)]
    pub filter: Option<StringList>,
    /// Only alerts routed to receivers matching this regex.
    #[serde(default)]
    pub receiver: Option<String>,
    /// Include active (not suppressed) alerts. Default true.
    #[serde(default)]
    pub active: Option<Flag>,
    /// Include silenced alerts. Default true.
    #[serde(default)]
    pub silenced: Option<Flag>,
    /// Include inhibited alerts. Default true.
    #[serde(default)]
    pub inhibited: Option<Flag>,
    /// Group alerts the way Alertmanager routes them (its alert groups). Default true.
    #[serde(default)]
    pub grouped: Option<Flag>,
}

family_tool!(
    /// `alertmanager_list_alerts`: alerts with their silenced / inhibited state.
    ListAlerts,
    Shared,
    "alertmanager_list_alerts",
    ToolEffect::ReadOnly,
    ListAlertsArgs,
    "List the alerts Alertmanager holds, grouped as it routes them (group labels and receiver), \
     each with its state (active, or suppressed: silenced by which silence, inhibited), since \
     when and its summary. Filter with matchers like alertname=\"X\" or severity=\"critical\"."
);

impl ListAlerts {
    async fn exec(&self, args: ListAlertsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let matchers = Matcher::parse_all(&args.filter.map(|f| f.0).unwrap_or_default())?;
        let filter = AlertFilter {
            matchers,
            receiver: non_empty(&args.receiver).map(str::to_owned),
            active: args.active.map(|f| f.0),
            silenced: args.silenced.map(|f| f.0),
            inhibited: args.inhibited.map(|f| f.0),
            unprocessed: None,
        };
        let now = now_unix();
        let grouped = args.grouped.map(|f| f.0).unwrap_or(true);
        let mut out;
        if grouped {
            let groups = s.client.alert_groups(&filter).await?;
            let total: usize = groups
                .iter()
                .map(|g| {
                    g.get("alerts")
                        .and_then(Value::as_array)
                        .map(Vec::len)
                        .unwrap_or(0)
                })
                .sum();
            let suppressed = count_suppressed(groups.iter().flat_map(|g| {
                g.get("alerts")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            }));
            out = format!(
                "{total} alerts in {} groups ({} active, {suppressed} suppressed)\n",
                groups.len(),
                total - suppressed
            );
            let mut budget = s.max_rows;
            for g in &groups {
                let glabels = labels_of(g, "labels");
                let alerts: Vec<&Value> = g
                    .get("alerts")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "\ngroup {} -> receiver {}: {} alerts\n",
                    label_set(&glabels),
                    dash(str_at(g, "/receiver/name")),
                    alerts.len()
                ));
                if budget == 0 {
                    out.push_str("(alerts not shown: row limit reached)\n");
                    continue;
                }
                out.push_str(&alerts_table(&alerts, budget, now, &glabels));
                budget = budget.saturating_sub(alerts.len());
            }
        } else {
            let alerts = s.client.alerts(&filter).await?;
            let refs: Vec<&Value> = alerts.iter().collect();
            let suppressed = count_suppressed(alerts.iter());
            out = format!(
                "{} alerts ({} active, {suppressed} suppressed)\n",
                alerts.len(),
                alerts.len() - suppressed
            );
            if !alerts.is_empty() {
                out.push_str(&alerts_table(&refs, s.max_rows, now, &BTreeMap::new()));
            }
        }
        Ok(ToolOutput::text(s.bound(out, "Filter with matchers.")))
    }
}

fn count_suppressed<'a>(alerts: impl Iterator<Item = &'a Value>) -> usize {
    alerts
        .filter(|a| str_at(a, "/status/state") == "suppressed")
        .count()
}

fn silence_matchers(s: &Value) -> String {
    let ms: Vec<Matcher> = s
        .get("matchers")
        .cloned()
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default();
    format!(
        "{{{}}}",
        ms.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Arguments of `alertmanager_list_silences`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListSilencesArgs {
    /// Matchers a silence's matchers must satisfy (`alertname="HighCPU"`).
    #[serde(default)]
    pub filter: Option<StringList>,
    /// `active`, `pending`, `expired` or `all`. Default: active and pending.
    #[serde(default)]
    pub state: Option<String>,
}

family_tool!(
    /// `alertmanager_list_silences`: silences and what they match.
    ListSilences,
    Shared,
    "alertmanager_list_silences",
    ToolEffect::ReadOnly,
    ListSilencesArgs,
    "List Alertmanager silences (default: active and pending): id, state, matchers, when it \
     ends, who created it and why."
);

impl ListSilences {
    async fn exec(&self, args: ListSilencesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let state = non_empty(&args.state).map(str::to_ascii_lowercase);
        let wanted: &[&str] = match state.as_deref() {
            None => &["active", "pending"],
            Some("active") => &["active"],
            Some("pending") => &["pending"],
            Some("expired") => &["expired"],
            Some("all") => &["active", "pending", "expired"],
            Some(other) => {
                return Err(HttpToolError::invalid(
                    "state",
                    format!("{other:?} is not active, pending, expired or all"),
                ));
            }
        };
        let matchers = Matcher::parse_all(&args.filter.map(|f| f.0).unwrap_or_default())?;
        let all = s.client.silences(&matchers).await?;
        let rank = |st: &str| match st {
            "active" => 0,
            "pending" => 1,
            _ => 2,
        };
        let mut shown: Vec<&Value> = all
            .iter()
            .filter(|x| wanted.contains(&str_at(x, "/status/state")))
            .collect();
        shown.sort_by(|a, b| {
            rank(str_at(a, "/status/state"))
                .cmp(&rank(str_at(b, "/status/state")))
                .then_with(|| str_at(b, "/endsAt").cmp(str_at(a, "/endsAt")))
        });
        let count = |st: &str| {
            all.iter()
                .filter(|x| str_at(x, "/status/state") == st)
                .count()
        };
        let mut out = format!(
            "{} silences shown ({} active, {} pending, {} expired in total)\n",
            shown.len(),
            count("active"),
            count("pending"),
            count("expired")
        );
        if shown.is_empty() {
            return Ok(ToolOutput::text(out));
        }
        let now = now_unix();
        let mut t = Table::new(["ID", "STATE", "MATCHERS", "ENDS", "CREATED-BY", "COMMENT"]);
        for x in shown.iter().take(s.max_rows) {
            t.push(vec![
                str_at(x, "/id").to_owned(),
                str_at(x, "/status/state").to_owned(),
                one_line(&silence_matchers(x), 200),
                ago(str_at(x, "/endsAt"), now),
                dash(&one_line(str_at(x, "/createdBy"), 60)),
                dash(&one_line(str_at(x, "/comment"), 160)),
            ]);
        }
        out.push_str(&t.render());
        if shown.len() > s.max_rows {
            out.push_str(&format!(
                "... {} more silences not shown. Filter by state or matchers.\n",
                shown.len() - s.max_rows
            ));
        }
        Ok(ToolOutput::text(
            s.bound(out, "Filter by state or matchers."),
        ))
    }
}

/// Arguments of `alertmanager_create_silence`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateSilenceArgs {
    /// What to silence: matchers like `alertname="HighCPU"`, `namespace="shop"`,
    /// `severity=~"warning|info"` (one string, `{a="b", c="d"}`, or a list). At least one must
    /// not match the empty string.
    pub matchers: StringList,
    /// How long: `2h`, `30m`, `1d` (default set by the toolset, usually 1h).
    #[serde(default)]
    pub duration: Option<String>,
    /// When it starts (default now): Unix seconds, RFC 3339, `now+10m`.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Why (required; shown to on-call engineers).
    pub comment: String,
    /// Who creates it (default: the configured creator and the agent's name).
    #[serde(default)]
    pub created_by: Option<String>,
    /// Only preview: which alerts it would silence; creates nothing.
    #[serde(default)]
    pub dry_run: Option<Flag>,
}

family_tool!(
    /// `alertmanager_create_silence`: creates a silence (dry-run preview on request).
    CreateSilence,
    Shared,
    "alertmanager_create_silence",
    ToolEffect::Mutating,
    CreateSilenceArgs,
    "Create an Alertmanager silence for alerts matching the matchers, for a duration, with a \
     comment. Reports the silence id and the alerts it silences now. With dry_run it only \
     previews which alerts it would silence."
);

/// The currently known alerts (active or suppressed) a set of matchers selects.
async fn matching_alerts(s: &Shared, matchers: &[Matcher]) -> Result<Vec<Value>> {
    s.client
        .alerts(&AlertFilter {
            matchers: matchers.to_vec(),
            ..AlertFilter::default()
        })
        .await
}

impl CreateSilence {
    async fn exec(&self, args: CreateSilenceArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let matchers = Matcher::parse_all(&args.matchers.0)?;
        if matchers.is_empty() {
            return Err(HttpToolError::invalid(
                "matchers",
                "give at least one matcher, like alertname=\"HighCPU\"",
            ));
        }
        if matchers
            .iter()
            .all(|m| !m.is_regex && m.is_equal && m.value.is_empty())
        {
            return Err(HttpToolError::invalid(
                "matchers",
                "every matcher matches the empty string, so the silence would match every alert; \
                 add one like alertname=\"HighCPU\"",
            ));
        }
        let comment = args.comment.trim();
        if comment.is_empty() {
            return Err(HttpToolError::invalid(
                "comment",
                "say why the alerts are silenced (on-call engineers read it)",
            ));
        }
        let now = now_unix();
        let duration = match non_empty(&args.duration) {
            Some(d) => parse_duration("duration", d)?,
            None => s.default_duration,
        };
        if duration <= 0.0 {
            return Err(HttpToolError::invalid(
                "duration",
                "must be longer than zero, like 2h",
            ));
        }
        if duration > s.max_duration {
            return Err(HttpToolError::invalid(
                "duration",
                format!(
                    "{} is longer than the {} this toolset allows; silence for less and extend later",
                    short_duration(duration),
                    short_duration(s.max_duration)
                ),
            ));
        }
        let starts = match non_empty(&args.starts_at) {
            Some(t) => parse_time("starts_at", t, now)?.max(now),
            None => now,
        };
        let ends = starts + duration;
        let created_by = match non_empty(&args.created_by) {
            Some(c) => c.to_owned(),
            None if ctx.agent.is_empty() => s.creator.clone(),
            None => format!("{}/{}", s.creator, ctx.agent),
        };
        let silence = NewSilence {
            matchers: matchers.clone(),
            starts_at: rfc3339(starts),
            ends_at: rfc3339(ends),
            created_by,
            comment: comment.to_owned(),
        };
        let shown = format!(
            "{{{}}} from {} to {} ({}), created by {:?}, comment {:?}",
            matchers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            silence.starts_at,
            silence.ends_at,
            short_duration(duration),
            silence.created_by,
            silence.comment
        );
        let alerts = matching_alerts(s, &matchers).await?;
        let refs: Vec<&Value> = alerts.iter().collect();
        let affected = if refs.is_empty() {
            "It matches no alert Alertmanager holds now (it will still silence future ones).\n"
                .to_owned()
        } else {
            format!(
                "It matches {} alerts now:\n{}",
                refs.len(),
                alerts_table(&refs, s.max_rows, now, &BTreeMap::new())
            )
        };
        if ctx.dry_run || args.dry_run.map(|f| f.0).unwrap_or(false) {
            let text =
                format!("DRY RUN: nothing created. Would create the silence {shown}.\n{affected}");
            let mut out = ToolOutput::text(s.bound(text, ""));
            out.structured =
                Some(json!({"dry_run": true, "silence": silence, "matching_alerts": alerts.len()}));
            return Ok(out);
        }
        let id = s.client.create_silence(&silence).await?;
        let text = format!(
            "created silence {id}: {shown}.\n{affected}Expire it early with alertmanager_expire_silence (silence_id {id}).\n"
        );
        let mut out = ToolOutput::text(s.bound(text, ""));
        out.structured =
            Some(json!({"silence_id": id, "silence": silence, "matching_alerts": alerts.len()}));
        Ok(out)
    }
}

/// Arguments of `alertmanager_expire_silence`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExpireSilenceArgs {
    /// The silence's id (from alertmanager_list_silences).
    pub silence_id: String,
    /// Only preview: which alerts would become active again; expires nothing.
    #[serde(default)]
    pub dry_run: Option<Flag>,
}

family_tool!(
    /// `alertmanager_expire_silence`: ends a silence now (dry-run preview on request).
    ExpireSilence,
    Shared,
    "alertmanager_expire_silence",
    ToolEffect::Mutating,
    ExpireSilenceArgs,
    "Expire (end now) an Alertmanager silence by id. Reports what it matched and which alerts \
     it was silencing. With dry_run it only previews."
);

impl ExpireSilence {
    async fn exec(&self, args: ExpireSilenceArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let id = args.silence_id.trim();
        let valid_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if !valid_id {
            return Err(HttpToolError::invalid(
                "silence_id",
                format!(
                    "{id:?} is not a silence id (a UUID); list them with alertmanager_list_silences"
                ),
            ));
        }
        let silence = match s.client.silence(id).await {
            Ok(v) => v,
            Err(HttpToolError::Api { status: 404, .. }) => {
                return Err(HttpToolError::NotFound {
                    message: format!(
                        "silence {id} does not exist; list silences with alertmanager_list_silences"
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        let state = str_at(&silence, "/status/state").to_owned();
        let what = format!(
            "silence {id} ({state}, matchers {}, created by {:?}, comment {:?}, ends {})",
            silence_matchers(&silence),
            str_at(&silence, "/createdBy"),
            str_at(&silence, "/comment"),
            str_at(&silence, "/endsAt")
        );
        if state == "expired" {
            return Ok(ToolOutput::text(format!(
                "{what} is already expired; nothing to do.\n"
            )));
        }
        let alerts = s.client.alerts(&AlertFilter::default()).await?;
        let silenced: Vec<&Value> = alerts
            .iter()
            .filter(|a| {
                a.pointer("/status/silencedBy")
                    .and_then(Value::as_array)
                    .is_some_and(|ids| ids.iter().any(|x| x.as_str() == Some(id)))
            })
            .collect();
        let now = now_unix();
        let affected = if silenced.is_empty() {
            "It silences no alert now.\n".to_owned()
        } else {
            format!(
                "It silences {} alerts now (they notify again unless another silence or an inhibition covers them):\n{}",
                silenced.len(),
                alerts_table(&silenced, s.max_rows, now, &BTreeMap::new())
            )
        };
        if ctx.dry_run || args.dry_run.map(|f| f.0).unwrap_or(false) {
            return Ok(ToolOutput::text(s.bound(
                format!("DRY RUN: nothing expired. Would expire {what}.\n{affected}"),
                "",
            )));
        }
        s.client.expire_silence(id).await?;
        Ok(ToolOutput::text(
            s.bound(format!("expired {what}.\n{affected}"), ""),
        ))
    }
}
