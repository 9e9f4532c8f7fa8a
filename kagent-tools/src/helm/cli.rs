//! Running the helm CLI for writes: arguments as a vector (never a shell), kubeconfig and
//! namespace passed explicitly, output captured and bounded, a time limit, the process killed
//! when the call is cancelled.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};

use super::error::{HelmError, Result};

/// Environment variables that would make helm act on something other than what the tool
/// passes explicitly; they are removed from helm's environment.
const SCRUBBED_ENV: &[&str] = &[
    "KUBECONFIG",
    "HELM_KUBECONTEXT",
    "HELM_NAMESPACE",
    "HELM_KUBETOKEN",
    "HELM_KUBEAPISERVER",
    "HELM_KUBEASUSER",
    "HELM_KUBEASGROUPS",
    "HELM_KUBECAFILE",
    "HELM_KUBEINSECURE_SKIP_TLS_VERIFY",
    "HELM_KUBETLS_SERVER_NAME",
    "HELM_DRIVER",
    "HELM_DEBUG",
];

/// How the helm binary is run (configured on [`super::HelmToolsBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct HelmCli {
    pub(crate) binary: PathBuf,
    pub(crate) kubeconfig: PathBuf,
    pub(crate) kube_context: Option<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    /// Bytes kept of each of stdout and stderr.
    pub(crate) max_capture: usize,
}

/// What helm printed.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Bytes of stdout beyond the capture limit (dropped).
    pub(crate) stdout_dropped: usize,
}

/// One helm invocation: `helm <subcommand...> <flags...> [cluster flags] -- <positionals...>`.
#[derive(Debug, Default)]
pub(crate) struct Invocation {
    pub(crate) subcommand: Vec<&'static str>,
    pub(crate) flags: Vec<OsString>,
    pub(crate) positionals: Vec<String>,
    /// Namespace for `--namespace`; `None` for commands that do not talk to the cluster.
    pub(crate) namespace: Option<String>,
    /// Whether the command talks to the cluster (adds `--kubeconfig`, `--kube-context`).
    pub(crate) cluster: bool,
    /// Bytes written to helm's standard input (values passed as `--values=-`).
    pub(crate) stdin: Option<Vec<u8>>,
}

impl Invocation {
    pub(crate) fn new(subcommand: &[&'static str]) -> Self {
        Invocation {
            subcommand: subcommand.to_vec(),
            ..Invocation::default()
        }
    }

    pub(crate) fn flag(mut self, f: impl Into<OsString>) -> Self {
        self.flags.push(f.into());
        self
    }

    pub(crate) fn flag_if(self, on: bool, f: &'static str) -> Self {
        if on { self.flag(f) } else { self }
    }

    pub(crate) fn arg(mut self, p: impl Into<String>) -> Self {
        self.positionals.push(p.into());
        self
    }

    pub(crate) fn in_cluster(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self.cluster = true;
        self
    }

    /// The command line as shown to the model (file paths of temporary values files are not
    /// secret; nothing secret is ever on the command line).
    pub(crate) fn display(&self) -> String {
        let mut parts: Vec<String> = vec!["helm".to_owned()];
        parts.extend(self.subcommand.iter().map(|s| (*s).to_owned()));
        parts.extend(self.flags.iter().map(|f| f.to_string_lossy().into_owned()));
        if let Some(ns) = &self.namespace {
            parts.push(format!("--namespace={ns}"));
        }
        parts.extend(self.positionals.iter().cloned());
        parts.join(" ")
    }
}

impl HelmCli {
    fn argv(&self, inv: &Invocation) -> Vec<OsString> {
        let mut argv: Vec<OsString> = inv.subcommand.iter().map(OsString::from).collect();
        argv.extend(inv.flags.iter().cloned());
        if inv.cluster {
            let mut kc = OsString::from("--kubeconfig=");
            kc.push(self.kubeconfig.as_os_str());
            argv.push(kc);
            if let Some(ctx) = &self.kube_context {
                argv.push(format!("--kube-context={ctx}").into());
            }
        }
        if let Some(ns) = &inv.namespace {
            argv.push(format!("--namespace={ns}").into());
        }
        // Everything after `--` is positional: a name or chart starting with `-` cannot turn
        // into a flag.
        argv.push("--".into());
        argv.extend(inv.positionals.iter().map(OsString::from));
        argv
    }

    /// Runs helm; `Ok` only when it exits 0.
    pub(crate) async fn run(&self, inv: &Invocation) -> Result<Captured> {
        let command = inv.display();
        let mut cmd = tokio::process::Command::new(&self.binary);
        cmd.args(self.argv(inv))
            .stdin(if inv.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for k in SCRUBBED_ENV {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        tracing::debug!(%command, "running helm");
        let mut child = cmd.spawn().map_err(|source| HelmError::BinaryUnavailable {
            path: self.binary.display().to_string(),
            source,
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let stdin = child.stdin.take();
        let input = inv.stdin.clone();
        let cap = self.max_capture;
        let work = async {
            let feed = async move {
                if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                    // helm may exit before reading everything; its exit status tells.
                    let _ = pipe.write_all(&bytes).await;
                    drop(pipe);
                }
            };
            let ((), out, err, status) = tokio::join!(
                feed,
                read_capped(stdout, cap),
                read_capped(stderr, cap),
                child.wait()
            );
            (out, err, status)
        };
        let ((stdout, stdout_dropped), (stderr, _), status) =
            match tokio::time::timeout(self.timeout, work).await {
                Ok(r) => r,
                Err(_) => {
                    // `child` is dropped with kill_on_drop: helm is killed.
                    return Err(HelmError::Timeout {
                        command,
                        after: self.timeout,
                    });
                }
            };
        let status = status.map_err(|source| HelmError::BinaryUnavailable {
            path: self.binary.display().to_string(),
            source,
        })?;
        let captured = Captured {
            stdout,
            stderr,
            stdout_dropped,
        };
        if status.success() {
            Ok(captured)
        } else {
            Err(failure(command, status.code().unwrap_or(-1), &captured))
        }
    }
}

/// Reads a pipe to its end, keeping the first `cap` bytes; returns the text and how many bytes
/// were dropped.
async fn read_capped<R: AsyncRead + Unpin>(pipe: Option<R>, cap: usize) -> (String, usize) {
    let Some(mut pipe) = pipe else {
        return (String::new(), 0);
    };
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let chunk = buf.get(..n).unwrap_or_default();
                let room = cap.saturating_sub(kept.len());
                let take = room.min(n);
                kept.extend_from_slice(chunk.get(..take).unwrap_or_default());
                dropped += n - take;
            }
        }
    }
    (String::from_utf8_lossy(&kept).into_owned(), dropped)
}

/// Turns a failed run into a [`HelmError::CommandFailed`] with advice for the common causes.
fn failure(command: String, exit: i32, out: &Captured) -> HelmError {
    let raw = if out.stderr.trim().is_empty() {
        out.stdout.trim()
    } else {
        out.stderr.trim()
    };
    // helm prefixes its errors with "Error: "; warnings about kubeconfig permissions are noise.
    let message: String = raw
        .lines()
        .filter(|l| !l.starts_with("WARNING: Kubernetes configuration file is"))
        .map(|l| l.strip_prefix("Error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let message = kagent_k8s::render::bound_text(message, 4_000, "");
    let lower = message.to_ascii_lowercase();
    let unreachable = lower.contains("kubernetes cluster unreachable")
        || lower.contains("connection refused")
        || lower.contains("no such host")
        || lower.contains("i/o timeout");
    let hint = if unreachable {
        " (the Kubernetes API server could not be reached: check the kubeconfig the tools were \
         configured with)"
    } else if lower.contains("unsupported media type")
        || lower.contains("unsupportedmediatype")
        || lower.contains("vnd.kubernetes.protobuf")
        || lower.contains("invalid deleteoptions")
    {
        " (the API server refused a protobuf request body: helm writes its release Secrets as \
         protobuf, which this API server does not accept; a real API server does. Only \
         dry_run=true works against it)"
    } else if lower.contains("has no deployed releases") {
        " (the release has no deployed revision: pass install=true to install it, or roll back \
         with helm_rollback)"
    } else if lower.contains("another operation (install/upgrade/rollback) is in progress") {
        " (a previous operation left the release pending: check helm_history, then helm_rollback \
         to the last deployed revision)"
    } else if lower.contains("repo") && lower.contains("not found") {
        " (add the chart repository first with helm_repo_add, or use an oci:// chart reference)"
    } else if lower.contains("failed to download") || lower.contains("could not find") {
        " (check the chart reference and version; run helm_repo_update to refresh the repository \
         index)"
    } else if lower.contains("release: not found") {
        " (no such release: list releases with helm_list_releases)"
    } else {
        ""
    };
    HelmError::CommandFailed {
        command,
        exit,
        message,
        hint: hint.to_owned(),
        unreachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> HelmCli {
        HelmCli {
            binary: "helm".into(),
            kubeconfig: "/tmp/kc".into(),
            kube_context: Some("prod".into()),
            env: Vec::new(),
            timeout: Duration::from_secs(5),
            max_capture: 1024,
        }
    }

    #[test]
    fn positionals_follow_a_double_dash() {
        let inv = Invocation::new(&["upgrade"])
            .flag("--install")
            .arg("-rf")
            .arg("./chart")
            .in_cluster("shop");
        let argv: Vec<String> = cli()
            .argv(&inv)
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        assert_eq!(
            argv,
            [
                "upgrade",
                "--install",
                "--kubeconfig=/tmp/kc",
                "--kube-context=prod",
                "--namespace=shop",
                "--",
                "-rf",
                "./chart"
            ]
        );
        let repo = Invocation::new(&["repo", "update"]);
        assert_eq!(cli().argv(&repo), ["repo", "update", "--"]);
    }

    #[test]
    fn failures_carry_advice() {
        let out = Captured {
            stderr: "Error: UPGRADE FAILED: \"web\" has no deployed releases\n".into(),
            ..Captured::default()
        };
        let e = failure("helm upgrade".into(), 1, &out);
        let text = e.to_string();
        assert!(text.contains("install=true"), "{text}");
        assert!(!text.contains("Error: "), "{text}");
        let out = Captured {
            stderr: "Error: Kubernetes cluster unreachable: Get \"https://x/version\": dial tcp: connection refused".into(),
            ..Captured::default()
        };
        assert!(matches!(
            failure("helm x".into(), 1, &out),
            HelmError::CommandFailed {
                unreachable: true,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn missing_binary_is_a_typed_error() {
        let mut c = cli();
        c.binary = "/nonexistent/helm".into();
        let e = c.run(&Invocation::new(&["version"])).await.unwrap_err();
        assert!(matches!(e, HelmError::BinaryUnavailable { .. }), "{e}");
    }

    #[tokio::test]
    async fn output_is_capped_and_slow_commands_time_out() {
        // `sh` stands in for helm: the runner does not care what the binary is.
        let mut c = cli();
        c.binary = "sh".into();
        c.max_capture = 100;
        // `sh -c SCRIPT --`: the trailing `--` becomes $0.
        let inv = Invocation::new(&["-c"]).flag("yes x | head -c 5000");
        let out = c.run(&inv).await.unwrap();
        assert_eq!(out.stdout.len(), 100);
        assert_eq!(out.stdout_dropped, 4900);

        c.timeout = Duration::from_millis(200);
        let inv = Invocation::new(&["-c"]).flag("sleep 5");
        let e = c.run(&inv).await.unwrap_err();
        assert!(matches!(e, HelmError::Timeout { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_cancelled_call_kills_helm() {
        let dir = std::env::temp_dir().join(format!("kagent-helm-cancel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("pid");
        let mut c = cli();
        c.binary = "sh".into();
        let inv = Invocation::new(&["-c"])
            .flag(format!("echo $$ > {}; exec sleep 30", pid_file.display()));
        // The tool's future is dropped when the call is cancelled: drop it once helm runs.
        {
            let run = c.run(&inv);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    r = &mut run => panic!("sleep 30 finished first: {r:?}"),
                    () = tokio::time::sleep(Duration::from_millis(20)) => {
                        if std::fs::read_to_string(&pid_file).is_ok_and(|p| p.ends_with('\n')) {
                            break;
                        }
                    }
                }
            }
        }
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
        let mut gone = false;
        for _ in 0..100 {
            // A killed child that was reaped, or a zombie about to be.
            let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
            if state.is_empty() || state.contains(") Z") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::fs::remove_dir_all(&dir).ok();
        assert!(
            gone,
            "helm (pid {pid}) still runs after its call was dropped"
        );
    }
}
