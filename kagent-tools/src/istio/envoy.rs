//! Compact summaries of an Envoy admin `config_dump` (as an Istio sidecar serves it): listeners,
//! routes, clusters, endpoints, secrets (never their bytes), bootstrap and extension configs,
//! and the sidecar's own view of its xDS sync state. Pure functions over the JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kagent_k8s::render::Table;
use serde::Serialize;
use serde_json::Value;

use super::error::IstioError;
use crate::family::{arr, s};

/// What part of the config dump to show (`istio_proxy_config`'s `config_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// A summary of every section.
    All,
    /// Node identity, Istio version, control plane address.
    Bootstrap,
    /// Clusters (upstreams): service FQDN, port, subset, direction, type, TLS, DestinationRule.
    Cluster,
    /// Listeners: address, port, filter chain match and where it sends traffic.
    Listener,
    /// Routes: virtual hosts, matches, destinations with weights, VirtualService.
    Route,
    /// Secrets (certificates): name, type, state, version; contents are never shown.
    Secret,
    /// Extension configs (ECDS filters).
    Ecds,
    /// Endpoints per cluster with health (`config_dump?include_eds`).
    Endpoint,
}

impl ConfigType {
    /// The name as `config_type` takes it (`cluster`, `listener`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::All => "all",
            ConfigType::Bootstrap => "bootstrap",
            ConfigType::Cluster => "cluster",
            ConfigType::Listener => "listener",
            ConfigType::Route => "route",
            ConfigType::Secret => "secret",
            ConfigType::Ecds => "ecds",
            ConfigType::Endpoint => "endpoint",
        }
    }

    /// Parses kagent's `config_type` (`all`, `bootstrap`, `cluster`, `ecds`, `listener`,
    /// `route`, `secret`, plus `endpoint`); empty means `all`.
    pub fn parse(text: &str) -> Result<ConfigType, IstioError> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "" | "all" => ConfigType::All,
            "bootstrap" => ConfigType::Bootstrap,
            "cluster" | "clusters" => ConfigType::Cluster,
            "listener" | "listeners" => ConfigType::Listener,
            "route" | "routes" => ConfigType::Route,
            "secret" | "secrets" => ConfigType::Secret,
            "ecds" => ConfigType::Ecds,
            "endpoint" | "endpoints" | "eds" => ConfigType::Endpoint,
            "log" => {
                return Err(IstioError::invalid(
                    "config_type",
                    "\"log\" needs a POST to Envoy's /logging endpoint, which changes log levels; this tool only reads. Use one of: all, bootstrap, cluster, listener, route, secret, ecds, endpoint",
                ));
            }
            other => {
                return Err(IstioError::invalid(
                    "config_type",
                    format!(
                        "{other:?} is not a config type; use one of: all, bootstrap, cluster, listener, route, secret, ecds, endpoint"
                    ),
                ));
            }
        })
    }

    /// The admin path to read (`config_dump`, with EDS for endpoints).
    pub fn admin_path(self) -> &'static str {
        match self {
            ConfigType::Endpoint => "config_dump?include_eds",
            _ => "config_dump",
        }
    }
}

/// The config dump section whose `@type` ends with `suffix` (`ClustersConfigDump`).
fn section<'a>(dump: &'a Value, suffix: &str) -> Option<&'a Value> {
    arr(dump, "/configs").iter().find(|c| {
        let ty = s(c, "/@type");
        ty.strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// `DestinationRule`/`VirtualService` named in Istio's config metadata
/// (`/apis/networking.istio.io/v1/namespaces/shop/destination-rule/reviews` to `reviews.shop`).
fn istio_config_ref(v: &Value) -> String {
    let cfg = s(v, "/metadata/filter_metadata/istio/config");
    let parts: Vec<&str> = cfg.split('/').collect();
    match parts.as_slice() {
        [.., "namespaces", ns, _kind, name] => format!("{name}.{ns}"),
        _ => String::new(),
    }
}

fn keep(filter: Option<&str>, cells: &[String]) -> bool {
    match filter {
        None => true,
        Some(f) => cells.iter().any(|c| c.contains(f)),
    }
}

/// A table cut to `max_rows`, with a line saying how many rows were left out.
fn bounded(mut table: Table, max_rows: usize, what: &str) -> String {
    let total = table.rows.len();
    table.rows.truncate(max_rows);
    let mut out = table.render();
    if total > max_rows {
        let _ = writeln!(
            out,
            "... {} more {what} not shown; pass filter (a port, host or name) to narrow",
            total - max_rows
        );
    }
    out
}

/// Clusters: `SERVICE FQDN  PORT  SUBSET  DIRECTION  TYPE  TLS  DESTINATION RULE`.
pub fn clusters(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let Some(sec) = section(dump, "ClustersConfigDump") else {
        return "no clusters section in the config dump\n".to_owned();
    };
    let mut t = Table {
        headers: vec![
            "SERVICE FQDN",
            "PORT",
            "SUBSET",
            "DIRECTION",
            "TYPE",
            "TLS",
            "DESTINATION RULE",
        ],
        rows: Vec::new(),
    };
    let entries = arr(sec, "/static_clusters")
        .iter()
        .map(|c| (c, ""))
        .chain(arr(sec, "/dynamic_active_clusters").iter().map(|c| (c, "")))
        .chain(
            arr(sec, "/dynamic_warming_clusters")
                .iter()
                .map(|c| (c, " (warming)")),
        );
    for (entry, state) in entries {
        let Some(c) = entry.get("cluster") else {
            continue;
        };
        let name = s(c, "/name");
        let parts: Vec<&str> = name.split('|').collect();
        let (fqdn, port, subset, dir) = match parts.as_slice() {
            [dir, port, subset, fqdn] => (
                if fqdn.is_empty() {
                    name.to_owned()
                } else {
                    (*fqdn).to_owned()
                },
                (*port).to_owned(),
                (*subset).to_owned(),
                (*dir).to_owned(),
            ),
            _ => (name.to_owned(), String::new(), String::new(), String::new()),
        };
        let ty = match s(c, "/type") {
            "" => match s(c, "/cluster_type/name") {
                "" => "EDS".to_owned(),
                custom => custom.rsplit('.').next().unwrap_or(custom).to_owned(),
            },
            t => t.to_owned(),
        };
        let tls = if arr(c, "/transport_socket_matches")
            .iter()
            .any(|m| s(m, "/name") == "tlsMode-istio")
        {
            "auto mTLS".to_owned()
        } else if s(c, "/transport_socket/name").contains("tls") {
            let sni = s(c, "/transport_socket/typed_config/sni");
            if sni.is_empty() {
                "TLS".to_owned()
            } else {
                format!("TLS sni={sni}")
            }
        } else {
            "-".to_owned()
        };
        let dash = |v: String| if v.is_empty() { "-".to_owned() } else { v };
        let row = vec![
            format!("{fqdn}{state}"),
            dash(port),
            dash(subset),
            dash(dir),
            ty,
            tls,
            dash(istio_config_ref(c)),
        ];
        if keep(filter, &row) {
            t.rows.push(row);
        }
    }
    bounded(t, max_rows, "clusters")
}

/// Where a filter chain sends traffic: `Route: 9080`, `Cluster: outbound|...`, `Inline Route: /x`.
fn chain_destination(chain: &Value) -> String {
    let mut out = Vec::new();
    for f in arr(chain, "/filters") {
        let name = s(f, "/name");
        let cfg = f.get("typed_config").unwrap_or(&Value::Null);
        let ty = s(cfg, "/@type");
        if name.contains("http_connection_manager") || ty.ends_with(".HttpConnectionManager") {
            let rds = s(cfg, "/rds/route_config_name");
            if !rds.is_empty() {
                out.push(format!("Route: {rds}"));
            } else if let Some(rc) = cfg.get("route_config") {
                let first = arr(rc, "/virtual_hosts")
                    .iter()
                    .flat_map(|vh| arr(vh, "/routes"))
                    .map(route_match)
                    .next()
                    .unwrap_or_default();
                out.push(format!("Inline Route: {first}"));
            }
        } else if name.contains("tcp_proxy") || ty.ends_with(".TcpProxy") {
            let cluster = s(cfg, "/cluster");
            if !cluster.is_empty() {
                out.push(format!("Cluster: {cluster}"));
            } else {
                let ws: Vec<String> = arr(cfg, "/weighted_clusters/clusters")
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}",
                            s(c, "/name"),
                            c.get("weight").and_then(Value::as_u64).unwrap_or(0)
                        )
                    })
                    .collect();
                out.push(format!("Clusters: {}", ws.join(", ")));
            }
        }
    }
    if out.is_empty() {
        let names: Vec<&str> = arr(chain, "/filters")
            .iter()
            .map(|f| s(f, "/name"))
            .collect();
        if names.is_empty() {
            return "-".to_owned();
        }
        return names.join(",");
    }
    out.join("; ")
}

/// A filter chain match: `Trans: tls; App: istio-http/1.1; Port: 9080; Addr: 10.0.0.0/16`.
fn chain_match(chain: &Value) -> String {
    let m = match chain.get("filter_chain_match") {
        Some(m) => m,
        None => return "ALL".to_owned(),
    };
    let mut parts = Vec::new();
    let join = |ptr: &str| -> String {
        arr(m, ptr)
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(",")
    };
    if let Some(p) = m.get("destination_port").and_then(Value::as_u64) {
        parts.push(format!("Port: {p}"));
    }
    let sni = join("/server_names");
    if !sni.is_empty() {
        parts.push(format!("SNI: {sni}"));
    }
    let trans = s(m, "/transport_protocol");
    if !trans.is_empty() {
        parts.push(format!("Trans: {trans}"));
    }
    let app = join("/application_protocols");
    if !app.is_empty() {
        parts.push(format!("App: {app}"));
    }
    let addrs: Vec<String> = arr(m, "/prefix_ranges")
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                s(r, "/address_prefix"),
                r.get("prefix_len").and_then(Value::as_u64).unwrap_or(32)
            )
        })
        .collect();
    if !addrs.is_empty() {
        parts.push(format!("Addr: {}", addrs.join(",")));
    }
    if parts.is_empty() {
        "ALL".to_owned()
    } else {
        parts.join("; ")
    }
}

/// Listeners: `NAME  ADDRESS  PORT  MATCH  DESTINATION`, one row per filter chain (at most
/// `max_chains` per listener).
pub fn listeners(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let Some(sec) = section(dump, "ListenersConfigDump") else {
        return "no listeners section in the config dump\n".to_owned();
    };
    const MAX_CHAINS: usize = 12;
    let mut t = Table {
        headers: vec!["NAME", "ADDRESS", "PORT", "MATCH", "DESTINATION"],
        rows: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut entries: Vec<(&Value, &str)> = arr(sec, "/static_listeners")
        .iter()
        .filter_map(|l| Some((l.get("listener")?, "")))
        .collect();
    for dl in arr(sec, "/dynamic_listeners") {
        if let Some(l) = dl.pointer("/active_state/listener") {
            entries.push((l, ""));
        }
        if let Some(l) = dl.pointer("/warming_state/listener") {
            entries.push((l, " (warming)"));
        }
        if let Some(l) = dl.pointer("/draining_state/listener") {
            entries.push((l, " (draining)"));
        }
        if let Some(err) = dl.get("error_state") {
            problems.push(format!(
                "listener {} rejected (NACK): {}",
                s(dl, "/name"),
                s(err, "/details")
            ));
        }
    }
    for (l, state) in entries {
        let name = match s(l, "/name") {
            "" => format!("-{state}"),
            n => format!("{n}{state}"),
        };
        let (addr, port) = match l.pointer("/address/socket_address") {
            Some(sa) => (
                s(sa, "/address").to_owned(),
                sa.get("port_value")
                    .and_then(Value::as_u64)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            ),
            None => ("internal".to_owned(), "-".to_owned()),
        };
        let chains = arr(l, "/filter_chains");
        let mut rows: Vec<Vec<String>> = chains
            .iter()
            .take(MAX_CHAINS)
            .map(|c| {
                vec![
                    name.clone(),
                    addr.clone(),
                    port.clone(),
                    chain_match(c),
                    chain_destination(c),
                ]
            })
            .collect();
        if let Some(dc) = l.get("default_filter_chain") {
            rows.push(vec![
                name.clone(),
                addr.clone(),
                port.clone(),
                "default".to_owned(),
                chain_destination(dc),
            ]);
        }
        if chains.len() > MAX_CHAINS {
            rows.push(vec![
                name.clone(),
                addr.clone(),
                port.clone(),
                format!("... {} more filter chains", chains.len() - MAX_CHAINS),
                "-".to_owned(),
            ]);
        }
        if rows.is_empty() {
            rows.push(vec![name, addr, port, "-".to_owned(), "-".to_owned()]);
        }
        t.rows.extend(rows.into_iter().filter(|r| keep(filter, r)));
    }
    let mut out = bounded(t, max_rows, "listener rows");
    for p in problems {
        let _ = writeln!(out, "{p}");
    }
    out
}

fn route_match(r: &Value) -> String {
    let m = r.get("match").unwrap_or(&Value::Null);
    let mut out = if let Some(p) = m.get("prefix").and_then(Value::as_str) {
        format!("{p}*")
    } else if let Some(p) = m.get("path").and_then(Value::as_str) {
        p.to_owned()
    } else if let Some(p) = m.pointer("/safe_regex/regex").and_then(Value::as_str) {
        format!("~{p}")
    } else if let Some(p) = m.get("path_separated_prefix").and_then(Value::as_str) {
        format!("{p}/*")
    } else {
        "/*".to_owned()
    };
    let headers: Vec<&str> = arr(m, "/headers").iter().map(|h| s(h, "/name")).collect();
    if !headers.is_empty() {
        out.push_str(&format!(" [headers: {}]", headers.join(",")));
    }
    out
}

/// Shortens `outbound|9080|v1|reviews.shop.svc.cluster.local` to `reviews.shop:9080 v1`.
fn short_cluster(name: &str) -> String {
    let parts: Vec<&str> = name.split('|').collect();
    match parts.as_slice() {
        [_, port, subset, fqdn] => {
            let host = fqdn.split_once(".svc.").map(|(h, _)| h).unwrap_or(fqdn);
            if subset.is_empty() {
                format!("{host}:{port}")
            } else {
                format!("{host}:{port} {subset}")
            }
        }
        _ => name.to_owned(),
    }
}

fn route_destination(r: &Value) -> String {
    if let Some(route) = r.get("route") {
        let c = s(route, "/cluster");
        if !c.is_empty() {
            return short_cluster(c);
        }
        let ws = arr(route, "/weighted_clusters/clusters");
        if !ws.is_empty() {
            let total: u64 = ws
                .iter()
                .map(|c| c.get("weight").and_then(Value::as_u64).unwrap_or(0))
                .sum();
            return ws
                .iter()
                .map(|c| {
                    let w = c.get("weight").and_then(Value::as_u64).unwrap_or(0);
                    let pct = (w * 100).checked_div(total).unwrap_or(0);
                    format!("{} {pct}%", short_cluster(s(c, "/name")))
                })
                .collect::<Vec<_>>()
                .join(", ");
        }
        let header = s(route, "/cluster_header");
        if !header.is_empty() {
            return format!("cluster from header {header}");
        }
    }
    if let Some(d) = r.get("direct_response") {
        return format!(
            "direct response {}",
            d.get("status").and_then(Value::as_u64).unwrap_or(0)
        );
    }
    if r.get("redirect").is_some() {
        return "redirect".to_owned();
    }
    "-".to_owned()
}

/// Routes: `NAME  VHOST  DOMAINS  MATCH  DESTINATION  VIRTUAL SERVICE`.
pub fn routes(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let Some(sec) = section(dump, "RoutesConfigDump") else {
        return "no routes section in the config dump\n".to_owned();
    };
    let mut t = Table {
        headers: vec![
            "NAME",
            "VHOST",
            "DOMAINS",
            "MATCH",
            "DESTINATION",
            "VIRTUAL SERVICE",
        ],
        rows: Vec::new(),
    };
    let mut problems = Vec::new();
    let configs = arr(sec, "/static_route_configs")
        .iter()
        .chain(arr(sec, "/dynamic_route_configs"));
    for rc in configs {
        if let Some(err) = rc.get("error_state") {
            problems.push(format!(
                "route config rejected (NACK): {}",
                s(err, "/details")
            ));
        }
        let Some(cfg) = rc.get("route_config") else {
            continue;
        };
        let name = s(cfg, "/name");
        for vh in arr(cfg, "/virtual_hosts") {
            let domains: Vec<&str> = arr(vh, "/domains")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let shown_domains = match domains.as_slice() {
                [] => "-".to_owned(),
                [one] => (*one).to_owned(),
                [first, rest @ ..] => format!("{first} +{} more", rest.len()),
            };
            for r in arr(vh, "/routes") {
                let row = vec![
                    name.to_owned(),
                    s(vh, "/name").to_owned(),
                    shown_domains.clone(),
                    route_match(r),
                    route_destination(r),
                    match istio_config_ref(r) {
                        v if v.is_empty() => "-".to_owned(),
                        v => v,
                    },
                ];
                if keep(filter, &row) {
                    t.rows.push(row);
                }
            }
        }
    }
    let mut out = bounded(t, max_rows, "routes");
    for p in problems {
        let _ = writeln!(out, "{p}");
    }
    out
}

/// Secrets: `NAME  TYPE  STATUS  VERSION  LAST UPDATED`; certificate bytes are never shown.
pub fn secrets(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let Some(sec) = section(dump, "SecretsConfigDump") else {
        return "no secrets section in the config dump\n".to_owned();
    };
    let mut t = Table {
        headers: vec!["NAME", "TYPE", "STATUS", "VERSION", "LAST UPDATED"],
        rows: Vec::new(),
    };
    let entries = arr(sec, "/static_secrets")
        .iter()
        .map(|x| (x, "ACTIVE"))
        .chain(
            arr(sec, "/dynamic_active_secrets")
                .iter()
                .map(|x| (x, "ACTIVE")),
        )
        .chain(
            arr(sec, "/dynamic_warming_secrets")
                .iter()
                .map(|x| (x, "WARMING")),
        );
    for (e, status) in entries {
        let secret = e.get("secret").unwrap_or(&Value::Null);
        let ty = if secret.get("tls_certificate").is_some() {
            "Cert Chain"
        } else if secret.get("validation_context").is_some() {
            "CA"
        } else {
            "-"
        };
        let name = match s(e, "/name") {
            "" => s(secret, "/name"),
            n => n,
        };
        let row = vec![
            name.to_owned(),
            ty.to_owned(),
            status.to_owned(),
            match s(e, "/version_info") {
                "" => "-".to_owned(),
                v => v.to_owned(),
            },
            match s(e, "/last_updated") {
                "" => "-".to_owned(),
                v => v.to_owned(),
            },
        ];
        if keep(filter, &row) {
            t.rows.push(row);
        }
    }
    let mut out = bounded(t, max_rows, "secrets");
    out.push_str("(certificate and key contents are not shown)\n");
    out
}

/// Endpoints: `ENDPOINT  STATUS  LOCALITY  CLUSTER` (from `config_dump?include_eds`).
pub fn endpoints(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let Some(sec) = section(dump, "EndpointsConfigDump") else {
        return "no endpoints section in the config dump (Envoy serves it with ?include_eds)\n"
            .to_owned();
    };
    let mut t = Table {
        headers: vec!["ENDPOINT", "STATUS", "LOCALITY", "CLUSTER"],
        rows: Vec::new(),
    };
    let configs = arr(sec, "/static_endpoint_configs")
        .iter()
        .chain(arr(sec, "/dynamic_endpoint_configs"));
    for c in configs {
        let Some(ec) = c.get("endpoint_config") else {
            continue;
        };
        let cluster = s(ec, "/cluster_name");
        for group in arr(ec, "/endpoints") {
            let locality = [
                s(group, "/locality/region"),
                s(group, "/locality/zone"),
                s(group, "/locality/sub_zone"),
            ]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join("/");
            for lb in arr(group, "/lb_endpoints") {
                let sa = lb.pointer("/endpoint/address/socket_address");
                let ep = match sa {
                    Some(sa) => format!(
                        "{}:{}",
                        s(sa, "/address"),
                        sa.get("port_value").and_then(Value::as_u64).unwrap_or(0)
                    ),
                    None => match s(
                        lb,
                        "/endpoint/address/envoy_internal_address/server_listener_name",
                    ) {
                        "" => "-".to_owned(),
                        n => format!("envoy://{n}"),
                    },
                };
                let row = vec![
                    ep,
                    match s(lb, "/health_status") {
                        "" => "UNKNOWN".to_owned(),
                        h => h.to_owned(),
                    },
                    if locality.is_empty() {
                        "-".to_owned()
                    } else {
                        locality.clone()
                    },
                    cluster.to_owned(),
                ];
                if keep(filter, &row) {
                    t.rows.push(row);
                }
            }
        }
    }
    bounded(t, max_rows, "endpoints")
}

/// Extension configs (ECDS): `NAME  TYPE  VERSION`.
pub fn ecds(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let Some(sec) = section(dump, "EcdsConfigDump") else {
        return "no extension configs (ECDS) in the config dump\n".to_owned();
    };
    let mut t = Table {
        headers: vec!["NAME", "TYPE", "VERSION"],
        rows: Vec::new(),
    };
    for e in arr(sec, "/ecds_filters") {
        let f = e.get("ecds_filter").unwrap_or(&Value::Null);
        let row = vec![
            s(f, "/name").to_owned(),
            s(f, "/typed_config/@type")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
            s(e, "/version_info").to_owned(),
        ];
        if keep(filter, &row) {
            t.rows.push(row);
        }
    }
    bounded(t, max_rows, "extension configs")
}

/// The sidecar's identity and versions from the bootstrap section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProxyIdentity {
    /// xDS node id (`sidecar~10.1.2.3~pod.ns~ns.svc.cluster.local`).
    pub node_id: String,
    /// Istio version of the proxy (`ISTIO_VERSION` node metadata).
    pub istio_version: String,
    /// Envoy build (`1.30.2`).
    pub envoy_version: String,
    /// Control plane address the proxy connects to.
    pub discovery_address: String,
    /// Mesh and cluster ids.
    pub mesh_id: String,
    /// `CLUSTER_ID` node metadata.
    pub cluster_id: String,
}

/// Reads the bootstrap section's identity facts.
pub fn identity(dump: &Value) -> ProxyIdentity {
    let Some(b) = section(dump, "BootstrapConfigDump").and_then(|b| b.get("bootstrap")) else {
        return ProxyIdentity::default();
    };
    let v = b.pointer("/node/user_agent_build_version/version");
    let envoy_version = v
        .map(|v| {
            format!(
                "{}.{}.{}",
                v.get("major_number").and_then(Value::as_u64).unwrap_or(0),
                v.get("minor_number").and_then(Value::as_u64).unwrap_or(0),
                v.get("patch").and_then(Value::as_u64).unwrap_or(0)
            )
        })
        .unwrap_or_default();
    ProxyIdentity {
        node_id: s(b, "/node/id").to_owned(),
        istio_version: s(b, "/node/metadata/ISTIO_VERSION").to_owned(),
        envoy_version,
        discovery_address: s(b, "/node/metadata/PROXY_CONFIG/discoveryAddress").to_owned(),
        mesh_id: s(b, "/node/metadata/MESH_ID").to_owned(),
        cluster_id: s(b, "/node/metadata/CLUSTER_ID").to_owned(),
    }
}

/// Bootstrap: identity, labels, interception, static clusters.
pub fn bootstrap(dump: &Value) -> String {
    let Some(b) = section(dump, "BootstrapConfigDump").and_then(|b| b.get("bootstrap")) else {
        return "no bootstrap section in the config dump\n".to_owned();
    };
    let id = identity(dump);
    let mut out = String::new();
    let _ = writeln!(out, "node id: {}", id.node_id);
    let _ = writeln!(out, "istio version: {}", dash(&id.istio_version));
    let _ = writeln!(out, "envoy version: {}", dash(&id.envoy_version));
    let _ = writeln!(out, "control plane: {}", dash(&id.discovery_address));
    let _ = writeln!(
        out,
        "mesh: {}, cluster: {}",
        dash(&id.mesh_id),
        dash(&id.cluster_id)
    );
    let meta = b.pointer("/node/metadata");
    if let Some(labels) = meta
        .and_then(|m| m.get("LABELS"))
        .and_then(Value::as_object)
    {
        let l: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        let _ = writeln!(out, "workload labels: {}", l.join(","));
    }
    for (key, label) in [
        ("INTERCEPTION_MODE", "interception"),
        ("WORKLOAD_NAME", "workload"),
        ("SERVICE_ACCOUNT", "service account"),
    ] {
        if let Some(v) = meta.and_then(|m| m.get(key)).and_then(Value::as_str) {
            let _ = writeln!(out, "{label}: {v}");
        }
    }
    if let Some(c) = meta
        .and_then(|m| m.pointer("/PROXY_CONFIG/concurrency"))
        .and_then(Value::as_u64)
    {
        let _ = writeln!(out, "concurrency: {c}");
    }
    let statics: Vec<&str> = arr(b, "/static_resources/clusters")
        .iter()
        .map(|c| s(c, "/name"))
        .collect();
    if !statics.is_empty() {
        let _ = writeln!(out, "static clusters: {}", statics.join(", "));
    }
    out
}

fn dash(v: &str) -> &str {
    if v.is_empty() { "-" } else { v }
}

/// The sidecar's own view of one xDS type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct XdsState {
    /// Latest `version_info` seen for the type (`2024-05-01T10:00:00Z/42`).
    pub version: String,
    /// Resources in use.
    pub active: usize,
    /// Resources received but not yet in use (warming).
    pub warming: usize,
}

/// What a sidecar's config dump says about its sync with the control plane.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SidecarSync {
    /// Identity and versions.
    pub identity: ProxyIdentity,
    /// Clusters (CDS).
    pub clusters: XdsState,
    /// Listeners (LDS).
    pub listeners: XdsState,
    /// Route configurations (RDS).
    pub routes: XdsState,
    /// Secrets (SDS).
    pub secrets: XdsState,
    /// Configuration the proxy rejected (NACKed), with Envoy's reason.
    pub rejected: Vec<String>,
}

fn max_version<'a>(versions: impl Iterator<Item = &'a str>) -> String {
    versions
        .filter(|v| !v.is_empty())
        .max()
        .unwrap_or_default()
        .to_owned()
}

/// Reads the sync state out of a config dump.
pub fn sidecar_sync(dump: &Value) -> SidecarSync {
    let mut out = SidecarSync {
        identity: identity(dump),
        ..SidecarSync::default()
    };
    if let Some(c) = section(dump, "ClustersConfigDump") {
        let active = arr(c, "/dynamic_active_clusters");
        out.clusters = XdsState {
            version: match s(c, "/version_info") {
                "" => max_version(active.iter().map(|x| s(x, "/version_info"))),
                v => v.to_owned(),
            },
            active: active.len() + arr(c, "/static_clusters").len(),
            warming: arr(c, "/dynamic_warming_clusters").len(),
        };
        for x in active.iter().chain(arr(c, "/dynamic_warming_clusters")) {
            if let Some(e) = x.get("error_state") {
                out.rejected.push(format!(
                    "cluster {}: {}",
                    s(x, "/cluster/name"),
                    s(e, "/details")
                ));
            }
        }
    }
    if let Some(l) = section(dump, "ListenersConfigDump") {
        let dynamic = arr(l, "/dynamic_listeners");
        out.listeners = XdsState {
            version: match s(l, "/version_info") {
                "" => max_version(dynamic.iter().map(|x| s(x, "/active_state/version_info"))),
                v => v.to_owned(),
            },
            active: dynamic
                .iter()
                .filter(|x| x.get("active_state").is_some())
                .count()
                + arr(l, "/static_listeners").len(),
            warming: dynamic
                .iter()
                .filter(|x| x.get("warming_state").is_some())
                .count(),
        };
        for x in dynamic {
            if let Some(e) = x.get("error_state") {
                out.rejected
                    .push(format!("listener {}: {}", s(x, "/name"), s(e, "/details")));
            }
        }
    }
    if let Some(r) = section(dump, "RoutesConfigDump") {
        let dynamic = arr(r, "/dynamic_route_configs");
        out.routes = XdsState {
            version: max_version(dynamic.iter().map(|x| s(x, "/version_info"))),
            active: dynamic.len() + arr(r, "/static_route_configs").len(),
            warming: 0,
        };
        for x in dynamic {
            if let Some(e) = x.get("error_state") {
                out.rejected.push(format!(
                    "route {}: {}",
                    s(x, "/route_config/name"),
                    s(e, "/details")
                ));
            }
        }
    }
    if let Some(sec) = section(dump, "SecretsConfigDump") {
        let active = arr(sec, "/dynamic_active_secrets");
        out.secrets = XdsState {
            version: max_version(active.iter().map(|x| s(x, "/version_info"))),
            active: active.len(),
            warming: arr(sec, "/dynamic_warming_secrets").len(),
        };
    }
    out
}

/// Everything, each section bounded.
pub fn all(dump: &Value, filter: Option<&str>, max_rows: usize) -> String {
    let per = (max_rows / 4).max(10);
    let mut out = String::new();
    let sync = sidecar_sync(dump);
    let _ = writeln!(
        out,
        "== bootstrap\nnode {} | istio {} | envoy {} | control plane {}",
        sync.identity.node_id,
        dash(&sync.identity.istio_version),
        dash(&sync.identity.envoy_version),
        dash(&sync.identity.discovery_address)
    );
    for (title, body) in [
        ("listeners", listeners(dump, filter, per)),
        ("routes", routes(dump, filter, per)),
        ("clusters", clusters(dump, filter, per)),
        ("secrets", secrets(dump, filter, per)),
    ] {
        let _ = writeln!(out, "== {title}\n{body}");
    }
    if section(dump, "EcdsConfigDump").is_some() {
        let _ = writeln!(out, "== extension configs\n{}", ecds(dump, filter, per));
    }
    out
}

/// Renders one config type.
pub fn summarize(dump: &Value, ty: ConfigType, filter: Option<&str>, max_rows: usize) -> String {
    match ty {
        ConfigType::All => all(dump, filter, max_rows),
        ConfigType::Bootstrap => bootstrap(dump),
        ConfigType::Cluster => clusters(dump, filter, max_rows),
        ConfigType::Listener => listeners(dump, filter, max_rows),
        ConfigType::Route => routes(dump, filter, max_rows),
        ConfigType::Secret => secrets(dump, filter, max_rows),
        ConfigType::Ecds => ecds(dump, filter, max_rows),
        ConfigType::Endpoint => endpoints(dump, filter, max_rows),
    }
}

/// istiod's `/debug/syncz` entry: xDS status per type as istioctl prints it
/// (`SYNCED`, `NOT SENT`, `STALE`), keyed by proxy id.
pub fn syncz_table(entries: &[Value], only: Option<&dyn Fn(&str) -> bool>) -> Table {
    let status = |e: &Value, ty: &str| -> String {
        let sent = s(e, &format!("/{ty}_sent"));
        let acked = s(e, &format!("/{ty}_acked"));
        if sent.is_empty() {
            "NOT SENT".to_owned()
        } else if sent == acked {
            "SYNCED".to_owned()
        } else {
            "STALE".to_owned()
        }
    };
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in entries {
        let proxy = s(e, "/proxy");
        if only.is_some_and(|f| !f(proxy)) {
            continue;
        }
        rows.insert(
            proxy.to_owned(),
            vec![
                proxy.to_owned(),
                status(e, "cluster"),
                status(e, "listener"),
                status(e, "endpoint"),
                status(e, "route"),
                status(e, "extensionconfig"),
                dash(s(e, "/istio_version")).to_owned(),
            ],
        );
    }
    Table {
        headers: vec!["NAME", "CDS", "LDS", "EDS", "RDS", "ECDS", "VERSION"],
        rows: rows.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_types_parse_and_log_is_refused_with_a_reason() {
        assert_eq!(ConfigType::parse("").unwrap(), ConfigType::All);
        assert_eq!(ConfigType::parse("Cluster").unwrap(), ConfigType::Cluster);
        assert_eq!(
            ConfigType::parse("endpoint").unwrap().admin_path(),
            "config_dump?include_eds"
        );
        let log = ConfigType::parse("log").unwrap_err().to_string();
        assert!(log.contains("POST"), "{log}");
        assert!(
            ConfigType::parse("nope")
                .unwrap_err()
                .to_string()
                .contains("listener")
        );
    }

    #[test]
    fn cluster_names_and_config_refs_shorten() {
        assert_eq!(
            short_cluster("outbound|9080|v1|reviews.shop.svc.cluster.local"),
            "reviews.shop:9080 v1"
        );
        assert_eq!(short_cluster("PassthroughCluster"), "PassthroughCluster");
        let c = json!({"metadata": {"filter_metadata": {"istio": {"config": "/apis/networking.istio.io/v1/namespaces/shop/destination-rule/reviews"}}}});
        assert_eq!(istio_config_ref(&c), "reviews.shop");
    }

    #[test]
    fn syncz_statuses_follow_istioctl() {
        let entries = vec![
            json!({"proxy": "a.shop", "cluster_sent": "n1", "cluster_acked": "n1", "listener_sent": "n2", "listener_acked": "n1", "istio_version": "1.22.1"}),
        ];
        let t = syncz_table(&entries, None);
        assert_eq!(t.rows[0][1], "SYNCED");
        assert_eq!(t.rows[0][2], "STALE");
        assert_eq!(t.rows[0][3], "NOT SENT");
    }
}
