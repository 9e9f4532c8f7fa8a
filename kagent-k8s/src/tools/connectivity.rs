//! `k8s_check_service_connectivity`: selector, ready pods, target ports, and an HTTP GET through
//! the API server's service proxy.

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::k8s_tool;
use crate::args::non_empty;
use crate::error::{K8sError, Result};
use crate::kapi;
use crate::labels::{list_params, map_selector};
use crate::render::{arr, i, s as vs};

/// How long the connectivity probe waits for an answer through the service proxy.
const PROXY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Arguments of `k8s_check_service_connectivity`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ConnectivityArgs {
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
pub(crate) fn parse_service_name(text: &str) -> (String, Option<String>, Option<String>) {
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
            let selector = map_selector(&selector)?;
            let sel = selector.to_string();
            let pods_info = s.catalog.resolve("pods").await?;
            let pods = kapi::list_all(
                &s.client,
                &pods_info,
                Some(&ns),
                &list_params(&selector),
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
}
