//! Operations: rollout, exec, service connectivity, create from URL, generate, diagnose.

use std::fmt::Write as _;

use futures::StreamExt;
use kagent_core::{ChatRequest, Message, ToolContext, ToolEffect, ToolOutput};
use kube::api::{ListParams, Patch, PatchParams};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use super::{k8s_tool, need_name, obj_ref, where_};
use crate::args::{Count, Flag, non_empty};
use crate::catalog::ResourceInfo;
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::error::{K8sError, Result};
use crate::kapi;
use crate::render::{arr, i, object_diff, s as vs};

/// Arguments of `k8s_rollout`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RolloutArgs {
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
        let dry = args.dry_run.0 || ctx.dry_run;
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
        let pp = PatchParams {
            dry_run: dry,
            field_manager: Some(s.field_manager.clone()),
            ..PatchParams::default()
        };
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
                let head = if dry {
                    format!("DRY RUN (server-side, nothing changed): would {what}")
                } else {
                    what
                };
                Ok::<ToolOutput, K8sError>(
                    ToolOutput::text(format!("{head}\n--- diff ---\n{diff}"))
                        .with_structured(json!({"dry_run": dry, "summary": head, "diff": diff})),
                )
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
        let sel = super::read::match_labels_selector(deploy, "/spec/selector/matchLabels");
        let lp = match &sel {
            Some(sel) => ListParams::default().labels(sel),
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
pub fn rollout_status(obj: &Value) -> String {
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
            let desired = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
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
            let desired = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
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

/// Arguments of `k8s_execute_command`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExecArgs {
    /// Name of the pod to execute in.
    pub pod_name: String,
    /// Namespace of the pod (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Container name (for multi-container pods).
    #[serde(default)]
    pub container: Option<String>,
    /// Command to execute, split like a shell would (`ls -la /tmp`, `sh -c 'ps aux | head'`).
    pub command: String,
}

k8s_tool!(
    /// `k8s_execute_command`: runs a command in a container (exec over WebSocket).
    ExecuteCommand,
    "k8s_execute_command",
    ToolEffect::Destructive,
    ExecArgs,
    "Execute a command in a Kubernetes pod and return its exit code, stdout and stderr."
);

async fn read_bounded<R: tokio::io::AsyncRead + Unpin>(r: Option<R>, max: usize) -> (String, bool) {
    let Some(mut r) = r else {
        return (String::new(), false);
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut cut = false;
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if buf.len() < max {
                    buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                } else {
                    cut = true;
                }
            }
        }
    }
    if buf.len() > max {
        buf.truncate(max);
        cut = true;
    }
    (String::from_utf8_lossy(&buf).into_owned(), cut)
}

impl ExecuteCommand {
    async fn exec(&self, args: ExecArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let argv = shlex::split(&args.command)
            .ok_or_else(|| K8sError::invalid("command", "unbalanced quotes"))?;
        if argv.is_empty() {
            return Err(K8sError::invalid("command", "empty command"));
        }
        let ns = s.ns(&args.namespace).to_owned();
        let pod = args.pod_name.trim().trim_start_matches("pod/").to_owned();
        if ctx.dry_run {
            return Ok(ToolOutput::text(format!(
                "DRY RUN: would run {argv:?} in pod/{pod}{} in namespace {ns} (exec has no server-side dry run; nothing was run)",
                non_empty(&args.container)
                    .map(|c| format!(" container {c}"))
                    .unwrap_or_default()
            )));
        }
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(s.client.clone(), &ns);
        let mut ap = kube::api::AttachParams::default()
            .stdout(true)
            .stderr(true)
            .stdin(false);
        if let Some(c) = non_empty(&args.container) {
            ap = ap.container(c);
        }
        let action = format!("exec in pod/{pod} in namespace {ns}");
        let run = async {
            let mut proc = api
                .exec(&pod, argv.clone(), &ap)
                .await
                .map_err(|e| K8sError::api(action.clone(), e))?;
            let half = s.max_output_chars / 2;
            let status = proc.take_status();
            let (out, err) = tokio::join!(
                read_bounded(proc.stdout(), half),
                read_bounded(proc.stderr(), half)
            );
            let status = match status {
                Some(f) => f.await,
                None => None,
            };
            let _ = proc.join().await;
            Ok::<_, K8sError>((out, err, status))
        };
        let (out, err, status) = match tokio::time::timeout(s.exec_timeout, run).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(K8sError::Unsupported {
                    message: format!("command did not finish within {:?}", s.exec_timeout),
                });
            }
        };
        let exit = match &status {
            Some(st) if st.status.as_deref() == Some("Success") => "0".to_owned(),
            Some(st) => st
                .details
                .as_ref()
                .and_then(|d| d.causes.as_ref())
                .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
                .and_then(|c| c.message.clone())
                .unwrap_or_else(|| format!("unknown ({})", st.message.as_deref().unwrap_or(""))),
            None => "unknown".to_owned(),
        };
        let mut text = format!("exit code: {exit}\n");
        let _ = writeln!(
            text,
            "stdout:{}\n{}",
            if out.1 { " (truncated)" } else { "" },
            out.0.trim_end()
        );
        if !err.0.trim().is_empty() {
            let _ = writeln!(
                text,
                "stderr:{}\n{}",
                if err.1 { " (truncated)" } else { "" },
                err.0.trim_end()
            );
        }
        Ok(ToolOutput::text(text))
    }
}

/// How long the connectivity probe waits for an answer through the service proxy.
const PROXY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Arguments of `k8s_check_service_connectivity`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectivityArgs {
    /// Service to test: `name`, `name.namespace`, `name.namespace.svc.cluster.local`, with an
    /// optional `:port`.
    pub service_name: String,
    /// Namespace of the service when service_name does not say (default: the configured one).
    #[serde(default)]
    pub namespace: Option<String>,
    /// HTTP path to request through the API server's service proxy (default `/`).
    #[serde(default)]
    pub path: Option<String>,
}

k8s_tool!(
    /// `k8s_check_service_connectivity`: does the Service route to ready pods, and does it
    /// answer? (Through the API server's service proxy; no pod is created.)
    CheckServiceConnectivity,
    "k8s_check_service_connectivity",
    ToolEffect::ReadOnly,
    ConnectivityArgs,
    "Check connectivity to a service: whether its selector matches ready pods, whether its \
     target ports exist, and an HTTP GET through the API server's service proxy. Creates \
     nothing in the cluster."
);

/// `web.shop.svc.cluster.local:8080` to (`web`, Some(`shop`), Some(`8080`)).
pub fn parse_service_name(text: &str) -> (String, Option<String>, Option<String>) {
    let t = text.trim();
    let t = t
        .strip_prefix("http://")
        .or_else(|| t.strip_prefix("https://"))
        .unwrap_or(t);
    let t = t.split('/').next().unwrap_or(t);
    let (host, port) = match t.rsplit_once(':') {
        Some((h, p))
            if !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            (h, Some(p.to_owned()))
        }
        _ => (t, None),
    };
    let mut parts = host.split('.');
    let name = parts.next().unwrap_or("").to_owned();
    let ns = parts
        .next()
        .filter(|n| !n.is_empty() && *n != "svc")
        .map(str::to_owned);
    (name, ns, port)
}

impl CheckServiceConnectivity {
    async fn exec(&self, args: ConnectivityArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let (name, ns_from_name, port) = parse_service_name(&args.service_name);
        if name.is_empty() {
            return Err(K8sError::invalid("service_name", "empty service name"));
        }
        let ns = ns_from_name.unwrap_or_else(|| s.ns(&args.namespace).to_owned());
        let svc_info = s.catalog.resolve("services").await?;
        let svc = kapi::get(&s.client, &svc_info, Some(&ns), &name).await?;
        let mut facts = Vec::new();
        let mut problems = Vec::new();
        let ports = arr(&svc, "/spec/ports");
        let chosen = match &port {
            Some(p) => ports
                .iter()
                .find(|sp| i(sp, "/port").to_string() == *p || vs(sp, "/name") == p),
            None => ports.first(),
        };
        if port.is_some() && chosen.is_none() {
            problems.push(format!(
                "the Service has no port {}",
                port.clone().unwrap_or_default()
            ));
        }
        facts.push(format!(
            "service/{name} in {ns}: type {}, clusterIP {}, ports {}",
            match vs(&svc, "/spec/type") {
                "" => "ClusterIP",
                t => t,
            },
            vs(&svc, "/spec/clusterIP"),
            ports
                .iter()
                .map(|p| format!(
                    "{}->{}",
                    i(p, "/port"),
                    p.get("targetPort")
                        .map(|t| t.to_string().replace('"', ""))
                        .unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(",")
        ));
        let selector = svc
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if selector.is_empty() {
            facts.push("no selector: endpoints are managed by hand".into());
        } else {
            let sel = selector
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",");
            let pods_info = s.catalog.resolve("pods").await?;
            let pods = kapi::list_all(
                &s.client,
                &pods_info,
                Some(&ns),
                &ListParams::default().labels(&sel),
                1_000,
            )
            .await?;
            let ready: Vec<&Value> = pods
                .iter()
                .filter(|p| {
                    arr(p, "/status/conditions")
                        .iter()
                        .any(|c| vs(c, "/type") == "Ready" && vs(c, "/status") == "True")
                })
                .collect();
            facts.push(format!(
                "selector {sel} matches {} pod(s), {} ready",
                pods.len(),
                ready.len()
            ));
            if pods.is_empty() {
                problems.push(format!("selector {sel} matches no pod"));
            } else if ready.is_empty() {
                let states: Vec<String> = pods
                    .iter()
                    .take(5)
                    .map(|p| {
                        format!(
                            "{} {}",
                            vs(p, "/metadata/name"),
                            crate::render::table::pod_status(p)
                        )
                    })
                    .collect();
                problems.push(format!("no selected pod is ready ({})", states.join(", ")));
            }
            if let Some(tp) = chosen.and_then(|p| p.get("targetPort")) {
                let found = match tp {
                    Value::String(named) => pods.iter().any(|p| {
                        arr(p, "/spec/containers")
                            .iter()
                            .flat_map(|c| arr(c, "/ports"))
                            .any(|cp| vs(cp, "/name") == named)
                    }),
                    Value::Number(n) => {
                        pods.is_empty()
                            || pods.iter().any(|p| {
                                let declared: Vec<i64> = arr(p, "/spec/containers")
                                    .iter()
                                    .flat_map(|c| arr(c, "/ports"))
                                    .map(|cp| i(cp, "/containerPort"))
                                    .collect();
                                declared.is_empty() || declared.contains(&n.as_i64().unwrap_or(0))
                            })
                    }
                    _ => true,
                };
                if !found {
                    problems.push(format!(
                        "targetPort {tp} is not a port of the selected pods"
                    ));
                }
            }
        }
        if let Some(eps) = super::read::service_endpoints(s, &ns, &name).await {
            facts.push(format!(
                "endpoints: {}",
                if eps.is_empty() {
                    "<none>".to_owned()
                } else {
                    eps.join(", ")
                }
            ));
        }
        // Probe through the API server's service proxy.
        let port_part = chosen
            .map(|p| match vs(p, "/name") {
                "" => i(p, "/port").to_string(),
                n => n.to_owned(),
            })
            .unwrap_or_default();
        let path = non_empty(&args.path).unwrap_or("/").trim_start_matches('/');
        let url = format!("/api/v1/namespaces/{ns}/services/{name}:{port_part}/proxy/{path}");
        let no_backends = problems
            .iter()
            .any(|p| p.contains("matches no pod") || p.contains("no selected pod is ready"));
        let probe = match http::Request::get(&url).body(Vec::new()) {
            // Nothing can answer: a probe would only wait for the API server's own timeout.
            Ok(_) if no_backends => "HTTP probe skipped: no ready pod backs the Service".to_owned(),
            Ok(req) => {
                match tokio::time::timeout(PROXY_TIMEOUT, s.client.request_text(req)).await {
                    Ok(Ok(body)) => format!(
                        "HTTP GET via API server proxy succeeded: {}",
                        crate::render::table::one_line(&body, 200)
                    ),
                    Ok(Err(kube::Error::Api(st))) => {
                        problems.push(format!(
                            "proxy GET answered {} {}: {}",
                            st.code, st.reason, st.message
                        ));
                        format!(
                            "HTTP GET via API server proxy failed: {} {}",
                            st.code, st.message
                        )
                    }
                    Ok(Err(e)) => format!("HTTP GET via API server proxy could not be made: {e}"),
                    Err(_) => {
                        problems.push(format!("proxy GET timed out after {PROXY_TIMEOUT:?}"));
                        "HTTP GET via API server proxy timed out".into()
                    }
                }
            }
            Err(e) => format!("probe skipped: {e}"),
        };
        facts.push(probe);
        let verdict = if problems.is_empty() {
            "REACHABLE".to_owned()
        } else {
            format!("PROBLEMS: {}", problems.join("; "))
        };
        let mut text = format!("{verdict}\n");
        for f in facts {
            let _ = writeln!(text, "- {f}");
        }
        Ok(ToolOutput::text(text))
    }
}

/// Arguments of `k8s_create_resource_from_url`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FromUrlArgs {
    /// The URL of the manifest (its host must be on the configured allow-list).
    pub url: String,
    /// The namespace to create the resource in.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would be created, without creating anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_create_resource_from_url`: fetches a manifest from an allowed host and creates it.
    CreateResourceFromUrl,
    "k8s_create_resource_from_url",
    ToolEffect::Mutating,
    FromUrlArgs,
    "Create Kubernetes resources from a URL pointing to a YAML manifest. Only hosts on the \
     configured allow-list may be used."
);

/// Largest manifest fetched from a URL.
const MAX_MANIFEST_BYTES: usize = 2 * 1024 * 1024;

/// Whether `host` is on the allow-list (`example.com` exact, `*.example.com` subdomains).
pub fn host_allowed(allow: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    allow.iter().any(|a| match a.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => *a == host,
    })
}

impl CreateResourceFromUrl {
    async fn exec(&self, args: FromUrlArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        if s.url_allow_list.is_empty() {
            return Err(K8sError::Forbidden {
                message:
                    "creating resources from URLs is turned off (no allowed hosts are configured)"
                        .into(),
            });
        }
        let url = url::Url::parse(args.url.trim())
            .map_err(|e| K8sError::invalid("url", e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(K8sError::invalid(
                "url",
                "only http and https URLs are supported",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(K8sError::invalid(
                "url",
                "URLs with credentials are not accepted",
            ));
        }
        let host = url.host_str().unwrap_or("");
        if !host_allowed(&s.url_allow_list, host) {
            return Err(K8sError::Forbidden {
                message: format!(
                    "host {host:?} is not on the allow-list ({})",
                    s.url_allow_list.join(", ")
                ),
            });
        }
        let Some(http) = &s.http else {
            return Err(K8sError::Forbidden {
                message: "no HTTP client is configured for fetching manifests".into(),
            });
        };
        let shown = format!("{}://{}{}", url.scheme(), host, url.path());
        let resp = http
            .get(url.clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| K8sError::Fetch {
                url: shown.clone(),
                source: e.without_url(),
            })?;
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| K8sError::Fetch {
                url: shown.clone(),
                source: e.without_url(),
            })?;
            body.extend_from_slice(&chunk);
            if body.len() > MAX_MANIFEST_BYTES {
                return Err(K8sError::invalid(
                    "url",
                    format!("manifest larger than {MAX_MANIFEST_BYTES} bytes"),
                ));
            }
        }
        let text =
            String::from_utf8(body).map_err(|_| K8sError::invalid("manifest", "not UTF-8 text"))?;
        let ns = s.ns(&args.namespace).to_owned();
        super::write::create_docs(s, &text, &ns, args.dry_run.0 || ctx.dry_run).await
    }
}

/// Arguments of `k8s_generate_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GenerateArgs {
    /// Detailed description of the resource to generate.
    pub resource_description: String,
    /// Type of resource to generate (istio_auth_policy, istio_virtual_service,
    /// gateway_api_gateway, gateway_api_http_route, gateway_api_grpc_route,
    /// gateway_api_gateway_class, gateway_api_reference_grant, argo_rollout,
    /// argo_analysis_template, or any Kubernetes kind such as Deployment).
    pub resource_type: String,
}

k8s_tool!(
    /// `k8s_generate_resource`: writes a manifest with the agent's own model.
    GenerateResource,
    "k8s_generate_resource",
    ToolEffect::ReadOnly,
    GenerateArgs,
    "Generate a Kubernetes resource YAML from a description (uses the agent's model; applies \
     nothing)."
);

/// Guidance per generation type (kagent's types plus any kind).
fn generation_guide(resource_type: &str) -> String {
    let specific = match resource_type {
        "istio_auth_policy" => {
            "an Istio security.istio.io/v1 AuthorizationPolicy (or PeerAuthentication when the description is about mTLS)"
        }
        "istio_virtual_service" => "an Istio networking.istio.io/v1 VirtualService",
        "gateway_api_gateway" => "a Gateway API gateway.networking.k8s.io/v1 Gateway",
        "gateway_api_http_route" => "a Gateway API gateway.networking.k8s.io/v1 HTTPRoute",
        "gateway_api_grpc_route" => "a Gateway API gateway.networking.k8s.io/v1 GRPCRoute",
        "gateway_api_gateway_class" => "a Gateway API gateway.networking.k8s.io/v1 GatewayClass",
        "gateway_api_reference_grant" => {
            "a Gateway API gateway.networking.k8s.io/v1beta1 ReferenceGrant"
        }
        "argo_rollout" => "an Argo Rollouts argoproj.io/v1alpha1 Rollout",
        "argo_analysis_template" => "an Argo Rollouts argoproj.io/v1alpha1 AnalysisTemplate",
        other => return format!("a Kubernetes {other} resource"),
    };
    specific.to_owned()
}

/// The YAML inside the first fenced block, or the whole text.
pub fn extract_yaml(text: &str) -> String {
    let t = text.trim();
    if let Some(start) = t.find("```") {
        let after = t.get(start + 3..).unwrap_or("");
        let after = after
            .split_once('\n')
            .map(|(_, rest)| rest)
            .unwrap_or(after);
        if let Some(end) = after.find("```") {
            return after.get(..end).unwrap_or(after).trim().to_owned();
        }
    }
    t.to_owned()
}

impl GenerateResource {
    async fn exec(&self, args: GenerateArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let Some(model) = &s.model else {
            return Err(K8sError::Unsupported {
                message: "no model is configured for resource generation (K8sToolsBuilder::model)"
                    .into(),
            });
        };
        let ty = args.resource_type.trim();
        if ty.is_empty() || args.resource_description.trim().is_empty() {
            return Err(K8sError::invalid(
                "arguments",
                "resource_type and resource_description are required",
            ));
        }
        let guide = generation_guide(ty);
        let mut req = ChatRequest::new(vec![Message::user(args.resource_description.clone())]);
        req.system = Some(format!(
            "You write Kubernetes manifests. Produce {guide} that does what the user describes. \
             Answer with only the YAML (one document per object, separated by ---), inside a ```yaml \
             fence, with apiVersion, kind and metadata.name set. Use current, non-deprecated API \
             versions. Do not invent cluster-specific values that were not given; use clear \
             placeholders instead."
        ));
        req.temperature = Some(0.0);
        let span = tracing::info_span!(
            "chat",
            "gen_ai.operation.name" = "chat",
            "gen_ai.request.model" = s.model_name.as_deref().unwrap_or("")
        );
        let resp = tracing::Instrument::instrument(model.chat(&req), span)
            .await
            .map_err(|e| K8sError::Unsupported {
                message: format!("the model call failed: {e}"),
            })?;
        let yaml = extract_yaml(&resp.message.text_content());
        match write_check(&yaml) {
            Ok(n) => Ok(ToolOutput::text(format!(
                "{yaml}\n# {n} object(s); review, then apply with k8s_apply_manifest"
            ))),
            Err(problem) => Ok(ToolOutput::text(format!(
                "{yaml}\n# WARNING: the generated text is not a valid manifest ({problem}); review and fix it before applying"
            ))),
        }
    }
}

fn write_check(yaml: &str) -> std::result::Result<usize, String> {
    super::write::parse_manifests(yaml)
        .map(|d| d.len())
        .map_err(|e| e.to_string())
}

/// Arguments of `k8s_diagnose`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DiagnoseArgs {
    /// Namespace to diagnose (default: all namespaces).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Read failing containers' logs as evidence (default true).
    #[serde(default)]
    pub include_logs: Option<Flag>,
}

k8s_tool!(
    /// `k8s_diagnose`: deterministic analyzers over the cluster's objects.
    Diagnose,
    "k8s_diagnose",
    ToolEffect::ReadOnly,
    DiagnoseArgs,
    "Diagnose problems in a namespace or the whole cluster with deterministic analyzers (pods, \
     deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs, services, ingresses, \
     PVCs, nodes, HPAs, PDBs, network policies, warning events). Returns findings with their \
     root cause and evidence (conditions, events, log lines)."
);

impl Diagnose {
    async fn exec(&self, args: DiagnoseArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let opts = DiagnoseOptions {
            namespace: non_empty(&args.namespace).map(str::to_owned),
            include_logs: args.include_logs.map(|f| f.0).unwrap_or(s.diagnose_logs),
            ..DiagnoseOptions::default()
        };
        let d = diagnose(&s.client, &s.catalog, &opts).await?;
        let text = s.bound(d.render(), "Diagnose one namespace at a time.");
        let mut output = ToolOutput::text(text);
        output.structured = serde_json::to_value(&d).ok();
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_parse() {
        assert_eq!(parse_service_name("web"), ("web".into(), None, None));
        assert_eq!(
            parse_service_name("web.shop:8080"),
            ("web".into(), Some("shop".into()), Some("8080".into()))
        );
        assert_eq!(
            parse_service_name("http://web.shop.svc.cluster.local:80/healthz"),
            ("web".into(), Some("shop".into()), Some("80".into()))
        );
        assert_eq!(
            parse_service_name("web:http"),
            ("web".into(), None, Some("http".into()))
        );
    }

    #[test]
    fn allow_list_matching() {
        let allow = vec![
            "raw.githubusercontent.com".to_owned(),
            "*.example.com".to_owned(),
        ];
        assert!(host_allowed(&allow, "raw.githubusercontent.com"));
        assert!(host_allowed(&allow, "RAW.githubusercontent.com"));
        assert!(host_allowed(&allow, "a.example.com"));
        assert!(!host_allowed(&allow, "example.com"));
        assert!(!host_allowed(&allow, "evil-example.com"));
        assert!(!host_allowed(&allow, "raw.githubusercontent.com.evil.io"));
        assert!(!host_allowed(&[], "a.example.com"));
    }

    #[test]
    fn yaml_is_taken_from_fences() {
        assert_eq!(
            extract_yaml("Here:\n```yaml\nkind: A\n```\nthanks"),
            "kind: A"
        );
        assert_eq!(extract_yaml("kind: B\n"), "kind: B");
        assert_eq!(
            generation_guide("argo_rollout"),
            "an Argo Rollouts argoproj.io/v1alpha1 Rollout"
        );
        assert_eq!(
            generation_guide("Deployment"),
            "a Kubernetes Deployment resource"
        );
    }

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
