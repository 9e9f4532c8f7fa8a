//! Read-only tools: get, logs, events, API resources, cluster configuration, YAML, describe.

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kube::api::{ListParams, LogParams};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Shared, k8s_tool, need_name, obj_ref, split_type_and_name};
use crate::args::{Count, Flag, non_empty};
use crate::catalog::ResourceInfo;
use crate::error::{K8sError, Result};
use crate::kapi;
use crate::labels::{Expression, Selector, label_selector_at, list_params};
use crate::render::{self, DescribeContext, sanitize, table_for, table_for_events};

/// Arguments of `k8s_get_resources`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct GetResourcesArgs {
    /// Type of resource (pod, service, deployment, po, deploy, deployments.apps, a CRD's plural
    /// or short name, ...). `type/name` is accepted too.
    pub resource_type: String,
    /// Name of a specific resource (optional).
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Namespace to query (optional; default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Query all namespaces (true/false).
    #[serde(default)]
    pub all_namespaces: Flag,
    /// Output format: wide (default: a compact table), json, yaml or name.
    #[serde(default)]
    pub output: Option<String>,
    /// Maximum number of resources to return (default 200); 0 returns all.
    #[serde(default)]
    pub limit: Option<Count>,
    /// Label selector, e.g. `app=web,tier!=cache`.
    #[serde(default)]
    pub label_selector: Option<String>,
    /// Field selector, e.g. `status.phase=Running` or `spec.nodeName=node-1`.
    #[serde(default)]
    pub field_selector: Option<String>,
    /// Continue token from a previous call's note, to read the next page.
    #[serde(default)]
    pub continue_token: Option<String>,
}

k8s_tool!(
    /// `k8s_get_resources`: lists or gets objects of any kind as a compact table (or json/yaml).
    GetResources,
    "k8s_get_resources",
    ToolEffect::ReadOnly,
    GetResourcesArgs,
    "Get Kubernetes resources of any type (built-in or custom). Default output is a compact \
     table whose columns carry the facts that matter (for pods: ready, status with the \
     waiting/terminated reason such as CrashLoopBackOff/OOMKilled/ImagePullBackOff, restarts, \
     last exit reason and code, node, age). Supports label/field selectors, all namespaces and \
     paging."
);

/// Which namespace to call with: `None` for all namespaces or cluster-scoped kinds.
fn scope<'a>(
    s: &'a Shared,
    info: &ResourceInfo,
    ns: &'a Option<String>,
    all: bool,
) -> Option<&'a str> {
    if !info.namespaced || all {
        None
    } else {
        Some(s.ns(ns))
    }
}

impl GetResources {
    async fn exec(&self, args: GetResourcesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let (ty, name) = split_type_and_name(&args.resource_type, non_empty(&args.resource_name));
        let info = s.catalog.resolve(&ty).await?;
        let all_ns = args.all_namespaces.0 && name.is_none();
        let ns = scope(s, &info, &args.namespace, all_ns);
        let output = non_empty(&args.output)
            .unwrap_or("wide")
            .to_ascii_lowercase();
        let limit = args.limit.map(|c| c.0).unwrap_or(s.default_limit);

        let mut notes = Vec::new();
        let items = if let Some(name) = &name {
            vec![kapi::get(&s.client, &info, ns, name).await?]
        } else {
            let lp = ListParams {
                label_selector: non_empty(&args.label_selector).map(str::to_owned),
                field_selector: non_empty(&args.field_selector).map(str::to_owned),
                limit: u32::try_from(limit).ok().filter(|l| *l > 0),
                continue_token: non_empty(&args.continue_token).map(str::to_owned),
                ..ListParams::default()
            };
            let mut page = kapi::list(&s.client, &info, ns, &lp).await?;
            let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
            if limit > 0 && page.items.len() > limit_usize {
                // The server ignored the limit: cut here.
                let total = page.items.len();
                page.items.truncate(limit_usize);
                notes.push(format!(
                    "... truncated: showing {limit} of {total} {}. Narrow with namespace, \
                     label_selector or field_selector, or pass a larger limit (0 = all).",
                    info.resource.plural
                ));
            } else if let Some(token) = &page.continue_token {
                let more = page
                    .remaining
                    .map(|r| format!("{r} more"))
                    .unwrap_or_else(|| "more".to_owned());
                notes.push(format!(
                    "... {more} {} not shown. Next page: call again with the same arguments and \
                     continue_token=\"{token}\"; or narrow with label_selector/field_selector.",
                    info.resource.plural
                ));
            }
            page.items
        };

        if items.is_empty() {
            let where_s = match ns {
                Some(ns) => format!(" in namespace {ns}"),
                None if info.namespaced => " in any namespace".to_owned(),
                None => String::new(),
            };
            return Ok(ToolOutput::text(format!(
                "No {} found{where_s}.",
                info.resource.plural
            )));
        }

        let mut text = match output.as_str() {
            "json" | "yaml" => {
                let mut items = items;
                for item in &mut items {
                    sanitize(item, s.allow_secret_values);
                }
                let doc = if name.is_some() && items.len() == 1 {
                    items.into_iter().next().unwrap_or(Value::Null)
                } else {
                    json!({"apiVersion": "v1", "kind": "List", "items": items})
                };
                if output == "json" {
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                } else {
                    serde_yaml::to_string(&doc).unwrap_or_default()
                }
            }
            "name" => items
                .iter()
                .map(|i| obj_ref(&info, render::s(i, "/metadata/name")))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => {
                let with_ns = info.namespaced && ns.is_none();
                table_for(&info.resource.kind, &items, with_ns, s.now()).render()
            }
        };
        for note in notes {
            text.push('\n');
            text.push_str(&note);
        }
        Ok(ToolOutput::text(s.bound(
            text,
            "Narrow the query (namespace, label_selector, field_selector, a smaller limit).",
        )))
    }
}

/// Arguments of `k8s_get_pod_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct GetPodLogsArgs {
    /// Name of the pod.
    pub pod_name: String,
    /// Namespace of the pod (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Container name (for multi-container pods; default: every container).
    #[serde(default)]
    pub container: Option<String>,
    /// Number of lines to show from the end (default: 50).
    #[serde(default)]
    pub tail_lines: Option<Count>,
    /// Show the previous (crashed) container's log instead of the current one.
    #[serde(default)]
    pub previous: Flag,
}

k8s_tool!(
    /// `k8s_get_pod_logs`: the tail of a pod's container logs.
    GetPodLogs,
    "k8s_get_pod_logs",
    ToolEffect::ReadOnly,
    GetPodLogsArgs,
    "Get logs from a Kubernetes pod (the last tail_lines lines; previous=true for the crashed \
     container's log). Without a container name every container's log is returned, labelled."
);

impl GetPodLogs {
    async fn exec(&self, args: GetPodLogsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let ns = s.ns(&args.namespace).to_owned();
        let pod_name = args.pod_name.trim().trim_start_matches("pod/").to_owned();
        let tail = args.tail_lines.map(|c| c.0).unwrap_or(50);
        let containers: Vec<String> = match non_empty(&args.container) {
            Some(c) => vec![c.to_owned()],
            None => {
                let pods = s.catalog.resolve("pods").await?;
                let pod = kapi::get(&s.client, &pods, Some(&ns), &pod_name).await?;
                render::arr(&pod, "/spec/containers")
                    .iter()
                    .map(|c| render::s(c, "/name").to_owned())
                    .collect()
            }
        };
        let per_container = (s.max_output_chars / containers.len().max(1)).max(1_000);
        let mut out = String::new();
        for c in &containers {
            let lp = LogParams {
                container: Some(c.clone()),
                tail_lines: if tail == 0 {
                    None
                } else {
                    i64::try_from(tail).ok()
                },
                previous: args.previous.0,
                limit_bytes: i64::try_from(per_container).ok(),
                ..LogParams::default()
            };
            let text = match kapi::logs(&s.client, &ns, &pod_name, &lp).await {
                Ok(t) => t,
                Err(e) if containers.len() > 1 && e.status_code() == Some(400) => {
                    format!("(no log: {e})\n")
                }
                Err(e) => return Err(e),
            };
            if containers.len() > 1 {
                let _ = writeln!(out, "==> container {c} <==");
            }
            if text.trim().is_empty() {
                out.push_str("(no log lines)\n");
            } else {
                out.push_str(&text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        Ok(ToolOutput::text(s.bound(out, "Ask for fewer tail_lines.")))
    }
}

/// Arguments of `k8s_get_events`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct GetEventsArgs {
    /// Namespace to get events from (default: all namespaces).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Field selector, e.g. `type=Warning` or `involvedObject.name=web-1`.
    #[serde(default)]
    pub field_selector: Option<String>,
    /// Only events of this type (Warning or Normal).
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
    /// Maximum events to show, newest kept (default 100).
    #[serde(default)]
    pub limit: Option<Count>,
}

k8s_tool!(
    /// `k8s_get_events`: recent events as a table, oldest first.
    GetEvents,
    "k8s_get_events",
    ToolEffect::ReadOnly,
    GetEventsArgs,
    "Get events from a Kubernetes namespace (or all namespaces), oldest first, newest kept."
);

impl GetEvents {
    async fn exec(&self, args: GetEventsArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let info = s.catalog.resolve("events").await?;
        let ns = non_empty(&args.namespace);
        let lp = ListParams {
            field_selector: non_empty(&args.field_selector).map(str::to_owned),
            ..ListParams::default()
        };
        let mut items = kapi::list_all(&s.client, &info, ns, &lp, 5_000).await?;
        if let Some(t) = non_empty(&args.event_type) {
            items.retain(|e| render::s(e, "/type").eq_ignore_ascii_case(t));
        }
        if items.is_empty() {
            return Ok(ToolOutput::text(match ns {
                Some(ns) => format!("No events in namespace {ns}."),
                None => "No events in any namespace.".to_owned(),
            }));
        }
        let limit = usize::try_from(args.limit.map(|c| c.0).unwrap_or(100)).unwrap_or(100);
        items.sort_by_key(|e| crate::render::table::event_time(e).to_owned());
        let total = items.len();
        let skipped = if limit > 0 {
            total.saturating_sub(limit)
        } else {
            0
        };
        let items = items.split_off(skipped);
        let mut text = table_for_events(&items, ns.is_none(), s.now()).render();
        if skipped > 0 {
            let _ = write!(
                text,
                "... {skipped} older events of {total} not shown; pass a larger limit or a \
                 field_selector (type=Warning, involvedObject.name=...)."
            );
        }
        Ok(ToolOutput::text(
            s.bound(text, "Use a field_selector or a namespace."),
        ))
    }
}

/// No arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub(crate) struct NoArgs {}

k8s_tool!(
    /// `k8s_get_available_api_resources`: the resource types the cluster serves.
    GetApiResources,
    "k8s_get_available_api_resources",
    ToolEffect::ReadOnly,
    NoArgs,
    "Get available Kubernetes API resources (name, short names, API version, namespaced, kind), \
     custom resources included."
);

impl GetApiResources {
    async fn exec(&self, _args: NoArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let all = s.catalog.refresh().await?;
        let mut rows: Vec<&ResourceInfo> = all.iter().collect();
        rows.sort_by(|a, b| {
            (a.resource.group.as_str(), a.resource.plural.as_str())
                .cmp(&(b.resource.group.as_str(), b.resource.plural.as_str()))
        });
        let table = render::Table {
            headers: vec!["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        r.resource.plural.clone(),
                        render::dash(&r.short_names.join(",")),
                        r.resource.api_version.clone(),
                        r.namespaced.to_string(),
                        r.resource.kind.clone(),
                    ]
                })
                .collect(),
        };
        Ok(ToolOutput::text(s.bound(table.render(), "")))
    }
}

k8s_tool!(
    /// `k8s_get_cluster_configuration`: the kubeconfig with every credential removed.
    GetClusterConfiguration,
    "k8s_get_cluster_configuration",
    ToolEffect::ReadOnly,
    NoArgs,
    "Get cluster configuration details: contexts, clusters, users (credentials removed), the \
     current context and the API server version."
);

/// The kubeconfig with credentials removed: no tokens, passwords, keys, certificates, exec
/// arguments or environment; only which kind of credential each user has.
pub(crate) fn redacted_kubeconfig(cfg: &kube::config::Kubeconfig) -> Value {
    let clusters: Vec<Value> = cfg
        .clusters
        .iter()
        .map(|c| {
            let mut m = serde_json::Map::new();
            m.insert("name".into(), json!(c.name));
            if let Some(cl) = &c.cluster {
                m.insert("server".into(), json!(cl.server));
                if cl.insecure_skip_tls_verify == Some(true) {
                    m.insert("insecure-skip-tls-verify".into(), json!(true));
                }
                if cl.certificate_authority_data.is_some() {
                    m.insert("certificate-authority-data".into(), json!("DATA+OMITTED"));
                }
                if let Some(p) = &cl.certificate_authority {
                    m.insert("certificate-authority".into(), json!(p));
                }
                if let Some(p) = &cl.proxy_url {
                    m.insert("proxy-url".into(), json!(p));
                }
                if let Some(t) = &cl.tls_server_name {
                    m.insert("tls-server-name".into(), json!(t));
                }
            }
            Value::Object(m)
        })
        .collect();
    let contexts: Vec<Value> = cfg
        .contexts
        .iter()
        .map(|c| {
            let ctx = c.context.as_ref();
            json!({
                "name": c.name,
                "cluster": ctx.map(|x| x.cluster.clone()),
                "user": ctx.and_then(|x| x.user.clone()),
                "namespace": ctx.and_then(|x| x.namespace.clone()),
            })
        })
        .collect();
    let users: Vec<Value> = cfg
        .auth_infos
        .iter()
        .map(|u| {
            let mut kinds: Vec<String> = Vec::new();
            if let Some(a) = &u.auth_info {
                if a.token.is_some() || a.token_file.is_some() {
                    kinds.push("token (REDACTED)".into());
                }
                if a.username.is_some() || a.password.is_some() {
                    kinds.push("basic auth (REDACTED)".into());
                }
                if a.client_certificate.is_some() || a.client_certificate_data.is_some() {
                    kinds.push("client certificate (REDACTED)".into());
                }
                if let Some(e) = &a.exec {
                    kinds.push(format!(
                        "exec plugin: {}",
                        e.command.as_deref().unwrap_or("?")
                    ));
                }
                if let Some(p) = &a.auth_provider {
                    kinds.push(format!("auth provider: {}", p.name));
                }
                if a.impersonate.is_some() {
                    kinds.push("impersonation".into());
                }
            }
            json!({"name": u.name, "credentials": kinds})
        })
        .collect();
    json!({
        "current-context": cfg.current_context,
        "contexts": contexts,
        "clusters": clusters,
        "users": users,
    })
}

impl GetClusterConfiguration {
    async fn exec(&self, _args: NoArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let mut doc = match &s.kubeconfig {
            Some(cfg) => redacted_kubeconfig(cfg),
            None => match kube::config::Kubeconfig::read() {
                Ok(cfg) => redacted_kubeconfig(&cfg),
                Err(_) => json!({"note": "no kubeconfig available (running in-cluster?)"}),
            },
        };
        if let Some(m) = doc.as_object_mut() {
            m.insert("default-namespace".into(), json!(s.default_namespace));
            match s.client.apiserver_version().await {
                Ok(v) => {
                    m.insert(
                        "server-version".into(),
                        json!(format!("{} ({})", v.git_version, v.platform)),
                    );
                }
                Err(e) => {
                    m.insert("server-version".into(), json!(format!("unavailable: {e}")));
                }
            }
        }
        Ok(ToolOutput::text(
            serde_yaml::to_string(&doc).unwrap_or_default(),
        ))
    }
}

/// Arguments naming one object.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ObjectArgs {
    /// Type of resource (pod, deployment, service, node, a CRD, ...).
    pub resource_type: String,
    /// Name of the resource.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Namespace of the resource (optional; default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
}

k8s_tool!(
    /// `k8s_get_resource_yaml`: one object as YAML (Secret values redacted).
    GetResourceYaml,
    "k8s_get_resource_yaml",
    ToolEffect::ReadOnly,
    ObjectArgs,
    "Get the YAML representation of a Kubernetes resource (managedFields omitted, Secret values \
     redacted)."
);

impl GetResourceYaml {
    async fn exec(&self, args: ObjectArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let (ty, name) = need_name(&args.resource_type, &args.resource_name)?;
        let info = s.catalog.resolve(&ty).await?;
        let ns = scope(s, &info, &args.namespace, false);
        let mut obj = kapi::get(&s.client, &info, ns, &name).await?;
        sanitize(&mut obj, s.allow_secret_values);
        let yaml =
            serde_yaml::to_string(&obj).map_err(|e| K8sError::invalid("object", e.to_string()))?;
        Ok(ToolOutput::text(
            s.bound(yaml, "Use k8s_describe_resource for a summary."),
        ))
    }
}

k8s_tool!(
    /// `k8s_describe_resource`: essentials, conditions, owner chain and recent events.
    DescribeResource,
    "k8s_describe_resource",
    ToolEffect::ReadOnly,
    ObjectArgs,
    "Describe a Kubernetes resource in detail: its essentials (for pods: container states, last \
     termination, probes, resources), conditions, owner chain, endpoints or pods, and recent \
     events."
);

impl DescribeResource {
    async fn exec(&self, args: ObjectArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let (ty, name) = need_name(&args.resource_type, &args.resource_name)?;
        let info = s.catalog.resolve(&ty).await?;
        let ns = scope(s, &info, &args.namespace, false);
        let obj = kapi::get(&s.client, &info, ns, &name).await?;
        let ctx = describe_context(s, &info, &obj).await;
        let text = render::describe_object(&obj, &ctx, s.now());
        Ok(ToolOutput::text(s.bound(
            text,
            "Use k8s_get_resource_yaml for the full object.",
        )))
    }
}

/// Gathers what `describe` shows besides the object; each part is best effort.
pub(crate) async fn describe_context(
    s: &Shared,
    info: &ResourceInfo,
    obj: &Value,
) -> DescribeContext {
    let ns = render::s(obj, "/metadata/namespace").to_owned();
    let ns_opt = if ns.is_empty() {
        None
    } else {
        Some(ns.as_str())
    };
    let mut ctx = DescribeContext {
        allow_secret_values: s.allow_secret_values,
        max_events: 15,
        ..DescribeContext::default()
    };
    ctx.owners = owner_chain(s, obj).await;
    ctx.events = events_for(s, obj).await;
    match info.resource.kind.as_str() {
        "Service" if info.resource.group.is_empty() => {
            ctx.endpoints = service_endpoints(s, &ns, render::s(obj, "/metadata/name")).await;
        }
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            if let Ok(Some(sel)) = label_selector_at(obj, "/spec/selector")
                && let Ok(pods) = s.catalog.resolve("pods").await
                && let Ok(page) =
                    kapi::list(&s.client, &pods, ns_opt, &list_params(&sel).limit(200)).await
            {
                let now = s.now();
                ctx.pods = Some(
                    page.items
                        .iter()
                        .map(|p| {
                            format!(
                                "{} {} ready {} restarts {} last-exit {}",
                                render::s(p, "/metadata/name"),
                                render::table::pod_status(p),
                                render::table::pod_ready(p),
                                render::arr(p, "/status/containerStatuses")
                                    .iter()
                                    .map(|c| render::i(c, "/restartCount"))
                                    .sum::<i64>(),
                                render::table::pod_last_exit(p, now)
                            )
                        })
                        .collect(),
                );
            }
        }
        _ => {}
    }
    ctx
}

/// The controller owner chain, nearest first (`ReplicaSet/web-7d9`, `Deployment/web`).
pub(crate) async fn owner_chain(s: &Shared, obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let ns = render::s(obj, "/metadata/namespace").to_owned();
    let mut current = obj.clone();
    for _ in 0..5 {
        let owners = render::arr(&current, "/metadata/ownerReferences");
        let Some(owner) = owners
            .iter()
            .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
            .or(owners.first())
        else {
            break;
        };
        let (kind, name, api_version) = (
            render::s(owner, "/kind").to_owned(),
            render::s(owner, "/name").to_owned(),
            render::s(owner, "/apiVersion").to_owned(),
        );
        out.push(format!("{kind}/{name}"));
        let Ok(info) = s.catalog.resolve_kind(&api_version, &kind).await else {
            break;
        };
        let ns_opt = if info.namespaced {
            Some(ns.as_str())
        } else {
            None
        };
        match kapi::get(&s.client, &info, ns_opt, &name).await {
            Ok(next) => current = next,
            Err(_) => {
                if let Some(last) = out.last_mut() {
                    last.push_str(" (not found)");
                }
                break;
            }
        }
    }
    out
}

/// Events about an object (by uid when the server allows the field selector, else by name).
pub(crate) async fn events_for(s: &Shared, obj: &Value) -> Vec<Value> {
    let Ok(info) = s.catalog.resolve("events").await else {
        return Vec::new();
    };
    let ns = render::s(obj, "/metadata/namespace");
    let name = render::s(obj, "/metadata/name");
    let kind = render::s(obj, "/kind");
    let uid = render::s(obj, "/metadata/uid");
    let ns_opt = if ns.is_empty() { None } else { Some(ns) };
    let fs = format!("involvedObject.name={name}");
    let items = match kapi::list_all(
        &s.client,
        &info,
        ns_opt,
        &ListParams::default().fields(&fs),
        2_000,
    )
    .await
    {
        Ok(items) => items,
        // Field selector refused: filter here.
        Err(_) => kapi::list_all(&s.client, &info, ns_opt, &ListParams::default(), 5_000)
            .await
            .unwrap_or_default(),
    };
    items
        .into_iter()
        .filter(|e| {
            render::s(e, "/involvedObject/name") == name
                && (render::s(e, "/involvedObject/kind") == kind || kind.is_empty())
                && (uid.is_empty()
                    || render::s(e, "/involvedObject/uid").is_empty()
                    || render::s(e, "/involvedObject/uid") == uid)
        })
        .collect()
}

/// A Service's endpoints from its EndpointSlices (or Endpoints): `ip:port (pod) ready`.
pub(crate) async fn service_endpoints(s: &Shared, ns: &str, name: &str) -> Option<Vec<String>> {
    if let Ok(info) = s.catalog.resolve("endpointslices.discovery.k8s.io").await
        && let Ok(page) = kapi::list(
            &s.client,
            &info,
            Some(ns),
            &list_params(&Selector::from(Expression::Equal(
                "kubernetes.io/service-name".to_owned(),
                name.to_owned(),
            ))),
        )
        .await
    {
        let mut out = Vec::new();
        for slice in &page.items {
            let ports: Vec<i64> = render::arr(slice, "/ports")
                .iter()
                .map(|p| render::i(p, "/port"))
                .collect();
            for ep in render::arr(slice, "/endpoints") {
                let ready = ep.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false);
                let target = render::s(ep, "/targetRef/name");
                for addr in render::arr(ep, "/addresses")
                    .iter()
                    .filter_map(Value::as_str)
                {
                    let port = ports.first().map(|p| format!(":{p}")).unwrap_or_default();
                    out.push(format!(
                        "{addr}{port}{} {}",
                        if target.is_empty() {
                            String::new()
                        } else {
                            format!(" ({target})")
                        },
                        if ready { "ready" } else { "not-ready" }
                    ));
                }
            }
        }
        if !page.items.is_empty() {
            return Some(out);
        }
    }
    let info = s.catalog.resolve("endpoints").await.ok()?;
    let ep = kapi::get_opt(&s.client, &info, Some(ns), name)
        .await
        .ok()??;
    let mut out = Vec::new();
    for subset in render::arr(&ep, "/subsets") {
        let port = render::arr(subset, "/ports")
            .first()
            .map(|p| format!(":{}", render::i(p, "/port")))
            .unwrap_or_default();
        for (key, state) in [("/addresses", "ready"), ("/notReadyAddresses", "not-ready")] {
            for a in render::arr(subset, key) {
                let target = render::s(a, "/targetRef/name");
                out.push(format!(
                    "{}{port}{} {state}",
                    render::s(a, "/ip"),
                    if target.is_empty() {
                        String::new()
                    } else {
                        format!(" ({target})")
                    }
                ));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_credentials_never_appear() {
        let cfg: kube::config::Kubeconfig = serde_yaml::from_str(
            r#"
apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0FEQVRB
contexts:
- name: prod
  context: {cluster: prod, user: admin, namespace: shop}
users:
- name: admin
  user:
    token: sekrit-token-value
    client-key-data: S0VZREFUQQ==
    client-certificate-data: Q0VSVA==
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
      env: [{name: AWS_SECRET_ACCESS_KEY, value: hunter2}]
"#,
        )
        .unwrap();
        let doc = redacted_kubeconfig(&cfg);
        let text = serde_yaml::to_string(&doc).unwrap();
        for secret in [
            "sekrit-token-value",
            "S0VZREFUQQ",
            "Q0VSVA",
            "Q0FEQVRB",
            "hunter2",
            "get-token",
        ] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        assert!(text.contains("https://10.0.0.1:6443"), "{text}");
        assert!(text.contains("token (REDACTED)"), "{text}");
        assert!(text.contains("exec plugin: aws"), "{text}");
        assert!(text.contains("namespace: shop"), "{text}");
    }
}
