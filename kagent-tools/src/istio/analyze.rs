//! Native `istioctl analyze`: pure analyzers over a [`MeshSnapshot`], each finding with the
//! evidence that shows it, Istio's own message code where Istio has one for the problem.
//!
//! | check | code |
//! |---|---|
//! | a route or mirror destination whose host is no Service or ServiceEntry | IST0101 ReferencedResourceNotFound (`host`, `host:port`) |
//! | a destination without port on a Service with several ports | IST0112 VirtualServiceDestinationPortSelectorRequired |
//! | a destination subset no DestinationRule for the host defines | IST0101 (`host+subset in destinationrule`) |
//! | route weights that add up to 0 | IST0106 SchemaValidationError |
//! | route weights that add up to something else than 100 | RouteWeightsNot100 (Istio normalizes; no code) |
//! | a VirtualService bound to a Gateway that does not exist | IST0101 (`gateway`) |
//! | a Gateway no VirtualService binds | GatewayNotBound (no code) |
//! | a Gateway whose selector matches no pod | IST0101 (`selector`) |
//! | DestinationRule TLS settings that contradict the PeerAuthentication mode of the server | IST0113 MTLSPolicyConflict (retired by Istio with auto mTLS; the conflict still breaks traffic) |
//! | an AuthorizationPolicy, PeerAuthentication, RequestAuthentication or Sidecar selecting no workload | IST0127 NoMatchingWorkloadsFound |
//! | a namespace without injection while other namespaces have it | IST0102 NamespaceNotInjected |
//! | a pod without sidecar in an injected namespace | IST0103 PodMissingProxy |
//! | a Service port whose name (or appProtocol) names no protocol | IST0118 PortNameIsNotUnderNamingConvention |

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::resources::{IstioKind, MeshSnapshot};
use crate::family::{
    SYSTEM_NAMESPACES, arr, fmt_labels, has_istio_proxy, join_bounded, labels_of, map_selects,
    name_of, ns_of, obj, pod_is_live, s,
};
use crate::findings::{Finding, Level, sort_findings};

/// What [`analyze`] reports on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Report only objects in this namespace (the analysis still reads every namespace, as
    /// routes and policies cross them). `None`: every namespace.
    pub namespace: Option<String>,
    /// Istio's root namespace (mesh-wide policies live there). Default `istio-system`.
    pub root_namespace: String,
    /// The cluster's DNS domain. Default `cluster.local`.
    pub cluster_domain: String,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            namespace: None,
            root_namespace: "istio-system".to_owned(),
            cluster_domain: "cluster.local".to_owned(),
        }
    }
}

/// Runs every analyzer; findings come sorted, errors first. Pure: no I/O.
pub fn analyze(snap: &MeshSnapshot, opts: &AnalyzeOptions) -> Vec<Finding> {
    let ix = Index::new(snap, opts);
    let mut out = Vec::new();
    destinations(&ix, &mut out);
    weights(&ix, &mut out);
    gateways(&ix, &mut out);
    mtls_conflicts(&ix, &mut out);
    selectors(&ix, &mut out);
    injection(&ix, &mut out);
    port_names(&ix, &mut out);
    sort_findings(&mut out);
    out
}

/// Lookups shared by the analyzers.
struct Index<'a> {
    snap: &'a MeshSnapshot,
    opts: &'a AnalyzeOptions,
    services: BTreeMap<(&'a str, &'a str), &'a Value>,
    pods: BTreeMap<&'a str, Vec<&'a Value>>,
}

impl<'a> Index<'a> {
    fn new(snap: &'a MeshSnapshot, opts: &'a AnalyzeOptions) -> Self {
        let services = snap
            .services
            .iter()
            .map(|v| ((ns_of(v), name_of(v)), v))
            .collect();
        let mut pods: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for p in snap.pods.iter().filter(|p| pod_is_live(p)) {
            pods.entry(ns_of(p)).or_default().push(p);
        }
        Index {
            snap,
            opts,
            services,
            pods,
        }
    }

    fn in_scope(&self, ns: &str) -> bool {
        self.opts.namespace.as_deref().is_none_or(|n| n == ns)
    }

    fn svc_suffix(&self) -> String {
        format!(".svc.{}", self.opts.cluster_domain)
    }

    /// Istio's `ConvertHostToFQDN`: a short name (no dot, no wildcard) is a Service in `ns`.
    fn fqdn(&self, host: &str, ns: &str) -> String {
        if host.starts_with('*') || host.contains('.') {
            host.to_owned()
        } else {
            format!("{host}.{ns}{}", self.svc_suffix())
        }
    }

    /// `name.ns.svc.<domain>` to (ns, name).
    fn service_key(&self, fqdn: &str) -> Option<(String, String)> {
        let rest = fqdn.strip_suffix(&self.svc_suffix())?;
        let (name, ns) = rest.split_once('.')?;
        (!ns.contains('.') && !name.is_empty()).then(|| (ns.to_owned(), name.to_owned()))
    }

    fn service(&self, ns: &str, name: &str) -> Option<&'a Value> {
        self.services.get(&(ns, name)).copied()
    }

    fn live_pods(&self, ns: &str) -> &[&'a Value] {
        self.pods.get(ns).map(Vec::as_slice).unwrap_or(&[])
    }

    fn all_live_pods(&self) -> impl Iterator<Item = &'a Value> + '_ {
        self.pods.values().flatten().copied()
    }

    /// Pods a Service's selector picks (none for selector-less Services).
    fn service_pods(&self, svc: &Value) -> Vec<&'a Value> {
        match obj(svc, "/spec/selector") {
            Some(sel) if !sel.is_empty() => self
                .live_pods(ns_of(svc))
                .iter()
                .copied()
                .filter(|p| map_selects(sel, labels_of(p)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A ServiceEntry visible from `from_ns` whose hosts include `fqdn` (exactly or by wildcard).
    fn service_entry(&self, fqdn: &str, from_ns: &str) -> Option<&'a Value> {
        self.snap.of(IstioKind::ServiceEntry).iter().find(|se| {
            let se_ns = ns_of(se);
            let export: Vec<&str> = arr(se, "/spec/exportTo")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let visible = export.is_empty()
                || export
                    .iter()
                    .any(|e| *e == "*" || *e == from_ns || (*e == "." && se_ns == from_ns));
            visible
                && arr(se, "/spec/hosts")
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|h| host_matches(&self.fqdn(h, se_ns), fqdn))
        })
    }

    fn is_system(&self, ns: &str) -> bool {
        SYSTEM_NAMESPACES.contains(&ns) || ns == self.opts.root_namespace
    }

    fn namespace(&self, name: &str) -> Option<&'a Value> {
        self.snap.namespaces.iter().find(|n| name_of(n) == name)
    }
}

/// Whether `pattern` (a host, possibly `*.suffix` or `*`) covers `host`.
pub(crate) fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" || pattern == host {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => false,
    }
}

/// One destination of a route.
pub(crate) struct Dest<'a> {
    pub(crate) path: String,
    pub(crate) destination: &'a Value,
    pub(crate) weight: Option<i64>,
}

impl Dest<'_> {
    pub(crate) fn host(&self) -> &str {
        s(self.destination, "/host")
    }
    pub(crate) fn subset(&self) -> &str {
        s(self.destination, "/subset")
    }
    fn port(&self) -> Option<u64> {
        self.destination
            .pointer("/port/number")
            .and_then(Value::as_u64)
    }
}

/// Route groups of a VirtualService: (`spec.http[0].route`, destinations), for http, tcp, tls.
pub(crate) fn route_groups(vs: &Value) -> Vec<(String, Vec<Dest<'_>>)> {
    let mut out = Vec::new();
    for proto in ["http", "tcp", "tls"] {
        for (i, rule) in arr(vs, &format!("/spec/{proto}")).iter().enumerate() {
            let dests = arr(rule, "/route")
                .iter()
                .enumerate()
                .filter_map(|(j, r)| {
                    Some(Dest {
                        path: format!("spec.{proto}[{i}].route[{j}].destination"),
                        destination: r.get("destination")?,
                        weight: r.get("weight").and_then(Value::as_i64),
                    })
                })
                .collect();
            out.push((format!("spec.{proto}[{i}].route"), dests));
        }
    }
    out
}

/// Mirror destinations (`http[].mirror`, `http[].mirrors[].destination`).
fn mirrors(vs: &Value) -> Vec<Dest<'_>> {
    let mut out = Vec::new();
    for (i, rule) in arr(vs, "/spec/http").iter().enumerate() {
        if let Some(m) = rule.get("mirror") {
            out.push(Dest {
                path: format!("spec.http[{i}].mirror"),
                destination: m,
                weight: None,
            });
        }
        for (k, m) in arr(rule, "/mirrors").iter().enumerate() {
            if let Some(d) = m.get("destination") {
                out.push(Dest {
                    path: format!("spec.http[{i}].mirrors[{k}].destination"),
                    destination: d,
                    weight: None,
                });
            }
        }
    }
    out
}

fn service_names(ix: &Index<'_>, ns: &str) -> Vec<String> {
    ix.snap
        .services
        .iter()
        .filter(|v| ns_of(v) == ns)
        .map(|v| name_of(v).to_owned())
        .collect()
}

fn service_ports(svc: &Value) -> Vec<u64> {
    arr(svc, "/spec/ports")
        .iter()
        .filter_map(|p| p.get("port").and_then(Value::as_u64))
        .collect()
}

/// `(fqdn of the DR host, DR)` for every DestinationRule.
fn destination_rules<'a>(ix: &Index<'a>) -> Vec<(String, &'a Value)> {
    ix.snap
        .of(IstioKind::DestinationRule)
        .iter()
        .map(|dr| (ix.fqdn(s(dr, "/spec/host"), ns_of(dr)), dr))
        .collect()
}

fn subset_names(dr: &Value) -> Vec<&str> {
    arr(dr, "/spec/subsets")
        .iter()
        .map(|ss| s(ss, "/name"))
        .collect()
}

/// Distinct values of `key` on `pods`, with counts: `v1 (2), v2 (1)`.
fn value_counts(pods: &[&Value], key: &str) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in pods {
        if let Some(v) = labels_of(p)
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
        {
            *counts.entry(v).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return "none carry it".to_owned();
    }
    join_bounded(counts.iter().map(|(v, n)| format!("{v} ({n})")), 12)
}

/// IST0101 host / host:port / host+subset, IST0112.
fn destinations(ix: &Index<'_>, out: &mut Vec<Finding>) {
    let drs = destination_rules(ix);
    for vs in ix.snap.of(IstioKind::VirtualService) {
        let (vs_ns, vs_name) = (ns_of(vs), name_of(vs));
        if !ix.in_scope(vs_ns) {
            continue;
        }
        let mut all: Vec<Dest<'_>> = route_groups(vs).into_iter().flat_map(|(_, d)| d).collect();
        let mirror_start = all.len();
        all.extend(mirrors(vs));
        for (n, d) in all.iter().enumerate() {
            let reftype = if n >= mirror_start {
                "mirror host"
            } else {
                "host"
            };
            let host = d.host();
            let fqdn = ix.fqdn(host, vs_ns);
            let svc = ix
                .service_key(&fqdn)
                .and_then(|(ns, name)| ix.service(&ns, &name));
            let se = if svc.is_none() {
                ix.service_entry(&fqdn, vs_ns)
            } else {
                None
            };
            if svc.is_none() && se.is_none() {
                let mut f = Finding::new(
                    Level::Error,
                    "ReferencedResourceNotFound",
                    "VirtualService",
                    Some(vs_ns),
                    vs_name,
                    format!("Referenced {reftype} not found: \"{host}\""),
                )
                .code("IST0101")
                .at(d.path.clone());
                let mut fix =
                    "route to an existing Service or add a ServiceEntry for the host".to_owned();
                if fqdn != host {
                    f = f.evidence(format!("\"{host}\" is short for {fqdn}"));
                }
                match ix.service_key(&fqdn) {
                    Some((ns, name)) => {
                        f = f.evidence(format!("no Service {name} in namespace {ns}"));
                        let names = service_names(ix, &ns);
                        if !names.is_empty() {
                            f = f.evidence(format!(
                                "Services in {ns}: {}",
                                join_bounded(&names, 15)
                            ));
                        }
                    }
                    None => {
                        // `reviews.other`: Istio does not expand it; the Service may exist.
                        let labels: Vec<&str> = host.split('.').collect();
                        if let [name, ns] = labels.as_slice()
                            && ix.service(ns, name).is_some()
                        {
                            let full = format!("{name}.{ns}{}", ix.svc_suffix());
                            f = f.evidence(format!(
                                "Service {name} exists in namespace {ns}, but Istio does not expand \"{host}\"; only single-label names are short names"
                            ));
                            fix = format!("use the fully qualified host {full}");
                        } else {
                            f = f.evidence(
                                "no ServiceEntry visible from this namespace lists the host",
                            );
                        }
                    }
                }
                out.push(f.fix(fix));
                continue;
            }
            if let Some(svc) = svc {
                let ports = service_ports(svc);
                match d.port() {
                    Some(p) if !ports.contains(&p) => out.push(
                        Finding::new(
                            Level::Error,
                            "ReferencedResourceNotFound",
                            "VirtualService",
                            Some(vs_ns),
                            vs_name,
                            format!("Referenced host:port not found: \"{host}:{p}\""),
                        )
                        .code("IST0101")
                        .at(d.path.clone())
                        .evidence(format!(
                            "Service {}/{} exposes ports {}",
                            ns_of(svc),
                            name_of(svc),
                            join_bounded(ports.iter().map(u64::to_string), 10)
                        ))
                        .fix("set destination.port.number to one of the Service's ports"),
                    ),
                    None if ports.len() > 1 && n < mirror_start => out.push(
                        Finding::new(
                            Level::Error,
                            "VirtualServiceDestinationPortSelectorRequired",
                            "VirtualService",
                            Some(vs_ns),
                            vs_name,
                            format!(
                                "This VirtualService routes to a service \"{host}\" that exposes multiple ports [{}]. Specifying a port in the destination is required to disambiguate.",
                                join_bounded(ports.iter().map(u64::to_string), 10)
                            ),
                        )
                        .code("IST0112")
                        .at(d.path.clone())
                        .fix("add destination.port.number"),
                    ),
                    _ => {}
                }
            }
            let subset = d.subset();
            if subset.is_empty() {
                continue;
            }
            let for_host: Vec<&(String, &Value)> = drs.iter().filter(|(h, _)| *h == fqdn).collect();
            if for_host
                .iter()
                .any(|(_, dr)| subset_names(dr).contains(&subset))
            {
                continue;
            }
            let mut f = Finding::new(
                Level::Error,
                "ReferencedResourceNotFound",
                "VirtualService",
                Some(vs_ns),
                vs_name,
                format!("Referenced host+subset in destinationrule not found: \"{host}+{subset}\""),
            )
            .code("IST0101")
            .at(d.path.clone());
            let mut label_keys: BTreeSet<&str> = BTreeSet::new();
            if for_host.is_empty() {
                f = f.evidence(format!("no DestinationRule has host {fqdn}"));
            }
            for (_, dr) in &for_host {
                let names = subset_names(dr);
                f = f.evidence(format!(
                    "DestinationRule {}/{} (host {}) defines subsets: {}",
                    ns_of(dr),
                    name_of(dr),
                    s(dr, "/spec/host"),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ));
                for ss in arr(dr, "/spec/subsets") {
                    if let Some(l) = obj(ss, "/labels") {
                        label_keys.extend(l.keys().map(String::as_str));
                    }
                }
            }
            if let Some(svc) = svc {
                let pods = ix.service_pods(svc);
                if label_keys.is_empty() {
                    label_keys.insert("version");
                }
                for key in &label_keys {
                    f = f.evidence(format!(
                        "pods of Service {} by label {key}: {}",
                        name_of(svc),
                        value_counts(&pods, key)
                    ));
                }
            }
            let fix = match for_host.first() {
                Some((_, dr)) => format!(
                    "add subset {subset} (with the labels of its pods) to DestinationRule {}/{}, or route to a defined subset",
                    ns_of(dr),
                    name_of(dr)
                ),
                None => {
                    format!("create a DestinationRule for host {fqdn} that defines subset {subset}")
                }
            };
            out.push(f.fix(fix));
        }
    }
}

/// IST0106 (weights add up to 0), RouteWeightsNot100.
fn weights(ix: &Index<'_>, out: &mut Vec<Finding>) {
    for vs in ix.snap.of(IstioKind::VirtualService) {
        let (vs_ns, vs_name) = (ns_of(vs), name_of(vs));
        if !ix.in_scope(vs_ns) {
            continue;
        }
        for (path, dests) in route_groups(vs) {
            if dests.len() < 2 {
                continue;
            }
            let total: i64 = dests.iter().map(|d| d.weight.unwrap_or(0)).sum();
            let label = |d: &Dest<'_>| match d.subset() {
                "" => d.host().to_owned(),
                sub => format!("{}:{sub}", d.host()),
            };
            let listing: Vec<String> = dests
                .iter()
                .map(|d| match d.weight {
                    Some(w) => format!("{} weight {w}", label(d)),
                    None => format!("{} weight unset (0)", label(d)),
                })
                .collect();
            if total == 0 {
                out.push(
                    Finding::new(
                        Level::Error,
                        "SchemaValidationError",
                        "VirtualService",
                        Some(vs_ns),
                        vs_name,
                        "Schema validation error: total destination weight = 0",
                    )
                    .code("IST0106")
                    .at(path)
                    .evidence(listing.join("; "))
                    .fix("give the destinations weights that add up to 100"),
                );
            } else if total != 100 {
                let shares: Vec<String> = dests
                    .iter()
                    .map(|d| {
                        let w = d.weight.unwrap_or(0) as f64;
                        format!("{} {:.1}%", label(d), w * 100.0 / total as f64)
                    })
                    .collect();
                out.push(
                    Finding::new(
                        Level::Warning,
                        "RouteWeightsNot100",
                        "VirtualService",
                        Some(vs_ns),
                        vs_name,
                        format!(
                            "route weights add up to {total}, not 100; Istio splits by relative weight, so traffic goes {}",
                            shares.join(", ")
                        ),
                    )
                    .at(path)
                    .evidence(listing.join("; "))
                    .fix("set weights that add up to 100 so the split is the one written"),
                );
            }
        }
    }
}

/// A VirtualService's gateway reference to (namespace, name); `None` for `mesh`.
fn gateway_ref(r: &str, vs_ns: &str) -> Option<(String, String)> {
    if r == "mesh" || r.is_empty() {
        return None;
    }
    if let Some((ns, name)) = r.split_once('/') {
        return Some((ns.to_owned(), name.to_owned()));
    }
    let mut labels = r.split('.');
    match (labels.next(), labels.next()) {
        (Some(name), Some(ns)) => Some((ns.to_owned(), name.to_owned())),
        _ => Some((vs_ns.to_owned(), r.to_owned())),
    }
}

/// Every gateway reference of a VirtualService: (path, ref).
fn vs_gateway_refs(vs: &Value) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = arr(vs, "/spec/gateways")
        .iter()
        .enumerate()
        .filter_map(|(i, g)| Some((format!("spec.gateways[{i}]"), g.as_str()?)))
        .collect();
    for (i, rule) in arr(vs, "/spec/http").iter().enumerate() {
        for (j, m) in arr(rule, "/match").iter().enumerate() {
            for (k, g) in arr(m, "/gateways").iter().enumerate() {
                if let Some(g) = g.as_str() {
                    out.push((format!("spec.http[{i}].match[{j}].gateways[{k}]"), g));
                }
            }
        }
    }
    out
}

/// IST0101 gateway / selector, GatewayNotBound.
fn gateways(ix: &Index<'_>, out: &mut Vec<Finding>) {
    let gws = ix.snap.of(IstioKind::Gateway);
    let mut bound: BTreeSet<(String, String)> = BTreeSet::new();
    for vs in ix.snap.of(IstioKind::VirtualService) {
        let vs_ns = ns_of(vs);
        for (path, r) in vs_gateway_refs(vs) {
            let Some((ns, name)) = gateway_ref(r, vs_ns) else {
                continue;
            };
            let exists = gws.iter().any(|g| ns_of(g) == ns && name_of(g) == name);
            if !exists && ix.in_scope(vs_ns) {
                let mut f = Finding::new(
                    Level::Error,
                    "ReferencedResourceNotFound",
                    "VirtualService",
                    Some(vs_ns),
                    name_of(vs),
                    format!("Referenced gateway not found: \"{r}\""),
                )
                .code("IST0101")
                .at(path)
                .evidence(format!("\"{r}\" means Gateway {ns}/{name}"));
                let same_name: Vec<String> = gws
                    .iter()
                    .filter(|g| name_of(g) == name)
                    .map(|g| format!("{}/{}", ns_of(g), name_of(g)))
                    .collect();
                let fix = if let Some(other) = same_name.first() {
                    f = f.evidence(format!("a Gateway with that name exists: {other}"));
                    format!("reference it as {other}")
                } else {
                    let in_ns: Vec<String> = gws
                        .iter()
                        .filter(|g| ns_of(g) == ns)
                        .map(|g| name_of(g).to_owned())
                        .collect();
                    f = f.evidence(if in_ns.is_empty() {
                        format!("no Gateway in namespace {ns}")
                    } else {
                        format!("Gateways in {ns}: {}", join_bounded(&in_ns, 10))
                    });
                    "reference an existing Gateway as <namespace>/<name>, or create it".to_owned()
                };
                out.push(f.fix(fix));
            }
            bound.insert((ns, name));
        }
    }
    for gw in gws {
        let (ns, name) = (ns_of(gw), name_of(gw));
        if !ix.in_scope(ns) {
            continue;
        }
        let servers: Vec<String> = arr(gw, "/spec/servers")
            .iter()
            .map(|srv| {
                let hosts: Vec<&str> = arr(srv, "/hosts")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                format!(
                    "port {} ({}) hosts {}",
                    srv.pointer("/port/number")
                        .and_then(Value::as_u64)
                        .unwrap_or(0),
                    s(srv, "/port/protocol"),
                    join_bounded(hosts, 5)
                )
            })
            .collect();
        if !bound.contains(&(ns.to_owned(), name.to_owned())) {
            let others: Vec<String> = bound.iter().map(|(n, g)| format!("{n}/{g}")).collect();
            out.push(
                Finding::new(
                    Level::Warning,
                    "GatewayNotBound",
                    "Gateway",
                    Some(ns),
                    name,
                    format!("no VirtualService binds Gateway {ns}/{name}; requests it accepts match no route (404)"),
                )
                .evidences(servers.iter().map(|s| format!("server {s}")))
                .evidence(if others.is_empty() {
                    "no VirtualService names any Gateway".to_owned()
                } else {
                    format!("VirtualServices bind: {}", join_bounded(&others, 8))
                })
                .fix(format!(
                    "list {ns}/{name} in spec.gateways of a VirtualService whose hosts match the servers' hosts, or delete the Gateway"
                )),
            );
        }
        if let Some(sel) = obj(gw, "/spec/selector").filter(|m| !m.is_empty())
            && !ix.all_live_pods().any(|p| map_selects(sel, labels_of(p)))
        {
            let key = sel.keys().next().map(String::as_str).unwrap_or_default();
            let pods: Vec<&Value> = ix.all_live_pods().collect();
            out.push(
                Finding::new(
                    Level::Error,
                    "ReferencedResourceNotFound",
                    "Gateway",
                    Some(ns),
                    name,
                    format!("Referenced selector not found: \"{}\"", fmt_labels(sel)),
                )
                .code("IST0101")
                .at("spec.selector")
                .evidence(format!("no pod in any namespace has labels {}", fmt_labels(sel)))
                .evidence(format!("values of {key} on pods: {}", value_counts(&pods, key)))
                .fix("set spec.selector to the labels of the gateway deployment's pods (istio: ingressgateway by default)"),
            );
        }
    }
}

/// The mTLS mode a PeerAuthentication sets (`None` when unset / `UNSET`: inherit).
fn pa_mode(pa: &Value) -> Option<&str> {
    match s(pa, "/spec/mtls/mode") {
        "" | "UNSET" => None,
        m => Some(m),
    }
}

fn pa_selector(pa: &Value) -> Option<&Map<String, Value>> {
    obj(pa, "/spec/selector/matchLabels").filter(|m| !m.is_empty())
}

/// The server-side mTLS mode of a workload port, and the PeerAuthentication that decided it.
struct ServerMode<'a> {
    mode: String,
    by: Option<(&'a Value, String)>,
}

fn server_mode<'a>(
    ix: &Index<'a>,
    ns: &str,
    pod_labels: Option<&Map<String, Value>>,
    target_port: Option<u64>,
) -> ServerMode<'a> {
    let pas = ix.snap.of(IstioKind::PeerAuthentication);
    let oldest = |it: &mut dyn Iterator<Item = &'a Value>| {
        it.min_by_key(|p| {
            (
                s(p, "/metadata/creationTimestamp").to_owned(),
                name_of(p).to_owned(),
            )
        })
    };
    let workload = oldest(&mut pas.iter().filter(|p| {
        ns_of(p) == ns
            && pod_labels.is_some()
            && pa_selector(p).is_some_and(|sel| map_selects(sel, pod_labels))
    }));
    if let (Some(pa), Some(port)) = (workload, target_port) {
        let port_mode = pa
            .pointer(&format!("/spec/portLevelMtls/{port}/mode"))
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty() && *m != "UNSET");
        if let Some(m) = port_mode {
            return ServerMode {
                mode: m.to_owned(),
                by: Some((pa, format!("workload-level, portLevelMtls[{port}]"))),
            };
        }
    }
    if let Some(pa) = workload
        && let Some(m) = pa_mode(pa)
    {
        return ServerMode {
            mode: m.to_owned(),
            by: Some((pa, "workload-level".to_owned())),
        };
    }
    let ns_wide = oldest(
        &mut pas
            .iter()
            .filter(|p| ns_of(p) == ns && pa_selector(p).is_none() && pa_mode(p).is_some()),
    );
    if let Some(pa) = ns_wide {
        return ServerMode {
            mode: pa_mode(pa).unwrap_or_default().to_owned(),
            by: Some((pa, "namespace-wide".to_owned())),
        };
    }
    let root = &ix.opts.root_namespace;
    let mesh = oldest(
        &mut pas
            .iter()
            .filter(|p| ns_of(p) == root && pa_selector(p).is_none() && pa_mode(p).is_some()),
    );
    match mesh {
        Some(pa) => ServerMode {
            mode: pa_mode(pa).unwrap_or_default().to_owned(),
            by: Some((pa, "mesh-wide".to_owned())),
        },
        None => ServerMode {
            mode: "PERMISSIVE".to_owned(),
            by: None,
        },
    }
}

/// The TLS modes a DestinationRule sets for traffic to `port`: (mode, where).
fn client_modes(dr: &Value, port: u64) -> Vec<(String, String)> {
    fn policy_mode(tp: &Value, port: u64, base: &str) -> Option<(String, String)> {
        for (i, pl) in arr(tp, "/portLevelSettings").iter().enumerate() {
            if pl.pointer("/port/number").and_then(Value::as_u64) == Some(port) {
                let m = s(pl, "/tls/mode");
                if !m.is_empty() {
                    return Some((
                        m.to_owned(),
                        format!("{base}.portLevelSettings[{i}].tls (port {port})"),
                    ));
                }
            }
        }
        match s(tp, "/tls/mode") {
            "" => None,
            m => Some((m.to_owned(), format!("{base}.tls"))),
        }
    }
    let mut out = Vec::new();
    if let Some(tp) = dr.pointer("/spec/trafficPolicy")
        && let Some(m) = policy_mode(tp, port, "spec.trafficPolicy")
    {
        out.push(m);
    }
    for ss in arr(dr, "/spec/subsets") {
        if let Some(tp) = ss.get("trafficPolicy")
            && let Some(m) = policy_mode(
                tp,
                port,
                &format!("spec.subsets[{}].trafficPolicy", s(ss, "/name")),
            )
        {
            out.push(m);
        }
    }
    out
}

/// A Service port's target port number (named ports resolved on the first pod).
fn target_port(port: &Value, pods: &[&Value]) -> Option<u64> {
    match port.get("targetPort") {
        None => port.get("port").and_then(Value::as_u64),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(name)) => pods.first().and_then(|p| {
            arr(p, "/spec/containers")
                .iter()
                .flat_map(|c| arr(c, "/ports"))
                .find(|cp| s(cp, "/name") == name)
                .and_then(|cp| cp.get("containerPort").and_then(Value::as_u64))
        }),
        _ => None,
    }
}

/// IST0113 MTLSPolicyConflict.
fn mtls_conflicts(ix: &Index<'_>, out: &mut Vec<Finding>) {
    let drs = destination_rules(ix);
    // (dr ns, dr name, where, policy) -> the conflict
    type Key = (String, String, String, String);
    struct Conflict {
        host: String,
        ports: Vec<u64>,
        dr_mode: String,
        pa_mode: String,
        evidence: Vec<String>,
    }
    let mut found: BTreeMap<Key, Conflict> = BTreeMap::new();
    for svc in &ix.snap.services {
        let (ns, name) = (ns_of(svc), name_of(svc));
        if ix.is_system(ns) {
            continue;
        }
        let fqdn = format!("{name}.{ns}{}", ix.svc_suffix());
        let matching: Vec<&Value> = drs
            .iter()
            .filter(|(h, dr)| host_matches(h, &fqdn) && (ix.in_scope(ns) || ix.in_scope(ns_of(dr))))
            .map(|(_, dr)| *dr)
            .collect();
        if matching.is_empty() {
            continue;
        }
        let pods = ix.service_pods(svc);
        if !pods.is_empty() && !pods.iter().any(|p| has_istio_proxy(p)) {
            continue; // no sidecar: PeerAuthentication is not enforced there
        }
        let pod_labels = pods.first().and_then(|p| labels_of(p));
        for port in arr(svc, "/spec/ports") {
            let Some(p) = port.get("port").and_then(Value::as_u64) else {
                continue;
            };
            let tp = target_port(port, &pods);
            let server = server_mode(ix, ns, pod_labels, tp);
            let Some((pa, scope)) = server.by else {
                continue;
            };
            for dr in &matching {
                for (mode, place) in client_modes(dr, p) {
                    let conflict = matches!(
                        (server.mode.as_str(), mode.as_str()),
                        ("STRICT", "DISABLE" | "SIMPLE" | "MUTUAL") | ("DISABLE", "ISTIO_MUTUAL")
                    );
                    if !conflict {
                        continue;
                    }
                    let policy = format!("{}/{}", ns_of(pa), name_of(pa));
                    let key = (
                        ns_of(dr).to_owned(),
                        name_of(dr).to_owned(),
                        place.clone(),
                        policy.clone(),
                    );
                    let entry = found.entry(key).or_insert_with(|| {
                        let mut ev = vec![
                            format!(
                                "PeerAuthentication {policy} ({scope}) sets mtls.mode {} for the pods of Service {ns}/{name}",
                                server.mode
                            ),
                            format!(
                                "DestinationRule {}/{} {place} mode {mode} for host {}",
                                ns_of(dr),
                                name_of(dr),
                                s(dr, "/spec/host")
                            ),
                        ];
                        if !pods.is_empty() {
                            ev.push(format!(
                                "selected pods: {}",
                                join_bounded(pods.iter().map(|p| name_of(p)), 5)
                            ));
                        }
                        Conflict {
                            host: fqdn.clone(),
                            ports: Vec::new(),
                            dr_mode: mode.clone(),
                            pa_mode: server.mode.clone(),
                            evidence: ev,
                        }
                    });
                    entry.ports.push(p);
                }
            }
        }
    }
    for ((dr_ns, dr_name, place, policy), c) in found {
        let Conflict {
            host,
            ports,
            dr_mode,
            pa_mode,
            evidence,
        } = c;
        let istio_mtls = dr_mode == "ISTIO_MUTUAL";
        let consequence = if istio_mtls {
            "clients send Istio mTLS to a server that only accepts plaintext: connections are reset"
        } else {
            "clients do not send Istio mTLS to a server that requires it: connections are reset (503 UC / upstream connect error)"
        };
        out.push(
            Finding::new(
                Level::Error,
                "MTLSPolicyConflict",
                "DestinationRule",
                Some(&dr_ns),
                dr_name.clone(),
                format!(
                    "A DestinationRule and Policy are in conflict with regards to mTLS for host {host}. The DestinationRule \"{dr_ns}/{dr_name}\" specifies that mTLS must be {istio_mtls} but the Policy object \"{policy}\" specifies {pa_mode}. {consequence}"
                ),
            )
            .code("IST0113")
            .at(place)
            .evidences(evidence)
            .evidence(format!(
                "affected ports: {}",
                join_bounded(ports.iter().map(u64::to_string), 10)
            ))
            .fix(if istio_mtls {
                "set the PeerAuthentication to PERMISSIVE or STRICT, or drop tls from the DestinationRule (auto mTLS)".to_owned()
            } else {
                "remove the tls block from the DestinationRule (auto mTLS picks ISTIO_MUTUAL) or set mode: ISTIO_MUTUAL; or relax the PeerAuthentication to PERMISSIVE".to_owned()
            }),
        );
    }
}

/// IST0127 NoMatchingWorkloadsFound for AuthorizationPolicy, PeerAuthentication,
/// RequestAuthentication and Sidecar.
fn selectors(ix: &Index<'_>, out: &mut Vec<Finding>) {
    let checks: [(IstioKind, &str, &str); 4] = [
        (
            IstioKind::AuthorizationPolicy,
            "/spec/selector/matchLabels",
            "spec.selector.matchLabels",
        ),
        (
            IstioKind::PeerAuthentication,
            "/spec/selector/matchLabels",
            "spec.selector.matchLabels",
        ),
        (
            IstioKind::RequestAuthentication,
            "/spec/selector/matchLabels",
            "spec.selector.matchLabels",
        ),
        (
            IstioKind::Sidecar,
            "/spec/workloadSelector/labels",
            "spec.workloadSelector.labels",
        ),
    ];
    for (kind, ptr, path) in checks {
        for pol in ix.snap.of(kind) {
            let (ns, name) = (ns_of(pol), name_of(pol));
            if !ix.in_scope(ns)
                || pol.pointer("/spec/targetRef").is_some()
                || !arr(pol, "/spec/targetRefs").is_empty()
            {
                continue;
            }
            let mesh_wide = ns == ix.opts.root_namespace;
            let candidates: Vec<&Value> = if mesh_wide {
                ix.all_live_pods().collect()
            } else {
                ix.live_pods(ns).to_vec()
            };
            let where_ = if mesh_wide {
                "any namespace".to_owned()
            } else {
                format!("namespace {ns}")
            };
            let action = s(pol, "/spec/action");
            let Some(sel) = obj(pol, ptr).filter(|m| !m.is_empty()) else {
                if kind == IstioKind::AuthorizationPolicy && !mesh_wide && candidates.is_empty() {
                    out.push(
                        Finding::new(
                            Level::Warning,
                            "NoMatchingWorkloadsFound",
                            kind.kind(),
                            Some(ns),
                            name,
                            "No matching workloads for this resource with the following labels: ",
                        )
                        .code("IST0127")
                        .evidence(format!(
                            "the policy applies namespace-wide, but namespace {ns} runs no pod"
                        )),
                    );
                }
                continue;
            };
            let matched: Vec<&Value> = candidates
                .iter()
                .copied()
                .filter(|p| map_selects(sel, labels_of(p)))
                .collect();
            if matched.iter().any(|p| has_istio_proxy(p)) {
                continue;
            }
            let labels = fmt_labels(sel);
            let mut f = Finding::new(
                Level::Warning,
                "NoMatchingWorkloadsFound",
                kind.kind(),
                Some(ns),
                name,
                format!(
                    "No matching workloads for this resource with the following labels: {labels}"
                ),
            )
            .code("IST0127")
            .at(path);
            f = match (kind, action) {
                (IstioKind::AuthorizationPolicy, "DENY") => {
                    f.evidence("its DENY rules protect nothing".to_owned())
                }
                (IstioKind::AuthorizationPolicy, _) => f.evidence(
                    "the workload it was written for is not covered: its ALLOW rules grant nothing"
                        .to_owned(),
                ),
                _ => f,
            };
            if matched.is_empty() {
                f = f.evidence(format!("no pod in {where_} has labels {labels}"));
            } else {
                f = f.evidence(format!(
                    "pods with these labels run no istio-proxy sidecar, so the policy is not enforced there: {}",
                    join_bounded(matched.iter().map(|p| name_of(p)), 5)
                ));
            }
            for key in sel.keys().take(3) {
                f = f.evidence(format!(
                    "values of {key} on pods in {where_}: {}",
                    value_counts(&candidates, key)
                ));
            }
            out.push(f.fix(format!(
                "correct {path} to the labels of the target workload's pods, or delete the {}",
                kind.kind()
            )));
        }
    }
}

/// How a namespace joins the mesh: `Some(label)` when it does.
fn injection_label(ns: &Value) -> Option<String> {
    let l = labels_of(ns);
    let get = |k: &str| l.and_then(|m| m.get(k)).and_then(Value::as_str);
    match (
        get("istio-injection"),
        get("istio.io/rev"),
        get("istio.io/dataplane-mode"),
    ) {
        (Some("enabled"), _, _) => Some("istio-injection=enabled".to_owned()),
        (None, Some(rev), _) => Some(format!("istio.io/rev={rev}")),
        (_, _, Some("ambient")) => Some("istio.io/dataplane-mode=ambient".to_owned()),
        _ => None,
    }
}

fn inject_disabled(pod: &Value) -> bool {
    let label = s(pod, "/metadata/labels/sidecar.istio.io~1inject");
    let ann = s(pod, "/metadata/annotations/sidecar.istio.io~1inject");
    label.eq_ignore_ascii_case("false") || ann.eq_ignore_ascii_case("false")
}

/// IST0102 NamespaceNotInjected (when peers are injected), IST0103 PodMissingProxy.
fn injection(ix: &Index<'_>, out: &mut Vec<Finding>) {
    let candidates: Vec<&Value> = ix
        .snap
        .namespaces
        .iter()
        .filter(|n| !ix.is_system(name_of(n)))
        .collect();
    let injected: Vec<(String, String)> = candidates
        .iter()
        .filter_map(|n| Some((name_of(n).to_owned(), injection_label(n)?)))
        .collect();
    if injected.is_empty() {
        return;
    }
    for nsobj in &candidates {
        let ns = name_of(nsobj);
        if !ix.in_scope(ns) {
            continue;
        }
        let pods = ix.live_pods(ns);
        match injection_label(nsobj) {
            Some(label) => {
                if label.contains("ambient") {
                    continue;
                }
                for pod in pods {
                    if has_istio_proxy(pod)
                        || inject_disabled(pod)
                        || pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true)
                    {
                        continue;
                    }
                    let containers: Vec<&str> = arr(pod, "/spec/containers")
                        .iter()
                        .map(|c| s(c, "/name"))
                        .collect();
                    out.push(
                        Finding::new(
                            Level::Warning,
                            "PodMissingProxy",
                            "Pod",
                            Some(ns),
                            name_of(pod),
                            format!("The pod {}.{ns} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.", name_of(pod)),
                        )
                        .code("IST0103")
                        .evidence(format!("namespace {ns} has {label}"))
                        .evidence(format!("containers: {}", containers.join(", ")))
                        .fix("restart the workload (kubectl rollout restart) so the injector adds the sidecar"),
                    );
                }
            }
            None => {
                if s(nsobj, "/metadata/labels/istio-injection") == "disabled" {
                    continue; // explicitly out of the mesh
                }
                let with_proxy = pods.iter().filter(|p| has_istio_proxy(p)).count();
                let peers: Vec<String> =
                    injected.iter().map(|(n, l)| format!("{n} ({l})")).collect();
                out.push(
                    Finding::new(
                        Level::Info,
                        "NamespaceNotInjected",
                        "Namespace",
                        None,
                        ns,
                        format!("The namespace is not enabled for Istio injection. Run 'kubectl label namespace {ns} istio-injection=enabled' to enable it, or 'kubectl label namespace {ns} istio-injection=disabled' to explicitly mark it as not needing injection."),
                    )
                    .code("IST0102")
                    .evidence("no istio-injection or istio.io/rev label")
                    .evidence(format!("injected peers: {}", join_bounded(&peers, 8)))
                    .evidence(format!(
                        "{} live pods here, {with_proxy} with an istio-proxy sidecar",
                        pods.len()
                    ))
                    .fix(format!(
                        "kubectl label namespace {ns} istio-injection=enabled, then restart its workloads; or label it istio-injection=disabled if it is meant to stay outside the mesh (STRICT mTLS peers will refuse its plaintext calls)"
                    )),
                );
            }
        }
    }
}

/// Istio's protocol for a port name or appProtocol (`None`: unsupported, sniffed).
fn protocol_of(name: &str, port: u64) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "kubernetes.io/h2c" => return Some("HTTP2"),
        "kubernetes.io/ws" => return Some("HTTP"),
        "kubernetes.io/wss" => return Some("HTTPS"),
        _ => {}
    }
    if lower.starts_with("grpc-web") {
        return Some("GRPC-Web");
    }
    let prefix = lower.split('-').next().unwrap_or_default();
    let p = match prefix {
        "tcp" => Some("TCP"),
        "udp" => Some("UDP"),
        "grpc" => Some("GRPC"),
        "http" => Some("HTTP"),
        "http_proxy" => Some("HTTP_PROXY"),
        "http2" => Some("HTTP2"),
        "https" => Some("HTTPS"),
        "tls" => Some("TLS"),
        "mongo" => Some("Mongo"),
        "redis" => Some("Redis"),
        "mysql" => Some("MySQL"),
        _ => None,
    };
    p.or(match port {
        25 | 53 | 3306 | 27017 => Some("TCP"),
        _ => None,
    })
}

/// IST0118 PortNameIsNotUnderNamingConvention.
fn port_names(ix: &Index<'_>, out: &mut Vec<Finding>) {
    for svc in &ix.snap.services {
        let ns = ns_of(svc);
        if !ix.in_scope(ns) || ix.is_system(ns) || s(svc, "/spec/type") == "ExternalName" {
            continue;
        }
        let in_mesh = ix.namespace(ns).and_then(injection_label).is_some()
            || ix.service_pods(svc).iter().any(|p| has_istio_proxy(p));
        for (i, port) in arr(svc, "/spec/ports").iter().enumerate() {
            if s(port, "/protocol").eq_ignore_ascii_case("UDP") {
                continue;
            }
            let number = port.get("port").and_then(Value::as_u64).unwrap_or(0);
            let name = s(port, "/name");
            let app = s(port, "/appProtocol");
            let proto = if app.is_empty() {
                protocol_of(name, number)
            } else {
                protocol_of(app, number)
            };
            if proto.is_some() {
                continue;
            }
            let target = match port.get("targetPort") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(t)) => t.clone(),
                _ => number.to_string(),
            };
            out.push(
                Finding::new(
                    Level::Info,
                    "PortNameIsNotUnderNamingConvention",
                    "Service",
                    Some(ns),
                    name_of(svc),
                    format!("Port name {name} (port: {number}, targetPort: {target}) doesn't follow the naming convention of Istio port."),
                )
                .code("IST0118")
                .at(format!("spec.ports[{i}]"))
                .evidence(if app.is_empty() {
                    "no appProtocol; Istio reads the protocol from the name prefix (http, http2, https, grpc, grpc-web, tcp, tls, mongo, mysql, redis)".to_owned()
                } else {
                    format!("appProtocol {app:?} names no protocol Istio knows")
                })
                .evidence(if in_mesh {
                    "the Service's workloads are in the mesh: the port falls back to protocol sniffing (no HTTP routing or metrics guarantees, server-first protocols break)"
                } else {
                    "the Service's workloads are not in the mesh yet; they will be sniffed once they are"
                })
                .fix(format!(
                    "rename the port to http-{0} (or tcp-{0}, grpc-{0}, ...) or set appProtocol: http",
                    if name.is_empty() { "web" } else { name }
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ix_opts() -> AnalyzeOptions {
        AnalyzeOptions::default()
    }

    #[test]
    fn hosts_expand_like_istio() {
        let snap = MeshSnapshot::default();
        let opts = ix_opts();
        let ix = Index::new(&snap, &opts);
        assert_eq!(ix.fqdn("reviews", "shop"), "reviews.shop.svc.cluster.local");
        assert_eq!(ix.fqdn("reviews.other", "shop"), "reviews.other");
        assert_eq!(ix.fqdn("*.example.com", "shop"), "*.example.com");
        assert_eq!(
            ix.service_key("reviews.shop.svc.cluster.local"),
            Some(("shop".into(), "reviews".into()))
        );
        assert_eq!(ix.service_key("api.example.com"), None);
        assert!(host_matches("*.example.com", "api.example.com"));
        assert!(host_matches("*", "x"));
        assert!(!host_matches("api.example.com", "www.example.com"));
        assert_eq!(
            gateway_ref("istio-system/public", "shop"),
            Some(("istio-system".into(), "public".into()))
        );
        assert_eq!(
            gateway_ref("public", "shop"),
            Some(("shop".into(), "public".into()))
        );
        assert_eq!(
            gateway_ref("public.istio-system.svc.cluster.local", "shop"),
            Some(("istio-system".into(), "public".into()))
        );
        assert_eq!(gateway_ref("mesh", "shop"), None);
    }

    #[test]
    fn protocols_follow_istios_port_naming() {
        assert_eq!(protocol_of("http-web", 80), Some("HTTP"));
        assert_eq!(protocol_of("grpc-web-x", 80), Some("GRPC-Web"));
        assert_eq!(protocol_of("HTTPS", 443), Some("HTTPS"));
        assert_eq!(protocol_of("web", 8080), None);
        assert_eq!(protocol_of("", 80), None);
        assert_eq!(protocol_of("db", 3306), Some("TCP"));
        assert_eq!(protocol_of("kubernetes.io/h2c", 80), Some("HTTP2"));
    }

    #[test]
    fn client_tls_modes_come_from_port_level_then_top_level_then_subsets() {
        let dr = json!({"spec": {"host": "r", "trafficPolicy": {
            "tls": {"mode": "ISTIO_MUTUAL"},
            "portLevelSettings": [{"port": {"number": 9080}, "tls": {"mode": "DISABLE"}}]
        }, "subsets": [{"name": "v1", "trafficPolicy": {"tls": {"mode": "SIMPLE"}}}]}});
        let at_9080 = client_modes(&dr, 9080);
        assert_eq!(at_9080[0].0, "DISABLE");
        assert!(at_9080[0].1.contains("portLevelSettings[0]"));
        assert_eq!(at_9080[1].0, "SIMPLE");
        assert!(at_9080[1].1.contains("subsets[v1]"));
        assert_eq!(client_modes(&dr, 80)[0].0, "ISTIO_MUTUAL");
    }
}
