//! What listens on a pod's ports: HTTP answered by a handler the test registers, reached through
//! the API server's pod proxy (`pods/{[scheme:]name[:port]}/proxy/{path}`).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use super::server::Shared;
use super::store::ApiError;

/// An HTTP request that reached a pod's port through the fake API server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PodPortRequest {
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// The pod's IP address (`status.podIP`).
    pub pod_ip: String,
    /// Port number (named ports are resolved through the pod's container ports).
    pub port: u16,
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Path on the pod, with its leading `/` (`/config_dump`).
    pub path: String,
    /// Query string without the `?` (empty when none).
    pub query: String,
    /// Request body.
    pub body: Vec<u8>,
}

/// What a pod's port answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodPortResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: String,
    /// Response body.
    pub body: Vec<u8>,
}

impl PodPortResponse {
    /// A response with any status, content type and body.
    pub fn new(status: u16, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    /// `200` with a JSON body.
    pub fn json(value: &Value) -> Self {
        Self::new(200, "application/json", value.to_string())
    }

    /// `200` with a plain-text body.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(200, "text/plain; charset=UTF-8", text.into())
    }
}

/// Answers requests to pods' ports; `None` means nothing listens there.
pub(crate) type PodPortHandler =
    Arc<dyn Fn(&PodPortRequest) -> Option<PodPortResponse> + Send + Sync>;

fn unavailable(message: String) -> ApiError {
    ApiError {
        code: 503,
        reason: "ServiceUnavailable",
        message,
        details: None,
    }
}

/// Resolves `[scheme:]name[:port]` against the stored pod: (pod name, pod IP, port number).
fn resolve(sh: &Arc<Shared>, ns: &str, name_port: &str) -> Result<(String, String, u16), ApiError> {
    let parts: Vec<&str> = name_port.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, ""),
        [name, port] if !matches!(*name, "http" | "https") => (*name, *port),
        [_, name] => (*name, ""),
        [_, name, port] => (*name, *port),
        _ => {
            return Err(ApiError::bad_request(format!(
                "invalid pod proxy target {name_port:?}: want [scheme:]name[:port]"
            )));
        }
    };
    let st = sh.lock();
    let ri = st
        .find("", "v1", "pods")
        .ok_or_else(ApiError::no_resource)?;
    let pod = st.get(&ri, ns, name)?;
    let port = if port.is_empty() {
        80
    } else if let Ok(n) = port.parse::<u16>() {
        n
    } else {
        // a named container port
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("ports").and_then(Value::as_array))
            .flatten()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(port))
            .and_then(|p| p.get("containerPort").and_then(Value::as_u64))
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("no container port named {port:?} in pod {name}"))
            })?
    };
    let ip = pod
        .pointer("/status/podIP")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok((name.to_string(), ip, port))
}

/// `pods/{[scheme:]name[:port]}/proxy/{path}`: forwards the request to the registered handler
/// and passes its answer through; 503 when nothing listens, as the real API server answers
/// when its dial fails.
pub(crate) fn pod_proxy(
    sh: &Arc<Shared>,
    ns: &str,
    name_port: &str,
    method: &Method,
    uri: &Uri,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let (pod, pod_ip, port) = resolve(sh, ns, name_port)?;
    if pod_ip.is_empty() {
        return Err(unavailable(format!(
            "error trying to reach service: pod {pod} has no IP address yet"
        )));
    }
    let path = uri
        .path()
        .split_once("/proxy")
        .map(|(_, p)| if p.is_empty() { "/" } else { p })
        .unwrap_or("/")
        .to_string();
    let req = PodPortRequest {
        namespace: ns.to_string(),
        pod,
        pod_ip: pod_ip.clone(),
        port,
        method: method.to_string(),
        path,
        query: uri.query().unwrap_or_default().to_string(),
        body: body.to_vec(),
    };
    let handler = sh
        .pod_port_handler
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(answer) = handler.and_then(|h| h(&req)) else {
        return Err(unavailable(format!(
            "error trying to reach service: dial tcp {pod_ip}:{port}: connect: connection refused"
        )));
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = Response::new(Body::from(answer.body));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}
