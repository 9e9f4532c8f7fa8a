//! The Istio tools: kagent's `istio_*` names and arguments where kagent has the tool.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::apply::{ApplyOptions, apply_objects};
use kagent_k8s::render::{Table, change_report, object_diff, sanitize};
use kagent_k8s::{Count, Flag, kapi};
use kube::api::{ListParams, Patch, PatchParams};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::analyze::{analyze, host_matches, route_groups};
use super::envoy::{self, ConfigType};
use super::error::{IstioError, Result};
use super::generate::{self, CanarySpec, Generated, new_findings};
use super::proxy;
use super::resources::{IstioKind, MeshSnapshot};
use super::{Shared, check_name};
use crate::family::{
    arr, family_tool, fmt_labels, has_istio_proxy, join_bounded, name_of, non_empty, ns_of, obj, s,
};
use crate::findings::{Finding, count_by_level, render_findings};

// ---------------------------------------------------------------------------------------------
// istio_get_resources

/// Arguments of `istio_get_resources`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetResourcesArgs {
    /// Kind to list: virtualservice (vs), destinationrule (dr), gateway (gw), serviceentry
    /// (se), sidecar, peerauthentication, authorizationpolicy, requestauthentication, or all
    /// (default).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Name of one object (shown in full as YAML); needs a single resource_type.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Namespace (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// List in all namespaces.
    #[serde(default)]
    pub all_namespaces: Flag,
}

family_tool!(
    /// `istio_get_resources`: Istio configuration as compact tables, read in whichever version
    /// the cluster serves.
    GetResources,
    Shared,
    "istio_get_resources",
    ToolEffect::ReadOnly,
    GetResourcesArgs,
    "List Istio configuration (VirtualService, DestinationRule, Gateway, ServiceEntry, Sidecar, \
     PeerAuthentication, AuthorizationPolicy, RequestAuthentication) as compact tables: routes \
     with weights, subsets, TLS and mTLS modes, selectors, rules. Give resource_name for one \
     object in full."
);

fn route_summary(vs: &Value) -> String {
    let groups = route_groups(vs);
    let parts: Vec<String> = groups
        .iter()
        .map(|(path, dests)| {
            let short = path.trim_start_matches("spec.").trim_end_matches(".route");
            let ds: Vec<String> = dests
                .iter()
                .map(|d| {
                    let mut t = d.host().to_owned();
                    if !d.subset().is_empty() {
                        t.push(':');
                        t.push_str(d.subset());
                    }
                    if let Some(w) = d.weight {
                        let _ = write!(t, " {w}%");
                    }
                    t
                })
                .collect();
            format!("{short}→{}", ds.join(","))
        })
        .collect();
    if parts.is_empty() {
        "-".to_owned()
    } else {
        join_bounded(parts, 4)
    }
}

fn strs(v: &Value, ptr: &str) -> String {
    let items: Vec<&str> = arr(v, ptr).iter().filter_map(Value::as_str).collect();
    if items.is_empty() {
        "-".to_owned()
    } else {
        join_bounded(items, 4)
    }
}

fn selector_cell(v: &Value, ptr: &str) -> String {
    match obj(v, ptr) {
        Some(m) if !m.is_empty() => fmt_labels(m),
        _ => "<all>".to_owned(),
    }
}

/// Builds one row of a kind's table.
type RowFn = fn(&Value) -> Vec<String>;

fn kind_table(kind: IstioKind, items: &[Value], with_ns: bool) -> Table {
    let (headers, row): (Vec<&'static str>, RowFn) = match kind {
        IstioKind::VirtualService => (vec!["NAME", "HOSTS", "GATEWAYS", "ROUTES"], |v| {
            vec![
                name_of(v).to_owned(),
                strs(v, "/spec/hosts"),
                strs(v, "/spec/gateways"),
                route_summary(v),
            ]
        }),
        IstioKind::DestinationRule => (vec!["NAME", "HOST", "TLS", "SUBSETS"], |v| {
            let subsets: Vec<String> = arr(v, "/spec/subsets")
                .iter()
                .map(|ss| match obj(ss, "/labels") {
                    Some(l) => format!("{}({})", s(ss, "/name"), fmt_labels(l)),
                    None => s(ss, "/name").to_owned(),
                })
                .collect();
            let mut tls = s(v, "/spec/trafficPolicy/tls/mode").to_owned();
            if !arr(v, "/spec/trafficPolicy/portLevelSettings").is_empty() {
                tls.push_str(if tls.is_empty() {
                    "per-port"
                } else {
                    "+per-port"
                });
            }
            vec![
                name_of(v).to_owned(),
                s(v, "/spec/host").to_owned(),
                if tls.is_empty() { "-".to_owned() } else { tls },
                if subsets.is_empty() {
                    "-".to_owned()
                } else {
                    join_bounded(subsets, 6)
                },
            ]
        }),
        IstioKind::Gateway => (vec!["NAME", "SELECTOR", "SERVERS"], |v| {
            let servers: Vec<String> = arr(v, "/spec/servers")
                .iter()
                .map(|srv| {
                    format!(
                        "{}/{} {}",
                        srv.pointer("/port/number")
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                        s(srv, "/port/protocol"),
                        strs(srv, "/hosts")
                    )
                })
                .collect();
            vec![
                name_of(v).to_owned(),
                selector_cell(v, "/spec/selector"),
                join_bounded(servers, 4),
            ]
        }),
        IstioKind::ServiceEntry => (
            vec!["NAME", "HOSTS", "LOCATION", "RESOLUTION", "PORTS"],
            |v| {
                let ports: Vec<String> = arr(v, "/spec/ports")
                    .iter()
                    .map(|p| {
                        format!(
                            "{}/{}",
                            p.get("number").and_then(Value::as_u64).unwrap_or(0),
                            s(p, "/protocol")
                        )
                    })
                    .collect();
                vec![
                    name_of(v).to_owned(),
                    strs(v, "/spec/hosts"),
                    match s(v, "/spec/location") {
                        "" => "MESH_EXTERNAL".to_owned(),
                        l => l.to_owned(),
                    },
                    match s(v, "/spec/resolution") {
                        "" => "NONE".to_owned(),
                        r => r.to_owned(),
                    },
                    join_bounded(ports, 6),
                ]
            },
        ),
        IstioKind::Sidecar => (
            vec!["NAME", "WORKLOAD SELECTOR", "EGRESS HOSTS", "OUTBOUND"],
            |v| {
                let hosts: Vec<String> = arr(v, "/spec/egress")
                    .iter()
                    .flat_map(|e| arr(e, "/hosts"))
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                vec![
                    name_of(v).to_owned(),
                    selector_cell(v, "/spec/workloadSelector/labels"),
                    if hosts.is_empty() {
                        "-".to_owned()
                    } else {
                        join_bounded(hosts, 5)
                    },
                    match s(v, "/spec/outboundTrafficPolicy/mode") {
                        "" => "-".to_owned(),
                        m => m.to_owned(),
                    },
                ]
            },
        ),
        IstioKind::PeerAuthentication => (vec!["NAME", "SELECTOR", "MODE", "PORT-LEVEL"], |v| {
            let ports: Vec<String> = obj(v, "/spec/portLevelMtls")
                .map(|m| {
                    m.iter()
                        .map(|(p, x)| format!("{p}:{}", s(x, "/mode")))
                        .collect()
                })
                .unwrap_or_default();
            vec![
                name_of(v).to_owned(),
                selector_cell(v, "/spec/selector/matchLabels"),
                match s(v, "/spec/mtls/mode") {
                    "" => "UNSET".to_owned(),
                    m => m.to_owned(),
                },
                if ports.is_empty() {
                    "-".to_owned()
                } else {
                    ports.join(",")
                },
            ]
        }),
        IstioKind::AuthorizationPolicy => (vec!["NAME", "SELECTOR", "ACTION", "RULES"], |v| {
            let rules: Vec<String> = arr(v, "/spec/rules").iter().map(rule_summary).collect();
            vec![
                name_of(v).to_owned(),
                selector_cell(v, "/spec/selector/matchLabels"),
                match s(v, "/spec/action") {
                    "" => "ALLOW".to_owned(),
                    a => a.to_owned(),
                },
                if v.pointer("/spec/rules").is_none() {
                    "none (ALLOW: denies everything else)".to_owned()
                } else if rules.is_empty() {
                    "-".to_owned()
                } else {
                    join_bounded(rules, 3)
                },
            ]
        }),
        IstioKind::RequestAuthentication => (vec!["NAME", "SELECTOR", "ISSUERS"], |v| {
            let issuers: Vec<&str> = arr(v, "/spec/jwtRules")
                .iter()
                .map(|r| s(r, "/issuer"))
                .collect();
            vec![
                name_of(v).to_owned(),
                selector_cell(v, "/spec/selector/matchLabels"),
                join_bounded(issuers, 4),
            ]
        }),
    };
    let mut headers = headers;
    if with_ns {
        headers.insert(0, "NAMESPACE");
    }
    let rows = items
        .iter()
        .map(|v| {
            let mut r = row(v);
            if with_ns {
                r.insert(0, ns_of(v).to_owned());
            }
            r
        })
        .collect();
    Table { headers, rows }
}

/// `from ns:shop,sa:... to ports:9080 methods:GET when 1 condition`.
fn rule_summary(rule: &Value) -> String {
    let mut parts = Vec::new();
    let mut from = Vec::new();
    for f in arr(rule, "/from") {
        for (key, label) in [
            ("/source/namespaces", "ns"),
            ("/source/principals", "sa"),
            ("/source/ipBlocks", "ip"),
            ("/source/requestPrincipals", "jwt"),
            ("/source/notNamespaces", "!ns"),
        ] {
            let v: Vec<&str> = arr(f, key).iter().filter_map(Value::as_str).collect();
            if !v.is_empty() {
                from.push(format!("{label}:{}", v.join("|")));
            }
        }
    }
    if !from.is_empty() {
        parts.push(format!("from {}", from.join(",")));
    }
    let mut to = Vec::new();
    for t in arr(rule, "/to") {
        for (key, label) in [
            ("/operation/ports", "ports"),
            ("/operation/methods", "methods"),
            ("/operation/paths", "paths"),
            ("/operation/hosts", "hosts"),
        ] {
            let v: Vec<&str> = arr(t, key).iter().filter_map(Value::as_str).collect();
            if !v.is_empty() {
                to.push(format!("{label}:{}", v.join("|")));
            }
        }
    }
    if !to.is_empty() {
        parts.push(format!("to {}", to.join(",")));
    }
    let when = arr(rule, "/when").len();
    if when > 0 {
        parts.push(format!("when {when} conditions"));
    }
    if parts.is_empty() {
        "any request".to_owned()
    } else {
        parts.join(" ")
    }
}

impl GetResources {
    async fn exec(&self, args: GetResourcesArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let kinds: Vec<IstioKind> = match non_empty(&args.resource_type) {
            None | Some("all") => IstioKind::ALL.to_vec(),
            Some(t) => vec![IstioKind::parse(t).ok_or_else(|| {
                IstioError::invalid(
                    "resource_type",
                    format!(
                        "{t:?} is not an Istio kind; use one of virtualservice (vs), destinationrule (dr), gateway (gw), serviceentry (se), sidecar, peerauthentication, authorizationpolicy, requestauthentication, all"
                    ),
                )
            })?],
        };
        let ns = s.ns(&args.namespace)?.to_owned();
        let ns_opt = (!args.all_namespaces.0).then_some(ns.as_str());
        if let Some(name) = non_empty(&args.resource_name) {
            check_name("resource_name", name)?;
            let [kind] = kinds.as_slice() else {
                return Err(IstioError::invalid(
                    "resource_type",
                    "resource_name needs one resource_type (not all)",
                ));
            };
            let info = kind.resolve(&s.catalog).await?;
            let mut obj = kapi::get(&s.client, &info, Some(&ns), name).await?;
            sanitize(&mut obj, false);
            if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                for k in ["uid", "resourceVersion", "generation", "selfLink"] {
                    m.remove(k);
                }
            }
            let yaml = serde_yaml::to_string(&obj).map_err(|e| IstioError::Proxy {
                target: format!("{kind} {ns}/{name}"),
                message: format!("cannot render as YAML: {e}"),
                fault: false,
            })?;
            return Ok(ToolOutput::text(
                s.bound(yaml, "The object is too large to show in full."),
            ));
        }
        let mut out = String::new();
        let mut missing = Vec::new();
        let lp = ListParams::default();
        for kind in kinds {
            let info = match kind.resolve(&s.catalog).await {
                Ok(i) => i,
                Err(IstioError::NotInstalled { .. }) => {
                    missing.push(kind.kind());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let items = kapi::list_all(&s.client, &info, ns_opt, &lp, 5_000).await?;
            if items.is_empty() && args.resource_type.is_none() {
                continue;
            }
            let _ = writeln!(
                out,
                "== {kind} ({}, {} in {})",
                info.resource.api_version,
                items.len(),
                ns_opt.map_or("all namespaces".to_owned(), |n| format!("namespace {n}"))
            );
            if items.is_empty() {
                out.push_str("none\n");
            } else {
                out.push_str(&kind_table(kind, &items, ns_opt.is_none()).render());
            }
        }
        if out.is_empty() {
            out = format!(
                "No Istio configuration in {}.\n",
                ns_opt.map_or("any namespace".to_owned(), |n| format!("namespace {n}"))
            );
        }
        if !missing.is_empty() {
            let _ = writeln!(
                out,
                "not served by this cluster (CRD missing): {}",
                missing.join(", ")
            );
        }
        Ok(ToolOutput::text(s.bound(
            out,
            "Pass resource_type, namespace or resource_name to see less.",
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// istio_analyze_cluster_configuration

/// Arguments of `istio_analyze_cluster_configuration`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnalyzeArgs {
    /// Namespace to analyze (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Analyze all namespaces.
    #[serde(default)]
    pub all_namespaces: Flag,
}

family_tool!(
    /// `istio_analyze_cluster_configuration`: `istioctl analyze`, natively, with evidence.
    AnalyzeClusterConfiguration,
    Shared,
    "istio_analyze_cluster_configuration",
    ToolEffect::ReadOnly,
    AnalyzeArgs,
    "Analyze Istio cluster configuration for issues, like istioctl analyze (Istio's message \
     codes such as IST0101): routes to missing hosts or subsets, weights not adding up to 100, \
     mTLS conflicts between PeerAuthentication and DestinationRule, policies selecting no \
     workload, unbound gateways, namespaces left out of injection, unnamed Service ports. Each \
     finding has evidence and a fix."
);

impl AnalyzeClusterConfiguration {
    async fn exec(&self, args: AnalyzeArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let scope = (!args.all_namespaces.0)
            .then(|| s.ns(&args.namespace).map(str::to_owned))
            .transpose()?;
        let snap = MeshSnapshot::gather(&s.client, &s.catalog, scope.as_deref(), &s.root_namespace)
            .await?;
        let findings = analyze(&snap, &s.analyze_options(scope.as_deref()));
        let where_ = scope
            .as_deref()
            .map_or("all namespaces".to_owned(), |n| format!("namespace {n}"));
        let counts: Vec<String> = IstioKind::ALL
            .iter()
            .filter_map(|k| snap.istio.get(k).map(|v| format!("{} {k}", v.len())))
            .collect();
        let header = if findings.is_empty() {
            format!(
                "No validation issues found when analyzing {where_}.\nRead: {} ({} Services, {} pods).",
                counts.join(", "),
                snap.services.len(),
                snap.pods.len()
            )
        } else {
            format!(
                "{} findings in {where_} ({}). Read: {}.",
                findings.len(),
                count_by_level(&findings),
                counts.join(", ")
            )
        };
        let text = render_findings(
            &header,
            &findings,
            &snap.notes,
            s.max_output_chars,
            "Analyze one namespace at a time to see them.",
        );
        Ok(ToolOutput::text(text).with_structured(json!({
            "namespace": scope,
            "findings": findings,
            "notes": snap.notes,
        })))
    }
}

// ---------------------------------------------------------------------------------------------
// istio_proxy_config / istio_proxy_status

/// `pod.ns` (istioctl's form) or `pod` plus the namespace argument.
fn split_pod<'a>(pod: &'a str, namespace: &'a str, given_ns: bool) -> (&'a str, &'a str) {
    match pod.split_once('.') {
        Some((p, n)) if !given_ns && !n.is_empty() => (p, n),
        _ => (pod, namespace),
    }
}

async fn sidecar_pod(s: &Shared, ns: &str, pod: &str) -> Result<Value> {
    let info = s.catalog.resolve("pods").await?;
    let p = kapi::get(&s.client, &info, Some(ns), pod).await?;
    if !has_istio_proxy(&p) {
        let containers: Vec<&str> = arr(&p, "/spec/containers")
            .iter()
            .map(|c| crate::family::s(c, "/name"))
            .collect();
        return Err(IstioError::NoSidecar {
            namespace: ns.to_owned(),
            pod: pod.to_owned(),
            containers: containers.join(", "),
        });
    }
    if crate::family::s(&p, "/status/phase") != "Running" {
        return Err(IstioError::Proxy {
            target: format!("pod {ns}/{pod}"),
            message: format!(
                "the pod is {}, not Running: its proxy does not serve",
                match crate::family::s(&p, "/status/phase") {
                    "" => "Unknown",
                    ph => ph,
                }
            ),
            fault: false,
        });
    }
    Ok(p)
}

async fn config_dump(s: &Shared, ns: &str, pod: &str, path: &str) -> Result<Value> {
    let text = proxy::get(
        &s.client,
        s.admin_access,
        ns,
        pod,
        s.admin_port,
        path,
        s.proxy_timeout,
    )
    .await?;
    serde_json::from_str(&text).map_err(|e| IstioError::Proxy {
        target: format!("pod {ns}/{pod} port {} /{path}", s.admin_port),
        message: format!("the answer is not an Envoy config dump: {e}"),
        fault: false,
    })
}

/// Arguments of `istio_proxy_config`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProxyConfigArgs {
    /// Name of the pod to get proxy configuration for (`pod` or istioctl's `pod.namespace`).
    pub pod_name: String,
    /// Namespace of the pod (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Type of configuration (all, bootstrap, cluster, ecds, listener, route, secret, endpoint);
    /// default all.
    #[serde(default)]
    pub config_type: Option<String>,
    /// Keep only rows containing this text (a port, host, cluster or route name).
    #[serde(default)]
    pub filter: Option<String>,
}

family_tool!(
    /// `istio_proxy_config`: a sidecar's Envoy configuration, summarized.
    ProxyConfig,
    Shared,
    "istio_proxy_config",
    ToolEffect::ReadOnly,
    ProxyConfigArgs,
    "Get specific proxy configuration for a single pod: the sidecar's Envoy listeners, routes \
     (with weights and VirtualService), clusters (with subset, TLS and DestinationRule), \
     endpoints, secrets (never their contents) or bootstrap, read from Envoy's config_dump \
     through the Kubernetes API and summarized as tables."
);

impl ProxyConfig {
    async fn exec(&self, args: ProxyConfigArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let ty = ConfigType::parse(non_empty(&args.config_type).unwrap_or("all"))?;
        let pod_arg = args.pod_name.trim();
        if pod_arg.is_empty() {
            return Err(IstioError::invalid(
                "pod_name",
                "pod_name is required (istio_proxy_status lists the pods with sidecars)",
            ));
        }
        let (pod, ns) = split_pod(
            pod_arg,
            s.ns(&args.namespace)?,
            non_empty(&args.namespace).is_some(),
        );
        check_name("pod_name", pod)?;
        sidecar_pod(s, ns, pod).await?;
        let dump = config_dump(s, ns, pod, ty.admin_path()).await?;
        let body = envoy::summarize(&dump, ty, non_empty(&args.filter), 400);
        let text = format!(
            "Envoy configuration ({}) of {ns}/{pod}:\n{body}",
            ty.as_str()
        );
        Ok(ToolOutput::text(s.bound(
            text,
            "Pass config_type and filter (a port or host) to see less.",
        )))
    }
}

/// Arguments of `istio_proxy_status`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProxyStatusArgs {
    /// Name of the pod to get proxy status for (all sidecars when empty).
    #[serde(default)]
    pub pod_name: Option<String>,
    /// Namespace of the pod(s) (default: every namespace when no pod is named).
    #[serde(default)]
    pub namespace: Option<String>,
}

family_tool!(
    /// `istio_proxy_status`: xDS sync state per sidecar, from istiod and from the sidecars.
    ProxyStatus,
    Shared,
    "istio_proxy_status",
    ToolEffect::ReadOnly,
    ProxyStatusArgs,
    "Get Envoy proxy status for pods: the last xDS configuration istiod sent and each proxy \
     acknowledged (SYNCED / STALE / NOT SENT per CDS, LDS, EDS, RDS), and the sidecar's own \
     view (config versions, rejected configuration with Envoy's reason, warming resources)."
);

/// istiod's `/debug/syncz` from every running istiod pod (they each know their own proxies).
async fn istiod_syncz(s: &Shared) -> std::result::Result<Vec<Value>, String> {
    let info = s.catalog.resolve("pods").await.map_err(|e| e.to_string())?;
    let lp = ListParams::default().labels("app=istiod");
    let pods = kapi::list_all(&s.client, &info, Some(&s.istiod_namespace), &lp, 20)
        .await
        .map_err(|e| e.to_string())?;
    let running: Vec<&Value> = pods
        .iter()
        .filter(|p| crate::family::s(p, "/status/phase") == "Running")
        .take(5)
        .collect();
    if running.is_empty() {
        return Err(format!(
            "no running istiod pod (app=istiod) in namespace {}",
            s.istiod_namespace
        ));
    }
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for p in running {
        match proxy::get(
            &s.client,
            s.admin_access,
            ns_of(p),
            name_of(p),
            s.istiod_debug_port,
            "debug/syncz",
            s.proxy_timeout,
        )
        .await
        {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(items)) => entries.extend(items),
                Ok(_) | Err(_) => errors.push(format!("{}: not a syncz list", name_of(p))),
            },
            Err(e) => errors.push(e.to_string()),
        }
    }
    if entries.is_empty() && !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(entries)
}

fn short_version(v: &str) -> String {
    if v.is_empty() {
        return "-".to_owned();
    }
    let mut out: String = v.chars().take(32).collect();
    if v.chars().count() > 32 {
        out.push('…');
    }
    out
}

fn sync_cells(sync: &envoy::SidecarSync) -> Vec<String> {
    let st = |x: &envoy::XdsState| {
        let mut t = format!("{} @{}", x.active, short_version(&x.version));
        if x.warming > 0 {
            let _ = write!(t, " ({} warming)", x.warming);
        }
        t
    };
    vec![
        if sync.identity.istio_version.is_empty() {
            "-".to_owned()
        } else {
            sync.identity.istio_version.clone()
        },
        st(&sync.clusters),
        st(&sync.listeners),
        st(&sync.routes),
        format!(
            "{} active, {} warming",
            sync.secrets.active, sync.secrets.warming
        ),
        if sync.rejected.is_empty() {
            "-".to_owned()
        } else {
            format!("{} rejected", sync.rejected.len())
        },
    ]
}

impl ProxyStatus {
    async fn exec(&self, args: ProxyStatusArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let mut out = String::new();
        let ns_given = non_empty(&args.namespace);
        let pod = non_empty(&args.pod_name);
        // One pod: istiod's view of it, then its own.
        if let Some(pod_arg) = pod {
            let (pod, ns) = split_pod(pod_arg, s.ns(&args.namespace)?, ns_given.is_some());
            check_name("pod_name", pod)?;
            sidecar_pod(s, ns, pod).await?;
            let proxy_id = format!("{pod}.{ns}");
            match istiod_syncz(s).await {
                Ok(entries) => {
                    let only = |id: &str| id == proxy_id;
                    let t = envoy::syncz_table(&entries, Some(&only));
                    if t.rows.is_empty() {
                        let _ = writeln!(
                            out,
                            "istiod: no istiod instance reports {proxy_id} as connected (the proxy is not connected to the control plane)"
                        );
                    } else {
                        let _ = writeln!(out, "istiod's view:\n{}", t.render());
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "istiod's view unavailable: {e}");
                }
            }
            let dump = config_dump(s, ns, pod, "config_dump").await?;
            let sync = envoy::sidecar_sync(&dump);
            let _ = writeln!(
                out,
                "sidecar's view ({ns}/{pod}): istio {} envoy {} control plane {}",
                dash(&sync.identity.istio_version),
                dash(&sync.identity.envoy_version),
                dash(&sync.identity.discovery_address)
            );
            let t = Table {
                headers: vec!["TYPE", "ACTIVE", "WARMING", "VERSION"],
                rows: [
                    ("CDS (clusters)", &sync.clusters),
                    ("LDS (listeners)", &sync.listeners),
                    ("RDS (routes)", &sync.routes),
                    ("SDS (secrets)", &sync.secrets),
                ]
                .iter()
                .map(|(n, x)| {
                    vec![
                        (*n).to_owned(),
                        x.active.to_string(),
                        x.warming.to_string(),
                        dash(&x.version).to_owned(),
                    ]
                })
                .collect(),
            };
            out.push_str(&t.render());
            if sync.rejected.is_empty() {
                out.push_str("no rejected (NACKed) configuration\n");
            } else {
                for r in &sync.rejected {
                    let _ = writeln!(out, "REJECTED {r}");
                }
            }
            return Ok(ToolOutput::text(s.bound(out, ""))
                .with_structured(json!({"pod": pod, "namespace": ns, "sidecar": sync})));
        }
        // Every sidecar (in a namespace): istiod first, the sidecars themselves otherwise.
        let in_ns =
            |id: &str| ns_given.is_none_or(|n| id.rsplit_once('.').is_some_and(|(_, x)| x == n));
        match istiod_syncz(s).await {
            Ok(entries) => {
                let t = envoy::syncz_table(&entries, Some(&in_ns));
                let _ = writeln!(
                    out,
                    "{} proxies connected to istiod{}:",
                    t.rows.len(),
                    ns_given.map_or(String::new(), |n| format!(" in namespace {n}"))
                );
                out.push_str(&t.render());
                return Ok(ToolOutput::text(
                    s.bound(out, "Pass namespace or pod_name to see fewer proxies."),
                ));
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "istiod's view unavailable ({e}); asking the sidecars themselves:"
                );
            }
        }
        let info = s.catalog.resolve("pods").await?;
        let pods =
            kapi::list_all(&s.client, &info, ns_given, &ListParams::default(), 20_000).await?;
        let sidecars: Vec<&Value> = pods
            .iter()
            .filter(|p| has_istio_proxy(p) && crate::family::s(p, "/status/phase") == "Running")
            .collect();
        let asked: Vec<&Value> = sidecars.iter().copied().take(s.max_proxies).collect();
        let results = futures::future::join_all(asked.iter().map(|p| async move {
            (
                *p,
                config_dump(s, ns_of(p), name_of(p), "config_dump").await,
            )
        }))
        .await;
        let mut t = Table {
            headers: vec!["NAME", "ISTIO", "CDS", "LDS", "RDS", "SDS", "REJECTED"],
            rows: Vec::new(),
        };
        let mut rejected = Vec::new();
        let mut failed = Vec::new();
        for (p, res) in results {
            let id = format!("{}.{}", name_of(p), ns_of(p));
            match res {
                Ok(dump) => {
                    let sync = envoy::sidecar_sync(&dump);
                    let mut row = vec![id.clone()];
                    row.extend(sync_cells(&sync));
                    t.rows.push(row);
                    rejected.extend(sync.rejected.iter().map(|r| format!("{id}: {r}")));
                }
                Err(e) => failed.push(format!("{id}: {e}")),
            }
        }
        let _ = writeln!(
            out,
            "{} sidecars{}, {} asked:",
            sidecars.len(),
            ns_given.map_or(String::new(), |n| format!(" in namespace {n}")),
            asked.len()
        );
        out.push_str(&t.render());
        for r in rejected {
            let _ = writeln!(out, "REJECTED {r}");
        }
        for f in &failed {
            let _ = writeln!(out, "unreachable {f}");
        }
        if sidecars.len() > asked.len() {
            let _ = writeln!(
                out,
                "... {} more sidecars not asked; pass namespace or pod_name",
                sidecars.len() - asked.len()
            );
        }
        if !asked.is_empty() && failed.len() == asked.len() {
            return Err(IstioError::Proxy {
                target: "every sidecar asked".to_owned(),
                message: join_bounded(&failed, 3),
                fault: true,
            });
        }
        Ok(ToolOutput::text(
            s.bound(out, "Pass namespace or pod_name."),
        ))
    }
}

fn dash(v: &str) -> &str {
    if v.is_empty() { "-" } else { v }
}

// ---------------------------------------------------------------------------------------------
// Generators

/// Validates generated objects with a server-side dry run and renders the report.
async fn dry_run_report(
    s: &Shared,
    snap: &MeshSnapshot,
    g: Generated,
    what: &str,
    scope: Option<&str>,
) -> Result<ToolOutput> {
    let opts = ApplyOptions::new(s.field_manager.clone()).dry_run(true);
    let applied = apply_objects(
        &s.client,
        &s.catalog,
        g.objects.clone(),
        &s.default_namespace,
        &opts,
    )
    .await?;
    let introduced: Vec<Finding> = new_findings(snap, &g.objects, &s.analyze_options(scope));
    let mut text = format!(
        "Generated {} objects for {what}; the API server accepted them in a dry run (nothing changed):\n",
        g.objects.len()
    );
    for a in &applied {
        let _ = writeln!(text, "  would be {}", a.summary());
    }
    text.push_str("derived from:\n");
    for d in &g.derivation {
        let _ = writeln!(text, "  - {d}");
    }
    if !g.warnings.is_empty() {
        text.push_str("before applying:\n");
        for w in &g.warnings {
            let _ = writeln!(text, "  - {w}");
        }
    }
    if introduced.is_empty() {
        text.push_str("istio analysis: applying them introduces no finding\n");
    } else {
        let _ = writeln!(
            text,
            "istio analysis: applying them would introduce {} findings:",
            introduced.len()
        );
        for f in &introduced {
            text.push_str(&f.render());
        }
    }
    let mut manifest = String::new();
    for o in &g.objects {
        manifest.push_str("---\n");
        manifest.push_str(&serde_yaml::to_string(o).unwrap_or_default());
    }
    text.push_str("apply with k8s_apply_manifest (server-side apply) using this manifest:\n");
    text.push_str(&manifest);
    text.push_str("--- diff against the cluster ---\n");
    for a in &applied {
        let _ = writeln!(text, "### {}\n{}", a.reference, a.diff);
    }
    Ok(ToolOutput::text(s.bound(text, "")).with_structured(json!({
            "objects": g.objects,
            "dry_run": applied.iter().map(|a| json!({"object": a.reference, "outcome": a.outcome})).collect::<Vec<_>>(),
            "warnings": g.warnings,
            "introduced_findings": introduced,
        })))
}

/// Arguments of `istio_generate_peer_authentication`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PeerAuthArgs {
    /// Namespace the policy covers (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Cover the whole mesh instead (a policy in Istio's root namespace).
    #[serde(default)]
    pub mesh_wide: Flag,
    /// STRICT (default: mTLS only) or PERMISSIVE (mTLS and plaintext, for migration).
    #[serde(default)]
    pub mode: Option<String>,
    /// Policy name (default `default`).
    #[serde(default)]
    pub name: Option<String>,
}

family_tool!(
    /// `istio_generate_peer_authentication`: STRICT mTLS for a namespace or the mesh.
    GeneratePeerAuthentication,
    Shared,
    "istio_generate_peer_authentication",
    ToolEffect::ReadOnly,
    PeerAuthArgs,
    "Generate a PeerAuthentication enforcing STRICT mTLS (or PERMISSIVE) for a namespace or \
     the whole mesh, validated by a server-side dry run, with the workloads it would cut off \
     and the mTLS conflicts it would create. Applies nothing: apply the manifest with \
     k8s_apply_manifest."
);

impl GeneratePeerAuthentication {
    async fn exec(&self, args: PeerAuthArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let ns = (!args.mesh_wide.0)
            .then(|| s.ns(&args.namespace).map(str::to_owned))
            .transpose()?;
        let snap =
            MeshSnapshot::gather(&s.client, &s.catalog, ns.as_deref(), &s.root_namespace).await?;
        let mode = non_empty(&args.mode).unwrap_or("STRICT");
        let name = non_empty(&args.name).unwrap_or("default");
        check_name("name", name)?;
        let g = generate::peer_authentication(&snap, ns.as_deref(), &s.root_namespace, mode, name)?;
        let what = format!(
            "{} mTLS in {}",
            mode.to_ascii_uppercase(),
            ns.as_deref()
                .map_or("the whole mesh".to_owned(), |n| format!("namespace {n}"))
        );
        dry_run_report(s, &snap, g, &what, None).await
    }
}

/// Arguments of `istio_generate_authorization_policies`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuthzArgs {
    /// Namespace to lock down (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Further namespaces whose workloads may call the namespace's Services (monitoring,
    /// batch jobs, ...).
    #[serde(default)]
    pub allow_from_namespaces: Vec<String>,
}

family_tool!(
    /// `istio_generate_authorization_policies`: deny-by-default with explicit allows.
    GenerateAuthorizationPolicies,
    Shared,
    "istio_generate_authorization_policies",
    ToolEffect::ReadOnly,
    AuthzArgs,
    "Generate deny-by-default AuthorizationPolicies for a namespace: an allow-nothing policy \
     plus one ALLOW policy per Service (its pods, its ports) for the callers observed in the \
     configuration (the namespace itself, namespaces whose VirtualServices route to it, the \
     ingress gateways that route to it) and allow_from_namespaces. Validated by a server-side \
     dry run; applies nothing."
);

impl GenerateAuthorizationPolicies {
    async fn exec(&self, args: AuthzArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let ns = s.ns(&args.namespace)?.to_owned();
        let extra: Vec<String> = args
            .allow_from_namespaces
            .iter()
            .flat_map(|n| n.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        let snap =
            MeshSnapshot::gather(&s.client, &s.catalog, Some(&ns), &s.root_namespace).await?;
        if let Some(unknown) = extra.iter().find(|n| {
            !snap.namespaces.is_empty() && !snap.namespaces.iter().any(|x| name_of(x) == n.as_str())
        }) {
            return Err(IstioError::invalid(
                "allow_from_namespaces",
                format!("namespace {unknown} does not exist"),
            ));
        }
        let g = generate::authorization_policies(
            &snap,
            &ns,
            &extra,
            &s.trust_domain,
            &s.cluster_domain,
        )?;
        dry_run_report(
            s,
            &snap,
            g,
            &format!("deny-by-default authorization in namespace {ns}"),
            Some(&ns),
        )
        .await
    }
}

/// Arguments of `istio_generate_canary`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CanaryArgs {
    /// The Service to split traffic for.
    pub service: String,
    /// Its namespace (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Label value of the stable version's pods (also the subset name), e.g. v1.
    pub stable_version: String,
    /// Label value of the canary's pods (also the subset name), e.g. v2.
    pub canary_version: String,
    /// Percent of requests to send to the canary (0-100).
    pub canary_weight: Count,
    /// Pod label that carries the version (default `version`).
    #[serde(default)]
    pub version_label: Option<String>,
    /// Gateways to bind (`namespace/name`) for traffic from outside; `mesh` is added.
    #[serde(default)]
    pub gateways: Vec<String>,
    /// External host names the gateways serve for this Service.
    #[serde(default)]
    pub hosts: Vec<String>,
}

family_tool!(
    /// `istio_generate_canary`: DestinationRule subsets and a weighted VirtualService.
    GenerateCanary,
    Shared,
    "istio_generate_canary",
    ToolEffect::ReadOnly,
    CanaryArgs,
    "Generate a canary split for a Service: DestinationRule subsets for the stable and canary \
     versions and a VirtualService sending canary_weight percent to the canary (existing \
     DestinationRule / VirtualService for the host are updated, their other settings kept). \
     Refuses when the canary has no pods. Validated by a server-side dry run; applies nothing \
     (istio_set_route_weights shifts an existing split)."
);

impl GenerateCanary {
    async fn exec(&self, args: CanaryArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let ns = s.ns(&args.namespace)?.to_owned();
        let weight = u8::try_from(args.canary_weight.0)
            .ok()
            .filter(|w| *w <= 100)
            .ok_or_else(|| {
                IstioError::invalid(
                    "canary_weight",
                    format!("{} is not a percentage (0-100)", args.canary_weight.0),
                )
            })?;
        for (what, v) in [
            ("service", &args.service),
            ("stable_version", &args.stable_version),
            ("canary_version", &args.canary_version),
        ] {
            if v.trim().is_empty() {
                return Err(IstioError::invalid(what, "must not be empty"));
            }
        }
        check_name("service", args.service.trim())?;
        let snap =
            MeshSnapshot::gather(&s.client, &s.catalog, Some(&ns), &s.root_namespace).await?;
        let spec = CanarySpec {
            service: args.service.trim().to_owned(),
            namespace: ns.clone(),
            version_label: non_empty(&args.version_label)
                .unwrap_or("version")
                .to_owned(),
            stable: args.stable_version.trim().to_owned(),
            canary: args.canary_version.trim().to_owned(),
            canary_weight: weight,
            gateways: args.gateways.clone(),
            hosts: args.hosts.clone(),
        };
        let g = generate::canary(&snap, &spec, &s.cluster_domain)?;
        dry_run_report(
            s,
            &snap,
            g,
            &format!(
                "a {}/{} canary of {ns}/{}",
                100 - u32::from(weight),
                weight,
                spec.service
            ),
            Some(&ns),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// istio_set_route_weights

/// Arguments of `istio_set_route_weights`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SetWeightsArgs {
    /// Name of the VirtualService.
    pub virtual_service: String,
    /// Its namespace (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// New weights by destination: subset (`v2`), host (`reviews`) or `host:subset`; they must
    /// add up to 100. Destinations of the route not named get 0.
    pub weights: BTreeMap<String, Count>,
    /// Which route: an HTTP route's name, or `http[0]`, `tcp[1]`, `tls[0]`. Needed only when
    /// several routes contain the named destinations.
    #[serde(default)]
    pub route: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

family_tool!(
    /// `istio_set_route_weights`: shift traffic between a route's destinations.
    SetRouteWeights,
    Shared,
    "istio_set_route_weights",
    ToolEffect::Mutating,
    SetWeightsArgs,
    "Set the weights of a VirtualService route's destinations (canary promotion or rollback), \
     e.g. weights {\"v1\": 50, \"v2\": 50}. Weights must add up to 100 and every subset that \
     gets traffic must be defined by a DestinationRule. Returns a diff; dry_run previews it."
);

fn dest_label(host: &str, subset: &str) -> String {
    if subset.is_empty() {
        host.to_owned()
    } else {
        format!("{host}:{subset}")
    }
}

fn key_matches(key: &str, host: &str, subset: &str) -> bool {
    let short = host.split('.').next().unwrap_or(host);
    let key = key.trim().replace('/', ":");
    if subset.is_empty() {
        key == host || key == short
    } else {
        key == subset || key == format!("{host}:{subset}") || key == format!("{short}:{subset}")
    }
}

impl SetRouteWeights {
    async fn exec(&self, args: SetWeightsArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let ns = s.ns(&args.namespace)?.to_owned();
        let name = args.virtual_service.trim();
        check_name("virtual_service", name)?;
        if args.weights.is_empty() {
            return Err(IstioError::invalid(
                "weights",
                "give at least one destination, e.g. {\"v1\": 90, \"v2\": 10}",
            ));
        }
        let total: u64 = args.weights.values().map(|c| c.0).sum();
        if total != 100 {
            return Err(IstioError::invalid(
                "weights",
                format!("they add up to {total}; they must add up to 100"),
            ));
        }
        let info = IstioKind::VirtualService.resolve(&s.catalog).await?;
        let before = kapi::get(&s.client, &info, Some(&ns), name).await?;
        let groups = route_groups(&before);
        let describe = |path: &str, dests: &[super::analyze::Dest<'_>]| {
            let ds: Vec<String> = dests
                .iter()
                .map(|d| {
                    format!(
                        "{} {}",
                        dest_label(d.host(), d.subset()),
                        d.weight.unwrap_or(0)
                    )
                })
                .collect();
            format!("{path}: {}", ds.join(", "))
        };
        let listing: Vec<String> = groups.iter().map(|(p, d)| describe(p, d)).collect();
        let chosen: Vec<usize> = match non_empty(&args.route) {
            Some(r) => {
                let r = r.trim_start_matches("spec.");
                groups
                    .iter()
                    .enumerate()
                    .filter(|(_, (path, _))| {
                        let short = path.trim_start_matches("spec.").trim_end_matches(".route");
                        let idx = short
                            .strip_prefix("http[")
                            .and_then(|x| x.strip_suffix(']'))
                            .and_then(|x| x.parse::<usize>().ok());
                        let by_name = idx.is_some_and(|i| {
                            before
                                .pointer(&format!("/spec/http/{i}/name"))
                                .and_then(Value::as_str)
                                == Some(r)
                        });
                        short == r
                            || by_name
                            || (idx.is_some() && idx.map(|i| i.to_string()).as_deref() == Some(r))
                    })
                    .map(|(i, _)| i)
                    .collect()
            }
            None => groups
                .iter()
                .enumerate()
                .filter(|(_, (_, dests))| {
                    args.weights
                        .keys()
                        .all(|k| dests.iter().any(|d| key_matches(k, d.host(), d.subset())))
                })
                .map(|(i, _)| i)
                .collect(),
        };
        let gi = match chosen.as_slice() {
            [one] => *one,
            [] => {
                return Err(IstioError::NotFound {
                    message: format!(
                        "no route of VirtualService {ns}/{name} {}; its routes: {}",
                        match non_empty(&args.route) {
                            Some(r) => format!("is named {r:?}"),
                            None => format!(
                                "has all of the destinations {}",
                                args.weights.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        },
                        if listing.is_empty() {
                            "none".to_owned()
                        } else {
                            listing.join("; ")
                        }
                    ),
                });
            }
            many => {
                let paths: Vec<&str> = many
                    .iter()
                    .filter_map(|i| groups.get(*i).map(|(p, _)| p.as_str()))
                    .collect();
                return Err(IstioError::invalid(
                    "route",
                    format!(
                        "several routes have these destinations ({}); pass route (a name or http[N])",
                        paths.join(", ")
                    ),
                ));
            }
        };
        let Some((path, dests)) = groups.get(gi) else {
            return Err(IstioError::invalid("route", "no such route"));
        };
        // every key names exactly one destination
        let mut new_weights: Vec<u64> = vec![0; dests.len()];
        for (k, w) in &args.weights {
            let hits: Vec<usize> = dests
                .iter()
                .enumerate()
                .filter(|(_, d)| key_matches(k, d.host(), d.subset()))
                .map(|(i, _)| i)
                .collect();
            match hits.as_slice() {
                [i] => {
                    if let Some(slot) = new_weights.get_mut(*i) {
                        *slot = w.0;
                    }
                }
                [] => {
                    return Err(IstioError::NotFound {
                        message: format!(
                            "{k:?} names no destination of {path}; it has {}",
                            describe(path, dests)
                        ),
                    });
                }
                _ => {
                    return Err(IstioError::invalid(
                        "weights",
                        format!(
                            "{k:?} names several destinations of {path} ({}); use host:subset",
                            describe(path, dests)
                        ),
                    ));
                }
            }
        }
        // every subset that gets traffic must exist
        let dr_info = IstioKind::DestinationRule.resolve(&s.catalog).await;
        if let Ok(dr_info) = dr_info {
            let drs = match kapi::list_all(&s.client, &dr_info, None, &ListParams::default(), 5_000)
                .await
            {
                Ok(d) => d,
                Err(_) => {
                    kapi::list_all(
                        &s.client,
                        &dr_info,
                        Some(&ns),
                        &ListParams::default(),
                        5_000,
                    )
                    .await?
                }
            };
            let suffix = format!(".svc.{}", s.cluster_domain);
            let fqdn = |h: &str, n: &str| {
                if h.contains('.') || h.starts_with('*') {
                    h.to_owned()
                } else {
                    format!("{h}.{n}{suffix}")
                }
            };
            for (d, w) in dests.iter().zip(&new_weights) {
                if *w == 0 || d.subset().is_empty() {
                    continue;
                }
                let host = fqdn(d.host(), &ns);
                let defined = drs.iter().any(|dr| {
                    host_matches(&fqdn(crate::family::s(dr, "/spec/host"), ns_of(dr)), &host)
                        && arr(dr, "/spec/subsets")
                            .iter()
                            .any(|ss| crate::family::s(ss, "/name") == d.subset())
                });
                if !defined {
                    return Err(IstioError::NotFound {
                        message: format!(
                            "subset {} of host {} is defined by no DestinationRule, so {w}% of requests would fail (503); define it first (istio_generate_canary)",
                            d.subset(),
                            d.host()
                        ),
                    });
                }
            }
        }
        // rebuild the route list with the new weights; the resourceVersion makes it conditional
        let (proto_idx, _) = path
            .trim_start_matches("spec.")
            .trim_end_matches(".route")
            .split_once('[')
            .unwrap_or(("http", "0]"));
        let proto = proto_idx.to_owned();
        let idx: usize = path
            .split_once('[')
            .and_then(|(_, r)| r.split_once(']'))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(0);
        let mut rules: Vec<Value> = arr(&before, &format!("/spec/{proto}")).to_vec();
        let mut changes = Vec::new();
        if let Some(routes) = rules
            .get_mut(idx)
            .and_then(|r| r.get_mut("route"))
            .and_then(Value::as_array_mut)
        {
            for ((route, d), w) in routes.iter_mut().zip(dests).zip(&new_weights) {
                let old = d.weight.unwrap_or(0);
                changes.push(format!("{} {old}→{w}", dest_label(d.host(), d.subset())));
                if let Some(m) = route.as_object_mut() {
                    m.insert("weight".into(), json!(w));
                }
            }
        }
        let rv = crate::family::s(&before, "/metadata/resourceVersion").to_owned();
        let patch = json!({
            "metadata": {"resourceVersion": rv},
            "spec": {proto.clone(): rules},
        });
        let pp = PatchParams {
            dry_run: dry,
            field_manager: Some(s.field_manager.clone()),
            ..PatchParams::default()
        };
        let after = kapi::patch(
            &s.client,
            &info,
            Some(&ns),
            name,
            None,
            &pp,
            &Patch::Merge(patch),
        )
        .await?;
        let diff = object_diff(Some(&before), Some(&after), false, false);
        let what = format!(
            "set weights of VirtualService {ns}/{name} {path}: {}",
            changes.join(", ")
        );
        Ok(change_report(dry, &what, &diff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_keys_match_subsets_hosts_and_pairs() {
        assert!(key_matches("v2", "reviews", "v2"));
        assert!(key_matches("reviews:v2", "reviews", "v2"));
        assert!(key_matches(
            "reviews/v2",
            "reviews.shop.svc.cluster.local",
            "v2"
        ));
        assert!(key_matches("reviews", "reviews", ""));
        assert!(key_matches("reviews", "reviews.shop.svc.cluster.local", ""));
        assert!(!key_matches("v1", "reviews", "v2"));
        assert!(!key_matches("reviews", "reviews", "v2"));
    }

    #[test]
    fn pods_split_like_istioctl() {
        assert_eq!(split_pod("web-1.shop", "default", false), ("web-1", "shop"));
        assert_eq!(split_pod("web-1", "default", false), ("web-1", "default"));
        assert_eq!(
            split_pod("web-1.shop", "other", true),
            ("web-1.shop", "other")
        );
    }

    #[test]
    fn authorization_rules_summarize() {
        let r = json!({"from": [{"source": {"namespaces": ["shop"]}}], "to": [{"operation": {"ports": ["9080"], "methods": ["GET"]}}]});
        assert_eq!(rule_summary(&r), "from ns:shop to ports:9080,methods:GET");
        assert_eq!(rule_summary(&json!({})), "any request");
    }
}
