//! Read-only Helm tools, answered from Helm's release Secrets (no helm binary).

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::render::{Table, one_line};
use kagent_k8s::{Count, Flag};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::{HelmError, Result};
use super::release::{Release, manifest_objects};
use super::{Shared, check_namespace, check_release_name, store};
use crate::family::{family_tool, non_empty};

/// Arguments of `helm_list_releases`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListReleasesArgs {
    /// The namespace to list releases from (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// List releases from all namespaces.
    #[serde(default)]
    pub all_namespaces: Flag,
    /// Show all releases without any filter applied (every status).
    #[serde(default)]
    pub all: Flag,
    /// List uninstalled releases (kept with --keep-history).
    #[serde(default)]
    pub uninstalled: Flag,
    /// List uninstalling releases.
    #[serde(default)]
    pub uninstalling: Flag,
    /// List failed releases.
    #[serde(default)]
    pub failed: Flag,
    /// List deployed releases.
    #[serde(default)]
    pub deployed: Flag,
    /// List pending releases (pending-install, pending-upgrade, pending-rollback).
    #[serde(default)]
    pub pending: Flag,
    /// List superseded revisions (every older revision of every release).
    #[serde(default)]
    pub superseded: Flag,
    /// A regular expression; only releases whose name matches are listed.
    #[serde(default)]
    pub filter: Option<String>,
    /// The output format: table (default), json or yaml.
    #[serde(default)]
    pub output: Option<String>,
}

family_tool!(
    /// `helm_list_releases`: releases and their latest revision, from Helm's release Secrets.
    ListReleases,
    Shared,
    "helm_list_releases",
    ToolEffect::ReadOnly,
    ListReleasesArgs,
    "List Helm releases in a namespace (or all namespaces): name, revision, updated, status, \
     chart and app version. By default only deployed and failed releases are listed, like \
     `helm list`; all=true lists every status."
);

const STATES: &[&str] = &[
    "deployed",
    "failed",
    "uninstalled",
    "uninstalling",
    "superseded",
    "pending-install",
    "pending-upgrade",
    "pending-rollback",
    "unknown",
];

/// The statuses a `helm list` call shows (Helm's `SetStateMask`).
fn state_mask(a: &ListReleasesArgs) -> Vec<&'static str> {
    if a.all.0 {
        return STATES.to_vec();
    }
    let mut m = Vec::new();
    if a.deployed.0 {
        m.push("deployed");
    }
    if a.uninstalled.0 {
        m.push("uninstalled");
    }
    if a.uninstalling.0 {
        m.push("uninstalling");
    }
    if a.pending.0 {
        m.extend(["pending-install", "pending-upgrade", "pending-rollback"]);
    }
    if a.failed.0 {
        m.push("failed");
    }
    if a.superseded.0 {
        m.push("superseded");
    }
    if m.is_empty() {
        m = vec!["deployed", "failed"];
    }
    m
}

/// `2026-01-10T11:00:00.123456789Z` -> `2026-01-10 11:00:00Z`.
fn short_time(ts: Option<&str>) -> String {
    match ts.map(str::trim).filter(|t| !t.is_empty()) {
        None => "-".to_owned(),
        Some(t) => match t.parse::<jiff::Timestamp>() {
            Ok(ts) => ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
            Err(_) => t.to_owned(),
        },
    }
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

fn list_entry(r: &Release) -> Value {
    json!({
        "name": r.name,
        "namespace": r.namespace,
        "revision": r.version.to_string(),
        "updated": r.info.last_deployed.clone().unwrap_or_default(),
        "status": r.info.status,
        "chart": r.chart_ref(),
        "app_version": r.chart.metadata.app_version,
    })
}

impl ListReleases {
    async fn exec(&self, args: ListReleasesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let output = non_empty(&args.output)
            .unwrap_or("table")
            .to_ascii_lowercase();
        if !matches!(output.as_str(), "table" | "json" | "yaml") {
            return Err(HelmError::invalid(
                "output",
                format!("{output:?}: use table, json or yaml"),
            ));
        }
        let filter = match non_empty(&args.filter) {
            Some(f) => Some(regex::Regex::new(f).map_err(|e| {
                HelmError::invalid("filter", format!("not a regular expression: {e}"))
            })?),
            None => None,
        };
        let ns = if args.all_namespaces.0 {
            None
        } else {
            let ns = s.ns(&args.namespace);
            check_namespace(ns)?;
            Some(ns)
        };
        let mask = state_mask(&args);
        let mut heads = store::heads(&s.client, ns, None).await?;
        if let Some(f) = &filter {
            heads.retain(|h| f.is_match(&h.name));
        }
        // Superseded revisions are never the latest: asking only for them skips that filter.
        if mask != ["superseded"] {
            heads = store::latest_heads(heads);
        }
        heads.retain(|h| mask.contains(&h.status.as_str()));
        heads.sort_by(|a, b| {
            (&a.name, &a.namespace, a.version).cmp(&(&b.name, &b.namespace, b.version))
        });
        let total = heads.len();
        heads.truncate(s.max_releases);
        let releases = store::fetch(&s.client, &heads).await?;
        let where_ = match ns {
            Some(ns) => format!("in namespace {ns}"),
            None => "in any namespace".to_owned(),
        };
        if releases.is_empty() {
            let states = mask.join(", ");
            return Ok(ToolOutput::text(format!(
                "No Helm releases {where_} with status {states}{}. (all=true lists every status; \
                 all_namespaces=true every namespace.)",
                filter
                    .as_ref()
                    .map(|f| format!(" matching {:?}", f.as_str()))
                    .unwrap_or_default()
            )));
        }
        let cut_note = (total > releases.len()).then(|| {
            format!(
                "... {} more releases not shown (use filter or namespace to narrow the list).",
                total - releases.len()
            )
        });
        let entries: Vec<Value> = releases.iter().map(list_entry).collect();
        let text = match output.as_str() {
            "json" => serde_json::to_string_pretty(&entries).unwrap_or_default(),
            "yaml" => serde_yaml::to_string(&entries).unwrap_or_default(),
            _ => {
                let table = Table {
                    headers: vec![
                        "NAME",
                        "NAMESPACE",
                        "REVISION",
                        "UPDATED",
                        "STATUS",
                        "CHART",
                        "APP VERSION",
                    ],
                    rows: releases
                        .iter()
                        .map(|r| {
                            vec![
                                r.name.clone(),
                                r.namespace.clone(),
                                r.version.to_string(),
                                short_time(r.info.last_deployed.as_deref()),
                                dash(&r.info.status),
                                r.chart_ref(),
                                dash(&r.chart.metadata.app_version),
                            ]
                        })
                        .collect(),
                };
                table.render()
            }
        };
        let mut text = s.bound(text, "Use filter or namespace to narrow the list.");
        if let Some(note) = cut_note {
            text.push_str(&note);
        }
        Ok(ToolOutput::text(text).with_structured(json!({"releases": entries, "total": total})))
    }
}

/// Redacts values whose key looks secret (`password`, `secret`, `token`, `apikey`, ...).
pub(crate) fn redact_values(v: &mut Value) {
    fn secret_key(k: &str) -> bool {
        let k = k.to_ascii_lowercase();
        [
            "password",
            "passwd",
            "secret",
            "token",
            "apikey",
            "api_key",
            "api-key",
            "credential",
            "privatekey",
            "private_key",
            "private-key",
        ]
        .iter()
        .any(|p| k.contains(p))
    }
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if secret_key(k) && !(val.is_object() || val.is_null()) {
                    *val = Value::String("<redacted>".to_owned());
                } else {
                    redact_values(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_values),
        _ => {}
    }
}

/// The manifest with the values of every Secret redacted (its other objects unchanged, byte for
/// byte), unless `allow`.
pub(crate) fn redact_manifest(manifest: &str, allow: bool) -> String {
    if allow || !manifest.contains("Secret") {
        return manifest.to_owned();
    }
    let mut out = String::with_capacity(manifest.len());
    let mut doc = String::new();
    let flush = |doc: &mut String, out: &mut String| {
        out.push_str(&redact_doc(doc));
        doc.clear();
    };
    for line in manifest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            flush(&mut doc, &mut out);
            out.push_str(line);
        } else {
            doc.push_str(line);
        }
    }
    flush(&mut doc, &mut out);
    out
}

fn redact_doc(doc: &str) -> String {
    let Ok(mut v) = serde_yaml::from_str::<Value>(doc) else {
        return doc.to_owned();
    };
    if v.get("kind").and_then(Value::as_str) != Some("Secret") {
        return doc.to_owned();
    }
    kagent_k8s::render::redact_secret(&mut v);
    let comments: String = doc
        .lines()
        .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        .filter(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    format!(
        "{comments}{}",
        serde_yaml::to_string(&v).unwrap_or_default()
    )
}

fn yaml_of(map: &Map<String, Value>, allow_secrets: bool) -> String {
    if map.is_empty() {
        return "null\n".to_owned();
    }
    let mut v = Value::Object(map.clone());
    if !allow_secrets {
        redact_values(&mut v);
    }
    serde_yaml::to_string(&v).unwrap_or_default()
}

/// Arguments of `helm_get_release`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetReleaseArgs {
    /// The name of the release.
    pub name: String,
    /// The namespace of the release (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The resource to get: all (default), hooks, manifest, notes or values.
    #[serde(default)]
    pub resource: Option<String>,
    /// The revision (default: the latest).
    #[serde(default)]
    pub revision: Option<Count>,
    /// With resource=values: the computed values (chart defaults merged with the user's), not
    /// only the user-supplied ones.
    #[serde(default)]
    pub all_values: Flag,
}

family_tool!(
    /// `helm_get_release`: a release's manifest, values, hooks or notes (`helm get`).
    GetRelease,
    Shared,
    "helm_get_release",
    ToolEffect::ReadOnly,
    GetReleaseArgs,
    "Get extended information about a Helm release: resource=all (default), hooks, manifest, \
     notes or values (user-supplied; all_values=true for the computed values). revision picks \
     an older revision."
);

fn revision_arg(c: Option<Count>) -> Result<Option<u32>> {
    match c {
        None | Some(Count(0)) => Ok(None),
        Some(Count(n)) => u32::try_from(n)
            .map(Some)
            .map_err(|_| HelmError::invalid("revision", "too large")),
    }
}

fn hooks_text(r: &Release, allow: bool) -> String {
    let mut out = String::new();
    for h in &r.hooks {
        let _ = writeln!(out, "---\n# Source: {}", h.path);
        out.push_str(&redact_manifest(h.manifest.trim_end(), allow));
        out.push('\n');
    }
    out
}

impl GetRelease {
    async fn exec(&self, args: GetReleaseArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let name = args.name.trim();
        check_release_name(name)?;
        let ns = s.ns(&args.namespace);
        check_namespace(ns)?;
        let resource = non_empty(&args.resource)
            .unwrap_or("all")
            .to_ascii_lowercase();
        if !matches!(
            resource.as_str(),
            "all" | "hooks" | "manifest" | "notes" | "values"
        ) {
            return Err(HelmError::invalid(
                "resource",
                format!("{resource:?}: use all, hooks, manifest, notes or values"),
            ));
        }
        let r = store::release(&s.client, ns, name, revision_arg(args.revision)?).await?;
        let allow = s.allow_secret_values;
        let user = r.config.clone().unwrap_or_default();
        let text = match resource.as_str() {
            "manifest" => redact_manifest(&r.manifest, allow),
            "notes" => {
                if r.info.notes.trim().is_empty() {
                    format!("Release {name} (revision {}) has no notes.", r.version)
                } else {
                    format!("NOTES:\n{}", r.info.notes)
                }
            }
            "hooks" => {
                if r.hooks.is_empty() {
                    format!("Release {name} (revision {}) has no hooks.", r.version)
                } else {
                    hooks_text(&r, allow)
                }
            }
            "values" if args.all_values.0 => {
                format!("COMPUTED VALUES:\n{}", yaml_of(&r.computed_values(), allow))
            }
            "values" => format!("USER-SUPPLIED VALUES:\n{}", yaml_of(&user, allow)),
            _ => {
                let mut t = status_header(&r);
                let _ = write!(
                    t,
                    "USER-SUPPLIED VALUES:\n{}\nCOMPUTED VALUES:\n{}\nHOOKS:\n{}MANIFEST:\n{}\n",
                    yaml_of(&user, allow),
                    yaml_of(&r.computed_values(), allow),
                    hooks_text(&r, allow),
                    redact_manifest(&r.manifest, allow),
                );
                if !r.info.notes.trim().is_empty() {
                    let _ = write!(t, "NOTES:\n{}", r.info.notes);
                }
                t
            }
        };
        Ok(ToolOutput::text(s.bound(
            text,
            "Ask for one part with resource=manifest, values, hooks or notes.",
        )))
    }
}

/// NAME / NAMESPACE / STATUS / REVISION / ... lines, as `helm status` begins.
fn status_header(r: &Release) -> String {
    let m = &r.chart.metadata;
    let mut t = String::new();
    let _ = writeln!(t, "NAME: {}", r.name);
    let _ = writeln!(t, "NAMESPACE: {}", r.namespace);
    let _ = writeln!(t, "STATUS: {}", dash(&r.info.status));
    let _ = writeln!(t, "REVISION: {}", r.version);
    let _ = writeln!(
        t,
        "LAST DEPLOYED: {}",
        short_time(r.info.last_deployed.as_deref())
    );
    let _ = writeln!(
        t,
        "CHART: {} (app version {})",
        r.chart_ref(),
        dash(&m.app_version)
    );
    if !r.info.description.is_empty() {
        let _ = writeln!(t, "DESCRIPTION: {}", r.info.description);
    }
    t
}

/// Arguments of `helm_status`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StatusArgs {
    /// The name of the release.
    pub name: String,
    /// The namespace of the release (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The revision (default: the latest).
    #[serde(default)]
    pub revision: Option<Count>,
}

family_tool!(
    /// `helm_status`: status, revision, chart, resources, test hooks and notes of a release.
    Status,
    Shared,
    "helm_status",
    ToolEffect::ReadOnly,
    StatusArgs,
    "Show the status of a Helm release: status, revision, last deployed, chart and app \
     version, description, the objects it manages, its test hooks' last runs and its notes."
);

impl Status {
    async fn exec(&self, args: StatusArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let name = args.name.trim();
        check_release_name(name)?;
        let ns = s.ns(&args.namespace);
        check_namespace(ns)?;
        let r = store::release(&s.client, ns, name, revision_arg(args.revision)?).await?;
        let mut t = status_header(&r);
        let objects = manifest_objects(&r.manifest);
        let _ = writeln!(t, "RESOURCES ({}): {}", objects.len(), objects.join(", "));
        let tests: Vec<String> = r
            .hooks
            .iter()
            .filter(|h| h.events.iter().any(|e| e == "test" || e == "test-success"))
            .map(|h| {
                let run = &h.last_run;
                if run.phase.is_empty() {
                    format!("{}/{} (never run)", h.kind, h.name)
                } else {
                    format!(
                        "{}/{} {} (completed {})",
                        h.kind,
                        h.name,
                        run.phase,
                        short_time(run.completed_at.as_deref())
                    )
                }
            })
            .collect();
        let _ = writeln!(
            t,
            "TEST SUITE: {}",
            if tests.is_empty() {
                "None".to_owned()
            } else {
                tests.join(", ")
            }
        );
        if !r.info.notes.trim().is_empty() {
            let _ = write!(t, "NOTES:\n{}", r.info.notes);
        }
        Ok(ToolOutput::text(s.bound(
            t,
            "helm_get_release with resource=notes shows the notes alone.",
        )))
    }
}

/// Arguments of `helm_history`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct HistoryArgs {
    /// The name of the release.
    pub name: String,
    /// The namespace of the release (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Most revisions to show, newest kept (default 256, as helm).
    #[serde(default)]
    pub max: Option<Count>,
}

family_tool!(
    /// `helm_history`: the revisions of a release.
    History,
    Shared,
    "helm_history",
    ToolEffect::ReadOnly,
    HistoryArgs,
    "Show the revision history of a Helm release: revision, updated, status, chart, app version \
     and description of each (oldest first). Use it to pick a revision for helm_rollback."
);

impl History {
    async fn exec(&self, args: HistoryArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let name = args.name.trim();
        check_release_name(name)?;
        let ns = s.ns(&args.namespace);
        check_namespace(ns)?;
        let max = match args.max {
            None | Some(Count(0)) => 256,
            Some(Count(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let (revs, total) = store::history(&s.client, ns, name, max).await?;
        let table = Table {
            headers: vec![
                "REVISION",
                "UPDATED",
                "STATUS",
                "CHART",
                "APP VERSION",
                "DESCRIPTION",
            ],
            rows: revs
                .iter()
                .map(|r| {
                    vec![
                        r.version.to_string(),
                        short_time(r.info.last_deployed.as_deref()),
                        dash(&r.info.status),
                        r.chart_ref(),
                        dash(&r.chart.metadata.app_version),
                        one_line(&r.info.description, 120),
                    ]
                })
                .collect(),
        };
        let mut text = table.render();
        if total > revs.len() {
            let _ = writeln!(
                text,
                "... {} older revisions not shown (raise max to see them).",
                total - revs.len()
            );
        }
        Ok(ToolOutput::text(
            s.bound(text, "Lower max to see fewer revisions."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> ListReleasesArgs {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn state_masks_follow_helm() {
        assert_eq!(state_mask(&args(json!({}))), ["deployed", "failed"]);
        assert_eq!(
            state_mask(&args(json!({"all": "true"}))).len(),
            STATES.len()
        );
        assert_eq!(
            state_mask(&args(json!({"pending": true}))),
            ["pending-install", "pending-upgrade", "pending-rollback"]
        );
    }

    #[test]
    fn secrets_in_manifests_and_values_are_redacted() {
        let m = "---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";
        let r = redact_manifest(m, false);
        assert!(!r.contains("aHVudGVyMg"), "{r}");
        assert!(r.contains("<redacted: about"), "{r}");
        assert!(r.contains("# Source: c/templates/s.yaml"), "{r}");
        assert!(
            r.contains("# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap"),
            "{r}"
        );
        assert_eq!(redact_manifest(m, true), m);

        let mut v =
            json!({"db": {"password": "hunter2", "user": "app"}, "apiToken": 42, "tokens": ["a"]});
        redact_values(&mut v);
        assert_eq!(v["db"]["password"], "<redacted>");
        assert_eq!(v["db"]["user"], "app");
        assert_eq!(v["apiToken"], "<redacted>");
        assert_eq!(v["tokens"], "<redacted>", "lists of secrets too");
    }

    #[test]
    fn times_are_short() {
        assert_eq!(
            short_time(Some("2026-01-10T11:00:00.123456789Z")),
            "2026-01-10 11:00:00Z"
        );
        assert_eq!(short_time(Some("")), "-");
        assert_eq!(short_time(None), "-");
    }
}
