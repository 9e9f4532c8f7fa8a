//! `k8s_execute_command`: runs a command in a container (exec over WebSocket).

use std::fmt::Write as _;

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::k8s_tool;
use crate::args::non_empty;
use crate::error::{K8sError, Result};

/// Arguments of `k8s_execute_command`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ExecArgs {
    /// Name of the pod to execute in.
    pub pod_name: String,
    /// Namespace of the pod (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Container name (for multi-container pods).
    #[serde(default)]
    pub container: Option<String>,
    /// Command to execute, split like a shell would (`ls -la /tmp`, `sh -c 'ps aux | head'`).
    pub command: String,
}

k8s_tool!(
    /// `k8s_execute_command`: runs a command in a container (exec over WebSocket).
    ExecuteCommand,
    "k8s_execute_command",
    ToolEffect::Destructive,
    ExecArgs,
    "Execute a command in a Kubernetes pod and return its exit code, stdout and stderr."
);

async fn read_bounded<R: tokio::io::AsyncRead + Unpin>(r: Option<R>, max: usize) -> (String, bool) {
    let Some(mut r) = r else {
        return (String::new(), false);
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut cut = false;
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if buf.len() < max {
                    buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                } else {
                    cut = true;
                }
            }
        }
    }
    if buf.len() > max {
        buf.truncate(max);
        cut = true;
    }
    (String::from_utf8_lossy(&buf).into_owned(), cut)
}

impl ExecuteCommand {
    async fn exec(&self, args: ExecArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let argv = shlex::split(&args.command)
            .ok_or_else(|| K8sError::invalid("command", "unbalanced quotes"))?;
        if argv.is_empty() {
            return Err(K8sError::invalid("command", "empty command"));
        }
        let ns = s.ns(&args.namespace).to_owned();
        let pod = args.pod_name.trim().trim_start_matches("pod/").to_owned();
        if ctx.dry_run {
            return Ok(ToolOutput::text(format!(
                "DRY RUN: would run {argv:?} in pod/{pod}{} in namespace {ns} (exec has no server-side dry run; nothing was run)",
                non_empty(&args.container)
                    .map(|c| format!(" container {c}"))
                    .unwrap_or_default()
            )));
        }
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(s.client.clone(), &ns);
        let mut ap = kube::api::AttachParams::default()
            .stdout(true)
            .stderr(true)
            .stdin(false);
        if let Some(c) = non_empty(&args.container) {
            ap = ap.container(c);
        }
        let action = format!("exec in pod/{pod} in namespace {ns}");
        let run = async {
            let mut proc = api
                .exec(&pod, argv.clone(), &ap)
                .await
                .map_err(|e| K8sError::api(action.clone(), e))?;
            let half = s.max_output_chars / 2;
            let status = proc.take_status();
            let (out, err) = tokio::join!(
                read_bounded(proc.stdout(), half),
                read_bounded(proc.stderr(), half)
            );
            let status = match status {
                Some(f) => f.await,
                None => None,
            };
            let _ = proc.join().await;
            Ok::<_, K8sError>((out, err, status))
        };
        let (out, err, status) = match tokio::time::timeout(s.exec_timeout, run).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(K8sError::Unsupported {
                    message: format!("command did not finish within {:?}", s.exec_timeout),
                });
            }
        };
        let exit = match &status {
            Some(st) if st.status.as_deref() == Some("Success") => "0".to_owned(),
            Some(st) => st
                .details
                .as_ref()
                .and_then(|d| d.causes.as_ref())
                .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
                .and_then(|c| c.message.clone())
                .unwrap_or_else(|| format!("unknown ({})", st.message.as_deref().unwrap_or(""))),
            None => "unknown".to_owned(),
        };
        let mut text = format!("exit code: {exit}\n");
        let _ = writeln!(
            text,
            "stdout:{}\n{}",
            if out.1 { " (truncated)" } else { "" },
            out.0.trim_end()
        );
        if !err.0.trim().is_empty() {
            let _ = writeln!(
                text,
                "stderr:{}\n{}",
                if err.1 { " (truncated)" } else { "" },
                err.0.trim_end()
            );
        }
        Ok(ToolOutput::text(text))
    }
}
