//! `k8s_rollout`: history, pause, restart, resume, status and undo of Deployments,
//! StatefulSets and DaemonSets.

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kube::api::{ListParams, Patch};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{is_dry, k8s_tool, need_name, obj_ref, where_};
use crate::args::{Count, Flag};
use crate::catalog::ResourceInfo;
use crate::error::{K8sError, Result};
use crate::kapi;
use crate::labels::{label_selector_at, list_params};
use crate::render::{arr, change_report, desired_replicas, i, object_diff, s as vs};

/// Arguments of `k8s_rollout`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct RolloutArgs {
    /// The rollout action: history, pause, restart, resume, status or undo.
    pub action: String,
    /// The type of resource (deployment, statefulset, daemonset).
    pub resource_type: String,
    /// The name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// The namespace of the resource.
    #[serde(default)]
    pub namespace: Option<String>,
    /// For undo: the revision to roll back to (default: the previous one).
    #[serde(default)]
    pub to_revision: Option<Count>,
    /// For pause/restart/resume/undo: validate on the server and report the change only.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_rollout`: history, pause, restart, resume, status, undo.
    Rollout,
    "k8s_rollout",
    ToolEffect::Mutating,
    RolloutArgs,
    "Perform rollout operations on Kubernetes resources (history, pause, restart, resume, \
     status, undo) for deployments, statefulsets and daemonsets."
);

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

fn revision_of(v: &Value) -> i64 {
    v.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .or_else(|| v.get("revision").and_then(Value::as_i64))
        .unwrap_or(0)
}

impl Rollout {
    async fn exec(&self, args: RolloutArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = is_dry(args.dry_run, ctx);
        let (ty, name) = need_name(&args.resource_type, &args.resource_name)?;
        let info = s.catalog.resolve(&ty).await?;
        let kind = info.resource.kind.clone();
        if !(info.resource.group == "apps"
            && matches!(kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
        {
            return Err(K8sError::Unsupported {
                message: format!(
                    "rollout works on deployments, statefulsets and daemonsets, not {}",
                    info.qualified_name()
                ),
            });
        }
        let ns = s.ns(&args.namespace).to_owned();
        let obj = kapi::get(&s.client, &info, Some(&ns), &name).await?;
        let action = args.action.trim().to_ascii_lowercase();
        let target = format!("{}{}", obj_ref(&info, &name), where_(&info, &ns));
        let pp = s.patch_params(dry);
        let patch_and_report = |body: Patch<Value>, what: String| {
            let info = info.clone();
            let ns = ns.clone();
            let name = name.clone();
            let pp = pp.clone();
            let obj = obj.clone();
            async move {
                let after =
                    kapi::patch(&s.client, &info, Some(&ns), &name, None, &pp, &body).await?;
                let diff = object_diff(Some(&obj), Some(&after), false, s.allow_secret_values);
                Ok::<ToolOutput, K8sError>(change_report(dry, &what, &diff))
            }
        };
        match action.as_str() {
            "status" => Ok(ToolOutput::text(rollout_status(&obj))),
            "history" => Ok(ToolOutput::text(self.history(&info, &ns, &obj).await?)),
            "pause" | "resume" => {
                if kind != "Deployment" {
                    return Err(K8sError::Unsupported {
                        message: format!("{action} is only supported for deployments"),
                    });
                }
                let paused = action == "pause";
                patch_and_report(
                    Patch::Merge(json!({"spec": {"paused": paused}})),
                    format!(
                        "{} rollout of {target}",
                        if paused { "pause" } else { "resume" }
                    ),
                )
                .await
            }
            "restart" => {
                let now = jiff::Timestamp::now().to_string();
                patch_and_report(
                    Patch::Merge(json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}})),
                    format!("restart {target} (new pods replace the old ones per its update strategy)"),
                )
                .await
            }
            "undo" => {
                if kind != "Deployment" {
                    return Err(K8sError::Unsupported {
                        message: "undo is supported for deployments; for statefulsets and daemonsets apply the previous manifest".into(),
                    });
                }
                let rss = self.owned_replicasets(&ns, &obj).await?;
                let current = revision_of(&obj);
                let wanted = args.to_revision.map(|c| c.0 as i64).filter(|r| *r > 0);
                let target_rs = match wanted {
                    Some(r) => rss.iter().find(|rs| revision_of(rs) == r),
                    None => rss
                        .iter()
                        .filter(|rs| revision_of(rs) < current)
                        .max_by_key(|rs| revision_of(rs)),
                };
                let Some(rs) = target_rs else {
                    return Err(K8sError::Unsupported {
                        message: match wanted {
                            Some(r) => {
                                format!("revision {r} of {target} not found (see action=history)")
                            }
                            None => format!("{target} has no previous revision to roll back to"),
                        },
                    });
                };
                let mut template = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
                if let Some(l) = template
                    .pointer_mut("/metadata/labels")
                    .and_then(Value::as_object_mut)
                {
                    l.remove("pod-template-hash");
                }
                let rev = revision_of(rs);
                let ops: json_patch::Patch = serde_json::from_value(json!([
                    {"op": "replace", "path": "/spec/template", "value": template}
                ]))
                .map_err(|e| K8sError::invalid("patch", e.to_string()))?;
                patch_and_report(
                    Patch::Json(ops),
                    format!("roll back {target} to revision {rev}"),
                )
                .await
            }
            other => Err(K8sError::invalid(
                "action",
                format!("{other:?}: must be one of history, pause, restart, resume, status, undo"),
            )),
        }
    }

    async fn owned_replicasets(&self, ns: &str, deploy: &Value) -> Result<Vec<Value>> {
        let s = &self.0;
        let rs_info = s.catalog.resolve("replicasets.apps").await?;
        let uid = vs(deploy, "/metadata/uid");
        let name = vs(deploy, "/metadata/name");
        let lp = match label_selector_at(deploy, "/spec/selector")? {
            Some(sel) => list_params(&sel),
            None => ListParams::default(),
        };
        let items = kapi::list_all(&s.client, &rs_info, Some(ns), &lp, 2_000).await?;
        Ok(items
            .into_iter()
            .filter(|rs| {
                arr(rs, "/metadata/ownerReferences").iter().any(|o| {
                    vs(o, "/kind") == "Deployment"
                        && (vs(o, "/uid") == uid || (uid.is_empty() && vs(o, "/name") == name))
                        || (vs(o, "/name") == name && vs(o, "/kind") == "Deployment")
                })
            })
            .collect())
    }

    async fn history(&self, info: &ResourceInfo, ns: &str, obj: &Value) -> Result<String> {
        let s = &self.0;
        let mut revisions: Vec<(i64, String, String)> = Vec::new();
        if info.resource.kind == "Deployment" {
            for rs in self.owned_replicasets(ns, obj).await? {
                let images: Vec<&str> = arr(&rs, "/spec/template/spec/containers")
                    .iter()
                    .map(|c| vs(c, "/image"))
                    .collect();
                let cause = rs
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(CHANGE_CAUSE))
                    .and_then(Value::as_str)
                    .unwrap_or("<none>")
                    .to_owned();
                revisions.push((
                    revision_of(&rs),
                    format!(
                        "{} replicas={}",
                        vs(&rs, "/metadata/name"),
                        i(&rs, "/status/replicas")
                    ),
                    format!("{} cause={cause}", images.join(",")),
                ));
            }
        } else {
            let cr = s.catalog.resolve("controllerrevisions.apps").await?;
            let uid = vs(obj, "/metadata/uid");
            for r in kapi::list_all(&s.client, &cr, Some(ns), &ListParams::default(), 2_000).await?
            {
                if arr(&r, "/metadata/ownerReferences")
                    .iter()
                    .any(|o| vs(o, "/uid") == uid || vs(o, "/name") == vs(obj, "/metadata/name"))
                {
                    let images: Vec<&str> = arr(&r, "/data/spec/template/spec/containers")
                        .iter()
                        .map(|c| vs(c, "/image"))
                        .collect();
                    revisions.push((
                        revision_of(&r),
                        vs(&r, "/metadata/name").to_owned(),
                        images.join(","),
                    ));
                }
            }
        }
        if revisions.is_empty() {
            return Ok(format!(
                "No rollout history found for {}/{}.",
                info.resource.kind,
                vs(obj, "/metadata/name")
            ));
        }
        revisions.sort_by_key(|r| r.0);
        let current = revision_of(obj);
        let mut out = "REVISION  DETAILS\n".to_owned();
        for (rev, a, b) in revisions {
            let _ = writeln!(
                out,
                "{rev}{}  {a} {b}",
                if rev == current && current > 0 {
                    " (current)"
                } else {
                    ""
                }
            );
        }
        Ok(out)
    }
}

/// What `kubectl rollout status` would say, without waiting.
pub(crate) fn rollout_status(obj: &Value) -> String {
    let kind = vs(obj, "/kind");
    let name = vs(obj, "/metadata/name");
    let gen_ = i(obj, "/metadata/generation");
    let observed = i(obj, "/status/observedGeneration");
    if gen_ > 0 && observed < gen_ {
        return format!(
            "Waiting for {kind} {name:?} spec update to be observed (generation {gen_}, observed {observed})."
        );
    }
    match kind {
        "Deployment" => {
            if let Some(c) = arr(obj, "/status/conditions")
                .iter()
                .find(|c| vs(c, "/type") == "Progressing")
                && vs(c, "/reason") == "ProgressDeadlineExceeded"
            {
                return format!(
                    "error: deployment {name:?} exceeded its progress deadline: {}",
                    vs(c, "/message")
                );
            }
            if obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
                return format!(
                    "deployment {name:?} is paused; resume it to continue the rollout."
                );
            }
            let desired = desired_replicas(obj);
            let updated = i(obj, "/status/updatedReplicas");
            let total = i(obj, "/status/replicas");
            let available = i(obj, "/status/availableReplicas");
            if updated < desired {
                format!(
                    "Waiting for deployment {name:?} rollout to finish: {updated} of {desired} updated replicas are available..."
                )
            } else if total > updated {
                format!(
                    "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...",
                    total - updated
                )
            } else if available < updated {
                format!(
                    "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."
                )
            } else {
                format!(
                    "deployment {name:?} successfully rolled out ({available}/{desired} available)"
                )
            }
        }
        "StatefulSet" => {
            let desired = desired_replicas(obj);
            let ready = i(obj, "/status/readyReplicas");
            let updated = i(obj, "/status/updatedReplicas");
            let cur = vs(obj, "/status/currentRevision");
            let upd = vs(obj, "/status/updateRevision");
            if ready < desired {
                format!(
                    "Waiting for {} pods to be ready ({ready}/{desired})...",
                    desired - ready
                )
            } else if !upd.is_empty() && cur != upd {
                format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {desired} new pods have been updated..."
                )
            } else {
                format!("statefulset rolling update complete {ready} pods at revision {cur}")
            }
        }
        _ => {
            let desired = i(obj, "/status/desiredNumberScheduled");
            let updated = i(obj, "/status/updatedNumberScheduled");
            let available = i(obj, "/status/numberAvailable");
            if updated < desired {
                format!(
                    "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."
                )
            } else if available < desired {
                format!(
                    "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."
                )
            } else {
                format!("daemon set {name:?} successfully rolled out")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollout_status_reads_like_kubectl() {
        let d = json!({"kind": "Deployment", "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3}, "status": {"observedGeneration": 2, "updatedReplicas": 1, "replicas": 3, "availableReplicas": 2}});
        assert!(
            rollout_status(&d).contains("1 of 3 updated replicas"),
            "{}",
            rollout_status(&d)
        );
        let done = json!({"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2},
            "status": {"updatedReplicas": 2, "replicas": 2, "availableReplicas": 2}});
        assert!(rollout_status(&done).contains("successfully rolled out"));
        let stuck = json!({"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2},
            "status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}]}});
        assert!(rollout_status(&stuck).contains("exceeded its progress deadline"));
        let lag = json!({"kind": "StatefulSet", "metadata": {"name": "db", "generation": 3}, "status": {"observedGeneration": 2}});
        assert!(rollout_status(&lag).contains("spec update"));
    }
}
