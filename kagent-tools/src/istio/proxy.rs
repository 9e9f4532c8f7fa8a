//! Reaching a pod's HTTP port — a sidecar's Envoy admin (`:15000`), istiod's debug endpoint
//! (`:15014`) — through the Kubernetes API server, never directly.

use std::time::Duration;

use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;

use super::error::{IstioError, Result};

/// How the tools reach a pod's admin port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EnvoyAdminAccess {
    /// A port-forward (`pods/portforward`, over WebSocket), as istioctl does. Works with
    /// Istio's default sidecar, whose Envoy admin listens on `127.0.0.1:15000` only. RBAC:
    /// `create` on `pods/portforward`.
    #[default]
    PortForward,
    /// The API server's pod proxy (`/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}`).
    /// Reaches only ports that listen on the pod IP (istiod's `:15014`; an Envoy admin bound to
    /// `0.0.0.0`). RBAC: `get` on `pods/proxy`.
    PodProxy,
}

/// Largest admin response read (config dumps of big meshes run to tens of MB).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// GETs `path_and_query` (no leading `/`) from `pod:port` and returns the body as text.
pub(crate) async fn get(
    client: &Client,
    access: EnvoyAdminAccess,
    namespace: &str,
    pod: &str,
    port: u16,
    path_and_query: &str,
    timeout: Duration,
) -> Result<String> {
    let target = format!("pod {namespace}/{pod} port {port} /{}", path_and_query);
    let work = async {
        match access {
            EnvoyAdminAccess::PodProxy => {
                via_pod_proxy(client, namespace, pod, port, path_and_query, &target).await
            }
            EnvoyAdminAccess::PortForward => {
                via_port_forward(client, namespace, pod, port, path_and_query, &target).await
            }
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(IstioError::Proxy {
            target,
            message: format!("no answer within {timeout:?}"),
            fault: true,
        }),
    }
}

async fn via_pod_proxy(
    client: &Client,
    namespace: &str,
    pod: &str,
    port: u16,
    path_and_query: &str,
    target: &str,
) -> Result<String> {
    let url = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/{path_and_query}");
    let req = http::Request::get(&url)
        .body(Vec::new())
        .map_err(|e| IstioError::invalid("pod_name", format!("cannot build {url}: {e}")))?;
    client.request_text(req).await.map_err(|e| match e {
        kube::Error::Api(status) => IstioError::Proxy {
            target: target.to_owned(),
            message: format!("{} ({} {})", status.message, status.code, status.reason),
            // the API server could not reach the port (502/503/504), vs an answer from it
            fault: matches!(status.code, 502..=504),
        },
        other => IstioError::Proxy {
            target: target.to_owned(),
            message: format!("through the API server's pod proxy: {other}"),
            fault: true,
        },
    })
}

async fn via_port_forward(
    client: &Client,
    namespace: &str,
    pod: &str,
    port: u16,
    path_and_query: &str,
    target: &str,
) -> Result<String> {
    let fault = |message: String| IstioError::Proxy {
        target: target.to_owned(),
        message,
        fault: true,
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut pf = pods.portforward(pod, &[port]).await.map_err(|e| match e {
        kube::Error::Api(status) => IstioError::Proxy {
            target: target.to_owned(),
            message: format!(
                "port-forward refused: {} ({} {})",
                status.message, status.code, status.reason
            ),
            fault: status.code >= 500,
        },
        other => fault(format!("port-forward failed: {other}")),
    })?;
    let stream = pf
        .take_stream(port)
        .ok_or_else(|| fault("port-forward gave no stream".to_owned()))?;
    let error = pf.take_error(port);
    let result = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| format!("HTTP handshake over the port-forward: {e}"))?;
        let driver = tokio::spawn(conn);
        let req = http::Request::get(format!("/{path_and_query}"))
            .header(http::header::HOST, "localhost")
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("request over the port-forward: {e}"))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        driver.abort();
        Ok::<_, String>((status, body))
    }
    .await;
    pf.abort();
    match result {
        Ok((status, body)) if status.is_success() => {
            Ok(String::from_utf8_lossy(&body).into_owned())
        }
        Ok((status, body)) => Err(IstioError::Proxy {
            target: target.to_owned(),
            message: format!(
                "answered {status}: {}",
                kagent_k8s::render::one_line(&String::from_utf8_lossy(&body), 300)
            ),
            fault: status.is_server_error(),
        }),
        Err(message) => {
            // the API server reports why the forward failed on the error channel
            let reason = match error {
                Some(e) => tokio::time::timeout(Duration::from_secs(1), e)
                    .await
                    .ok()
                    .flatten(),
                None => None,
            };
            Err(fault(match reason {
                Some(r) => format!("{message} ({})", r.trim()),
                None => message,
            }))
        }
    }
}
