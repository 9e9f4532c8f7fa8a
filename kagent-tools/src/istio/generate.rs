//! Manifests for the zero-trust and canary use cases, derived from what the cluster runs:
//! STRICT mTLS (PeerAuthentication), deny-by-default authorization with explicit allows per
//! Service (AuthorizationPolicy), and weighted canary routing (DestinationRule subsets and a
//! VirtualService). Pure: the tools validate the result with a server-side dry run.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::analyze::{AnalyzeOptions, analyze};
use super::error::{IstioError, Result};
use super::resources::{IstioKind, MeshSnapshot};
use crate::family::{
    SYSTEM_NAMESPACES, arr, has_istio_proxy, join_bounded, labels_of, map_selects, name_of, ns_of,
    obj, pod_is_live, s,
};
use crate::findings::Finding;

/// Generated objects, with the facts they were derived from.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Generated {
    /// The objects, in apply order.
    pub objects: Vec<Value>,
    /// Why each object looks the way it does (what was observed).
    pub derivation: Vec<String>,
    /// What to know before applying (who loses access, what stays open).
    pub warnings: Vec<String>,
}

/// `apiVersion` for a kind: the version the cluster serves (from the snapshot), else `v1`.
fn api_version(snap: &MeshSnapshot, kind: IstioKind) -> String {
    snap.versions
        .get(&kind)
        .cloned()
        .unwrap_or_else(|| format!("{}/v1", kind.group()))
}

fn live_pods<'a>(snap: &'a MeshSnapshot, ns: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    snap.pods
        .iter()
        .filter(move |p| ns_of(p) == ns && pod_is_live(p))
}

/// Findings the analyzer reports after `objects` are added (replacing same-named objects) that
/// it did not report before: what applying them would break.
pub fn new_findings(snap: &MeshSnapshot, objects: &[Value], opts: &AnalyzeOptions) -> Vec<Finding> {
    let before = analyze(snap, opts);
    let mut after_snap = snap.clone();
    for o in objects {
        let Some(kind) = IstioKind::ALL
            .into_iter()
            .find(|k| k.kind() == s(o, "/kind"))
        else {
            continue;
        };
        let list = after_snap.istio.entry(kind).or_default();
        list.retain(|x| !(ns_of(x) == ns_of(o) && name_of(x) == name_of(o)));
        list.push(o.clone());
    }
    analyze(&after_snap, opts)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect()
}

/// A PeerAuthentication setting `mode` (STRICT or PERMISSIVE) for `namespace`, or mesh-wide
/// (in the root namespace) when `namespace` is `None`.
pub fn peer_authentication(
    snap: &MeshSnapshot,
    namespace: Option<&str>,
    root_namespace: &str,
    mode: &str,
    name: &str,
) -> Result<Generated> {
    let mode = mode.trim().to_ascii_uppercase();
    if !matches!(mode.as_str(), "STRICT" | "PERMISSIVE") {
        return Err(IstioError::invalid(
            "mode",
            format!("{mode:?}: use STRICT (zero trust) or PERMISSIVE (migration)"),
        ));
    }
    let target_ns = namespace.unwrap_or(root_namespace);
    if !snap.namespaces.is_empty() && !snap.namespaces.iter().any(|n| name_of(n) == target_ns) {
        return Err(IstioError::NotFound {
            message: format!("namespace {target_ns} does not exist"),
        });
    }
    let pa = json!({
        "apiVersion": api_version(snap, IstioKind::PeerAuthentication),
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": target_ns},
        "spec": {"mtls": {"mode": mode}},
    });
    let mut g = Generated::default();
    let scope = match namespace {
        Some(ns) => format!("every workload in namespace {ns}"),
        None => format!("every workload in the mesh (root namespace {root_namespace})"),
    };
    g.derivation.push(format!(
        "mtls.mode {mode} without selector applies to {scope}"
    ));
    let in_scope = |ns: &str| namespace.is_none_or(|n| n == ns);
    // servers in scope with sidecars (they will refuse plaintext), and callers without
    let servers: Vec<&Value> = snap
        .pods
        .iter()
        .filter(|p| pod_is_live(p) && in_scope(ns_of(p)) && has_istio_proxy(p))
        .collect();
    g.derivation.push(format!(
        "{} pods with sidecars in scope will enforce it",
        servers.len()
    ));
    let unenforced: Vec<String> = snap
        .pods
        .iter()
        .filter(|p| {
            pod_is_live(p)
                && in_scope(ns_of(p))
                && !has_istio_proxy(p)
                && !SYSTEM_NAMESPACES.contains(&ns_of(p))
        })
        .map(|p| format!("{}/{}", ns_of(p), name_of(p)))
        .collect();
    if !unenforced.is_empty() {
        g.warnings.push(format!(
            "pods without sidecar in scope do not enforce it (still accept plaintext): {}",
            join_bounded(&unenforced, 8)
        ));
    }
    if mode == "STRICT" {
        let plaintext_callers: Vec<String> = snap
            .pods
            .iter()
            .filter(|p| {
                pod_is_live(p)
                    && !has_istio_proxy(p)
                    && !SYSTEM_NAMESPACES.contains(&ns_of(p))
                    && ns_of(p) != root_namespace
            })
            .map(|p| format!("{}/{}", ns_of(p), name_of(p)))
            .collect();
        if !plaintext_callers.is_empty() && !servers.is_empty() {
            g.warnings.push(format!(
                "pods without sidecar can no longer call the workloads in scope (they send plaintext): {}",
                join_bounded(&plaintext_callers, 8)
            ));
        }
    }
    g.objects.push(pa);
    Ok(g)
}

/// A Service's workload ports (target ports, named ports resolved on its pods), as strings.
fn workload_ports(svc: &Value, pods: &[&Value]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for p in arr(svc, "/spec/ports") {
        let n = match p.get("targetPort") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(name)) => pods.iter().find_map(|pod| {
                arr(pod, "/spec/containers")
                    .iter()
                    .flat_map(|c| arr(c, "/ports"))
                    .find(|cp| s(cp, "/name") == name)
                    .and_then(|cp| cp.get("containerPort").and_then(Value::as_u64))
            }),
            _ => p.get("port").and_then(Value::as_u64),
        };
        if let Some(n) = n {
            out.insert(n.to_string());
        }
    }
    out.into_iter().collect()
}

/// Deny-by-default for `namespace`: an `allow-nothing` AuthorizationPolicy, then one ALLOW
/// policy per Service selecting its pods, open on its workload ports to: the namespace itself,
/// `allow_from_namespaces`, namespaces whose VirtualServices route to the Service, and the
/// service accounts of gateway pods whose Gateways' VirtualServices route to it.
pub fn authorization_policies(
    snap: &MeshSnapshot,
    namespace: &str,
    allow_from_namespaces: &[String],
    trust_domain: &str,
    cluster_domain: &str,
) -> Result<Generated> {
    if !snap.namespaces.is_empty() && !snap.namespaces.iter().any(|n| name_of(n) == namespace) {
        return Err(IstioError::NotFound {
            message: format!("namespace {namespace} does not exist"),
        });
    }
    let av = api_version(snap, IstioKind::AuthorizationPolicy);
    let mut g = Generated::default();
    g.objects.push(json!({
        "apiVersion": av,
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "allow-nothing", "namespace": namespace},
        "spec": {},
    }));
    g.derivation.push(format!(
        "allow-nothing: an ALLOW policy without rules denies every request to workloads in {namespace} that no other ALLOW policy admits"
    ));
    let suffix = format!(".svc.{cluster_domain}");
    let fqdn = |host: &str, ns: &str| {
        if host.contains('.') || host.starts_with('*') {
            host.to_owned()
        } else {
            format!("{host}.{ns}{suffix}")
        }
    };
    let pods: Vec<&Value> = live_pods(snap, namespace).collect();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let services: Vec<&Value> = snap
        .services
        .iter()
        .filter(|v| ns_of(v) == namespace)
        .collect();
    if services.is_empty() {
        return Err(IstioError::NotFound {
            message: format!(
                "namespace {namespace} has no Service to derive allow rules from; a deny-by-default policy alone would cut every workload off"
            ),
        });
    }
    for svc in services {
        let name = name_of(svc);
        let Some(sel) = obj(svc, "/spec/selector").filter(|m| !m.is_empty()) else {
            g.warnings.push(format!(
                "Service {name} has no selector (ExternalName or manual endpoints): no policy generated for it"
            ));
            continue;
        };
        let selected: Vec<&Value> = pods
            .iter()
            .copied()
            .filter(|p| map_selects(sel, labels_of(p)))
            .collect();
        covered.extend(selected.iter().map(|p| name_of(p)));
        let ports = workload_ports(svc, &selected);
        let host = fqdn(name, namespace);
        // observed callers: namespaces whose VirtualServices route to the Service
        let mut namespaces: BTreeSet<String> = BTreeSet::new();
        namespaces.insert(namespace.to_owned());
        namespaces.extend(allow_from_namespaces.iter().cloned());
        let mut gateway_principals: BTreeSet<String> = BTreeSet::new();
        let mut why: Vec<String> = vec![format!("{namespace} (same namespace)")];
        why.extend(
            allow_from_namespaces
                .iter()
                .map(|n| format!("{n} (allow_from_namespaces)")),
        );
        for vs in snap.of(IstioKind::VirtualService) {
            let vs_ns = ns_of(vs);
            let routes_here = ["http", "tcp", "tls"].iter().any(|proto| {
                arr(vs, &format!("/spec/{proto}")).iter().any(|rule| {
                    arr(rule, "/route")
                        .iter()
                        .any(|r| fqdn(s(r, "/destination/host"), vs_ns) == host)
                })
            });
            if !routes_here {
                continue;
            }
            let gws: Vec<&str> = arr(vs, "/spec/gateways")
                .iter()
                .filter_map(Value::as_str)
                .filter(|g| *g != "mesh")
                .collect();
            if (gws.is_empty() || arr(vs, "/spec/gateways").iter().any(|g| g == "mesh"))
                && vs_ns != namespace
                && namespaces.insert(vs_ns.to_owned())
            {
                why.push(format!(
                    "{vs_ns} (VirtualService {vs_ns}/{} routes to {name})",
                    name_of(vs)
                ));
            }
            for gref in gws {
                let (gns, gname) = match gref.split_once('/') {
                    Some((a, b)) => (a.to_owned(), b.to_owned()),
                    None => (vs_ns.to_owned(), gref.to_owned()),
                };
                let Some(gw) = snap
                    .of(IstioKind::Gateway)
                    .iter()
                    .find(|x| ns_of(x) == gns && name_of(x) == gname)
                else {
                    continue;
                };
                let Some(gsel) = obj(gw, "/spec/selector").filter(|m| !m.is_empty()) else {
                    continue;
                };
                for gp in snap
                    .pods
                    .iter()
                    .filter(|p| pod_is_live(p) && map_selects(gsel, labels_of(p)))
                {
                    let sa = match s(gp, "/spec/serviceAccountName") {
                        "" => "default",
                        sa => sa,
                    };
                    let principal = format!("{trust_domain}/ns/{}/sa/{sa}", ns_of(gp));
                    if gateway_principals.insert(principal.clone()) {
                        why.push(format!(
                            "{principal} (gateway pod {}/{} of Gateway {gns}/{gname}, bound by VirtualService {vs_ns}/{})",
                            ns_of(gp),
                            name_of(gp),
                            name_of(vs)
                        ));
                    }
                }
            }
        }
        let to = if ports.is_empty() {
            json!([])
        } else {
            json!([{"operation": {"ports": ports}}])
        };
        let mut rules = vec![json!({
            "from": [{"source": {"namespaces": namespaces.iter().collect::<Vec<_>>()}}],
            "to": to,
        })];
        if !gateway_principals.is_empty() {
            rules.push(json!({
                "from": [{"source": {"principals": gateway_principals.iter().collect::<Vec<_>>()}}],
                "to": to,
            }));
        }
        let mut rules_v: Vec<Value> = rules;
        for r in &mut rules_v {
            if r.get("to")
                .is_some_and(|t| t.as_array().is_some_and(Vec::is_empty))
                && let Some(m) = r.as_object_mut()
            {
                m.remove("to");
            }
        }
        g.objects.push(json!({
            "apiVersion": av,
            "kind": "AuthorizationPolicy",
            "metadata": {"name": format!("allow-{name}"), "namespace": namespace},
            "spec": {
                "selector": {"matchLabels": Value::Object(sel.clone())},
                "action": "ALLOW",
                "rules": rules_v,
            },
        }));
        g.derivation.push(format!(
            "allow-{name}: pods of Service {name} ({} selected) on ports {} from {}",
            selected.len(),
            if ports.is_empty() {
                "any".to_owned()
            } else {
                ports.join(",")
            },
            why.join("; ")
        ));
        if selected.is_empty() {
            g.warnings.push(format!(
                "Service {name} selects no pod now; allow-{name} takes effect when its pods exist"
            ));
        }
    }
    let orphans: Vec<&str> = pods
        .iter()
        .filter(|p| has_istio_proxy(p) && !covered.contains(name_of(p)))
        .map(|p| name_of(p))
        .collect();
    if !orphans.is_empty() {
        g.warnings.push(format!(
            "pods no Service selects get no allow rule, so nothing may call them: {}",
            join_bounded(orphans, 8)
        ));
    }
    let no_sidecar: Vec<&str> = pods
        .iter()
        .filter(|p| !has_istio_proxy(p))
        .map(|p| name_of(p))
        .collect();
    if !no_sidecar.is_empty() {
        g.warnings.push(format!(
            "pods without sidecar do not enforce AuthorizationPolicy: {}",
            join_bounded(no_sidecar, 8)
        ));
    }
    g.warnings.push(
        "callers outside these sources (other namespaces, jobs, monitoring) are denied: add their namespaces to allow_from_namespaces".to_owned(),
    );
    Ok(g)
}

/// What [`canary`] builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanarySpec {
    /// The Service (in `namespace`).
    pub service: String,
    /// Its namespace.
    pub namespace: String,
    /// Label that tells versions apart (`version`).
    pub version_label: String,
    /// Label value (and subset name) of the stable version.
    pub stable: String,
    /// Label value (and subset name) of the canary.
    pub canary: String,
    /// Percent of traffic to the canary, 0–100.
    pub canary_weight: u8,
    /// Gateways to bind (`istio-system/public`); empty for in-mesh traffic only.
    pub gateways: Vec<String>,
    /// Extra hosts (the external names the gateways serve).
    pub hosts: Vec<String>,
}

/// DestinationRule subsets for both versions and a VirtualService splitting traffic between
/// them, reusing (and preserving the rest of) an existing DestinationRule and VirtualService
/// for the Service when there are.
pub fn canary(snap: &MeshSnapshot, spec: &CanarySpec, cluster_domain: &str) -> Result<Generated> {
    if spec.canary_weight > 100 {
        return Err(IstioError::invalid(
            "canary_weight",
            format!("{} is more than 100", spec.canary_weight),
        ));
    }
    if spec.stable == spec.canary {
        return Err(IstioError::invalid(
            "canary_version",
            "the canary and stable versions must differ",
        ));
    }
    let ns = spec.namespace.as_str();
    let Some(svc) = snap
        .services
        .iter()
        .find(|v| ns_of(v) == ns && name_of(v) == spec.service)
    else {
        let names: Vec<&str> = snap
            .services
            .iter()
            .filter(|v| ns_of(v) == ns)
            .map(name_of)
            .collect();
        return Err(IstioError::NotFound {
            message: format!(
                "Service {ns}/{} not found; Services in {ns}: {}",
                spec.service,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    join_bounded(names, 15)
                }
            ),
        });
    };
    let sel = obj(svc, "/spec/selector").cloned().unwrap_or_default();
    let pods: Vec<&Value> = live_pods(snap, ns)
        .filter(|p| !sel.is_empty() && map_selects(&sel, labels_of(p)))
        .collect();
    let count = |version: &str| {
        pods.iter()
            .filter(|p| {
                labels_of(p)
                    .and_then(|l| l.get(&spec.version_label))
                    .and_then(Value::as_str)
                    == Some(version)
            })
            .count()
    };
    let mut by_version: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &pods {
        if let Some(v) = labels_of(p)
            .and_then(|l| l.get(&spec.version_label))
            .and_then(Value::as_str)
        {
            *by_version.entry(v).or_default() += 1;
        }
    }
    let versions = join_bounded(by_version.iter().map(|(v, n)| format!("{v} ({n})")), 10);
    let (n_stable, n_canary) = (count(&spec.stable), count(&spec.canary));
    if spec.canary_weight > 0 && n_canary == 0 {
        return Err(IstioError::NotFound {
            message: format!(
                "no pod of Service {ns}/{} has {}={}, so a {}% route to it would fail with 503 (no healthy upstream). Pods by {}: {}. Deploy the canary first, or pass canary_weight 0",
                spec.service,
                spec.version_label,
                spec.canary,
                spec.canary_weight,
                spec.version_label,
                if versions.is_empty() {
                    "none".to_owned()
                } else {
                    versions.clone()
                }
            ),
        });
    }
    if spec.canary_weight < 100 && n_stable == 0 {
        return Err(IstioError::NotFound {
            message: format!(
                "no pod of Service {ns}/{} has {}={}; pods by {}: {}. Pass the stable version's label value as stable_version",
                spec.service,
                spec.version_label,
                spec.stable,
                spec.version_label,
                if versions.is_empty() {
                    "none".to_owned()
                } else {
                    versions.clone()
                }
            ),
        });
    }
    let host_fqdn = format!("{}.{ns}.svc.{cluster_domain}", spec.service);
    let matches_host =
        |h: &str, obj_ns: &str| h == host_fqdn || (obj_ns == ns && h == spec.service);
    let mut g = Generated::default();
    g.derivation.push(format!(
        "pods of Service {} by {}: {versions}",
        spec.service, spec.version_label
    ));

    // DestinationRule
    let existing_dr = snap
        .of(IstioKind::DestinationRule)
        .iter()
        .find(|d| ns_of(d) == ns && matches_host(s(d, "/spec/host"), ns));
    let subset = |v: &str| {
        let mut labels = Map::new();
        labels.insert(spec.version_label.clone(), json!(v));
        json!({"name": v, "labels": labels})
    };
    let dr = match existing_dr {
        Some(d) => {
            let mut spec_v = d.get("spec").cloned().unwrap_or_else(|| json!({}));
            let mut subsets: Vec<Value> = arr(d, "/spec/subsets")
                .iter()
                .filter(|ss| {
                    let n = s(ss, "/name");
                    n != spec.stable && n != spec.canary
                })
                .cloned()
                .collect();
            subsets.push(subset(&spec.stable));
            subsets.push(subset(&spec.canary));
            if let Some(m) = spec_v.as_object_mut() {
                m.insert("subsets".into(), Value::Array(subsets));
            }
            g.derivation.push(format!(
                "DestinationRule {ns}/{} exists for the host: its traffic policy and other subsets are kept, subsets {} and {} set",
                name_of(d),
                spec.stable,
                spec.canary
            ));
            json!({
                "apiVersion": api_version(snap, IstioKind::DestinationRule),
                "kind": "DestinationRule",
                "metadata": {"name": name_of(d), "namespace": ns},
                "spec": spec_v,
            })
        }
        None => json!({
            "apiVersion": api_version(snap, IstioKind::DestinationRule),
            "kind": "DestinationRule",
            "metadata": {"name": spec.service, "namespace": ns},
            "spec": {
                "host": spec.service,
                "subsets": [subset(&spec.stable), subset(&spec.canary)],
            },
        }),
    };

    // VirtualService
    let ports: Vec<u64> = arr(svc, "/spec/ports")
        .iter()
        .filter_map(|p| p.get("port").and_then(Value::as_u64))
        .collect();
    let destination = |v: &str| {
        let mut d = json!({"host": spec.service, "subset": v});
        if ports.len() > 1
            && let (Some(m), Some(p)) = (d.as_object_mut(), ports.first())
        {
            m.insert("port".into(), json!({"number": p}));
        }
        d
    };
    let weighted = json!([
        {"destination": destination(&spec.stable), "weight": 100 - u32::from(spec.canary_weight)},
        {"destination": destination(&spec.canary), "weight": u32::from(spec.canary_weight)},
    ]);
    if ports.len() > 1 {
        g.derivation.push(format!(
            "the Service has ports {}: destinations name port {} (Istio requires a port then)",
            join_bounded(ports.iter().map(u64::to_string), 6),
            ports.first().copied().unwrap_or(0)
        ));
    }
    let existing_vs = snap.of(IstioKind::VirtualService).iter().find(|v| {
        ns_of(v) == ns
            && arr(v, "/spec/hosts")
                .iter()
                .filter_map(Value::as_str)
                .any(|h| matches_host(h, ns))
    });
    let vs = match existing_vs {
        Some(v) => {
            let mut spec_v = v.get("spec").cloned().unwrap_or_else(|| json!({}));
            let http_len = arr(v, "/spec/http").len();
            if http_len == 0 {
                if let Some(m) = spec_v.as_object_mut() {
                    m.insert("http".into(), json!([{"route": weighted}]));
                }
            } else if let Some(last) = spec_v
                .pointer_mut(&format!("/http/{}", http_len - 1))
                .and_then(Value::as_object_mut)
            {
                last.insert("route".into(), weighted.clone());
            }
            if !spec.gateways.is_empty()
                && let Some(m) = spec_v.as_object_mut()
            {
                let mut gws: Vec<Value> = arr(v, "/spec/gateways").to_vec();
                for gw in spec
                    .gateways
                    .iter()
                    .chain(std::iter::once(&"mesh".to_owned()))
                {
                    if !gws.iter().any(|x| x == gw.as_str()) {
                        gws.push(json!(gw));
                    }
                }
                m.insert("gateways".into(), Value::Array(gws));
                let mut hosts: Vec<Value> = arr(v, "/spec/hosts").to_vec();
                for h in &spec.hosts {
                    if !hosts.iter().any(|x| x == h.as_str()) {
                        hosts.push(json!(h));
                    }
                }
                m.insert("hosts".into(), Value::Array(hosts));
            }
            g.derivation.push(format!(
                "VirtualService {ns}/{} exists for the host: its default (last) HTTP route now splits {}/{}, other rules are kept",
                name_of(v),
                100 - u32::from(spec.canary_weight),
                spec.canary_weight
            ));
            json!({
                "apiVersion": api_version(snap, IstioKind::VirtualService),
                "kind": "VirtualService",
                "metadata": {"name": name_of(v), "namespace": ns},
                "spec": spec_v,
            })
        }
        None => {
            let mut hosts = vec![json!(spec.service)];
            hosts.extend(spec.hosts.iter().map(|h| json!(h)));
            let mut spec_v = json!({"hosts": hosts, "http": [{"route": weighted}]});
            if !spec.gateways.is_empty()
                && let Some(m) = spec_v.as_object_mut()
            {
                let mut gws: Vec<Value> = spec.gateways.iter().map(|g| json!(g)).collect();
                gws.push(json!("mesh"));
                m.insert("gateways".into(), Value::Array(gws));
            }
            json!({
                "apiVersion": api_version(snap, IstioKind::VirtualService),
                "kind": "VirtualService",
                "metadata": {"name": spec.service, "namespace": ns},
                "spec": spec_v,
            })
        }
    };
    g.derivation.push(format!(
        "{}% to {} ({} pods), {}% to {} ({} pods)",
        100 - u32::from(spec.canary_weight),
        spec.stable,
        n_stable,
        spec.canary_weight,
        spec.canary,
        n_canary
    ));
    if pods.iter().any(|p| !has_istio_proxy(p)) {
        g.warnings.push(
            "some of the Service's pods run no sidecar; weights apply to callers with sidecars only"
                .to_owned(),
        );
    }
    g.objects.push(dr);
    g.objects.push(vs);
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> MeshSnapshot {
        MeshSnapshot::from_objects([
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "shop"},
                   "spec": {"selector": {"app": "reviews"}, "ports": [{"name": "http", "port": 9080, "targetPort": 9080}]}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reviews-v1-a", "namespace": "shop", "labels": {"app": "reviews", "version": "v1"}},
                   "spec": {"containers": [{"name": "reviews"}, {"name": "istio-proxy"}]}, "status": {"phase": "Running"}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reviews-v2-a", "namespace": "shop", "labels": {"app": "reviews", "version": "v2"}},
                   "spec": {"containers": [{"name": "reviews"}, {"name": "istio-proxy"}]}, "status": {"phase": "Running"}}),
        ])
    }

    fn spec(weight: u8, canary: &str) -> CanarySpec {
        CanarySpec {
            service: "reviews".into(),
            namespace: "shop".into(),
            version_label: "version".into(),
            stable: "v1".into(),
            canary: canary.into(),
            canary_weight: weight,
            gateways: vec![],
            hosts: vec![],
        }
    }

    #[test]
    fn canary_splits_weights_and_refuses_a_canary_without_pods() {
        let g = canary(&snap(), &spec(10, "v2"), "cluster.local").unwrap();
        let vs = &g.objects[1];
        assert_eq!(vs["spec"]["http"][0]["route"][0]["weight"], 90);
        assert_eq!(
            vs["spec"]["http"][0]["route"][1]["destination"]["subset"],
            "v2"
        );
        assert_eq!(
            g.objects[0]["spec"]["subsets"][1]["labels"]["version"],
            "v2"
        );
        let e = canary(&snap(), &spec(10, "v3"), "cluster.local")
            .unwrap_err()
            .to_string();
        assert!(e.contains("v1 (1), v2 (1)"), "{e}");
        assert!(canary(&snap(), &spec(0, "v3"), "cluster.local").is_ok());
        assert!(canary(&snap(), &spec(101, "v2"), "cluster.local").is_err());
    }

    #[test]
    fn deny_by_default_allows_each_service_from_its_namespace() {
        let g = authorization_policies(
            &snap(),
            "shop",
            &["monitoring".into()],
            "cluster.local",
            "cluster.local",
        )
        .unwrap();
        assert_eq!(g.objects[0]["metadata"]["name"], "allow-nothing");
        assert_eq!(g.objects[0]["spec"], json!({}));
        let allow = &g.objects[1];
        assert_eq!(allow["spec"]["selector"]["matchLabels"]["app"], "reviews");
        assert_eq!(
            allow["spec"]["rules"][0]["from"][0]["source"]["namespaces"],
            json!(["monitoring", "shop"])
        );
        assert_eq!(
            allow["spec"]["rules"][0]["to"][0]["operation"]["ports"],
            json!(["9080"])
        );
        assert!(
            authorization_policies(&snap(), "nope", &[], "cluster.local", "cluster.local").is_err()
        );
    }

    #[test]
    fn strict_mtls_is_a_namespace_policy() {
        let g = peer_authentication(&snap(), Some("shop"), "istio-system", "strict", "default")
            .unwrap();
        assert_eq!(g.objects[0]["spec"]["mtls"]["mode"], "STRICT");
        assert_eq!(g.objects[0]["metadata"]["namespace"], "shop");
        assert!(
            peer_authentication(&snap(), Some("shop"), "istio-system", "OFF", "default").is_err()
        );
    }
}
