//! The Grafana tools (grafana's MCP server names and arguments).

use std::collections::BTreeMap;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::Count;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::Shared;
use crate::common::HttpToolError;
use crate::common::render::{Table, dash, fmt_num, label_set, one_line};
use crate::common::time::{now_unix, parse_time, rfc3339, short_duration};
use crate::family::{family_tool, non_empty};
use crate::prometheus::PrometheusClient;
use crate::prometheus::client::RangeSeries;
use crate::prometheus::render::{RenderOptions, factor_labels, render_matrix, render_result};

type Result<T, E = HttpToolError> = std::result::Result<T, E>;

fn s_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn need<'a>(what: &'static str, v: &'a str, how: &str) -> Result<&'a str> {
    let t = v.trim();
    if t.is_empty() {
        Err(HttpToolError::invalid(
            what,
            format!("{what} is required; {how}"),
        ))
    } else {
        Ok(t)
    }
}

/// A path segment (a uid or name) percent-encoded, so it can never change the path.
fn seg(s: &str) -> String {
    if s == "." || s == ".." {
        // Dot segments would be resolved away by URL normalisation.
        return s.replace('.', "%2E");
    }
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

// ---------------------------------------------------------------------------------------------
// search_dashboards

/// Arguments of `search_dashboards`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchDashboardsArgs {
    /// The query to search for (part of a title); empty lists all dashboards.
    #[serde(default)]
    pub query: Option<String>,
    /// Maximum number of results (default 50, at most 100).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Page number, starting at 1.
    #[serde(default)]
    pub page: Option<Count>,
}

family_tool!(
    /// `search_dashboards`.
    SearchDashboards,
    Shared,
    "search_dashboards",
    ToolEffect::ReadOnly,
    SearchDashboardsArgs,
    "Search for Grafana dashboards by a query string. Returns matching dashboards with title, \
     UID, folder, tags and URL."
);

impl SearchDashboards {
    async fn exec(&self, args: SearchDashboardsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let limit = args
            .limit
            .map(|c| c.0)
            .filter(|n| *n > 0)
            .unwrap_or(50)
            .min(100);
        let page = args.page.map(|c| c.0).filter(|n| *n > 0).unwrap_or(1);
        let mut q = vec![
            ("type", "dash-db".to_owned()),
            ("limit", limit.to_string()),
            ("page", page.to_string()),
        ];
        if let Some(text) = non_empty(&args.query) {
            q.push(("query", text.to_owned()));
        }
        let hits: Vec<Value> = s.get("api/search", &q, String::new).await?;
        let mut out = format!("{} dashboards (page {page})", hits.len());
        if hits.len() as u64 == limit {
            out.push_str(&format!("; more may exist: page={}", page + 1));
        }
        out.push('\n');
        if hits.is_empty() {
            out.push_str("Try a shorter query, or none to list every dashboard.\n");
            return Ok(ToolOutput::text(out));
        }
        let mut t = Table::new(["UID", "TITLE", "FOLDER", "TAGS", "URL"]);
        for h in &hits {
            let tags: Vec<&str> = h
                .get("tags")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            t.push(vec![
                s_at(h, "/uid").to_owned(),
                one_line(s_at(h, "/title"), 80),
                dash(&one_line(s_at(h, "/folderTitle"), 60)),
                dash(&tags.join(",")),
                s_at(h, "/url").to_owned(),
            ]);
        }
        out.push_str(&t.render());
        Ok(ToolOutput::text(s.bound(out, "Use a narrower query.")))
    }
}

// ---------------------------------------------------------------------------------------------
// dashboards

/// Arguments of `get_dashboard_by_uid`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DashboardUidArgs {
    /// The UID of the dashboard.
    pub uid: String,
}

family_tool!(
    /// `get_dashboard_by_uid`.
    GetDashboardByUid,
    Shared,
    "get_dashboard_by_uid",
    ToolEffect::ReadOnly,
    DashboardUidArgs,
    "Retrieve a Grafana dashboard by UID: a summary (title, folder, version, variables, panels \
     with their datasources) followed by the dashboard JSON (bounded). Use \
     get_dashboard_panel_queries when only the queries are needed."
);

async fn fetch_dashboard(s: &Shared, uid: &str) -> Result<Value> {
    let uid = need("uid", uid, "find dashboards with search_dashboards")?;
    s.get(&format!("api/dashboards/uid/{}", seg(uid)), &[], || {
        format!("dashboard {uid} does not exist; find dashboards with search_dashboards")
    })
    .await
}

/// Every panel, rows' nested panels included (in order), for classic (v1) dashboards.
fn all_panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a [Value], out: &mut Vec<&'a Value>) {
        for p in panels {
            if s_at(p, "/type") == "row" {
                if let Some(nested) = p.get("panels").and_then(Value::as_array) {
                    walk(nested, out);
                }
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(p) = dashboard.get("panels").and_then(Value::as_array) {
        walk(p, &mut out);
    }
    // Pre-5.0 schema: rows[].panels[].
    if let Some(rows) = dashboard.get("rows").and_then(Value::as_array) {
        for r in rows {
            if let Some(p) = r.get("panels").and_then(Value::as_array) {
                walk(p, &mut out);
            }
        }
    }
    out
}

/// A datasource reference (`{uid, type}`, a name string, or a variable) as text.
fn ds_ref(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => {
            let uid = o.get("uid").and_then(Value::as_str).unwrap_or("");
            let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
            match (uid.is_empty(), ty.is_empty()) {
                (false, false) => format!("{uid} ({ty})"),
                (false, true) => uid.to_owned(),
                (true, false) => format!("({ty})"),
                (true, true) => String::new(),
            }
        }
        _ => String::new(),
    }
}

/// The query text of a panel target, whatever the datasource.
fn target_query(t: &Value) -> String {
    for k in [
        "expr",
        "query",
        "rawSql",
        "expression",
        "rawQuery",
        "queryText",
    ] {
        if let Some(q) = t
            .get(k)
            .and_then(Value::as_str)
            .filter(|q| !q.trim().is_empty())
        {
            return q.to_owned();
        }
    }
    let mut rest = t.clone();
    if let Some(o) = rest.as_object_mut() {
        for k in [
            "refId",
            "datasource",
            "hide",
            "key",
            "editorMode",
            "legendFormat",
            "interval",
            "range",
            "instant",
        ] {
            o.remove(k);
        }
    }
    format!("(structured) {}", rest)
}

fn variables_line(dashboard: &Value) -> Vec<(String, String, String)> {
    dashboard
        .pointer("/templating/list")
        .and_then(Value::as_array)
        .map(|vars| {
            vars.iter()
                .map(|v| {
                    let current = match v.pointer("/current/value") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Array(a)) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","),
                        _ => String::new(),
                    };
                    (
                        s_at(v, "/name").to_owned(),
                        s_at(v, "/type").to_owned(),
                        current,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl GetDashboardByUid {
    async fn exec(&self, args: DashboardUidArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let body = fetch_dashboard(s, &args.uid).await?;
        let d = body.get("dashboard").cloned().unwrap_or(Value::Null);
        let meta = body.get("meta").cloned().unwrap_or(Value::Null);
        let tags: Vec<&str> = d
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = format!(
            "dashboard {:?} (uid {}), folder {:?}, version {}, updated {}, tags [{}], url {}\n",
            s_at(&d, "/title"),
            s_at(&d, "/uid"),
            s_at(&meta, "/folderTitle"),
            d.get("version")
                .map(Value::to_string)
                .unwrap_or_else(|| "-".into()),
            dash(s_at(&meta, "/updated")),
            tags.join(", "),
            dash(s_at(&meta, "/url")),
        );
        let vars = variables_line(&d);
        if !vars.is_empty() {
            let parts: Vec<String> = vars
                .iter()
                .map(|(n, t, c)| format!("{n} ({t}, current {})", dash(c)))
                .collect();
            out.push_str(&format!("variables: {}\n", parts.join("; ")));
        }
        let panels = all_panels(&d);
        out.push_str(&format!("panels ({}):\n", panels.len()));
        let mut t = Table::new(["ID", "TYPE", "TITLE", "DATASOURCE", "QUERIES"]);
        for p in &panels {
            let n = p
                .get("targets")
                .and_then(Value::as_array)
                .map(Vec::len)
                .unwrap_or(0);
            t.push(vec![
                p.get("id")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "-".into()),
                dash(s_at(p, "/type")),
                one_line(s_at(p, "/title"), 80),
                dash(&ds_ref(p.get("datasource"))),
                n.to_string(),
            ]);
        }
        out.push_str(&t.render());
        out.push_str("dashboard JSON:\n");
        out.push_str(&serde_json::to_string(&d).unwrap_or_default());
        out.push('\n');
        Ok(ToolOutput::text(s.bound(
            out,
            "The JSON was cut; use get_dashboard_panel_queries for the panels' queries.",
        )))
    }
}

/// Arguments of `get_dashboard_panel_queries`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PanelQueriesArgs {
    /// The UID of the dashboard.
    pub uid: String,
    /// Only this panel (its numeric id).
    #[serde(default)]
    pub panel_id: Option<Count>,
    /// Variable values to substitute into the queries (`{"namespace": "shop"}`); the result
    /// then shows the processed queries and any variable still unresolved.
    #[serde(default)]
    pub variables: Option<BTreeMap<String, String>>,
}

family_tool!(
    /// `get_dashboard_panel_queries`.
    GetDashboardPanelQueries,
    Shared,
    "get_dashboard_panel_queries",
    ToolEffect::ReadOnly,
    PanelQueriesArgs,
    "Retrieve the queries of a Grafana dashboard's panels (rows' nested panels included): panel \
     id and title, refId, datasource (uid and type; it may be a template variable like \
     $datasource) and the query expression. Optionally substitute variable values."
);

/// Substitutes `$var`, `${var}`, `${var:fmt}` and `[[var]]`; returns the text and the
/// variables left unresolved.
pub(crate) fn substitute(query: &str, vars: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let re = regex::Regex::new(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)");
    let Ok(re) = re else {
        return (query.to_owned(), Vec::new());
    };
    let mut missing = Vec::new();
    let out = re.replace_all(query, |c: &regex::Captures<'_>| {
        let name = c
            .get(1)
            .or_else(|| c.get(2))
            .or_else(|| c.get(3))
            .map(|m| m.as_str())
            .unwrap_or("");
        // Grafana's global variables are resolved by Grafana at query time.
        if name.starts_with("__") {
            return c.get(0).map(|m| m.as_str().to_owned()).unwrap_or_default();
        }
        match vars.get(name) {
            Some(v) => v.clone(),
            None => {
                if !missing.contains(&name.to_owned()) {
                    missing.push(name.to_owned());
                }
                c.get(0).map(|m| m.as_str().to_owned()).unwrap_or_default()
            }
        }
    });
    (out.into_owned(), missing)
}

impl GetDashboardPanelQueries {
    async fn exec(&self, args: PanelQueriesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let body = fetch_dashboard(s, &args.uid).await?;
        let d = body.get("dashboard").cloned().unwrap_or(Value::Null);
        let mut panels = all_panels(&d);
        if let Some(id) = args.panel_id {
            panels.retain(|p| p.get("id").and_then(Value::as_u64) == Some(id.0));
            if panels.is_empty() {
                let ids: Vec<String> = all_panels(&d)
                    .iter()
                    .filter_map(|p| p.get("id").map(Value::to_string))
                    .collect();
                return Err(HttpToolError::NotFound {
                    message: format!(
                        "dashboard {} has no panel {}; its panel ids are {}",
                        args.uid.trim(),
                        id.0,
                        ids.join(", ")
                    ),
                });
            }
        }
        let vars = args.variables.unwrap_or_default();
        let substituting = !vars.is_empty();
        let mut unresolved: Vec<String> = Vec::new();
        let mut t = Table::new(["PANEL", "TITLE", "REF", "DATASOURCE", "QUERY"]);
        let mut count = 0usize;
        for p in &panels {
            let targets = p
                .get("targets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for target in &targets {
                count += 1;
                let ds = target
                    .get("datasource")
                    .filter(|v| !v.is_null())
                    .or_else(|| p.get("datasource"));
                let mut query = target_query(target);
                let mut ds_text = ds_ref(ds);
                if substituting {
                    let (q, missing) = substitute(&query, &vars);
                    let (dq, dmissing) = substitute(&ds_text, &vars);
                    query = q;
                    ds_text = dq;
                    for m in missing.into_iter().chain(dmissing) {
                        if !unresolved.contains(&m) {
                            unresolved.push(m);
                        }
                    }
                }
                t.push(vec![
                    p.get("id")
                        .map(Value::to_string)
                        .unwrap_or_else(|| "-".into()),
                    one_line(s_at(p, "/title"), 60),
                    dash(s_at(target, "/refId")),
                    dash(&ds_text),
                    one_line(&query, 400),
                ]);
            }
        }
        let mut out = format!(
            "{count} queries in {} panels of dashboard {:?}{}\n",
            panels.len(),
            s_at(&d, "/title"),
            if substituting {
                " (variables substituted)"
            } else {
                ""
            }
        );
        out.push_str(&t.render());
        if !unresolved.is_empty() {
            out.push_str(&format!(
                "unresolved variables: {} (pass them in variables)\n",
                unresolved.join(", ")
            ));
        }
        let vars_known = variables_line(&d);
        if !substituting && !vars_known.is_empty() {
            let parts: Vec<String> = vars_known
                .iter()
                .map(|(n, _, c)| format!("{n}={}", dash(c)))
                .collect();
            out.push_str(&format!(
                "dashboard variables (current values): {}\n",
                parts.join(", ")
            ));
        }
        Ok(ToolOutput::text(
            s.bound(out, "Ask for one panel with panelId."),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// datasources

/// Arguments of `list_datasources`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListDatasourcesArgs {
    /// Only datasources of this type (`prometheus`, `loki`, `tempo`, ...).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Only datasources whose name contains this (case-insensitive).
    #[serde(default)]
    pub name: Option<String>,
    /// Maximum number to return (default 50, at most 100).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Number to skip, for paging.
    #[serde(default)]
    pub offset: Option<Count>,
}

family_tool!(
    /// `list_datasources`.
    ListDatasources,
    Shared,
    "list_datasources",
    ToolEffect::ReadOnly,
    ListDatasourcesArgs,
    "List the datasources configured in Grafana (UID, name, type, default, URL), optionally \
     filtered by type or name. Use the UID with query_prometheus or query_loki_logs."
);

impl ListDatasources {
    async fn exec(&self, args: ListDatasourcesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let all: Vec<Value> = s.get("api/datasources", &[], String::new).await?;
        let kind = non_empty(&args.kind).map(str::to_ascii_lowercase);
        let name = non_empty(&args.name).map(str::to_ascii_lowercase);
        let matching: Vec<&Value> = all
            .iter()
            .filter(|d| {
                kind.as_deref()
                    .is_none_or(|k| s_at(d, "/type").to_ascii_lowercase().contains(k))
            })
            .filter(|d| {
                name.as_deref()
                    .is_none_or(|n| s_at(d, "/name").to_ascii_lowercase().contains(n))
            })
            .collect();
        let limit = args
            .limit
            .map(|c| c.0 as usize)
            .filter(|n| *n > 0)
            .unwrap_or(50)
            .min(100);
        let offset = args.offset.map(|c| c.0 as usize).unwrap_or(0);
        let page: Vec<&&Value> = matching.iter().skip(offset).take(limit).collect();
        let mut out = format!("{} of {} matching datasources", page.len(), matching.len());
        if offset + page.len() < matching.len() {
            out.push_str(&format!("; more with offset={}", offset + page.len()));
        }
        out.push('\n');
        let mut t = Table::new(["UID", "NAME", "TYPE", "DEFAULT", "URL"]);
        for d in page {
            t.push(vec![
                s_at(d, "/uid").to_owned(),
                one_line(s_at(d, "/name"), 60),
                s_at(d, "/type").to_owned(),
                if d.get("isDefault").and_then(Value::as_bool).unwrap_or(false) {
                    "yes"
                } else {
                    "-"
                }
                .to_owned(),
                dash(&one_line(s_at(d, "/url"), 100)),
            ]);
        }
        out.push_str(&t.render());
        Ok(ToolOutput::text(s.bound(out, "Filter by type or name.")))
    }
}

/// Arguments of `get_datasource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetDatasourceArgs {
    /// The UID of the datasource (takes priority over name).
    #[serde(default)]
    pub uid: Option<String>,
    /// The name of the datasource, used when no UID is given.
    #[serde(default)]
    pub name: Option<String>,
}

family_tool!(
    /// `get_datasource`.
    GetDatasource,
    Shared,
    "get_datasource",
    ToolEffect::ReadOnly,
    GetDatasourceArgs,
    "Retrieve one Grafana datasource by UID or name: name, UID, type, URL, access, default, \
     basic auth, JSON settings and which secure fields are set (never their values)."
);

async fn datasource(s: &Shared, uid: Option<&str>, name: Option<&str>) -> Result<Value> {
    match (uid, name) {
        (Some(uid), _) => {
            s.get(&format!("api/datasources/uid/{}", seg(uid)), &[], || {
                format!("datasource with UID {uid:?} not found; list them with list_datasources")
            })
            .await
        }
        (None, Some(name)) => {
            s.get(&format!("api/datasources/name/{}", seg(name)), &[], || {
                format!("datasource named {name:?} not found; list them with list_datasources")
            })
            .await
        }
        (None, None) => Err(HttpToolError::invalid(
            "arguments",
            "give uid or name; list datasources with list_datasources",
        )),
    }
}

impl GetDatasource {
    async fn exec(&self, args: GetDatasourceArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let d = datasource(s, non_empty(&args.uid), non_empty(&args.name)).await?;
        let mut out = format!(
            "datasource {:?} (uid {}), type {}, access {}, default {}\nurl: {}\n",
            s_at(&d, "/name"),
            s_at(&d, "/uid"),
            s_at(&d, "/type"),
            dash(s_at(&d, "/access")),
            d.get("isDefault").and_then(Value::as_bool).unwrap_or(false),
            dash(s_at(&d, "/url")),
        );
        for (k, label) in [
            ("database", "database"),
            ("user", "user"),
            ("basicAuthUser", "basic auth user"),
        ] {
            let v = s_at(&d, &format!("/{k}"));
            if !v.is_empty() {
                out.push_str(&format!("{label}: {v}\n"));
            }
        }
        if d.get("basicAuth").and_then(Value::as_bool).unwrap_or(false) {
            out.push_str("basic auth: on\n");
        }
        // Legacy plain-text secret fields never reach the model.
        for k in ["password", "basicAuthPassword"] {
            if !s_at(&d, &format!("/{k}")).is_empty() {
                out.push_str(&format!("{k}: <set, redacted>\n"));
            }
        }
        if let Some(secure) = d.get("secureJsonFields").and_then(Value::as_object)
            && !secure.is_empty()
        {
            let set: Vec<&str> = secure
                .iter()
                .filter(|(_, v)| v.as_bool().unwrap_or(false))
                .map(|(k, _)| k.as_str())
                .collect();
            out.push_str(&format!("secure fields set: {}\n", set.join(", ")));
        }
        if let Some(j) = d
            .get("jsonData")
            .filter(|j| j.as_object().is_some_and(|o| !o.is_empty()))
        {
            out.push_str(&format!("jsonData: {j}\n"));
        }
        if let Some(v) = d.get("version") {
            out.push_str(&format!(
                "version: {v}, read-only: {}\n",
                d.get("readOnly").and_then(Value::as_bool).unwrap_or(false)
            ));
        }
        Ok(ToolOutput::text(s.bound(out, "")))
    }
}

// ---------------------------------------------------------------------------------------------
// query_prometheus

/// Arguments of `query_prometheus`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryPrometheusArgs {
    /// The UID of the Prometheus datasource (from list_datasources).
    pub datasource_uid: String,
    /// The PromQL expression.
    pub expr: String,
    /// Start of a range query: RFC 3339 or relative (`now-1h`). Default: one hour before end.
    #[serde(default)]
    pub start_time: Option<String>,
    /// End time (range) or evaluation time (instant): RFC 3339 or relative (`now`). Default now.
    #[serde(default)]
    pub end_time: Option<String>,
    /// Step of a range query in seconds (default: the range / 250, at least 15).
    #[serde(default)]
    pub step_seconds: Option<Count>,
    /// `range` (default) or `instant`.
    #[serde(default)]
    pub query_type: Option<String>,
}

family_tool!(
    /// `query_prometheus`: PromQL through Grafana's datasource proxy.
    QueryPrometheus,
    Shared,
    "query_prometheus",
    ToolEffect::ReadOnly,
    QueryPrometheusArgs,
    "Query a Prometheus datasource of Grafana with PromQL (through Grafana's datasource proxy): \
     range queries (default; each series summarised as min / max / last / trend) or instant \
     queries. Times are RFC 3339 or relative like now-1h."
);

/// Looks a datasource up and checks it is of a kind the tool can query.
async fn datasource_of_kind(s: &Shared, uid: &str, kind: &str, other_tool: &str) -> Result<Value> {
    let uid = need("datasourceUid", uid, "find it with list_datasources")?;
    let d = datasource(s, Some(uid), None).await?;
    let ty = s_at(&d, "/type").to_ascii_lowercase();
    if !ty.contains(kind) {
        return Err(HttpToolError::invalid(
            "datasourceUid",
            format!(
                "datasource {uid} is of type {ty:?}, not {kind}; use {other_tool} for it, or find a \
                 {kind} datasource with list_datasources (type {kind})"
            ),
        ));
    }
    Ok(d)
}

impl QueryPrometheus {
    async fn exec(&self, args: QueryPrometheusArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let expr = need("expr", &args.expr, "pass a PromQL expression")?;
        let kind = non_empty(&args.query_type).map(str::to_ascii_lowercase);
        let instant = match kind.as_deref() {
            None | Some("range") => false,
            Some("instant") => true,
            Some(other) => {
                return Err(HttpToolError::invalid(
                    "queryType",
                    format!("{other:?} is not range or instant"),
                ));
            }
        };
        let now = now_unix();
        let end = match non_empty(&args.end_time) {
            Some(t) => parse_time("endTime", t, now)?,
            None => now,
        };
        let uid = args.datasource_uid.trim().to_owned();
        datasource_of_kind(s, &uid, "prometheus", "query_loki_logs for Loki").await?;
        let client = PrometheusClient::with_prefix(
            s.endpoint.clone(),
            format!("api/datasources/proxy/uid/{}/", seg(&uid)),
        );
        let limit = s.max_series;
        if instant {
            let res = client.query(expr, Some(end)).await?;
            let opts = RenderOptions {
                query: expr,
                max_rows: limit,
                range: None,
            };
            return Ok(ToolOutput::text(s.bound(
                render_result(&res.data, &res.warnings, &opts),
                "Narrow the query.",
            )));
        }
        let start = match non_empty(&args.start_time) {
            Some(t) => parse_time("startTime", t, now)?,
            None => end - 3600.0,
        };
        if start > end {
            return Err(HttpToolError::invalid(
                "startTime",
                format!(
                    "startTime ({}) is after endTime ({})",
                    rfc3339(start),
                    rfc3339(end)
                ),
            ));
        }
        let step = match args.step_seconds {
            Some(c) if c.0 > 0 => c.0 as f64,
            _ => ((end - start) / 250.0).ceil().max(15.0),
        };
        if (end - start) / step > 11_000.0 {
            return Err(HttpToolError::invalid(
                "stepSeconds",
                format!(
                    "{step} s over {} gives more than 11000 points; use at least {}",
                    short_duration(end - start),
                    ((end - start) / 11_000.0).ceil()
                ),
            ));
        }
        let res = client.query_range(expr, start, end, step).await?;
        let opts = RenderOptions {
            query: expr,
            max_rows: limit,
            range: Some((start, end, step)),
        };
        Ok(ToolOutput::text(s.bound(
            render_result(&res.data, &res.warnings, &opts),
            "Narrow the query.",
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// query_loki_logs

/// Arguments of `query_loki_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryLokiArgs {
    /// The UID of the Loki datasource (from list_datasources).
    pub datasource_uid: String,
    /// The LogQL query, like `{app="checkout"} |= "error"`.
    pub logql: String,
    /// Start: RFC 3339 or relative (`now-1h`). Default one hour before end.
    #[serde(default, rename = "startRfc3339")]
    pub start_rfc3339: Option<String>,
    /// End: RFC 3339 or relative. Default now.
    #[serde(default, rename = "endRfc3339")]
    pub end_rfc3339: Option<String>,
    /// Most log lines to return (default 10, at most 100).
    #[serde(default)]
    pub limit: Option<Count>,
    /// `backward` (newest first, default) or `forward` (oldest first).
    #[serde(default)]
    pub direction: Option<String>,
}

family_tool!(
    /// `query_loki_logs`: LogQL through Grafana's datasource proxy.
    QueryLokiLogs,
    Shared,
    "query_loki_logs",
    ToolEffect::ReadOnly,
    QueryLokiArgs,
    "Query logs from a Loki datasource of Grafana with LogQL (default: the last hour, 10 lines, \
     newest first). Lines are grouped by stream with the labels shared by all streams shown \
     once; metric queries (count_over_time, rate) come back summarised per series."
);

#[derive(Debug, Deserialize)]
struct LokiStream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(String, String)>,
}

impl QueryLokiLogs {
    async fn exec(&self, args: QueryLokiArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let logql = need(
            "logql",
            &args.logql,
            "pass a LogQL query like {app=\"checkout\"}",
        )?;
        let now = now_unix();
        let end = match non_empty(&args.end_rfc3339) {
            Some(t) => parse_time("endRfc3339", t, now)?,
            None => now,
        };
        let start = match non_empty(&args.start_rfc3339) {
            Some(t) => parse_time("startRfc3339", t, now)?,
            None => end - 3600.0,
        };
        if start > end {
            return Err(HttpToolError::invalid("startRfc3339", "start is after end"));
        }
        let limit = args
            .limit
            .map(|c| c.0)
            .filter(|n| *n > 0)
            .unwrap_or(10)
            .min(100);
        let direction = non_empty(&args.direction)
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| "backward".into());
        if !matches!(direction.as_str(), "backward" | "forward") {
            return Err(HttpToolError::invalid(
                "direction",
                format!("{direction:?} is not backward or forward"),
            ));
        }
        let uid = args.datasource_uid.trim().to_owned();
        datasource_of_kind(s, &uid, "loki", "query_prometheus for Prometheus").await?;
        let ns = |t: f64| format!("{}", (t * 1e9) as i128);
        let q = [
            ("query", logql.to_owned()),
            ("start", ns(start)),
            ("end", ns(end)),
            ("limit", limit.to_string()),
            ("direction", direction.clone()),
        ];
        let body: Value = s
            .endpoint
            .get_json(
                &format!(
                    "api/datasources/proxy/uid/{}/loki/api/v1/query_range",
                    seg(&uid)
                ),
                q.iter().map(|(k, v)| (*k, v.as_str())),
                super::api_error,
            )
            .await
            .map_err(|e| match e {
                HttpToolError::Api {
                    service,
                    status,
                    error_type,
                    message,
                } => HttpToolError::Api {
                    service,
                    status,
                    error_type,
                    message: format!("Loki: {message}"),
                },
                other => other,
            })?;
        let kind = s_at(&body, "/data/resultType");
        let result = body
            .pointer("/data/result")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        let text = match kind {
            "streams" => {
                let streams: Vec<LokiStream> = serde_json::from_value(result).unwrap_or_default();
                render_streams(&streams, limit as usize, &direction, logql, start, end)
            }
            "matrix" => {
                let series: Vec<RangeSeries> = serde_json::from_value(result).unwrap_or_default();
                let opts = RenderOptions {
                    query: logql,
                    max_rows: s.max_series,
                    range: Some((start, end, 0.0)),
                };
                render_matrix(&series, &opts)
            }
            "vector" => {
                let v: Vec<crate::prometheus::client::VectorSample> =
                    serde_json::from_value(result).unwrap_or_default();
                let opts = RenderOptions {
                    query: logql,
                    max_rows: s.max_series,
                    range: None,
                };
                crate::prometheus::render::render_vector(&v, &opts)
            }
            other => format!("unexpected result type {other:?} from Loki\n"),
        };
        Ok(ToolOutput::text(s.bound(
            text,
            "Narrow the stream selector or the time range.",
        )))
    }
}

fn render_streams(
    streams: &[LokiStream],
    limit: usize,
    direction: &str,
    logql: &str,
    start: f64,
    end: f64,
) -> String {
    let total: usize = streams.iter().map(|s| s.values.len()).sum();
    if total == 0 {
        return format!(
            "no log lines match {} from {} to {}. Check the labels (for example with a broader \
             selector) or widen the time range.\n",
            one_line(logql, 200),
            rfc3339(start),
            rfc3339(end)
        );
    }
    let (common, varying) = factor_labels(streams.iter().map(|s| &s.stream));
    let mut out = format!(
        "{total} log lines from {} streams, {}{}\n",
        streams.len(),
        if direction == "forward" {
            "oldest first"
        } else {
            "newest first"
        },
        if common.is_empty() {
            String::new()
        } else {
            format!("; labels common to all: {}", label_set(&common))
        }
    );
    // All lines in time order, each tagged with its stream's varying labels.
    let mut lines: Vec<(i128, usize, &str)> = Vec::with_capacity(total);
    for (i, s) in streams.iter().enumerate() {
        for (ts, line) in &s.values {
            lines.push((ts.parse().unwrap_or(0), i, line));
        }
    }
    lines.sort_by_key(|l| l.0);
    if direction != "forward" {
        lines.reverse();
    }
    let tag = |i: usize| -> String {
        let Some(s) = streams.get(i) else {
            return String::new();
        };
        let parts: Vec<String> = varying
            .iter()
            .filter_map(|k| s.stream.get(k).map(|v| format!("{k}={v}")))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("[{}] ", parts.join(" "))
        }
    };
    for (ts, i, line) in &lines {
        let secs = *ts as f64 / 1e9;
        let when = jiff::Timestamp::from_nanosecond(*ts)
            .map(|t| t.strftime("%H:%M:%S%.3f").to_string())
            .unwrap_or_else(|_| fmt_num(secs));
        out.push_str(&format!("{when} {}{}\n", tag(*i), one_line(line, 500)));
    }
    if total >= limit {
        out.push_str(&format!(
            "... the limit of {limit} lines was reached; more lines may exist. Narrow the query \
             (|= \"text\", a label matcher), shorten the time range or raise limit (at most 100).\n"
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// alert rules

/// One label matcher of a selector.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct LabelMatcher {
    /// The label name.
    pub name: String,
    /// The value (or regex).
    pub value: String,
    /// One of `=`, `!=`, `=~`, `!~`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// A set of matchers that must all match.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Selector {
    /// The matchers.
    #[serde(default)]
    pub filters: Vec<LabelMatcher>,
}

/// Arguments of `list_alert_rules`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListAlertRulesArgs {
    /// Maximum number of rules (default 100).
    #[serde(default)]
    pub limit: Option<Count>,
    /// Page number, starting at 1.
    #[serde(default)]
    pub page: Option<Count>,
    /// UID of a Prometheus or Loki datasource to list its datasource-managed rules; default:
    /// Grafana-managed rules.
    #[serde(default, rename = "datasourceUid")]
    pub datasource_uid: Option<String>,
    /// Selectors the rule labels must match, like
    /// `[{"filters": [{"name": "severity", "type": "=", "value": "critical"}]}]`.
    #[serde(default)]
    pub label_selectors: Option<Vec<Selector>>,
}

family_tool!(
    /// `list_alert_rules`.
    ListAlertRules,
    Shared,
    "list_alert_rules",
    ToolEffect::ReadOnly,
    ListAlertRulesArgs,
    "List Grafana alert rules with UID, title, current state (firing, pending, inactive = \
     normal), health, folder, group, `for` and labels; firing first. Filter by label selectors; \
     datasourceUid lists a Prometheus or Loki datasource's own rules instead."
);

struct RuleRow {
    uid: String,
    title: String,
    state: String,
    health: String,
    folder: String,
    group: String,
    for_: String,
    labels: BTreeMap<String, String>,
}

fn selector_matches(selectors: &[Selector], labels: &BTreeMap<String, String>) -> Result<bool> {
    for sel in selectors {
        for f in &sel.filters {
            let v = labels.get(&f.name).map(String::as_str).unwrap_or("");
            let re = |p: &str| {
                regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                    HttpToolError::invalid("label_selectors", format!("bad regex {p:?}: {e}"))
                })
            };
            let ok = match f.kind.trim() {
                "" | "=" => v == f.value,
                "!=" => v != f.value,
                "=~" => re(&f.value)?.is_match(v),
                "!~" => !re(&f.value)?.is_match(v),
                other => {
                    return Err(HttpToolError::invalid(
                        "label_selectors",
                        format!("matcher type {other:?} is not =, !=, =~ or !~"),
                    ));
                }
            };
            if !ok {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn labels_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn rules_from_groups(groups: &Value) -> Vec<(String, Value)> {
    groups
        .as_array()
        .map(|gs| {
            gs.iter()
                .flat_map(|g| {
                    let name = s_at(g, "/name").to_owned();
                    g.get("rules")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |r| (name.clone(), r))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl ListAlertRules {
    async fn exec(&self, args: ListAlertRulesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let selectors = args.label_selectors.unwrap_or_default();
        let mut rows: Vec<RuleRow> = Vec::new();
        let source;
        if let Some(ds) = non_empty(&args.datasource_uid) {
            let d = datasource(s, Some(ds), None).await?;
            let ty = s_at(&d, "/type").to_ascii_lowercase();
            if !ty.contains("prometheus") && !ty.contains("loki") {
                return Err(HttpToolError::invalid(
                    "datasourceUid",
                    format!(
                        "datasource {ds} is of type {ty:?}; only Prometheus and Loki datasources have their own rules"
                    ),
                ));
            }
            let body: Value = s
                .get(
                    &format!("api/prometheus/{}/api/v1/rules", seg(ds)),
                    &[],
                    || format!("datasource {ds} serves no rules"),
                )
                .await?;
            for (group, r) in
                rules_from_groups(body.pointer("/data/groups").unwrap_or(&Value::Null))
            {
                if s_at(&r, "/type") != "alerting" {
                    continue;
                }
                rows.push(RuleRow {
                    uid: "-".into(),
                    title: s_at(&r, "/name").to_owned(),
                    state: s_at(&r, "/state").to_owned(),
                    health: s_at(&r, "/health").to_owned(),
                    folder: "-".into(),
                    group,
                    for_: r
                        .get("duration")
                        .and_then(Value::as_f64)
                        .filter(|d| *d > 0.0)
                        .map(short_duration)
                        .unwrap_or_else(|| "-".into()),
                    labels: labels_map(r.get("labels")),
                });
            }
            source = format!("rules of datasource {ds}");
        } else {
            let provisioned: Vec<Value> = s
                .get("api/v1/provisioning/alert-rules", &[], String::new)
                .await?;
            // Runtime state; a Grafana that refuses it still lists the rules.
            let runtime: Value = s
                .get("api/prometheus/grafana/api/v1/rules", &[], String::new)
                .await
                .unwrap_or(Value::Null);
            let mut by_uid: BTreeMap<String, Value> = BTreeMap::new();
            let mut by_title: BTreeMap<String, Value> = BTreeMap::new();
            for (_, r) in rules_from_groups(runtime.pointer("/data/groups").unwrap_or(&Value::Null))
            {
                let uid = s_at(&r, "/uid").to_owned();
                if !uid.is_empty() {
                    by_uid.insert(uid, r.clone());
                }
                by_title.insert(s_at(&r, "/name").to_owned(), r);
            }
            for p in &provisioned {
                let uid = s_at(p, "/uid").to_owned();
                let title = s_at(p, "/title").to_owned();
                let rt = by_uid.get(&uid).or_else(|| by_title.get(&title));
                let paused = p.get("isPaused").and_then(Value::as_bool).unwrap_or(false);
                let state = match rt.map(|r| s_at(r, "/state")) {
                    _ if paused => "paused".to_owned(),
                    Some(st) if !st.is_empty() => st.to_owned(),
                    _ => "unknown".to_owned(),
                };
                rows.push(RuleRow {
                    uid,
                    title,
                    state,
                    health: rt
                        .map(|r| s_at(r, "/health").to_owned())
                        .unwrap_or_default(),
                    folder: s_at(p, "/folderUID").to_owned(),
                    group: s_at(p, "/ruleGroup").to_owned(),
                    for_: dash(s_at(p, "/for")),
                    labels: labels_map(p.get("labels")),
                });
            }
            source = "Grafana-managed rules".to_owned();
        }
        let total = rows.len();
        let mut kept = Vec::with_capacity(rows.len());
        for r in rows {
            if selector_matches(&selectors, &r.labels)? {
                kept.push(r);
            }
        }
        let rank = |st: &str| match st {
            "firing" | "alerting" => 0,
            "pending" => 1,
            "error" | "nodata" => 2,
            _ => 3,
        };
        kept.sort_by(|a, b| {
            rank(&a.state)
                .cmp(&rank(&b.state))
                .then_with(|| a.title.cmp(&b.title))
        });
        let limit = args
            .limit
            .map(|c| c.0 as usize)
            .filter(|n| *n > 0)
            .unwrap_or(100);
        let page = args
            .page
            .map(|c| c.0 as usize)
            .filter(|n| *n > 0)
            .unwrap_or(1);
        let shown: Vec<&RuleRow> = kept.iter().skip((page - 1) * limit).take(limit).collect();
        let firing = kept.iter().filter(|r| rank(&r.state) == 0).count();
        let mut out = format!(
            "{} of {} {source} shown (page {page}; {} match the selectors, {firing} firing)\n",
            shown.len(),
            total,
            kept.len()
        );
        if kept.len() > page * limit {
            out.push_str(&format!("more on page={}\n", page + 1));
        }
        let mut t = Table::new([
            "UID", "TITLE", "STATE", "HEALTH", "FOLDER", "GROUP", "FOR", "LABELS",
        ]);
        for r in shown {
            t.push(vec![
                r.uid.clone(),
                one_line(&r.title, 80),
                dash(&r.state),
                dash(&r.health),
                dash(&r.folder),
                dash(&one_line(&r.group, 60)),
                r.for_.clone(),
                if r.labels.is_empty() {
                    "-".into()
                } else {
                    one_line(&label_set(&r.labels), 200)
                },
            ]);
        }
        out.push_str(&t.render());
        Ok(ToolOutput::text(
            s.bound(out, "Filter with label_selectors or page."),
        ))
    }
}

/// Arguments of `get_alert_rule_by_uid`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AlertRuleUidArgs {
    /// The uid of the alert rule.
    pub uid: String,
}

family_tool!(
    /// `get_alert_rule_by_uid`.
    GetAlertRuleByUid,
    Shared,
    "get_alert_rule_by_uid",
    ToolEffect::ReadOnly,
    AlertRuleUidArgs,
    "Retrieve the full configuration of a Grafana alert rule by UID: title, folder, group, \
     condition, queries and expressions, for, no-data and error states, labels and annotations."
);

fn expression_text(model: &Value) -> String {
    let ty = s_at(model, "/type");
    let expr = s_at(model, "/expression");
    match ty {
        "reduce" => format!("reduce {} of {expr}", dash(s_at(model, "/reducer"))),
        "threshold" | "classic_conditions" => {
            let conds: Vec<String> = model
                .get("conditions")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            let params: Vec<String> = c
                                .pointer("/evaluator/params")
                                .and_then(Value::as_array)
                                .map(|p| p.iter().filter_map(Value::as_f64).map(fmt_num).collect())
                                .unwrap_or_default();
                            format!("{} {}", s_at(c, "/evaluator/type"), params.join(" "))
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("{ty} {expr} {}", conds.join(" and "))
                .trim()
                .to_owned()
        }
        "" => target_query(model),
        other => format!("{other} {expr}").trim().to_owned(),
    }
}

impl GetAlertRuleByUid {
    async fn exec(&self, args: AlertRuleUidArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let uid = need("uid", &args.uid, "list rules with list_alert_rules")?;
        let r: Value = s
            .get(
                &format!("api/v1/provisioning/alert-rules/{}", seg(uid)),
                &[],
                || format!("alert rule {uid} does not exist; list rules with list_alert_rules"),
            )
            .await?;
        let mut out = format!(
            "alert rule {:?} (uid {}), folder {}, group {:?}, for {}, paused {}\n\
             condition: {}; no data -> {}; error -> {}\n",
            s_at(&r, "/title"),
            s_at(&r, "/uid"),
            dash(s_at(&r, "/folderUID")),
            s_at(&r, "/ruleGroup"),
            dash(s_at(&r, "/for")),
            r.get("isPaused").and_then(Value::as_bool).unwrap_or(false),
            dash(s_at(&r, "/condition")),
            dash(s_at(&r, "/noDataState")),
            dash(s_at(&r, "/execErrState")),
        );
        let labels = labels_map(r.get("labels"));
        if !labels.is_empty() {
            out.push_str(&format!("labels: {}\n", label_set(&labels)));
        }
        for (k, v) in labels_map(r.get("annotations")) {
            out.push_str(&format!("annotation {k}: {}\n", one_line(&v, 400)));
        }
        let data = r
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut t = Table::new(["REF", "DATASOURCE", "RANGE", "QUERY"]);
        for q in &data {
            let ds = s_at(q, "/datasourceUid");
            let model = q.get("model").cloned().unwrap_or(Value::Null);
            let range = match (
                q.pointer("/relativeTimeRange/from").and_then(Value::as_f64),
                q.pointer("/relativeTimeRange/to").and_then(Value::as_f64),
            ) {
                (Some(f), Some(to)) if f > 0.0 => format!(
                    "{} to {}",
                    short_duration(f),
                    if to == 0.0 {
                        "now".to_owned()
                    } else {
                        short_duration(to)
                    }
                ),
                _ => "-".to_owned(),
            };
            let query = if ds == "__expr__" || ds == "-100" {
                expression_text(&model)
            } else {
                target_query(&model)
            };
            t.push(vec![
                dash(s_at(q, "/refId")),
                if ds == "__expr__" || ds == "-100" {
                    "expression".into()
                } else {
                    dash(ds)
                },
                range,
                one_line(&query, 400),
            ]);
        }
        out.push_str(&format!("queries ({}):\n", data.len()));
        out.push_str(&t.render());
        if let Some(u) = r.get("updated").and_then(Value::as_str) {
            out.push_str(&format!("updated {u}\n"));
        }
        Ok(ToolOutput::text(s.bound(out, "")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_substituted_in_every_syntax() {
        let vars: BTreeMap<String, String> = [("ns".to_owned(), "shop".to_owned())].into();
        let (q, missing) = substitute(
            "rate(x{namespace=\"$ns\", pod=~\"${pod:regex}\", a=\"[[ns]]\"}[$__rate_interval])",
            &vars,
        );
        assert_eq!(
            q,
            "rate(x{namespace=\"shop\", pod=~\"${pod:regex}\", a=\"shop\"}[$__rate_interval])"
        );
        assert_eq!(missing, vec!["pod"]);
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(seg("../../api/admin"), "..%2F..%2Fapi%2Fadmin");
        assert_eq!(seg(".."), "%2E%2E");
        assert_eq!(seg("a b"), "a%20b");
    }

    #[test]
    fn panels_are_found_in_rows() {
        let d = json!({"panels": [
            {"id": 1, "type": "timeseries"},
            {"id": 2, "type": "row", "collapsed": true, "panels": [{"id": 3, "type": "stat"}]}
        ]});
        let ids: Vec<u64> = all_panels(&d)
            .iter()
            .filter_map(|p| p["id"].as_u64())
            .collect();
        assert_eq!(ids, vec![1, 3]);
    }

    #[test]
    fn selectors_match_like_prometheus() {
        let labels: BTreeMap<String, String> =
            [("severity".to_owned(), "critical".to_owned())].into();
        let sel = |kind: &str, value: &str| {
            vec![Selector {
                filters: vec![LabelMatcher {
                    name: "severity".into(),
                    value: value.into(),
                    kind: kind.into(),
                }],
            }]
        };
        assert!(selector_matches(&sel("=", "critical"), &labels).unwrap());
        assert!(!selector_matches(&sel("!=", "critical"), &labels).unwrap());
        assert!(selector_matches(&sel("=~", "crit.*"), &labels).unwrap());
        assert!(!selector_matches(&sel("=~", "crit"), &labels).unwrap());
        assert!(selector_matches(&sel("!~", "warn.*"), &labels).unwrap());
        assert!(selector_matches(&sel("==", "x"), &labels).is_err());
        assert!(selector_matches(&sel("=~", "("), &labels).is_err());
    }
}
