//! Mutating tools: scale, patch, patch status, apply, create, delete, labels and annotations.
//!
//! Every one of them can run as a server-side dry run (`dryRun=All`) — when the call's
//! [`ToolContext::dry_run`] is set or the `dry_run` argument is true — and reports the change as
//! a unified diff of the object before and after, so an approval request can show it.

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kube::api::{DeleteParams, Patch};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Shared, is_dry, k8s_tool, need_name, obj_ref, where_};
use crate::apply::{ApplyOptions, apply_objects};
use crate::args::{Count, Flag, non_empty};
use crate::catalog::ResourceInfo;
use crate::error::{K8sError, Result};
use crate::kapi;
use crate::render::{change_report, object_diff, s as vs};

/// Parses a JSON or YAML value.
fn parse_doc(what: &'static str, text: &str) -> Result<Value> {
    serde_yaml::from_str::<Value>(text).map_err(|e| K8sError::invalid(what, e.to_string()))
}

/// Splits a multi-document YAML (or a JSON object, or a `List`) into objects.
pub(crate) fn parse_manifests(text: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v =
            Value::deserialize(doc).map_err(|e| K8sError::invalid("manifest", e.to_string()))?;
        match v {
            Value::Null => continue,
            Value::Object(ref m)
                if m.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                    && m.contains_key("items") =>
            {
                if let Some(Value::Array(items)) = m.get("items") {
                    out.extend(items.iter().cloned());
                }
            }
            Value::Object(_) => out.push(v),
            other => {
                return Err(K8sError::invalid(
                    "manifest",
                    format!("each document must be an object, got {other}"),
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(K8sError::invalid("manifest", "no objects in the manifest"));
    }
    for (n, o) in out.iter().enumerate() {
        if vs(o, "/apiVersion").is_empty() || vs(o, "/kind").is_empty() {
            return Err(K8sError::invalid(
                "manifest",
                format!("document {} has no apiVersion or kind", n + 1),
            ));
        }
        if vs(o, "/metadata/name").is_empty() && vs(o, "/metadata/generateName").is_empty() {
            return Err(K8sError::invalid(
                "manifest",
                format!(
                    "document {} ({}) has no metadata.name",
                    n + 1,
                    vs(o, "/kind")
                ),
            ));
        }
    }
    Ok(out)
}

/// Arguments of `k8s_scale`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ScaleArgs {
    /// Name of the deployment (or of the resource named by resource_type).
    pub name: String,
    /// Namespace of the deployment (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Number of replicas.
    pub replicas: Count,
    /// Kind to scale (default deployment; statefulset, replicaset or any kind with a scale
    /// subresource).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_scale`: sets replicas through the scale subresource.
    Scale,
    "k8s_scale",
    ToolEffect::Mutating,
    ScaleArgs,
    "Scale a Kubernetes deployment (or statefulset/replicaset) to a number of replicas."
);

impl Scale {
    async fn exec(&self, args: ScaleArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let ty = non_empty(&args.resource_type).unwrap_or("deployment");
        let info = s.catalog.resolve(ty).await?;
        if !info.subresources.is_empty() && !info.has_subresource("scale") {
            return Err(K8sError::Unsupported {
                message: format!(
                    "{} cannot be scaled (no scale subresource)",
                    info.qualified_name()
                ),
            });
        }
        let ns = s.ns(&args.namespace).to_owned();
        let ns_opt = info.namespaced.then_some(ns.as_str());
        let name = args.name.trim().to_owned();
        let replicas = i64::try_from(args.replicas.0)
            .map_err(|_| K8sError::invalid("replicas", "too large"))?;
        let before = kapi::get(&s.client, &info, ns_opt, &name).await?;
        let old = before.pointer("/spec/replicas").and_then(Value::as_i64);
        kapi::patch(
            &s.client,
            &info,
            ns_opt,
            &name,
            Some("scale"),
            &s.patch_params(dry),
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
        )
        .await?;
        let mut after = before.clone();
        if let Some(spec) = after.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), json!(replicas));
        }
        let what = format!(
            "scale {}{} from {} to {replicas} replicas",
            obj_ref(&info, &name),
            where_(&info, &ns),
            old.map(|o| o.to_string()).unwrap_or_else(|| "?".into())
        );
        Ok(change_report(
            dry,
            &what,
            &object_diff(Some(&before), Some(&after), false, s.allow_secret_values),
        ))
    }
}

/// Arguments of `k8s_patch_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct PatchArgs {
    /// Type of resource (deployment, service, etc.).
    pub resource_type: String,
    /// Name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// The patch (JSON or YAML; for patch_type json an RFC 6902 operation array).
    pub patch: String,
    /// Patch strategy: "strategic" (default for built-in kinds), "merge" (RFC 7386; default for
    /// custom resources) or "json" (RFC 6902).
    #[serde(default)]
    pub patch_type: Option<String>,
    /// Namespace of the resource (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_patch_resource`: strategic, merge or JSON patch of any object.
    PatchResource,
    "k8s_patch_resource",
    ToolEffect::Mutating,
    PatchArgs,
    "Patch a Kubernetes resource. patch_type is strategic (default for built-in kinds), merge \
     (default for custom resources) or json. Returns a diff of the change."
);

fn is_builtin_group(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

fn build_patch(info: &ResourceInfo, patch_type: Option<&str>, text: &str) -> Result<Patch<Value>> {
    let ty = match patch_type {
        Some(t) => t.to_ascii_lowercase(),
        None if is_builtin_group(&info.resource.group) => "strategic".into(),
        None => "merge".into(),
    };
    match ty.as_str() {
        "strategic" => Ok(Patch::Strategic(parse_doc("patch", text)?)),
        "merge" => Ok(Patch::Merge(parse_doc("patch", text)?)),
        "json" => {
            let v = parse_doc("patch", text)?;
            let p: json_patch::Patch = serde_json::from_value(v).map_err(|e| {
                K8sError::invalid("patch", format!("not an RFC 6902 JSON patch: {e}"))
            })?;
            Ok(Patch::Json(p))
        }
        other => Err(K8sError::invalid(
            "patch_type",
            format!("{other:?}: must be one of strategic, merge, json"),
        )),
    }
}

impl PatchResource {
    async fn exec(&self, args: PatchArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let (ty, name) = need_name(&args.resource_type, &args.resource_name)?;
        let info = s.catalog.resolve(&ty).await?;
        let patch = build_patch(&info, non_empty(&args.patch_type), &args.patch)?;
        let ns = s.ns(&args.namespace).to_owned();
        let ns_opt = info.namespaced.then_some(ns.as_str());
        let before = kapi::get(&s.client, &info, ns_opt, &name).await?;
        let after = kapi::patch(
            &s.client,
            &info,
            ns_opt,
            &name,
            None,
            &s.patch_params(dry),
            &patch,
        )
        .await?;
        let what = format!("patch {}{}", obj_ref(&info, &name), where_(&info, &ns));
        Ok(change_report(
            dry,
            &what,
            &object_diff(Some(&before), Some(&after), false, s.allow_secret_values),
        ))
    }
}

/// Arguments of `k8s_patch_status`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct PatchStatusArgs {
    /// Type of resource (deployment, a custom resource, etc.).
    pub resource_type: String,
    /// Name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// JSON/YAML merge patch of the status, e.g. {"status": {"phase": "Ready"}}.
    pub patch: String,
    /// Namespace of the resource (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_patch_status`: merge patch of the status subresource.
    PatchStatus,
    "k8s_patch_status",
    ToolEffect::Mutating,
    PatchStatusArgs,
    "Patch the status of a Kubernetes resource (merge patch on the status subresource)."
);

impl PatchStatus {
    async fn exec(&self, args: PatchStatusArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let (ty, name) = need_name(&args.resource_type, &args.resource_name)?;
        let info = s.catalog.resolve(&ty).await?;
        let mut body = parse_doc("patch", &args.patch)?;
        // Accept a bare status body too.
        if body.get("status").is_none() {
            body = json!({"status": body});
        }
        let ns = s.ns(&args.namespace).to_owned();
        let ns_opt = info.namespaced.then_some(ns.as_str());
        let before = kapi::get(&s.client, &info, ns_opt, &name).await?;
        let after = kapi::patch(
            &s.client,
            &info,
            ns_opt,
            &name,
            Some("status"),
            &s.patch_params(dry),
            &Patch::Merge(body),
        )
        .await?;
        let what = format!(
            "patch status of {}{}",
            obj_ref(&info, &name),
            where_(&info, &ns)
        );
        Ok(change_report(
            dry,
            &what,
            &object_diff(Some(&before), Some(&after), true, s.allow_secret_values),
        ))
    }
}

/// Arguments of `k8s_apply_manifest`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ApplyArgs {
    /// YAML manifest content (one or more documents separated by ---).
    pub manifest: String,
    /// Namespace for namespaced objects that name none (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_apply_manifest`: server-side apply of a multi-document manifest.
    ApplyManifest,
    "k8s_apply_manifest",
    ToolEffect::Mutating,
    ApplyArgs,
    "Apply a YAML manifest to the Kubernetes cluster (server-side apply; creates or updates each \
     object). Returns a diff per object."
);

/// Applies or creates each object of a manifest; returns (summary lines, diffs).
async fn apply_docs(
    s: &Shared,
    docs: Vec<Value>,
    namespace: &str,
    dry: bool,
    create_only: bool,
) -> Result<(Vec<String>, String)> {
    let opts = ApplyOptions::new(s.field_manager.clone())
        .dry_run(dry)
        .create_only(create_only)
        .allow_secret_values(s.allow_secret_values);
    let applied = apply_objects(&s.client, &s.catalog, docs, namespace, &opts).await?;
    let mut summary = Vec::with_capacity(applied.len());
    let mut diffs = String::new();
    for a in applied {
        summary.push(a.summary());
        let _ = writeln!(diffs, "### {}\n{}", a.reference, a.diff);
    }
    Ok((summary, diffs))
}

fn multi_report(dry: bool, summary: &[String], diffs: &str) -> ToolOutput {
    let mut text = if dry {
        "DRY RUN (server-side, nothing changed):\n".to_owned()
    } else {
        String::new()
    };
    for line in summary {
        let _ = writeln!(text, "{}{line}", if dry { "would be " } else { "" });
    }
    text.push_str("--- diff ---\n");
    text.push_str(diffs);
    ToolOutput::text(text)
        .with_structured(json!({"dry_run": dry, "objects": summary, "diff": diffs}))
}

impl ApplyManifest {
    async fn exec(&self, args: ApplyArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let docs = parse_manifests(&args.manifest)?;
        let ns = s.ns(&args.namespace).to_owned();
        let (summary, diffs) = apply_docs(s, docs, &ns, dry, false).await?;
        Ok(multi_report(dry, &summary, &s.bound(diffs, "")))
    }
}

/// Arguments of `k8s_create_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct CreateArgs {
    /// YAML content of the resource (one or more documents).
    pub yaml_content: String,
    /// Namespace for namespaced objects that name none (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would be created, without creating anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_create_resource`: creates objects from YAML (fails if they exist).
    CreateResource,
    "k8s_create_resource",
    ToolEffect::Mutating,
    CreateArgs,
    "Create a Kubernetes resource from YAML content (fails if it already exists; use \
     k8s_apply_manifest to create or update)."
);

impl CreateResource {
    async fn exec(&self, args: CreateArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let docs = parse_manifests(&args.yaml_content)?;
        let ns = s.ns(&args.namespace).to_owned();
        let (summary, diffs) = apply_docs(s, docs, &ns, dry, true).await?;
        Ok(multi_report(dry, &summary, &s.bound(diffs, "")))
    }
}

/// Creates the objects of a fetched manifest (used by `k8s_create_resource_from_url`).
pub(crate) async fn create_docs(
    s: &Shared,
    text: &str,
    namespace: &str,
    dry: bool,
) -> Result<ToolOutput> {
    let docs = parse_manifests(text)?;
    let (summary, diffs) = apply_docs(s, docs, namespace, dry, true).await?;
    Ok(multi_report(dry, &summary, &s.bound(diffs, "")))
}

/// Arguments naming one object, plus dry run.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct DeleteArgs {
    /// Type of resource (pod, service, deployment, etc.).
    pub resource_type: String,
    /// Name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Namespace of the resource (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would be deleted, without deleting.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_delete_resource`: deletes one object (its dependents are garbage-collected).
    DeleteResource,
    "k8s_delete_resource",
    ToolEffect::Destructive,
    DeleteArgs,
    "Delete a Kubernetes resource. Objects it owns (a Deployment's ReplicaSets and pods, ...) are \
     deleted by the garbage collector."
);

impl DeleteResource {
    async fn exec(&self, args: DeleteArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let (ty, name) = need_name(&args.resource_type, &args.resource_name)?;
        let info = s.catalog.resolve(&ty).await?;
        let ns = s.ns(&args.namespace).to_owned();
        let ns_opt = info.namespaced.then_some(ns.as_str());
        let before = kapi::get(&s.client, &info, ns_opt, &name).await?;
        let mut dp = DeleteParams::background();
        dp.dry_run = dry;
        kapi::delete(&s.client, &info, ns_opt, &name, &dp).await?;
        let what = format!("delete {}{}", obj_ref(&info, &name), where_(&info, &ns));
        Ok(change_report(
            dry,
            &what,
            &object_diff(Some(&before), None, false, s.allow_secret_values),
        ))
    }
}

/// Parses `k=v k2=v2` (also comma-separated for labels, and `k-` to remove) into a merge map.
pub(crate) fn parse_pairs(text: &str, labels: bool) -> Result<Map<String, Value>> {
    let what = if labels { "labels" } else { "annotations" };
    let words = shlex::split(text).ok_or_else(|| K8sError::invalid(what, "unbalanced quotes"))?;
    let mut out = Map::new();
    let tokens: Vec<String> = if labels {
        words
            .iter()
            .flat_map(|w| w.split(',').map(str::to_owned).collect::<Vec<_>>())
            .filter(|w| !w.is_empty())
            .collect()
    } else {
        words
    };
    for tok in tokens {
        if let Some((k, v)) = tok.split_once('=') {
            check_key(what, k)?;
            if labels {
                check_label_value(v)?;
            }
            out.insert(k.to_owned(), Value::String(v.to_owned()));
        } else if let Some(k) = tok.strip_suffix('-') {
            check_key(what, k)?;
            out.insert(k.to_owned(), Value::Null);
        } else {
            return Err(K8sError::invalid(
                what,
                format!("{tok:?} is not key=value (or key- to remove)"),
            ));
        }
    }
    if out.is_empty() {
        return Err(K8sError::invalid(what, "no key=value pairs given"));
    }
    Ok(out)
}

/// A qualified name: optional DNS-subdomain prefix and `/`, then 1-63 of `[A-Za-z0-9._-]`,
/// starting and ending alphanumeric.
/// The change that removes `key` (a trailing `-`, kubectl's removal syntax, is accepted) from
/// `labels` or `annotations`.
fn removal(what: &'static str, key: &str) -> Result<Map<String, Value>> {
    let key = key.trim().trim_end_matches('-');
    check_key(what, key)?;
    Ok(Map::from_iter([(key.to_owned(), Value::Null)]))
}

fn check_key(what: &'static str, key: &str) -> Result<()> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    if name_ok && prefix_ok {
        Ok(())
    } else {
        Err(K8sError::invalid(
            what,
            format!("{key:?} is not a valid key"),
        ))
    }
}

fn check_label_value(v: &str) -> Result<()> {
    let ok = v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && v.chars().last().is_some_and(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(K8sError::invalid(
            "labels",
            format!("{v:?} is not a valid label value (63 alphanumerics, '-', '_', '.')"),
        ))
    }
}

/// Merge-patches `metadata.<field>` and reports the diff.
#[allow(clippy::too_many_arguments)]
async fn patch_meta(
    s: &Shared,
    ctx: &ToolContext,
    dry_flag: Flag,
    resource_type: &str,
    resource_name: &Option<String>,
    namespace: &Option<String>,
    field: &str,
    changes: Map<String, Value>,
) -> Result<ToolOutput> {
    let dry = is_dry(dry_flag, ctx);
    let (ty, name) = need_name(resource_type, resource_name)?;
    let info = s.catalog.resolve(&ty).await?;
    let ns = s.ns(namespace).to_owned();
    let ns_opt = info.namespaced.then_some(ns.as_str());
    let before = kapi::get(&s.client, &info, ns_opt, &name).await?;
    let keys: Vec<String> = changes
        .iter()
        .map(|(k, v)| {
            if v.is_null() {
                format!("{k}-")
            } else {
                format!("{k}={}", v.as_str().unwrap_or(""))
            }
        })
        .collect();
    let absent: Vec<&String> = changes
        .iter()
        .filter(|(k, v)| {
            v.is_null()
                && before
                    .pointer(&format!("/metadata/{field}"))
                    .and_then(|m| m.get(k.as_str()))
                    .is_none()
        })
        .map(|(k, _)| k)
        .collect();
    let after = kapi::patch(
        &s.client,
        &info,
        ns_opt,
        &name,
        None,
        &s.patch_params(dry),
        &Patch::Merge(json!({"metadata": {field: changes}})),
    )
    .await?;
    let mut what = format!(
        "set {field} {} on {}{}",
        keys.join(" "),
        obj_ref(&info, &name),
        where_(&info, &ns)
    );
    if !absent.is_empty() {
        let _ = write!(
            what,
            " (not present, nothing to remove: {})",
            absent
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(change_report(
        dry,
        &what,
        &object_diff(Some(&before), Some(&after), false, s.allow_secret_values),
    ))
}

/// Arguments of `k8s_label_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct LabelArgs {
    /// The type of resource.
    pub resource_type: String,
    /// The name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Space-separated key=value pairs for labels (key- removes a label).
    pub labels: String,
    /// The namespace of the resource.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_label_resource`: adds or updates labels.
    LabelResource,
    "k8s_label_resource",
    ToolEffect::Mutating,
    LabelArgs,
    "Add or update labels on a Kubernetes resource."
);

impl LabelResource {
    async fn exec(&self, args: LabelArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let changes = parse_pairs(&args.labels, true)?;
        patch_meta(
            &self.0,
            ctx,
            args.dry_run,
            &args.resource_type,
            &args.resource_name,
            &args.namespace,
            "labels",
            changes,
        )
        .await
    }
}

/// Arguments of `k8s_annotate_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct AnnotateArgs {
    /// The type of resource.
    pub resource_type: String,
    /// The name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Space-separated key=value pairs for annotations (quote values with spaces; key- removes).
    pub annotations: String,
    /// The namespace of the resource.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_annotate_resource`: adds or updates annotations.
    AnnotateResource,
    "k8s_annotate_resource",
    ToolEffect::Mutating,
    AnnotateArgs,
    "Add or update annotations on a Kubernetes resource."
);

impl AnnotateResource {
    async fn exec(&self, args: AnnotateArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let changes = parse_pairs(&args.annotations, false)?;
        patch_meta(
            &self.0,
            ctx,
            args.dry_run,
            &args.resource_type,
            &args.resource_name,
            &args.namespace,
            "annotations",
            changes,
        )
        .await
    }
}

/// Arguments of `k8s_remove_label`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct RemoveLabelArgs {
    /// The type of resource.
    pub resource_type: String,
    /// The name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// The key of the label to remove.
    pub label_key: String,
    /// The namespace of the resource.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_remove_label`.
    RemoveLabel,
    "k8s_remove_label",
    ToolEffect::Mutating,
    RemoveLabelArgs,
    "Remove a label from a Kubernetes resource."
);

impl RemoveLabel {
    async fn exec(&self, args: RemoveLabelArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let changes = removal("labels", &args.label_key)?;
        patch_meta(
            &self.0,
            ctx,
            args.dry_run,
            &args.resource_type,
            &args.resource_name,
            &args.namespace,
            "labels",
            changes,
        )
        .await
    }
}

/// Arguments of `k8s_remove_annotation`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct RemoveAnnotationArgs {
    /// The type of resource.
    pub resource_type: String,
    /// The name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// The key of the annotation to remove.
    pub annotation_key: String,
    /// The namespace of the resource.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_remove_annotation`.
    RemoveAnnotation,
    "k8s_remove_annotation",
    ToolEffect::Mutating,
    RemoveAnnotationArgs,
    "Remove an annotation from a Kubernetes resource."
);

impl RemoveAnnotation {
    async fn exec(&self, args: RemoveAnnotationArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let changes = removal("annotations", &args.annotation_key)?;
        patch_meta(
            &self.0,
            ctx,
            args.dry_run,
            &args.resource_type,
            &args.resource_name,
            &args.namespace,
            "annotations",
            changes,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_pairs_parse_and_validate() {
        let m = parse_pairs("app=web tier=fe,env=prod old-", true).unwrap();
        assert_eq!(m["app"], "web");
        assert_eq!(m["env"], "prod");
        assert!(m["old"].is_null());
        assert!(parse_pairs("app", true).is_err());
        assert!(parse_pairs("", true).is_err());
        assert!(parse_pairs("app=has space", true).is_err());
        assert!(parse_pairs("app=-bad", true).is_err());
        assert!(parse_pairs("Bad_Prefix/app=x", true).is_err());
        assert!(parse_pairs("example.com/app=x", true).is_ok());
        let a = parse_pairs("note='two words' example.com/x=a,b", false).unwrap();
        assert_eq!(a["note"], "two words");
        assert_eq!(a["example.com/x"], "a,b");
        assert!(parse_pairs("note='unbalanced", false).is_err());
    }

    #[test]
    fn manifests_split_and_are_checked() {
        let docs = parse_manifests(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["kind"], "Secret");
        assert!(parse_manifests("").is_err());
        assert!(parse_manifests("kind: ConfigMap\nmetadata: {name: a}").is_err());
        assert!(parse_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {}").is_err());
        assert!(parse_manifests("- a\n- b").is_err());
        assert!(parse_manifests("{{{").is_err());
        // JSON is YAML.
        assert_eq!(
            parse_manifests(r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"#)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn patch_types_default_by_group() {
        let all = crate::catalog::builtin_resources();
        let deploy = crate::catalog::resolve_in(&all, "deploy").unwrap();
        assert!(matches!(
            build_patch(&deploy, None, "{}").unwrap(),
            Patch::Strategic(_)
        ));
        let mut cr = deploy.clone();
        cr.resource.group = "example.com".into();
        assert!(matches!(
            build_patch(&cr, None, "{}").unwrap(),
            Patch::Merge(_)
        ));
        assert!(matches!(
            build_patch(
                &cr,
                Some("json"),
                r#"[{"op":"replace","path":"/spec/replicas","value":2}]"#
            )
            .unwrap(),
            Patch::Json(_)
        ));
        assert!(build_patch(&cr, Some("json"), r#"{"spec":{}}"#).is_err());
        assert!(build_patch(&cr, Some("xml"), "{}").is_err());
        assert!(build_patch(&cr, Some("merge"), "{unclosed").is_err());
    }
}
