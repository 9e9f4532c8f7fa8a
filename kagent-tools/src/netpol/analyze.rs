//! `network_policy_analyze`: pure analyzers over NetworkPolicies, CiliumNetworkPolicies and
//! CiliumClusterwideNetworkPolicies together.
//!
//! | finding | level |
//! |---|---|
//! | PodsWithoutPolicy: pods no policy of any kind selects (their traffic is unrestricted) | warning |
//! | NoDefaultDeny: a namespace where no policy isolates every pod for ingress (or egress) | warning (ingress), info (egress only) |
//! | PolicySelectsNothing: a policy whose selector matches no pod (or, for host policies, no node) | warning |
//! | EgressToAnyDestination: an egress rule open to every destination (no peer, 0.0.0.0/0, `world`, `all`) | warning; info when only DNS ports |
//! | IngressFromAnywhere: an ingress rule open to every source, outside the cluster included | warning |
//! | IngressFromAllNamespaces: an ingress rule admitting pods of every namespace | warning |

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{
    NS_KEY, PolicyKind, PolicySnapshot, cilium_covers_namespace, cilium_rules, names_namespace,
    normalize_selector, np_types, selector_is_empty, strip_source, subjects,
};
use crate::family::{
    SYSTEM_NAMESPACES, arr, fmt_selector, join_bounded, labels_of, name_of, ns_of, obj, s,
};
use crate::findings::{Finding, Level, sort_findings};

/// What [`analyze`] reports on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetpolAnalyzeOptions {
    /// Report only this namespace (cluster-wide policies are still read). `None`: every
    /// namespace except Kubernetes' own (kube-system, ...).
    pub namespace: Option<String>,
}

/// Runs every analyzer; findings come sorted, errors first. Pure: no I/O.
pub fn analyze(snap: &PolicySnapshot, opts: &NetpolAnalyzeOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let in_scope = |ns: &str| match &opts.namespace {
        Some(n) => n == ns,
        None => !SYSTEM_NAMESPACES.contains(&ns),
    };
    let scoped = opts.namespace.is_some();
    coverage(snap, &in_scope, &mut out);
    selects_nothing(snap, &in_scope, scoped, &mut out);
    open_rules(snap, &in_scope, &mut out);
    sort_findings(&mut out);
    out
}

fn policy_ref(kind: PolicyKind, p: &Value) -> String {
    match kind {
        PolicyKind::CiliumClusterwideNetworkPolicy => format!("{kind} {}", name_of(p)),
        _ => format!("{kind} {}/{}", ns_of(p), name_of(p)),
    }
}

/// Whether a policy puts every pod of `ns` in default deny for (ingress, egress).
fn default_deny(snap: &PolicySnapshot, kind: PolicyKind, p: &Value, ns: &str) -> (bool, bool) {
    match kind {
        PolicyKind::NetworkPolicy => {
            if ns_of(p) != ns
                || !selector_is_empty(p.pointer("/spec/podSelector").unwrap_or(&Value::Null))
            {
                return (false, false);
            }
            let (ing, eg) = np_types(p);
            let open =
                |key: &str, peers: &str| arr(p, key).iter().any(|r| arr(r, peers).is_empty());
            (
                ing && !open("/spec/ingress", "/from"),
                eg && !open("/spec/egress", "/to"),
            )
        }
        _ => {
            let policy_ns = (kind == PolicyKind::CiliumNetworkPolicy).then(|| ns_of(p));
            let mut result = (false, false);
            for (_, rule) in cilium_rules(p) {
                let Some(sel) = rule.get("endpointSelector") else {
                    continue;
                };
                if !cilium_covers_namespace(snap, sel, ns, policy_ns) {
                    continue;
                }
                let dir = |section: &str, deny: &str, flag: &str, all_key: &str| {
                    let explicit = rule
                        .pointer(&format!("/enableDefaultDeny/{flag}"))
                        .and_then(Value::as_bool);
                    let has_rules = !arr(rule, &format!("/{section}")).is_empty()
                        || !arr(rule, &format!("/{deny}")).is_empty();
                    let allow_all = arr(rule, &format!("/{section}"))
                        .iter()
                        .any(|r| arr(r, &format!("/{all_key}")).iter().any(|e| e == "all"));
                    explicit.unwrap_or(has_rules) && !allow_all
                };
                let (i, e) = (
                    dir("ingress", "ingressDeny", "ingress", "fromEntities"),
                    dir("egress", "egressDeny", "egress", "toEntities"),
                );
                result = (result.0 || i, result.1 || e);
            }
            result
        }
    }
}

/// PodsWithoutPolicy, NoDefaultDeny.
fn coverage(snap: &PolicySnapshot, in_scope: &dyn Fn(&str) -> bool, out: &mut Vec<Finding>) {
    // which policies select each pod
    let mut selected: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for kind in PolicyKind::ALL {
        for p in snap.of(kind) {
            for pod in subjects(snap, kind, p) {
                selected
                    .entry((ns_of(pod).to_owned(), name_of(pod).to_owned()))
                    .or_default()
                    .push(policy_ref(kind, p));
            }
        }
    }
    for nsobj in &snap.namespaces {
        let ns = name_of(nsobj);
        if !in_scope(ns) {
            continue;
        }
        let pods: Vec<&Value> = snap.pods_in(ns).collect();
        if pods.is_empty() {
            continue;
        }
        let bare: Vec<&str> = pods
            .iter()
            .filter(|p| !selected.contains_key(&(ns.to_owned(), name_of(p).to_owned())))
            .map(|p| name_of(p))
            .collect();
        let in_ns: Vec<String> = PolicyKind::ALL
            .iter()
            .flat_map(|k| {
                snap.of(*k)
                    .iter()
                    .filter(move |p| {
                        ns_of(p) == ns && *k != PolicyKind::CiliumClusterwideNetworkPolicy
                    })
                    .map(move |p| policy_ref(*k, p))
            })
            .collect();
        let policies_note = if in_ns.is_empty() {
            format!("namespace {ns} has no NetworkPolicy or CiliumNetworkPolicy")
        } else {
            format!("policies in {ns}: {}", join_bounded(&in_ns, 8))
        };
        if !bare.is_empty() {
            out.push(
                Finding::new(
                    Level::Warning,
                    "PodsWithoutPolicy",
                    "Namespace",
                    None,
                    ns,
                    format!(
                        "{} of {} pods in namespace {ns} are selected by no NetworkPolicy or Cilium policy: all their traffic is allowed",
                        bare.len(),
                        pods.len()
                    ),
                )
                .evidence(format!("unselected pods: {}", join_bounded(&bare, 10)))
                .evidence(policies_note.clone())
                .fix("select them with a policy (a default-deny policy selecting every pod, then explicit allows)"),
            );
        }
        let mut ingress = false;
        let mut egress = false;
        let mut deny_by = Vec::new();
        for kind in PolicyKind::ALL {
            for p in snap.of(kind) {
                let (i, e) = default_deny(snap, kind, p, ns);
                if i || e {
                    deny_by.push(format!(
                        "{} ({})",
                        policy_ref(kind, p),
                        match (i, e) {
                            (true, true) => "ingress and egress",
                            (true, false) => "ingress",
                            _ => "egress",
                        }
                    ));
                }
                ingress |= i;
                egress |= e;
            }
        }
        if ingress && egress {
            continue;
        }
        let missing = match (ingress, egress) {
            (false, false) => "ingress or egress",
            (false, true) => "ingress",
            _ => "egress",
        };
        let mut f = Finding::new(
            if ingress { Level::Info } else { Level::Warning },
            "NoDefaultDeny",
            "Namespace",
            None,
            ns,
            format!(
                "namespace {ns} has no default-deny policy for {missing}: traffic no rule names is allowed"
            ),
        )
        .evidence(policies_note)
        .evidence(format!(
            "a default deny selects every pod (podSelector: {{}} / endpointSelector: {{}}) for the direction and has no allow-all rule; {} live pods here",
            pods.len()
        ));
        if !deny_by.is_empty() {
            f = f.evidence(format!("default deny exists for: {}", deny_by.join(", ")));
        }
        out.push(f.fix(format!(
            "network_policy_create_default_deny with namespace {ns} (policy_types {}), after allowing the traffic the workloads need",
            match (ingress, egress) {
                (false, false) => "Ingress,Egress",
                (false, true) => "Ingress",
                _ => "Egress",
            }
        )));
    }
}

/// PolicySelectsNothing.
fn selects_nothing(
    snap: &PolicySnapshot,
    in_scope: &dyn Fn(&str) -> bool,
    scoped: bool,
    out: &mut Vec<Finding>,
) {
    for kind in PolicyKind::ALL {
        for p in snap.of(kind) {
            let cluster_wide = kind == PolicyKind::CiliumClusterwideNetworkPolicy;
            let ns = ns_of(p);
            // a clusterwide policy that selects nothing concerns no namespace in particular
            if (cluster_wide && scoped) || (!cluster_wide && !in_scope(ns)) {
                continue;
            }
            let rules = cilium_rules(p);
            // host policies select nodes
            let node_sels: Vec<&Value> = rules
                .iter()
                .filter_map(|(_, r)| r.get("nodeSelector"))
                .collect();
            if kind.is_cilium() && !node_sels.is_empty() {
                let any = snap.nodes.iter().any(|n| {
                    node_sels.iter().any(|sel| {
                        kagent_k8s::labels::selector_matches(&normalize_selector(sel), labels_of(n))
                    })
                });
                if !any && !snap.nodes.is_empty() {
                    out.push(
                        Finding::new(
                            Level::Warning,
                            "PolicySelectsNothing",
                            kind.kind(),
                            (!cluster_wide).then_some(ns),
                            name_of(p),
                            "the host policy's nodeSelector matches no node",
                        )
                        .evidences(
                            node_sels
                                .iter()
                                .map(|sel| format!("nodeSelector {}", fmt_selector(sel))),
                        )
                        .fix("correct the nodeSelector to the labels of the nodes to protect"),
                    );
                }
                continue;
            }
            if !subjects(snap, kind, p).is_empty() {
                continue;
            }
            let (sel, field) = match kind {
                PolicyKind::NetworkPolicy => (
                    p.pointer("/spec/podSelector")
                        .cloned()
                        .unwrap_or(Value::Null),
                    "spec.podSelector",
                ),
                _ => (
                    rules
                        .first()
                        .and_then(|(_, r)| r.get("endpointSelector"))
                        .cloned()
                        .unwrap_or(Value::Null),
                    "endpointSelector",
                ),
            };
            let where_ = if cluster_wide {
                "any namespace".to_owned()
            } else {
                format!("namespace {ns}")
            };
            let candidates: Vec<&Value> = if cluster_wide {
                snap.network_pods().collect()
            } else {
                snap.pods_in(ns).collect()
            };
            let mut f = Finding::new(
                Level::Warning,
                "PolicySelectsNothing",
                kind.kind(),
                (!cluster_wide).then_some(ns),
                name_of(p),
                format!("the policy selects no pod in {where_}: its rules protect nothing"),
            )
            .at(field)
            .evidence(format!("selector {}", fmt_selector(&sel)));
            if candidates.is_empty() {
                f = f.evidence(format!("no running pod in {where_}"));
            }
            let norm = normalize_selector(&sel);
            for key in obj(&norm, "/matchLabels")
                .into_iter()
                .flat_map(|m| m.keys())
                .take(3)
            {
                if key == NS_KEY {
                    continue;
                }
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for pod in &candidates {
                    if let Some(v) = labels_of(pod)
                        .and_then(|l| l.get(key))
                        .and_then(Value::as_str)
                    {
                        *counts.entry(v).or_default() += 1;
                    }
                }
                f = f.evidence(format!(
                    "values of {key} on pods in {where_}: {}",
                    if counts.is_empty() {
                        "none carry it".to_owned()
                    } else {
                        join_bounded(counts.iter().map(|(v, n)| format!("{v} ({n})")), 10)
                    }
                ));
            }
            out.push(f.fix(
                "correct the selector to the labels of the pods to protect, or delete the policy",
            ));
        }
    }
}

fn is_any_cidr(c: &str) -> bool {
    matches!(c.trim(), "0.0.0.0/0" | "::/0")
}

/// Ports of a rule as text, and whether they are all DNS (53).
fn np_ports(rule: &Value) -> (String, bool) {
    let ports: Vec<String> = arr(rule, "/ports")
        .iter()
        .map(|p| {
            let port = match p.get("port") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
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
    let dns = !ports.is_empty() && ports.iter().all(|p| p.starts_with("53/"));
    if ports.is_empty() {
        ("all ports".to_owned(), false)
    } else {
        (ports.join(","), dns)
    }
}

fn cilium_ports(rule: &Value) -> (String, bool) {
    let ports: Vec<String> = arr(rule, "/toPorts")
        .iter()
        .flat_map(|tp| arr(tp, "/ports"))
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
    let dns = !ports.is_empty() && ports.iter().all(|p| p.starts_with("53/"));
    if ports.is_empty() {
        ("all ports".to_owned(), false)
    } else {
        (ports.join(","), dns)
    }
}

/// EgressToAnyDestination, IngressFromAnywhere, IngressFromAllNamespaces.
fn open_rules(snap: &PolicySnapshot, in_scope: &dyn Fn(&str) -> bool, out: &mut Vec<Finding>) {
    for kind in PolicyKind::ALL {
        for p in snap.of(kind) {
            let cluster_wide = kind == PolicyKind::CiliumClusterwideNetworkPolicy;
            let ns = ns_of(p);
            let subject = subjects(snap, kind, p);
            if cluster_wide {
                // reported where it applies
                if !subject.iter().any(|pod| in_scope(ns_of(pod))) {
                    continue;
                }
            } else if !in_scope(ns) {
                continue;
            }
            let subject_note = format!(
                "applies to {} pods{}",
                subject.len(),
                if subject.is_empty() {
                    String::new()
                } else {
                    format!(": {}", join_bounded(subject.iter().map(|p| name_of(p)), 5))
                }
            );
            let mut push = |level: Level,
                            name: &str,
                            path: String,
                            message: String,
                            why: String,
                            fix: &str| {
                out.push(
                    Finding::new(
                        level,
                        name,
                        kind.kind(),
                        (!cluster_wide).then_some(ns),
                        name_of(p),
                        message,
                    )
                    .at(path)
                    .evidence(why)
                    .evidence(subject_note.clone())
                    .fix(fix),
                );
            };
            match kind {
                PolicyKind::NetworkPolicy => {
                    let (ing, eg) = np_types(p);
                    if eg {
                        for (i, r) in arr(p, "/spec/egress").iter().enumerate() {
                            let (ports, dns) = np_ports(r);
                            let to = arr(r, "/to");
                            let why = if to.is_empty() {
                                Some("the rule has no `to`: every destination".to_owned())
                            } else {
                                to.iter()
                                    .find(|peer| is_any_cidr(s(peer, "/ipBlock/cidr")))
                                    .map(|peer| format!("ipBlock {}", s(peer, "/ipBlock/cidr")))
                            };
                            if let Some(why) = why {
                                push(
                                    if dns { Level::Info } else { Level::Warning },
                                    "EgressToAnyDestination",
                                    format!("spec.egress[{i}]"),
                                    format!(
                                        "egress to any destination on {ports}{}",
                                        if dns { " (DNS)" } else { "" }
                                    ),
                                    why,
                                    "name the destinations (podSelector / namespaceSelector / specific ipBlocks)",
                                );
                            }
                        }
                    }
                    if ing {
                        for (i, r) in arr(p, "/spec/ingress").iter().enumerate() {
                            let (ports, _) = np_ports(r);
                            let from = arr(r, "/from");
                            if from.is_empty()
                                || from
                                    .iter()
                                    .any(|peer| is_any_cidr(s(peer, "/ipBlock/cidr")))
                            {
                                push(
                                    Level::Warning,
                                    "IngressFromAnywhere",
                                    format!("spec.ingress[{i}]"),
                                    format!(
                                        "ingress from any source, outside the cluster included, on {ports}"
                                    ),
                                    if from.is_empty() {
                                        "the rule has no `from`".to_owned()
                                    } else {
                                        "ipBlock 0.0.0.0/0".to_owned()
                                    },
                                    "name the sources (podSelector / namespaceSelector / ipBlocks)",
                                );
                                continue;
                            }
                            if let Some(peer) = from.iter().find(|peer| {
                                peer.get("namespaceSelector").is_some_and(selector_is_empty)
                            }) {
                                push(
                                    Level::Warning,
                                    "IngressFromAllNamespaces",
                                    format!("spec.ingress[{i}]"),
                                    format!("ingress from pods of every namespace on {ports}"),
                                    format!(
                                        "peer namespaceSelector: {{}}{}",
                                        peer.get("podSelector")
                                            .map(|ps| format!(
                                                " with podSelector {}",
                                                fmt_selector(ps)
                                            ))
                                            .unwrap_or_default()
                                    ),
                                    "restrict namespaceSelector to the namespaces that call these pods (kubernetes.io/metadata.name)",
                                );
                            }
                        }
                    }
                }
                _ => {
                    // host (nodeSelector) rules protect nodes, not workloads
                    for (base, rule) in cilium_rules(p)
                        .into_iter()
                        .filter(|(_, r)| r.get("nodeSelector").is_none())
                    {
                        for (i, r) in arr(rule, "/egress").iter().enumerate() {
                            let (ports, dns) = cilium_ports(r);
                            let entities: Vec<&str> = arr(r, "/toEntities")
                                .iter()
                                .filter_map(Value::as_str)
                                .collect();
                            let cidrs: Vec<&str> = arr(r, "/toCIDR")
                                .iter()
                                .filter_map(Value::as_str)
                                .chain(arr(r, "/toCIDRSet").iter().map(|c| s(c, "/cidr")))
                                .collect();
                            let fqdn_all = arr(r, "/toFQDNs")
                                .iter()
                                .any(|f| s(f, "/matchPattern") == "*");
                            let l3_keys = [
                                "toEndpoints",
                                "toCIDR",
                                "toCIDRSet",
                                "toEntities",
                                "toServices",
                                "toFQDNs",
                                "toGroups",
                                "toNodes",
                                "toRequires",
                            ];
                            let no_l3 = l3_keys.iter().all(|k| r.get(*k).is_none());
                            let why = if let Some(e) = entities.iter().find(|e| {
                                matches!(**e, "all" | "world" | "world-ipv4" | "world-ipv6")
                            }) {
                                Some(format!("toEntities {e}"))
                            } else if let Some(c) = cidrs.iter().find(|c| is_any_cidr(c)) {
                                Some(format!("CIDR {c}"))
                            } else if fqdn_all {
                                Some("toFQDNs matchPattern \"*\"".to_owned())
                            } else if no_l3 && !arr(r, "/toPorts").is_empty() {
                                Some(
                                    "the rule names ports but no destination (no to* selector)"
                                        .to_owned(),
                                )
                            } else {
                                None
                            };
                            if let Some(why) = why {
                                push(
                                    if dns { Level::Info } else { Level::Warning },
                                    "EgressToAnyDestination",
                                    format!("{base}.egress[{i}]"),
                                    format!(
                                        "egress to any destination on {ports}{}",
                                        if dns { " (DNS)" } else { "" }
                                    ),
                                    why,
                                    "name the destinations (toEndpoints, toFQDNs with explicit names, specific CIDRs)",
                                );
                            }
                        }
                        for (i, r) in arr(rule, "/ingress").iter().enumerate() {
                            let (ports, _) = cilium_ports(r);
                            let entities: Vec<&str> = arr(r, "/fromEntities")
                                .iter()
                                .filter_map(Value::as_str)
                                .collect();
                            let cidrs: Vec<&str> = arr(r, "/fromCIDR")
                                .iter()
                                .filter_map(Value::as_str)
                                .chain(arr(r, "/fromCIDRSet").iter().map(|c| s(c, "/cidr")))
                                .collect();
                            if let Some(e) = entities.iter().find(|e| {
                                matches!(**e, "all" | "world" | "world-ipv4" | "world-ipv6")
                            }) {
                                push(
                                    Level::Warning,
                                    "IngressFromAnywhere",
                                    format!("{base}.ingress[{i}]"),
                                    format!(
                                        "ingress from any source, outside the cluster included, on {ports}"
                                    ),
                                    format!("fromEntities {e}"),
                                    "name the sources (fromEndpoints, specific CIDRs)",
                                );
                                continue;
                            }
                            if let Some(c) = cidrs.iter().find(|c| is_any_cidr(c)) {
                                push(
                                    Level::Warning,
                                    "IngressFromAnywhere",
                                    format!("{base}.ingress[{i}]"),
                                    format!(
                                        "ingress from any source, outside the cluster included, on {ports}"
                                    ),
                                    format!("CIDR {c}"),
                                    "name the sources (fromEndpoints, specific CIDRs)",
                                );
                                continue;
                            }
                            let all_ns_endpoint = arr(r, "/fromEndpoints").iter().find(|sel| {
                                if cluster_wide {
                                    // a clusterwide selector without namespace key spans every namespace
                                    !names_namespace(sel) || ns_exists_only(sel)
                                } else {
                                    ns_exists_only(sel)
                                }
                            });
                            let why = if entities.contains(&"cluster") {
                                Some("fromEntities cluster".to_owned())
                            } else {
                                all_ns_endpoint
                                    .map(|sel| format!("fromEndpoints {}", fmt_selector(sel)))
                            };
                            if let Some(why) = why {
                                push(
                                    Level::Warning,
                                    "IngressFromAllNamespaces",
                                    format!("{base}.ingress[{i}]"),
                                    format!("ingress from endpoints of every namespace on {ports}"),
                                    why,
                                    "constrain the peers to the calling namespaces (k8s:io.kubernetes.pod.namespace)",
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A selector whose only namespace constraint is `io.kubernetes.pod.namespace Exists` (every
/// namespace).
fn ns_exists_only(sel: &Value) -> bool {
    arr(sel, "/matchExpressions")
        .iter()
        .any(|e| strip_source(s(e, "/key")) == NS_KEY && s(e, "/operator") == "Exists")
        && obj(sel, "/matchLabels").is_none_or(|m| !m.keys().any(|k| strip_source(k) == NS_KEY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snap(extra: Vec<Value>) -> PolicySnapshot {
        let mut objs = vec![
            json!({"kind": "Namespace", "metadata": {"name": "shop"}}),
            json!({"kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}}, "status": {"phase": "Running"}}),
            json!({"kind": "Pod", "metadata": {"name": "db-1", "namespace": "shop", "labels": {"app": "db"}}, "status": {"phase": "Running"}}),
        ];
        objs.extend(extra);
        PolicySnapshot::from_objects(objs)
    }

    fn names(fs: &[Finding]) -> Vec<&str> {
        fs.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn a_namespace_without_policies_is_reported_twice_over() {
        let fs = analyze(&snap(vec![]), &NetpolAnalyzeOptions::default());
        assert_eq!(names(&fs), vec!["NoDefaultDeny", "PodsWithoutPolicy"]);
        assert!(fs[1].message.starts_with("2 of 2 pods"));
    }

    #[test]
    fn default_deny_with_explicit_allows_is_clean() {
        let fs = analyze(
            &snap(vec![
                json!({"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "shop"},
                       "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
                json!({"kind": "NetworkPolicy", "metadata": {"name": "web", "namespace": "shop"},
                       "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]}}),
            ]),
            &NetpolAnalyzeOptions::default(),
        );
        assert!(fs.is_empty(), "{fs:#?}");
    }

    #[test]
    fn cilium_empty_rule_is_default_deny_and_world_egress_is_open() {
        let fs = analyze(
            &snap(vec![
                json!({"kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "shop"},
                "spec": {"endpointSelector": {}, "ingress": [{}], "egress": [{"toEntities": ["world"]}]}}),
            ]),
            &NetpolAnalyzeOptions::default(),
        );
        assert_eq!(names(&fs), vec!["EgressToAnyDestination"], "{fs:#?}");
    }
}
