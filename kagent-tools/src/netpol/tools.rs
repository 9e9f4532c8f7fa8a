//! The NetworkPolicy / Cilium tools.

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::apply::{ApplyOptions, apply_objects};
use kagent_k8s::render::{Table, sanitize};
use kagent_k8s::{Flag, kapi};
use kube::api::ListParams;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::analyze::{NetpolAnalyzeOptions, analyze};
use super::cilium::{has_dns_visibility, validate};
use super::error::{NetworkPolicyError, Result};
use super::model::{PolicyKind, PolicySnapshot, cilium_rules, np_types, resolve, subjects};
use super::{Shared, check_name};
use crate::family::{arr, family_tool, fmt_selector, join_bounded, name_of, non_empty, ns_of, s};
use crate::findings::{Finding, Level, count_by_level, render_findings, sort_findings};

// ---------------------------------------------------------------------------------------------
// network_policy_list

/// Arguments of `network_policy_list`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Kind: networkpolicy (np), ciliumnetworkpolicy (cnp), ciliumclusterwidenetworkpolicy
    /// (ccnp), or all (default).
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Name of one policy (shown in full as YAML); needs a single resource_type.
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
    /// `network_policy_list`: NetworkPolicies and Cilium policies as compact tables.
    ListPolicies,
    Shared,
    "network_policy_list",
    ToolEffect::ReadOnly,
    ListArgs,
    "List NetworkPolicies, CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies as \
     compact tables: who they select, their directions, and each rule's peers, ports and L7 \
     rules. Give resource_name for one policy in full."
);

fn np_peer(peer: &Value) -> String {
    if let Some(ip) = peer.get("ipBlock") {
        let except: Vec<&str> = arr(ip, "/except")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        return if except.is_empty() {
            s(ip, "/cidr").to_owned()
        } else {
            format!("{} except {}", s(ip, "/cidr"), except.join(","))
        };
    }
    match (peer.get("namespaceSelector"), peer.get("podSelector")) {
        (Some(n), Some(p)) => format!("ns({})/pods({})", fmt_selector(n), fmt_selector(p)),
        (Some(n), None) => format!("ns({})", fmt_selector(n)),
        (None, Some(p)) => format!("pods({})", fmt_selector(p)),
        (None, None) => "?".to_owned(),
    }
}

fn np_rules(p: &Value, key: &str, peers: &str) -> String {
    let rules: Vec<String> = arr(p, key)
        .iter()
        .map(|r| {
            let ps: Vec<String> = arr(r, peers).iter().map(np_peer).collect();
            let ports: Vec<String> = arr(r, "/ports")
                .iter()
                .map(|p| {
                    let port = match p.get("port") {
                        Some(Value::Number(n)) => n.to_string(),
                        Some(Value::String(x)) => x.clone(),
                        _ => "*".to_owned(),
                    };
                    format!(
                        "{port}/{}",
                        match s(p, "/protocol") {
                            "" => "TCP",
                            x => x,
                        }
                    )
                })
                .collect();
            format!(
                "{}{}",
                if ps.is_empty() {
                    "any".to_owned()
                } else {
                    ps.join("+")
                },
                if ports.is_empty() {
                    String::new()
                } else {
                    format!(" :{}", ports.join(","))
                }
            )
        })
        .collect();
    if rules.is_empty() {
        "none".to_owned()
    } else {
        join_bounded(rules, 4)
    }
}

fn cilium_rule_summary(r: &Value, ingress: bool) -> String {
    let mut parts = Vec::new();
    let fields: &[(&str, &str)] = if ingress {
        &[
            ("fromEndpoints", "endpoints"),
            ("fromEntities", "entities"),
            ("fromCIDR", "cidr"),
            ("fromCIDRSet", "cidr"),
            ("fromNodes", "nodes"),
            ("fromGroups", "groups"),
        ]
    } else {
        &[
            ("toEndpoints", "endpoints"),
            ("toEntities", "entities"),
            ("toCIDR", "cidr"),
            ("toCIDRSet", "cidr"),
            ("toFQDNs", "fqdn"),
            ("toServices", "services"),
            ("toNodes", "nodes"),
            ("toGroups", "groups"),
        ]
    };
    for (key, label) in fields {
        let items: Vec<String> = arr(r, &format!("/{key}"))
            .iter()
            .map(|v| match v {
                Value::String(x) => x.clone(),
                _ if *label == "endpoints" || *label == "nodes" => fmt_selector(v),
                _ if *label == "cidr" => s(v, "/cidr").to_owned(),
                _ if *label == "fqdn" => match s(v, "/matchName") {
                    "" => s(v, "/matchPattern").to_owned(),
                    n => n.to_owned(),
                },
                _ => v.to_string(),
            })
            .collect();
        if !items.is_empty() {
            parts.push(format!("{label}({})", items.join(";")));
        }
    }
    for tp in arr(r, "/toPorts") {
        let ports: Vec<String> = arr(tp, "/ports")
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    s(p, "/port"),
                    match s(p, "/protocol") {
                        "" => "ANY",
                        x => x,
                    }
                )
            })
            .collect();
        let mut t = format!(":{}", ports.join(","));
        if let Some(rules) = tp.get("rules") {
            for (i, h) in arr(rules, "/http").iter().enumerate() {
                if i < 3 {
                    let _ = write!(
                        t,
                        " http({} {})",
                        match s(h, "/method") {
                            "" => "*",
                            m => m,
                        },
                        match s(h, "/path") {
                            "" => "*",
                            p => p,
                        }
                    );
                }
            }
            for d in arr(rules, "/dns") {
                let _ = write!(
                    t,
                    " dns({})",
                    match s(d, "/matchName") {
                        "" => s(d, "/matchPattern"),
                        n => n,
                    }
                );
            }
        }
        parts.push(t);
    }
    if parts.is_empty() {
        "{} (nothing)".to_owned()
    } else {
        parts.join(" ")
    }
}

fn cilium_section(rule: &Value, key: &str) -> String {
    let ingress = key.starts_with("ingress");
    let items: Vec<String> = arr(rule, &format!("/{key}"))
        .iter()
        .map(|r| cilium_rule_summary(r, ingress))
        .collect();
    if items.is_empty() {
        "-".to_owned()
    } else {
        join_bounded(items, 3)
    }
}

fn table(kind: PolicyKind, items: &[Value], with_ns: bool) -> Table {
    let mut t = match kind {
        PolicyKind::NetworkPolicy => Table {
            headers: vec!["NAME", "POD-SELECTOR", "TYPES", "INGRESS", "EGRESS"],
            rows: items
                .iter()
                .map(|p| {
                    let (i, e) = np_types(p);
                    vec![
                        name_of(p).to_owned(),
                        fmt_selector(p.pointer("/spec/podSelector").unwrap_or(&Value::Null)),
                        [(i, "Ingress"), (e, "Egress")]
                            .iter()
                            .filter(|(on, _)| *on)
                            .map(|(_, n)| *n)
                            .collect::<Vec<_>>()
                            .join(","),
                        if i {
                            np_rules(p, "/spec/ingress", "/from")
                        } else {
                            "-".to_owned()
                        },
                        if e {
                            np_rules(p, "/spec/egress", "/to")
                        } else {
                            "-".to_owned()
                        },
                    ]
                })
                .collect(),
        },
        _ => Table {
            headers: vec!["NAME", "SELECTOR", "INGRESS", "EGRESS", "DENY"],
            rows: items
                .iter()
                .flat_map(|p| {
                    cilium_rules(p).into_iter().map(move |(_, r)| {
                        let sel = match (r.get("endpointSelector"), r.get("nodeSelector")) {
                            (Some(e), _) => fmt_selector(e),
                            (None, Some(n)) => format!("nodes: {}", fmt_selector(n)),
                            _ => "-".to_owned(),
                        };
                        let deny = [
                            cilium_section(r, "ingressDeny"),
                            cilium_section(r, "egressDeny"),
                        ];
                        vec![
                            name_of(p).to_owned(),
                            sel,
                            cilium_section(r, "ingress"),
                            cilium_section(r, "egress"),
                            match deny {
                                [i, e] if i == "-" && e == "-" => "-".to_owned(),
                                [i, e] => format!("in: {i}; out: {e}"),
                            },
                        ]
                    })
                })
                .collect(),
        },
    };
    if with_ns && kind != PolicyKind::CiliumClusterwideNetworkPolicy {
        t.headers.insert(0, "NAMESPACE");
        let mut rows = Vec::new();
        for p in items {
            let n = if kind == PolicyKind::NetworkPolicy {
                1
            } else {
                cilium_rules(p).len()
            };
            for _ in 0..n {
                rows.push(ns_of(p).to_owned());
            }
        }
        for (row, ns) in t.rows.iter_mut().zip(rows) {
            row.insert(0, ns);
        }
    }
    t
}

fn parse_kinds(given: &Option<String>) -> Result<Vec<PolicyKind>> {
    match non_empty(given) {
        None | Some("all") => Ok(PolicyKind::ALL.to_vec()),
        Some(t) => PolicyKind::parse(t).map(|k| vec![k]).ok_or_else(|| {
            NetworkPolicyError::invalid(
                "resource_type",
                format!("{t:?} is not a policy kind; use networkpolicy (np), ciliumnetworkpolicy (cnp), ciliumclusterwidenetworkpolicy (ccnp) or all"),
            )
        }),
    }
}

impl ListPolicies {
    async fn exec(&self, args: ListArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let kinds = parse_kinds(&args.resource_type)?;
        let ns = s.ns(&args.namespace)?.to_owned();
        let ns_opt = (!args.all_namespaces.0).then_some(ns.as_str());
        if let Some(name) = non_empty(&args.resource_name) {
            check_name("resource_name", name)?;
            let [kind] = kinds.as_slice() else {
                return Err(NetworkPolicyError::invalid(
                    "resource_type",
                    "resource_name needs one resource_type (not all)",
                ));
            };
            let info =
                resolve(&s.catalog, *kind)
                    .await?
                    .ok_or_else(|| NetworkPolicyError::NotFound {
                        message: format!(
                            "{kind} is not served by this cluster (is Cilium installed?)"
                        ),
                    })?;
            let mut obj = kapi::get(
                &s.client,
                &info,
                info.namespaced.then_some(ns.as_str()),
                name,
            )
            .await?;
            sanitize(&mut obj, false);
            let yaml = serde_yaml::to_string(&obj).unwrap_or_default();
            return Ok(ToolOutput::text(
                s.bound(yaml, "The policy is too large to show in full."),
            ));
        }
        let mut out = String::new();
        let mut missing = Vec::new();
        for kind in kinds {
            let Some(info) = resolve(&s.catalog, kind).await? else {
                missing.push(kind.kind());
                continue;
            };
            let scope = if info.namespaced { ns_opt } else { None };
            let items =
                kapi::list_all(&s.client, &info, scope, &ListParams::default(), 5_000).await?;
            let where_ = match (info.namespaced, scope) {
                (false, _) => "cluster-wide".to_owned(),
                (true, Some(n)) => format!("in namespace {n}"),
                (true, None) => "in all namespaces".to_owned(),
            };
            let _ = writeln!(out, "== {kind} ({} {where_})", items.len());
            if items.is_empty() {
                out.push_str("none\n");
            } else {
                out.push_str(&table(kind, &items, scope.is_none()).render());
            }
        }
        if !missing.is_empty() {
            let _ = writeln!(
                out,
                "not served by this cluster: {} (Cilium not installed?)",
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
// network_policy_analyze

/// Arguments of `network_policy_analyze`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnalyzeArgs {
    /// Namespace to analyze (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Analyze every namespace (Kubernetes' own kube-* namespaces excluded).
    #[serde(default)]
    pub all_namespaces: Flag,
}

family_tool!(
    /// `network_policy_analyze`: gaps and over-broad rules across NetworkPolicy and Cilium.
    AnalyzePolicies,
    Shared,
    "network_policy_analyze",
    ToolEffect::ReadOnly,
    AnalyzeArgs,
    "Analyze NetworkPolicies, CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies \
     together: pods no policy selects, namespaces without default deny, policies that select \
     nothing, egress open to every destination, ingress open to all namespaces or the world. \
     Each finding has evidence and a fix."
);

impl AnalyzePolicies {
    async fn exec(&self, args: AnalyzeArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let scope = (!args.all_namespaces.0)
            .then(|| s.ns(&args.namespace).map(str::to_owned))
            .transpose()?;
        let snap = PolicySnapshot::gather(&s.client, &s.catalog, scope.as_deref()).await?;
        if let Some(ns) = &scope
            && !snap.namespaces.is_empty()
            && snap.namespace(ns).is_none()
        {
            return Err(NetworkPolicyError::NotFound {
                message: format!("namespace {ns} does not exist"),
            });
        }
        let findings = analyze(
            &snap,
            &NetpolAnalyzeOptions {
                namespace: scope.clone(),
            },
        );
        let where_ = scope
            .as_deref()
            .map_or("all namespaces".to_owned(), |n| format!("namespace {n}"));
        let counts: Vec<String> = PolicyKind::ALL
            .iter()
            .filter_map(|k| snap.policies.get(k).map(|v| format!("{} {k}", v.len())))
            .collect();
        let header = if findings.is_empty() {
            format!(
                "No network policy problems found in {where_}. Read: {}.",
                counts.join(", ")
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
        Ok(ToolOutput::text(text).with_structured(
            json!({"namespace": scope, "findings": findings, "notes": snap.notes}),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// cilium_validate_cilium_network_policies

/// Arguments of `cilium_validate_cilium_network_policies`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ValidateArgs {
    /// A CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy manifest (YAML, several
    /// documents allowed) to check before applying it; without it the cluster's policies are
    /// checked.
    #[serde(default)]
    pub manifest: Option<String>,
    /// Namespace whose CiliumNetworkPolicies to check (default: the configured namespace);
    /// CiliumClusterwideNetworkPolicies are always checked.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Check the policies of every namespace.
    #[serde(default)]
    pub all_namespaces: Flag,
    /// Check only the policy with this name.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// Accepted for kagent compatibility (`cilium-dbg preflight validate-cnp --enable-k8s`);
    /// the check always reads the Kubernetes API.
    #[serde(default)]
    pub enable_k8s: Flag,
    /// Accepted for kagent compatibility; discovery is always used.
    #[serde(default)]
    pub enable_k8s_api_discovery: Flag,
    /// Accepted for kagent compatibility; the check needs no Cilium agent pod.
    #[serde(default)]
    pub node_name: Option<String>,
}

family_tool!(
    /// `cilium_validate_cilium_network_policies`: structural checks of Cilium policies.
    ValidateCiliumPolicies,
    Shared,
    "cilium_validate_cilium_network_policies",
    ToolEffect::ReadOnly,
    ValidateArgs,
    "Validate Cilium network policies (the cluster's, or a manifest before applying it) against \
     Cilium's policy rules: endpointSelector / nodeSelector, ingress / egress / deny rule fields \
     (unknown or misspelled fields such as toFqdns), peer combinations Cilium rejects, entities, \
     CIDRs, ports and protocols, L7 HTTP / DNS / Kafka rules, toFQDNs selectors and DNS \
     visibility."
);

impl ValidateCiliumPolicies {
    async fn exec(&self, args: ValidateArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let mut policies: Vec<Value> = Vec::new();
        let source;
        let mut context: Vec<Value> = Vec::new();
        if let Some(text) = non_empty(&args.manifest) {
            for (n, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
                let v = Value::deserialize(doc).map_err(|e| {
                    NetworkPolicyError::invalid("manifest", format!("document {}: {e}", n + 1))
                })?;
                match v {
                    Value::Null => continue,
                    Value::Object(_) => policies.push(v),
                    other => {
                        return Err(NetworkPolicyError::invalid(
                            "manifest",
                            format!("document {} is not an object: {other}", n + 1),
                        ));
                    }
                }
            }
            if policies.is_empty() {
                return Err(NetworkPolicyError::invalid(
                    "manifest",
                    "no documents in the manifest",
                ));
            }
            source = format!("{} documents of the manifest", policies.len());
        } else {
            let ns = s.ns(&args.namespace)?.to_owned();
            let ns_opt = (!args.all_namespaces.0).then_some(ns.as_str());
            let mut served = false;
            for kind in [
                PolicyKind::CiliumNetworkPolicy,
                PolicyKind::CiliumClusterwideNetworkPolicy,
            ] {
                let Some(info) = resolve(&s.catalog, kind).await? else {
                    continue;
                };
                served = true;
                let scope = if info.namespaced { ns_opt } else { None };
                let items =
                    kapi::list_all(&s.client, &info, scope, &ListParams::default(), 5_000).await?;
                policies.extend(items);
            }
            if !served {
                return Err(NetworkPolicyError::NotFound {
                    message: "CiliumNetworkPolicy is not served by this cluster: Cilium's CRDs (cilium.io) are not installed".into(),
                });
            }
            // DNS visibility may come from any policy of the cluster
            context = policies.clone();
            if let Some(name) = non_empty(&args.policy_name) {
                let names: Vec<String> = policies.iter().map(|p| name_of(p).to_owned()).collect();
                policies.retain(|p| name_of(p) == name);
                if policies.is_empty() {
                    return Err(NetworkPolicyError::NotFound {
                        message: format!(
                            "no Cilium policy named {name} in {}; policies there: {}",
                            ns_opt.map_or("the cluster".to_owned(), |n| format!(
                                "namespace {n} or cluster-wide"
                            )),
                            if names.is_empty() {
                                "none".to_owned()
                            } else {
                                join_bounded(&names, 15)
                            }
                        ),
                    });
                }
            }
            source = format!(
                "{} Cilium policies in {}",
                policies.len(),
                ns_opt.map_or("all namespaces".to_owned(), |n| format!(
                    "namespace {n} (and cluster-wide)"
                ))
            );
        }
        // kagent's cilium-dbg flags: accepted, and said to be unnecessary
        let mut notes = Vec::new();
        if args.enable_k8s.0 || args.enable_k8s_api_discovery.0 {
            notes.push("enable_k8s / enable_k8s_api_discovery change nothing: the policies are always read from the Kubernetes API".to_owned());
        }
        if let Some(node) = non_empty(&args.node_name) {
            notes.push(format!(
                "node_name {node} is not needed: the check runs without a Cilium agent pod"
            ));
        }
        let dns_elsewhere = has_dns_visibility(context.iter().chain(policies.iter()));
        let mut findings: Vec<Finding> = policies
            .iter()
            .flat_map(|p| validate(p, dns_elsewhere))
            .collect();
        sort_findings(&mut findings);
        let bad: std::collections::BTreeSet<String> = findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .map(Finding::object_ref)
            .collect();
        let header = format!(
            "Checked {source}: {} valid, {} with errors{}.",
            policies.len().saturating_sub(bad.len()),
            bad.len(),
            if findings.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} findings ({})",
                    findings.len(),
                    count_by_level(&findings)
                )
            }
        );
        let text = render_findings(
            &header,
            &findings,
            &notes,
            s.max_output_chars,
            "Pass policy_name to check one policy.",
        );
        Ok(ToolOutput::text(text).with_structured(
            json!({"checked": policies.len(), "invalid": bad, "findings": findings}),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// network_policy_create_default_deny

/// Arguments of `network_policy_create_default_deny`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DefaultDenyArgs {
    /// Namespace to isolate (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Directions: Ingress (default), Egress, or Ingress,Egress.
    #[serde(default)]
    pub policy_types: Option<String>,
    /// With Egress: still allow DNS to kube-dns (default true; pods cannot resolve names
    /// otherwise).
    #[serde(default)]
    pub allow_dns: Option<Flag>,
    /// Policy name (default default-deny-ingress / default-deny-egress / default-deny).
    #[serde(default)]
    pub name: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

family_tool!(
    /// `network_policy_create_default_deny`: a default-deny NetworkPolicy for a namespace.
    CreateDefaultDeny,
    Shared,
    "network_policy_create_default_deny",
    ToolEffect::Mutating,
    DefaultDenyArgs,
    "Create (server-side apply) a default-deny NetworkPolicy selecting every pod of a \
     namespace for Ingress and/or Egress (egress keeps DNS to kube-dns unless allow_dns is \
     false). Reports which pods would then receive or send nothing because no other policy \
     allows them anything, and the diff; dry_run previews it."
);

impl CreateDefaultDeny {
    async fn exec(&self, args: DefaultDenyArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let ns = s.ns(&args.namespace)?.to_owned();
        let mut ingress = false;
        let mut egress = false;
        for t in non_empty(&args.policy_types)
            .unwrap_or("Ingress")
            .split([',', ' '])
        {
            match t.trim().to_ascii_lowercase().as_str() {
                "" => {}
                "ingress" => ingress = true,
                "egress" => egress = true,
                other => {
                    return Err(NetworkPolicyError::invalid(
                        "policy_types",
                        format!("{other:?}: use Ingress, Egress or Ingress,Egress"),
                    ));
                }
            }
        }
        if !ingress && !egress {
            return Err(NetworkPolicyError::invalid(
                "policy_types",
                "name at least one of Ingress, Egress",
            ));
        }
        let snap = PolicySnapshot::gather(&s.client, &s.catalog, Some(&ns)).await?;
        if !snap.namespaces.is_empty() && snap.namespace(&ns).is_none() {
            return Err(NetworkPolicyError::NotFound {
                message: format!("namespace {ns} does not exist"),
            });
        }
        let allow_dns = args.allow_dns.map(|f| f.0).unwrap_or(true);
        let name =
            non_empty(&args.name)
                .map(str::to_owned)
                .unwrap_or_else(|| match (ingress, egress) {
                    (true, true) => "default-deny".to_owned(),
                    (true, false) => "default-deny-ingress".to_owned(),
                    _ => "default-deny-egress".to_owned(),
                });
        check_name("name", &name)?;
        let mut types = Vec::new();
        if ingress {
            types.push("Ingress");
        }
        if egress {
            types.push("Egress");
        }
        let mut spec = json!({"podSelector": {}, "policyTypes": types});
        if egress
            && allow_dns
            && let Some(m) = spec.as_object_mut()
        {
            m.insert("egress".into(), json!([{
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}
                }],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
            }]));
        }
        let policy = json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        });
        // impact: pods whose only selecting policies (if any) allow nothing in a direction
        let pods: Vec<&Value> = snap.pods_in(&ns).collect();
        let mut cut_in = Vec::new();
        let mut cut_out = Vec::new();
        for pod in &pods {
            let (mut allow_in, mut allow_out) = (false, false);
            for kind in PolicyKind::ALL {
                for p in snap.of(kind) {
                    if !subjects(&snap, kind, p)
                        .iter()
                        .any(|x| name_of(x) == name_of(pod) && ns_of(x) == ns)
                    {
                        continue;
                    }
                    match kind {
                        PolicyKind::NetworkPolicy => {
                            allow_in |= !arr(p, "/spec/ingress").is_empty();
                            allow_out |= !arr(p, "/spec/egress").is_empty();
                        }
                        _ => {
                            for (_, r) in cilium_rules(p) {
                                allow_in |= arr(r, "/ingress")
                                    .iter()
                                    .any(|x| x.as_object().is_some_and(|m| !m.is_empty()));
                                allow_out |= arr(r, "/egress")
                                    .iter()
                                    .any(|x| x.as_object().is_some_and(|m| !m.is_empty()));
                            }
                        }
                    }
                }
            }
            if ingress && !allow_in {
                cut_in.push(name_of(pod));
            }
            if egress && !allow_out {
                cut_out.push(name_of(pod));
            }
        }
        let opts = ApplyOptions::new(s.field_manager.clone()).dry_run(dry);
        let applied = apply_objects(&s.client, &s.catalog, vec![policy], &ns, &opts).await?;
        let mut text = String::new();
        for a in &applied {
            if dry {
                let _ = writeln!(
                    text,
                    "DRY RUN (server-side, nothing changed): would be {}",
                    a.summary()
                );
            } else {
                let _ = writeln!(text, "{}", a.summary());
            }
        }
        let _ = writeln!(
            text,
            "{} pods in {ns} become isolated for {}",
            pods.len(),
            types.join(" and ")
        );
        if !cut_in.is_empty() {
            let _ = writeln!(
                text,
                "no policy allows them any ingress, so they will receive nothing: {}",
                join_bounded(&cut_in, 10)
            );
        }
        if !cut_out.is_empty() {
            let _ = writeln!(
                text,
                "no policy allows them any egress, so they will send nothing{}: {}",
                if allow_dns { " but DNS" } else { "" },
                join_bounded(&cut_out, 10)
            );
        }
        text.push_str("--- diff ---\n");
        for a in &applied {
            let _ = writeln!(text, "{}", a.diff);
        }
        Ok(ToolOutput::text(s.bound(text, "")).with_structured(json!({
            "dry_run": dry,
            "objects": applied.iter().map(|a| a.summary()).collect::<Vec<_>>(),
            "no_ingress_allowed": cut_in,
            "no_egress_allowed": cut_out,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_and_rules_summarize() {
        let np = json!({"spec": {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 5432}]},
            {}
        ]}});
        assert_eq!(
            np_rules(&np, "/spec/ingress", "/from"),
            "ns(team=a)/pods(<all>)+10.0.0.0/8 except 10.1.0.0/16 :5432/TCP, any"
        );
        let r = json!({"toFQDNs": [{"matchName": "api.example.com"}], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]});
        assert_eq!(
            cilium_rule_summary(&r, false),
            "fqdn(api.example.com) :443/TCP"
        );
        assert_eq!(cilium_rule_summary(&json!({}), true), "{} (nothing)");
    }
}
