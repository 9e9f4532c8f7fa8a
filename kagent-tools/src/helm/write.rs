//! Mutating Helm tools, run through the helm CLI. Each answers with what changed (or, with
//! `dry_run`, what would change): a diff of the user-supplied values and of the rendered
//! manifest between the release's current revision and the new one, computed from the release
//! Secrets and helm's `--output json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::{Count, Flag};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::cli::{Captured, HelmCli, Invocation};
use super::error::{HelmError, Result};
use super::read::{redact_manifest, redact_values};
use super::release::{Release, manifest_objects};
use super::{Shared, check_namespace, check_release_name, store};
use crate::family::{family_tool, non_empty};

fn cli(s: &Shared) -> Result<&HelmCli> {
    // The write tools are only registered with a CLI configured; this guards direct use.
    s.cli.as_ref().ok_or_else(|| HelmError::BinaryUnavailable {
        path: "(none configured)".to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no kubeconfig configured for helm writes",
        ),
    })
}

/// A positional or flag value a model gave: non-empty, no leading `-`, no control characters.
fn plain_arg(argument: &'static str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(HelmError::invalid(argument, "must not be empty"));
    }
    if v.starts_with('-') {
        return Err(HelmError::invalid(
            argument,
            format!("{v:?} must not start with '-'"),
        ));
    }
    if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(HelmError::invalid(
            argument,
            format!("{v:?} must not contain whitespace or control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// `--timeout` for helm's own waiting, a little under the tool's time limit.
fn helm_timeout(cli: &HelmCli) -> String {
    format!(
        "--timeout={}s",
        cli.timeout.as_secs().saturating_sub(5).max(1)
    )
}

/// The user-supplied values as YAML for a diff (secret-looking values redacted).
fn values_yaml(r: Option<&Release>, allow: bool) -> String {
    let Some(map) = r.and_then(|r| r.config.clone()).filter(|m| !m.is_empty()) else {
        return String::new();
    };
    let mut v = Value::Object(map);
    if !allow {
        redact_values(&mut v);
    }
    serde_yaml::to_string(&v).unwrap_or_default()
}

fn text_diff(old: &str, new: &str, from: &str, to: &str) -> String {
    if old == new {
        return "(no changes)\n".to_owned();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(from, to)
        .to_string()
}

/// `name (revision N, chart-x.y.z, status)`.
fn describe(r: &Release) -> String {
    format!(
        "revision {} ({}, {})",
        r.version,
        r.chart_ref(),
        if r.info.status.is_empty() {
            "-"
        } else {
            &r.info.status
        }
    )
}

/// The change between two revisions: values and manifest diffs.
fn diffs(s: &Shared, old: Option<&Release>, new: Option<&Release>, from: &str, to: &str) -> String {
    let allow = s.allow_secret_values;
    let mut out = String::new();
    let _ = writeln!(out, "--- values diff (user-supplied) ---");
    out.push_str(&text_diff(
        &values_yaml(old, allow),
        &values_yaml(new, allow),
        from,
        to,
    ));
    let _ = writeln!(out, "--- manifest diff ---");
    let m = |r: Option<&Release>| {
        r.map(|r| redact_manifest(&r.manifest, allow))
            .unwrap_or_default()
    };
    out.push_str(&text_diff(&m(old), &m(new), from, to));
    out
}

fn headline(dry: bool, dry_flag: &str, what: &str) -> String {
    if dry {
        format!("DRY RUN (helm {dry_flag}, nothing changed): would {what}")
    } else {
        what.to_owned()
    }
}

fn output(s: &Shared, dry: bool, summary: String, body: String, extra: Value) -> ToolOutput {
    let text = s.bound(
        format!("{summary}\n{body}"),
        "helm_get_release with resource=manifest shows a whole manifest.",
    );
    let mut structured = json!({"dry_run": dry, "summary": summary});
    if let (Some(m), Value::Object(e)) = (structured.as_object_mut(), extra) {
        m.extend(e);
    }
    ToolOutput::text(text).with_structured(structured)
}

/// helm's own words, bounded, for results that are not JSON.
fn helm_said(out: &Captured) -> String {
    let text = out.stdout.trim();
    let mut s = kagent_k8s::render::bound_text(text.to_owned(), 4_000, "");
    if out.stdout_dropped > 0 {
        let _ = write!(
            s,
            "\n... {} more bytes of helm output dropped",
            out.stdout_dropped
        );
    }
    s
}

/// Arguments of `helm_upgrade`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpgradeArgs {
    /// The name of the release.
    pub name: String,
    /// The chart to install or upgrade to: repo/chart (after helm_repo_add), an oci:// reference,
    /// a chart archive URL or a local chart path.
    pub chart: String,
    /// The namespace of the release (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The version of the chart to upgrade to (default: the latest).
    #[serde(default)]
    pub version: Option<String>,
    /// Values: inline YAML (e.g. "replicaCount: 3\nimage:\n  tag: 1.27"), or the path of a values
    /// file inside a directory the tool server allows.
    #[serde(default)]
    pub values: Option<String>,
    /// Set values on the command line (e.g. 'key1=val1,key2=val2'; helm's --set syntax).
    #[serde(default)]
    pub set: Option<String>,
    /// Run an install if the release is not present.
    #[serde(default)]
    pub install: Flag,
    /// Keep the current release's user-supplied values and merge values/set over them (helm's
    /// --reuse-values); otherwise only the values given now apply, over the chart's defaults.
    #[serde(default)]
    pub reuse_values: Flag,
    /// Simulate an upgrade: render against the cluster and report the diff, change nothing.
    #[serde(default)]
    pub dry_run: Flag,
    /// Wait until the release's resources are ready (up to the tool's time limit).
    #[serde(default)]
    pub wait: Flag,
}

family_tool!(
    /// `helm_upgrade`: `helm upgrade [--install]`, reporting values and manifest diffs.
    Upgrade,
    Shared,
    "helm_upgrade",
    ToolEffect::Mutating,
    UpgradeArgs,
    "Upgrade or install (install=true) a Helm release to a chart version with values (inline \
     YAML or --set). Returns the diff of values and rendered manifest against the current \
     revision; dry_run=true previews it without changing anything."
);

/// Where values come from: inline YAML through helm's stdin, or an allowed file.
enum ValuesSource {
    Inline(Vec<u8>),
    File(PathBuf),
}

fn values_source(s: &Shared, values: &str) -> Result<ValuesSource> {
    let v = values.trim();
    let looks_inline =
        v.contains('\n') || v.contains(": ") || v.starts_with('{') || v.ends_with(':');
    if looks_inline {
        let parsed: Value = serde_yaml::from_str(v)
            .map_err(|e| HelmError::invalid("values", format!("not valid YAML: {e}")))?;
        if !parsed.is_object() {
            return Err(HelmError::invalid(
                "values",
                "must be a YAML mapping (key: value lines)",
            ));
        }
        return Ok(ValuesSource::Inline(v.as_bytes().to_vec()));
    }
    if v.contains("://") {
        return Err(HelmError::invalid(
            "values",
            "URLs are not accepted; pass the values inline as YAML",
        ));
    }
    let path = Path::new(v);
    let allowed = path.canonicalize().ok().filter(|p| {
        s.values_dirs.iter().any(|d| {
            d.canonicalize()
                .is_ok_and(|d| p.starts_with(&d) && p.is_file())
        })
    });
    match allowed {
        Some(p) => Ok(ValuesSource::File(p)),
        None if s.values_dirs.is_empty() => Err(HelmError::invalid(
            "values",
            format!(
                "{v:?} looks like a file path, and this tool server reads no values files: pass \
                 the values inline as YAML instead"
            ),
        )),
        None => Err(HelmError::invalid(
            "values",
            format!(
                "{v:?} is not a file inside the allowed values directories ({}); pass the values \
                 inline as YAML instead",
                s.values_dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

impl Upgrade {
    async fn exec(&self, args: UpgradeArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let cli = cli(s)?;
        let dry = args.dry_run.0 || ctx.dry_run;
        let name = args.name.trim();
        check_release_name(name)?;
        let ns = s.ns(&args.namespace).to_owned();
        check_namespace(&ns)?;
        let chart = plain_arg("chart", &args.chart)?;
        let mut inv = Invocation::new(&["upgrade"])
            .flag_if(args.install.0, "--install")
            .flag_if(args.reuse_values.0, "--reuse-values")
            .flag("--output=json");
        if let Some(v) = non_empty(&args.version) {
            inv = inv.flag(format!("--version={}", plain_arg("version", v)?));
        }
        if let Some(values) = non_empty(&args.values) {
            match values_source(s, values)? {
                ValuesSource::Inline(bytes) => {
                    inv = inv.flag("--values=-");
                    inv.stdin = Some(bytes);
                }
                ValuesSource::File(path) => {
                    let mut f = std::ffi::OsString::from("--values=");
                    f.push(path.as_os_str());
                    inv = inv.flag(f);
                }
            }
        }
        if let Some(set) = non_empty(&args.set) {
            if !set.contains('=') {
                return Err(HelmError::invalid(
                    "set",
                    format!("{set:?}: expected key=value pairs, comma-separated"),
                ));
            }
            if set.chars().any(char::is_control) {
                return Err(HelmError::invalid(
                    "set",
                    "must not contain control characters",
                ));
            }
            inv = inv.flag(format!("--set={set}"));
        }
        if dry {
            inv = inv.flag("--dry-run=server");
        }
        if args.wait.0 && !dry {
            inv = inv.flag("--wait").flag(helm_timeout(cli));
        }
        let current = store::latest_opt(&s.client, &ns, name).await?;
        if current.is_none() && !args.install.0 {
            let mut e = store::not_found(&s.client, name, &ns).await;
            if let HelmError::ReleaseNotFound { hint, .. } = &mut e {
                hint.push_str("; pass install=true to install it");
            }
            return Err(e);
        }
        let inv = inv.in_cluster(&ns).arg(name).arg(chart.clone());
        let out = cli.run(&inv).await?;
        let new: Option<Release> = serde_json::from_str(out.stdout.trim()).ok();
        let verb = if current.is_some() {
            "upgrade"
        } else {
            "install"
        };
        let what = match (&current, &new) {
            (Some(c), Some(n)) => format!(
                "{verb} release {name} in namespace {ns}: {} -> {}",
                describe(c),
                describe(n)
            ),
            (None, Some(n)) => format!("{verb} release {name} in namespace {ns}: {}", describe(n)),
            (_, None) => format!("{verb} release {name} in namespace {ns} from {chart}"),
        };
        let summary = headline(dry, "--dry-run=server", &what);
        let body = match &new {
            Some(n) => {
                let from = current
                    .as_ref()
                    .map(|c| format!("revision {}", c.version))
                    .unwrap_or_else(|| "(not installed)".into());
                let to = format!("revision {}", n.version);
                let mut b = diffs(s, current.as_ref(), Some(n), &from, &to);
                if !dry && !n.info.notes.trim().is_empty() {
                    let _ = write!(b, "--- notes ---\n{}", n.info.notes);
                }
                b
            }
            None => helm_said(&out),
        };
        Ok(output(
            s,
            dry,
            summary,
            body,
            json!({
                "revision": new.as_ref().map(|n| n.version),
                "status": new.as_ref().map(|n| n.info.status.clone()),
            }),
        ))
    }
}

/// Arguments of `helm_uninstall`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UninstallArgs {
    /// The name of the release to uninstall.
    pub name: String,
    /// The namespace of the release (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Simulate an uninstall: report what would be deleted, change nothing.
    #[serde(default)]
    pub dry_run: Flag,
    /// Wait until every resource is deleted (up to the tool's time limit).
    #[serde(default)]
    pub wait: Flag,
    /// Keep the release history (the release is then listed as uninstalled and can be rolled
    /// back).
    #[serde(default)]
    pub keep_history: Flag,
}

family_tool!(
    /// `helm_uninstall`: `helm uninstall`, listing the objects it deletes.
    Uninstall,
    Shared,
    "helm_uninstall",
    ToolEffect::Destructive,
    UninstallArgs,
    "Uninstall a Helm release: deletes every object of its manifest (and, unless \
     keep_history=true, its history). dry_run=true lists what would be deleted."
);

impl Uninstall {
    async fn exec(&self, args: UninstallArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let cli = cli(s)?;
        let dry = args.dry_run.0 || ctx.dry_run;
        let name = args.name.trim();
        check_release_name(name)?;
        let ns = s.ns(&args.namespace).to_owned();
        check_namespace(&ns)?;
        let current = store::release(&s.client, &ns, name, None).await?;
        let mut inv = Invocation::new(&["uninstall"])
            .flag_if(dry, "--dry-run")
            .flag_if(args.keep_history.0, "--keep-history");
        if args.wait.0 && !dry {
            inv = inv.flag("--wait").flag(helm_timeout(cli));
        }
        let inv = inv.in_cluster(&ns).arg(name);
        let out = cli.run(&inv).await?;
        let objects = manifest_objects(&current.manifest);
        let what = format!(
            "uninstall release {name} in namespace {ns} ({}), deleting {} objects{}",
            describe(&current),
            objects.len(),
            if args.keep_history.0 {
                " and keeping its history"
            } else {
                " and its history"
            }
        );
        let mut body = String::new();
        let _ = writeln!(body, "--- objects ---");
        for o in &objects {
            let _ = writeln!(body, "{o}");
        }
        let said = helm_said(&out);
        if !said.is_empty() {
            let _ = writeln!(body, "--- helm ---\n{said}");
        }
        Ok(output(
            s,
            dry,
            headline(dry, "--dry-run", &what),
            body,
            json!({"objects": objects}),
        ))
    }
}

/// Arguments of `helm_rollback`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RollbackArgs {
    /// The name of the release.
    pub name: String,
    /// The namespace of the release (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The revision to roll back to (default: the previous one). helm_history lists them.
    #[serde(default)]
    pub revision: Option<Count>,
    /// Simulate the rollback: report the diff, change nothing.
    #[serde(default)]
    pub dry_run: Flag,
    /// Wait until the release's resources are ready (up to the tool's time limit).
    #[serde(default)]
    pub wait: Flag,
}

family_tool!(
    /// `helm_rollback`: `helm rollback` to a revision, reporting the diff.
    Rollback,
    Shared,
    "helm_rollback",
    ToolEffect::Mutating,
    RollbackArgs,
    "Roll a Helm release back to an earlier revision (default: the previous one), as a new \
     revision. Returns the diff of values and manifest; dry_run=true previews it."
);

impl Rollback {
    async fn exec(&self, args: RollbackArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let cli = cli(s)?;
        let dry = args.dry_run.0 || ctx.dry_run;
        let name = args.name.trim();
        check_release_name(name)?;
        let ns = s.ns(&args.namespace).to_owned();
        check_namespace(&ns)?;
        let current = store::release(&s.client, &ns, name, None).await?;
        let to = match args.revision {
            None | Some(Count(0)) => current.version.saturating_sub(1),
            Some(Count(n)) => {
                u32::try_from(n).map_err(|_| HelmError::invalid("revision", "too large"))?
            }
        };
        if to == 0 {
            return Err(HelmError::invalid(
                "revision",
                format!(
                    "release {name} has no revision before {}; name one with revision (see \
                     helm_history)",
                    current.version
                ),
            ));
        }
        if to == current.version {
            return Err(HelmError::invalid(
                "revision",
                format!("revision {to} is the current revision of release {name}"),
            ));
        }
        let target = store::release(&s.client, &ns, name, Some(to)).await?;
        let mut inv = Invocation::new(&["rollback"]).flag_if(dry, "--dry-run");
        if args.wait.0 && !dry {
            inv = inv.flag("--wait").flag(helm_timeout(cli));
        }
        let inv = inv.in_cluster(&ns).arg(name).arg(to.to_string());
        let out = cli.run(&inv).await?;
        let what = format!(
            "roll back release {name} in namespace {ns} from {} to the manifest and values of {} \
             (as revision {})",
            describe(&current),
            describe(&target),
            current.version + 1
        );
        let mut body = diffs(
            s,
            Some(&current),
            Some(&target),
            &format!("revision {}", current.version),
            &format!("revision {to}"),
        );
        let said = helm_said(&out);
        if !said.is_empty() {
            let _ = writeln!(body, "--- helm ---\n{said}");
        }
        Ok(output(
            s,
            dry,
            headline(dry, "--dry-run", &what),
            body,
            json!({"from_revision": current.version, "to_revision": to}),
        ))
    }
}

/// Arguments of `helm_repo_add`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RepoAddArgs {
    /// The name of the repository.
    pub name: String,
    /// The URL of the repository (http or https).
    pub url: String,
    /// Only validate the arguments (helm repo add has no dry run of its own).
    #[serde(default)]
    pub dry_run: Flag,
}

family_tool!(
    /// `helm_repo_add`: `helm repo add NAME URL` (local helm configuration).
    RepoAdd,
    Shared,
    "helm_repo_add",
    ToolEffect::Mutating,
    RepoAddArgs,
    "Add a Helm chart repository to the tool server's helm configuration (then charts are \
     referenced as NAME/chart)."
);

impl RepoAdd {
    async fn exec(&self, args: RepoAddArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let cli = cli(s)?;
        let dry = args.dry_run.0 || ctx.dry_run;
        let name = plain_arg("name", &args.name)?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(HelmError::invalid(
                "name",
                format!("{name:?}: use letters, digits, '-', '_' and '.'"),
            ));
        }
        let raw = plain_arg("url", &args.url)?;
        let url = url::Url::parse(&raw)
            .map_err(|e| HelmError::invalid("url", format!("{raw:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HelmError::invalid(
                "url",
                format!(
                    "{raw:?}: helm repositories are http or https URLs (OCI registries need no \
                     repo add: use chart=oci://...)"
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HelmError::invalid(
                "url",
                "credentials in the URL are not accepted",
            ));
        }
        let what = format!("add chart repository {name} ({url})");
        if dry {
            return Ok(output(
                s,
                true,
                format!(
                    "DRY RUN (arguments validated, nothing changed; helm repo add has no dry \
                     run): would {what}"
                ),
                String::new(),
                json!({}),
            ));
        }
        let out = cli
            .run(
                &Invocation::new(&["repo", "add"])
                    .arg(name)
                    .arg(url.as_str()),
            )
            .await?;
        Ok(output(s, false, what, helm_said(&out), json!({})))
    }
}

/// Arguments of `helm_repo_update` (none needed).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RepoUpdateArgs {
    /// Report what would be done without doing it.
    #[serde(default)]
    pub dry_run: Flag,
}

family_tool!(
    /// `helm_repo_update`: `helm repo update` (local helm repository cache).
    RepoUpdate,
    Shared,
    "helm_repo_update",
    ToolEffect::Mutating,
    RepoUpdateArgs,
    "Update information of available charts locally from chart repositories (refreshes the \
     tool server's repository index cache)."
);

impl RepoUpdate {
    async fn exec(&self, args: RepoUpdateArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let cli = cli(s)?;
        if args.dry_run.0 || ctx.dry_run {
            return Ok(output(
                s,
                true,
                "DRY RUN (nothing changed): would refresh the index of every configured chart \
                 repository"
                    .to_owned(),
                String::new(),
                json!({}),
            ));
        }
        let out = cli.run(&Invocation::new(&["repo", "update"])).await?;
        Ok(output(
            s,
            false,
            "refreshed the chart repository indexes".to_owned(),
            helm_said(&out),
            json!({}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_args_refuse_flags_and_spaces() {
        assert_eq!(plain_arg("chart", " ./chart ").unwrap(), "./chart");
        assert!(plain_arg("chart", "--post-renderer=/bin/sh").is_err());
        assert!(plain_arg("chart", "a b").is_err());
        assert!(plain_arg("chart", "").is_err());
    }

    #[test]
    fn diffs_show_changes_only() {
        assert_eq!(text_diff("a\n", "a\n", "x", "y"), "(no changes)\n");
        let d = text_diff("replicas: 1\n", "replicas: 3\n", "revision 1", "revision 2");
        assert!(
            d.contains("-replicas: 1") && d.contains("+replicas: 3"),
            "{d}"
        );
        assert!(d.contains("revision 1"), "{d}");
    }
}
