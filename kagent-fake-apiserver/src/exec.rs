//! `pods/exec` over WebSocket (`v5.channel.k8s.io` / `v4.channel.k8s.io`), answered by a
//! programmable handler instead of a container runtime.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use futures::SinkExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use super::server::Shared;
use super::store::ApiError;

/// A command run through `pods/exec`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecRequest {
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container the command runs in.
    pub container: String,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Whether the client attached stdin.
    pub stdin: bool,
    /// Whether the client asked for a TTY.
    pub tty: bool,
}

/// What an exec answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecResult {
    /// Written to the stdout channel.
    pub stdout: String,
    /// Written to the stderr channel.
    pub stderr: String,
    /// Exit code; non-zero becomes a `NonZeroExitCode` status, as from a real kubelet.
    pub exit_code: i32,
}

impl ExecResult {
    /// A successful run printing `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Self {
            stdout: stdout.into(),
            ..Self::default()
        }
    }

    /// A failed run with `stderr` and an exit code.
    pub fn failed(stderr: impl Into<String>, exit_code: i32) -> Self {
        Self {
            stderr: stderr.into(),
            exit_code,
            ..Self::default()
        }
    }
}

pub(crate) type ExecHandler = Arc<dyn Fn(&ExecRequest) -> ExecResult + Send + Sync>;

/// The built-in handler: a few harmless commands, everything else "not found".
fn builtin(req: &ExecRequest, env: &[(String, String)]) -> ExecResult {
    let args: Vec<&str> = req.command.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["echo", rest @ ..] => ExecResult::ok(format!("{}\n", rest.join(" "))),
        ["hostname"] | ["cat", "/etc/hostname"] => ExecResult::ok(format!("{}\n", req.pod)),
        ["env"] | ["printenv"] => {
            let mut out = format!("HOSTNAME={}\n", req.pod);
            for (k, v) in env {
                out.push_str(&format!("{k}={v}\n"));
            }
            ExecResult::ok(out)
        }
        ["true"] => ExecResult::ok(""),
        ["false"] => ExecResult::failed("", 1),
        ["sh" | "/bin/sh" | "bash" | "/bin/bash", "-c", script] => {
            match script.trim().strip_prefix("echo ") {
                Some(rest) => ExecResult::ok(format!("{}\n", rest.trim_matches(['"', '\'']))),
                None => ExecResult::failed(
                    format!(
                        "sh: 1: {}: not found\n",
                        script.split_whitespace().next().unwrap_or_default()
                    ),
                    127,
                ),
            }
        }
        [cmd, ..] => ExecResult::failed(
            format!(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown\n"
            ),
            127,
        ),
        [] => ExecResult::failed("", 1),
    }
}

fn status_body(req: &ExecRequest, code: i32) -> Value {
    if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                req.command.join(" ")
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        })
    }
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::binary(v)
}

/// Validates an exec request and upgrades it to a WebSocket that carries the handler's answer.
pub(crate) fn exec(
    sh: &Arc<Shared>,
    ns: &str,
    pod: &str,
    uri: &Uri,
    headers: &HeaderMap,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Result<Response, ApiError> {
    let mut command = Vec::new();
    let mut container = None;
    let (mut stdin, mut tty) = (false, false);
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "command" => command.push(v.into_owned()),
            "container" => container = Some(v.into_owned()),
            "stdin" => stdin = v == "true" || v == "1",
            "tty" => tty = v == "true" || v == "1",
            _ => {}
        }
    }
    if command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    let (container, env) = {
        let st = sh.lock();
        let ri = st
            .find("", "v1", "pods")
            .ok_or_else(ApiError::no_resource)?;
        let obj = st.get(&ri, ns, pod)?;
        let specs: Vec<Value> = obj
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = specs
            .iter()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect();
        let container = match container {
            Some(c) if !c.is_empty() => {
                if !names.contains(&c.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {pod}"
                    )));
                }
                c
            }
            _ => match names.as_slice() {
                [only] => (*only).to_string(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "a container name must be specified for pod {pod}, choose one of: [{}]",
                        names.join(" ")
                    )));
                }
            },
        };
        let running = obj
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()))
            .is_some_and(|s| s.pointer("/state/running").is_some());
        if !running {
            return Err(ApiError::bad_request(format!(
                "unable to upgrade connection: container not found (\"{container}\")"
            )));
        }
        let env: Vec<(String, String)> = specs
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(container.as_str()))
            .and_then(|c| c.get("env"))
            .and_then(Value::as_array)
            .map(|vars| {
                vars.iter()
                    .filter_map(|e| {
                        Some((
                            e.get("name")?.as_str()?.to_string(),
                            e.get("value")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        (container, env)
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
            "Upgrade request required (the fake API server serves exec over WebSocket only)",
        ));
    };
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let protocol = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
        .into_iter()
        .find(|p| offered.split(',').any(|o| o.trim() == *p))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to upgrade connection: none of the offered subprotocols {offered:?} is supported (v5.channel.k8s.io, v4.channel.k8s.io)"
            ))
        })?;
    let req = ExecRequest {
        namespace: ns.to_string(),
        pod: pod.to_string(),
        container,
        command,
        stdin,
        tty,
    };
    let handler = sh
        .exec_handler
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let result = match handler {
        Some(h) => h(&req),
        None => builtin(&req, &env),
    };
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "exec upgrade failed");
                return;
            }
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        let mut frames = Vec::new();
        if !result.stdout.is_empty() {
            frames.push(frame(1, result.stdout.as_bytes()));
        }
        if !result.stderr.is_empty() {
            frames.push(frame(2, result.stderr.as_bytes()));
        }
        frames.push(frame(
            3,
            status_body(&req, result.exit_code).to_string().as_bytes(),
        ));
        for f in frames {
            if ws.send(f).await.is_err() {
                return;
            }
        }
        // Go's websocket client (kubectl) wants a status code in the close frame
        let _ = ws
            .close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await;
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

    fn req(cmd: &[&str]) -> ExecRequest {
        ExecRequest {
            namespace: "ns".into(),
            pod: "p".into(),
            container: "c".into(),
            command: cmd.iter().map(|s| s.to_string()).collect(),
            stdin: false,
            tty: false,
        }
    }

    #[test]
    fn builtin_commands() {
        let env = vec![("A".to_string(), "1".to_string())];
        assert_eq!(
            builtin(&req(&["echo", "hi", "there"]), &env),
            ExecResult::ok("hi there\n")
        );
        assert_eq!(builtin(&req(&["env"]), &env).stdout, "HOSTNAME=p\nA=1\n");
        assert_eq!(
            builtin(&req(&["sh", "-c", "echo 'x y'"]), &env).stdout,
            "x y\n"
        );
        assert_eq!(builtin(&req(&["false"]), &env).exit_code, 1);
        let missing = builtin(&req(&["curl", "x"]), &env);
        assert_eq!(missing.exit_code, 127);
        assert!(
            missing
                .stderr
                .contains("\"curl\": executable file not found")
        );
        let s = status_body(&req(&["false"]), 1);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(s["details"]["causes"][0]["message"], "1");
    }
}
