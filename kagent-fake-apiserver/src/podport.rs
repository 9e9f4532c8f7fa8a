//! What listens on a pod's ports: HTTP answered by a handler the test registers, reached through
//! the API server's pod proxy (`pods/{[scheme:]name[:port]}/proxy/{path}`) or a port-forward
//! (`pods/{name}/portforward` over WebSocket, `v4.channel.k8s.io`).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::server::Shared;
use super::store::ApiError;

/// How a request reached the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PodPortVia {
    /// The API server's pod proxy.
    Proxy,
    /// A port-forward.
    PortForward,
}

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
    /// Pod proxy or port-forward.
    pub via: PodPortVia,
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
        via: PodPortVia::Proxy,
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

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Parses one HTTP/1.1 request (head and a `Content-Length` body) from `buf`; `None` while
/// incomplete.
fn parse_http(buf: &[u8]) -> Option<(String, String, String, Vec<u8>)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(buf.get(..end)?).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let len = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let body = buf.get(end + 4..end + 4 + len)?.to_vec();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some((method, path, query, body))
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::binary(v)
}

/// `pods/{name}/portforward?ports=...` over WebSocket: announces each port on its data and
/// error channels, reads one HTTP request per port from the data channel, answers it with the
/// registered handler (or, when nothing listens, writes kubelet's "connection refused" on the
/// error channel) and closes.
pub(crate) fn port_forward(
    sh: &Arc<Shared>,
    ns: &str,
    pod: &str,
    uri: &Uri,
    headers: &HeaderMap,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Result<Response, ApiError> {
    let ports: Vec<u16> = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "ports")
        .flat_map(|(_, v)| {
            v.split(',')
                .filter_map(|p| p.trim().parse::<u16>().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    if ports.is_empty() {
        return Err(ApiError::bad_request("at least one port must be specified"));
    }
    let (pod_ip, uid) = {
        let st = sh.lock();
        let ri = st
            .find("", "v1", "pods")
            .ok_or_else(ApiError::no_resource)?;
        let obj = st.get(&ri, ns, pod)?;
        if obj.pointer("/status/phase").and_then(Value::as_str) != Some("Running") {
            return Err(ApiError::bad_request(format!(
                "unable to upgrade connection: pod {pod} is not running"
            )));
        }
        let s = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (s("/status/podIP"), s("/metadata/uid"))
    };
    let is_ws = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (Some(upgrade), true, Some(key)) = (upgrade, is_ws, key) else {
        return Err(ApiError::bad_request(
            "Upgrade request required (the fake API server serves port-forward over WebSocket only)",
        ));
    };
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let protocol = ["v4.channel.k8s.io", "v5.channel.k8s.io"]
        .into_iter()
        .find(|p| offered.split(',').any(|o| o.trim() == *p))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to upgrade connection: none of the offered subprotocols {offered:?} is supported (v4.channel.k8s.io, v5.channel.k8s.io)"
            ))
        })?;
    let handler = sh
        .pod_port_handler
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let (ns, pod) = (ns.to_string(), pod.to_string());
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "port-forward upgrade failed");
                return;
            }
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        for (i, port) in ports.iter().enumerate() {
            let Ok(data) = u8::try_from(2 * i) else {
                return;
            };
            let le = port.to_le_bytes();
            if ws.send(frame(data, &le)).await.is_err()
                || ws.send(frame(data + 1, &le)).await.is_err()
            {
                return;
            }
        }
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); ports.len()];
        let mut done = vec![false; ports.len()];
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Binary(bytes) = msg else {
                if msg.is_close() {
                    break;
                }
                continue;
            };
            let Some((&ch, data)) = bytes.split_first() else {
                continue;
            };
            let idx = usize::from(ch / 2);
            let (Some(buf), Some(port)) = (bufs.get_mut(idx), ports.get(idx)) else {
                continue;
            };
            if ch % 2 == 1 || done.get(idx) == Some(&true) {
                continue;
            }
            buf.extend_from_slice(data);
            let Some((method, path, query, body)) = parse_http(buf) else {
                continue;
            };
            if let Some(d) = done.get_mut(idx) {
                *d = true;
            }
            let req = PodPortRequest {
                namespace: ns.clone(),
                pod: pod.clone(),
                pod_ip: pod_ip.clone(),
                port: *port,
                method,
                path,
                query,
                body,
                via: PodPortVia::PortForward,
            };
            match handler.as_ref().and_then(|h| h(&req)) {
                Some(answer) => {
                    let mut out = format!(
                        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        answer.status,
                        reason(answer.status),
                        answer.content_type,
                        answer.body.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(&answer.body);
                    for chunk in out.chunks(32 * 1024) {
                        if ws.send(frame(ch, chunk)).await.is_err() {
                            return;
                        }
                    }
                }
                None => {
                    let msg = format!(
                        "error forwarding port {port} to pod {pod}, uid {uid}: failed to connect to localhost:{port} inside namespace of pod {pod}: dial tcp4 127.0.0.1:{port}: connect: connection refused"
                    );
                    if ws.send(frame(ch + 1, msg.as_bytes())).await.is_err() {
                        return;
                    }
                }
            }
            if done.iter().all(|d| *d) {
                break;
            }
        }
        let _ = ws.close(None).await;
    });
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol),
    );
    if let Ok(v) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_requests_parse_when_complete() {
        assert_eq!(
            parse_http(b"GET /config_dump HTTP/1.1\r\nHost: x\r\n"),
            None
        );
        let (m, p, q, b) =
            parse_http(b"GET /config_dump?include_eds HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (m.as_str(), p.as_str(), q.as_str()),
            ("GET", "/config_dump", "include_eds")
        );
        assert!(b.is_empty());
        assert_eq!(
            parse_http(b"POST /x HTTP/1.1\r\ncontent-length: 4\r\n\r\nab"),
            None
        );
        let (_, _, _, b) =
            parse_http(b"POST /x HTTP/1.1\r\ncontent-length: 4\r\n\r\nabcd").unwrap();
        assert_eq!(b, b"abcd");
    }
}
