//! The policy kinds (Kubernetes NetworkPolicy, CiliumNetworkPolicy,
//! CiliumClusterwideNetworkPolicy), the snapshot the analyzers read, and which pods a policy
//! selects — with Cilium's label conventions (`k8s:` sources, `io.kubernetes.pod.namespace`,
//! namespace labels, service accounts).

use std::collections::BTreeMap;

use kagent_k8s::kapi;
use kagent_k8s::labels::selector_matches;
use kagent_k8s::{K8sError, ResourceCatalog, ResourceInfo};
use kube::Client;
use kube::api::ListParams;
use serde_json::{Map, Value, json};

use super::error::{NetworkPolicyError, Result};
use crate::family::{arr, labels_of, name_of, ns_of, obj, pod_is_live, s};

/// Most objects of one kind a snapshot reads.
const MAX_OBJECTS: usize = 20_000;

/// The network policy kinds the tools read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    /// `networking.k8s.io/v1` NetworkPolicy.
    NetworkPolicy,
    /// `cilium.io/v2` CiliumNetworkPolicy (namespaced).
    CiliumNetworkPolicy,
    /// `cilium.io/v2` CiliumClusterwideNetworkPolicy.
    CiliumClusterwideNetworkPolicy,
}

impl PolicyKind {
    /// Every kind.
    pub const ALL: [PolicyKind; 3] = [
        PolicyKind::NetworkPolicy,
        PolicyKind::CiliumNetworkPolicy,
        PolicyKind::CiliumClusterwideNetworkPolicy,
    ];

    /// The kind as written in manifests.
    pub fn kind(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy => "NetworkPolicy",
            PolicyKind::CiliumNetworkPolicy => "CiliumNetworkPolicy",
            PolicyKind::CiliumClusterwideNetworkPolicy => "CiliumClusterwideNetworkPolicy",
        }
    }

    /// `plural.group` for discovery.
    pub fn resource_type(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy => "networkpolicies.networking.k8s.io",
            PolicyKind::CiliumNetworkPolicy => "ciliumnetworkpolicies.cilium.io",
            PolicyKind::CiliumClusterwideNetworkPolicy => {
                "ciliumclusterwidenetworkpolicies.cilium.io"
            }
        }
    }

    /// Whether it is one of Cilium's kinds.
    pub fn is_cilium(self) -> bool {
        self != PolicyKind::NetworkPolicy
    }

    /// Parses what a model types: kind, plural, or `netpol`, `np`, `cnp`, `ccnp`.
    pub fn parse(text: &str) -> Option<PolicyKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "networkpolicy"
            | "networkpolicies"
            | "netpol"
            | "np"
            | "networkpolicies.networking.k8s.io" => Some(PolicyKind::NetworkPolicy),
            "ciliumnetworkpolicy"
            | "ciliumnetworkpolicies"
            | "cnp"
            | "ciliumnetworkpolicies.cilium.io" => Some(PolicyKind::CiliumNetworkPolicy),
            "ciliumclusterwidenetworkpolicy"
            | "ciliumclusterwidenetworkpolicies"
            | "ccnp"
            | "ciliumclusterwidenetworkpolicies.cilium.io" => {
                Some(PolicyKind::CiliumClusterwideNetworkPolicy)
            }
            _ => None,
        }
    }

    /// The kind of a manifest object.
    pub fn of(obj: &Value) -> Option<PolicyKind> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.kind() == s(obj, "/kind"))
    }
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

/// Resolves a kind through discovery; `None` when the cluster does not serve it.
pub(crate) async fn resolve(
    catalog: &ResourceCatalog,
    kind: PolicyKind,
) -> Result<Option<ResourceInfo>> {
    match catalog.resolve(kind.resource_type()).await {
        Ok(i) => Ok(Some(i)),
        Err(K8sError::UnknownResourceType { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What the analyzers read: namespaces, pods, nodes and the policies of every served kind.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PolicySnapshot {
    /// Namespace objects.
    pub namespaces: Vec<Value>,
    /// Pods.
    pub pods: Vec<Value>,
    /// Nodes (for Cilium host policies; empty when they may not be listed).
    pub nodes: Vec<Value>,
    /// Policies by kind.
    pub policies: BTreeMap<PolicyKind, Vec<Value>>,
    /// Kinds the cluster does not serve (Cilium not installed).
    pub not_served: Vec<PolicyKind>,
    /// What could not be read, and why.
    pub notes: Vec<String>,
}

impl PolicySnapshot {
    /// A snapshot from objects you already have (tests, offline analysis).
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Self {
        let mut snap = PolicySnapshot::default();
        for o in objects {
            match s(&o, "/kind") {
                "Namespace" => snap.namespaces.push(o),
                "Pod" => snap.pods.push(o),
                "Node" => snap.nodes.push(o),
                _ => {
                    if let Some(k) = PolicyKind::of(&o) {
                        snap.policies.entry(k).or_default().push(o);
                    }
                }
            }
        }
        snap
    }

    /// The policies of one kind.
    pub fn of(&self, kind: PolicyKind) -> &[Value] {
        self.policies.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Reads everything cluster-wide; when that is forbidden, reads `namespace` only and
    /// says so in the notes.
    pub async fn gather(
        client: &Client,
        catalog: &ResourceCatalog,
        namespace: Option<&str>,
    ) -> Result<PolicySnapshot> {
        let mut snap = PolicySnapshot::default();
        for (ty, slot) in [("namespaces", 0), ("pods", 1), ("nodes", 2)] {
            let info = catalog.resolve(ty).await?;
            let (items, note) = list_scoped(client, &info, namespace).await?;
            if let Some(n) = note {
                snap.notes.push(n);
            }
            match slot {
                0 => snap.namespaces = items,
                1 => snap.pods = items,
                _ => snap.nodes = items,
            }
        }
        for kind in PolicyKind::ALL {
            match resolve(catalog, kind).await? {
                Some(info) => {
                    let (items, note) = list_scoped(client, &info, namespace).await?;
                    if let Some(n) = note {
                        snap.notes.push(n);
                    }
                    snap.policies.insert(kind, items);
                }
                None => snap.not_served.push(kind),
            }
        }
        if !snap.not_served.is_empty() {
            snap.notes.push(format!(
                "not served by this cluster: {}",
                snap.not_served
                    .iter()
                    .map(|k| k.kind())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(snap)
    }

    /// Live pods (not Succeeded / Failed) on the pod network (not `hostNetwork`) in `ns`.
    pub(crate) fn pods_in<'a>(&'a self, ns: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.network_pods().filter(move |p| ns_of(p) == ns)
    }

    /// Live pods on the pod network (policies do not apply to `hostNetwork` pods).
    pub(crate) fn network_pods(&self) -> impl Iterator<Item = &Value> + '_ {
        self.pods.iter().filter(|p| {
            pod_is_live(p) && p.pointer("/spec/hostNetwork").and_then(Value::as_bool) != Some(true)
        })
    }

    pub(crate) fn namespace(&self, name: &str) -> Option<&Value> {
        self.namespaces.iter().find(|n| name_of(n) == name)
    }
}

async fn list_scoped(
    client: &Client,
    info: &ResourceInfo,
    namespace: Option<&str>,
) -> Result<(Vec<Value>, Option<String>)> {
    let lp = ListParams::default();
    match kapi::list_all(client, info, None, &lp, MAX_OBJECTS).await {
        Ok(items) => Ok((items, None)),
        Err(e) if matches!(e.status_code(), Some(401 | 403)) => match namespace {
            Some(ns) if info.namespaced => {
                let items = kapi::list_all(client, info, Some(ns), &lp, MAX_OBJECTS).await?;
                Ok((
                    items,
                    Some(format!(
                        "may not list {} in all namespaces; read only {ns}",
                        info.qualified_name()
                    )),
                ))
            }
            _ => Ok((
                Vec::new(),
                Some(format!("may not list {}: {e}", info.qualified_name())),
            )),
        },
        Err(e) => Err(NetworkPolicyError::Kube(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Selection

/// Whether a LabelSelector has no constraint at all (`{}`).
pub(crate) fn selector_is_empty(sel: &Value) -> bool {
    obj(sel, "/matchLabels").is_none_or(Map::is_empty) && arr(sel, "/matchExpressions").is_empty()
}

/// Whether a NetworkPolicy selects `pod` (same namespace, `podSelector`).
pub(crate) fn np_selects(np: &Value, pod: &Value) -> bool {
    ns_of(np) == ns_of(pod)
        && selector_matches(
            np.pointer("/spec/podSelector").unwrap_or(&json!({})),
            labels_of(pod),
        )
}

/// The NetworkPolicy's directions: `policyTypes`, or Ingress plus Egress when it has egress
/// rules.
pub(crate) fn np_types(np: &Value) -> (bool, bool) {
    let types: Vec<&str> = arr(np, "/spec/policyTypes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if types.is_empty() {
        (true, np.pointer("/spec/egress").is_some())
    } else {
        (types.contains(&"Ingress"), types.contains(&"Egress"))
    }
}

/// The rules of a Cilium policy (`spec` and every entry of `specs`), with their paths.
pub(crate) fn cilium_rules(p: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(spec) = p.get("spec").filter(|v| v.is_object()) {
        out.push(("spec".to_owned(), spec));
    }
    for (i, r) in arr(p, "/specs").iter().enumerate() {
        out.push((format!("specs[{i}]"), r));
    }
    out
}

/// Cilium's label key without its source prefix (`k8s:app` → `app`).
pub(crate) fn strip_source(key: &str) -> &str {
    for prefix in ["k8s:", "any:", "container:", "unspec:"] {
        if let Some(rest) = key.strip_prefix(prefix) {
            return rest;
        }
    }
    key
}

/// Namespace key of Cilium endpoint labels.
pub(crate) const NS_KEY: &str = "io.kubernetes.pod.namespace";
const NS_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";
const SA_KEY: &str = "io.cilium.k8s.policy.serviceaccount";
const CLUSTER_KEY: &str = "io.cilium.k8s.policy.cluster";

/// The labels Cilium gives a pod's endpoint: its own, its namespace, the namespace's labels and
/// its service account.
pub(crate) fn endpoint_labels(snap: &PolicySnapshot, pod: &Value) -> Map<String, Value> {
    let mut m = labels_of(pod).cloned().unwrap_or_default();
    let ns = ns_of(pod);
    m.insert(NS_KEY.to_owned(), json!(ns));
    if let Some(nsl) = snap.namespace(ns).and_then(labels_of) {
        for (k, v) in nsl {
            m.insert(format!("{NS_LABELS_PREFIX}{k}"), v.clone());
        }
    }
    let sa = match s(pod, "/spec/serviceAccountName") {
        "" => "default",
        sa => sa,
    };
    m.insert(SA_KEY.to_owned(), json!(sa));
    m
}

/// A Cilium endpoint selector with source prefixes removed and the cluster key dropped (one
/// cluster is analyzed); `reserved:` keys never match pods.
pub(crate) fn normalize_selector(sel: &Value) -> Value {
    let mut labels = Map::new();
    if let Some(ml) = obj(sel, "/matchLabels") {
        for (k, v) in ml {
            let key = strip_source(k);
            if key != CLUSTER_KEY {
                labels.insert(key.to_owned(), v.clone());
            }
        }
    }
    let exprs: Vec<Value> = arr(sel, "/matchExpressions")
        .iter()
        .filter(|e| strip_source(s(e, "/key")) != CLUSTER_KEY)
        .map(|e| {
            let mut e = e.clone();
            if let Some(m) = e.as_object_mut() {
                let key =
                    strip_source(m.get("key").and_then(Value::as_str).unwrap_or("")).to_owned();
                m.insert("key".into(), json!(key));
            }
            e
        })
        .collect();
    json!({"matchLabels": labels, "matchExpressions": exprs})
}

/// Whether a selector constrains the namespace (by name or namespace labels).
pub(crate) fn names_namespace(sel: &Value) -> bool {
    let n = normalize_selector(sel);
    obj(&n, "/matchLabels").is_some_and(|m| {
        m.keys()
            .any(|k| k == NS_KEY || k.starts_with(NS_LABELS_PREFIX))
    }) || arr(&n, "/matchExpressions").iter().any(|e| {
        let k = s(e, "/key");
        k == NS_KEY || k.starts_with(NS_LABELS_PREFIX)
    })
}

/// Whether a Cilium endpoint selector selects `pod`; `policy_ns` confines namespaced
/// policies' selectors to their namespace.
pub(crate) fn cilium_selects(
    snap: &PolicySnapshot,
    sel: &Value,
    pod: &Value,
    policy_ns: Option<&str>,
) -> bool {
    if policy_ns.is_some_and(|ns| ns != ns_of(pod)) {
        return false;
    }
    let n = normalize_selector(sel);
    if obj(&n, "/matchLabels").is_some_and(|m| m.keys().any(|k| k.starts_with("reserved:"))) {
        return false;
    }
    let labels = endpoint_labels(snap, pod);
    selector_matches(&n, Some(&labels))
}

/// Whether a Cilium rule's subject selector covers every pod of namespace `ns` (the
/// selector says nothing but, at most, the namespace).
pub(crate) fn cilium_covers_namespace(
    snap: &PolicySnapshot,
    sel: &Value,
    ns: &str,
    policy_ns: Option<&str>,
) -> bool {
    if policy_ns.is_some_and(|p| p != ns) {
        return false;
    }
    let n = normalize_selector(sel);
    let mut rest = n.clone();
    let mut ns_ok = true;
    let ns_labels = snap.namespace(ns).and_then(labels_of);
    if let Some(m) = rest.get_mut("matchLabels").and_then(Value::as_object_mut) {
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            let v = m.get(&k).and_then(Value::as_str).map(str::to_owned);
            if k == NS_KEY {
                ns_ok &= v.as_deref() == Some(ns);
                m.remove(&k);
            } else if let Some(label) = k.strip_prefix(NS_LABELS_PREFIX) {
                ns_ok &=
                    ns_labels.and_then(|l| l.get(label)).and_then(Value::as_str) == v.as_deref();
                m.remove(&k);
            }
        }
    }
    let exprs_left = arr(&rest, "/matchExpressions").iter().any(|e| {
        let k = s(e, "/key");
        k != NS_KEY && !k.starts_with(NS_LABELS_PREFIX)
    });
    ns_ok && !exprs_left && obj(&rest, "/matchLabels").is_none_or(Map::is_empty)
}

/// The pods a policy applies to (the subject), and whether it is a host (node) policy.
pub(crate) fn subjects<'a>(
    snap: &'a PolicySnapshot,
    kind: PolicyKind,
    p: &Value,
) -> Vec<&'a Value> {
    match kind {
        PolicyKind::NetworkPolicy => snap
            .network_pods()
            .filter(|pod| np_selects(p, pod))
            .collect(),
        PolicyKind::CiliumNetworkPolicy | PolicyKind::CiliumClusterwideNetworkPolicy => {
            let policy_ns = (kind == PolicyKind::CiliumNetworkPolicy).then(|| ns_of(p));
            let rules = cilium_rules(p);
            snap.network_pods()
                .filter(|pod| {
                    rules.iter().any(|(_, r)| {
                        r.get("endpointSelector")
                            .is_some_and(|sel| cilium_selects(snap, sel, pod, policy_ns))
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cilium_selectors_see_namespace_and_service_account_labels() {
        let snap = PolicySnapshot::from_objects([
            json!({"kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "a"}}}),
            json!({"kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
                   "spec": {"serviceAccountName": "web-sa"}, "status": {"phase": "Running"}}),
        ]);
        let pod = &snap.pods[0];
        for sel in [
            json!({"matchLabels": {"k8s:app": "web"}}),
            json!({"matchLabels": {"any:app": "web", "k8s:io.kubernetes.pod.namespace": "shop"}}),
            json!({"matchLabels": {"io.cilium.k8s.namespace.labels.team": "a"}}),
            json!({"matchLabels": {"io.cilium.k8s.policy.serviceaccount": "web-sa"}}),
            json!({"matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"}]}),
            json!({}),
        ] {
            assert!(cilium_selects(&snap, &sel, pod, None), "{sel}");
        }
        assert!(!cilium_selects(
            &snap,
            &json!({"matchLabels": {"app": "db"}}),
            pod,
            None
        ));
        assert!(!cilium_selects(&snap, &json!({}), pod, Some("other")));
        assert!(!cilium_selects(
            &snap,
            &json!({"matchLabels": {"reserved:host": ""}}),
            pod,
            None
        ));
        assert!(cilium_covers_namespace(
            &snap,
            &json!({}),
            "shop",
            Some("shop")
        ));
        assert!(cilium_covers_namespace(
            &snap,
            &json!({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "shop"}}),
            "shop",
            None
        ));
        assert!(!cilium_covers_namespace(
            &snap,
            &json!({"matchLabels": {"app": "web"}}),
            "shop",
            None
        ));
        assert!(names_namespace(
            &json!({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "x"}})
        ));
    }

    #[test]
    fn network_policy_types_default_like_kubernetes() {
        assert_eq!(
            np_types(&json!({"spec": {"podSelector": {}}})),
            (true, false)
        );
        assert_eq!(np_types(&json!({"spec": {"egress": []}})), (true, true));
        assert_eq!(
            np_types(&json!({"spec": {"policyTypes": ["Egress"]}})),
            (false, true)
        );
        assert_eq!(
            PolicyKind::parse("ccnp"),
            Some(PolicyKind::CiliumClusterwideNetworkPolicy)
        );
        assert_eq!(PolicyKind::parse("netpol"), Some(PolicyKind::NetworkPolicy));
        assert_eq!(PolicyKind::parse("pods"), None);
    }
}
