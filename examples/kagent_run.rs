//! `kagent-run`: runs a declared agent (kagent's `kagent.dev/v1alpha2` Agent, its ModelConfig
//! and RemoteMCPServers) from YAML files.
//!
//! ```text
//! cargo run -p kagent-examples --example kagent_run -- \
//!     -f agent.yaml -f model.yaml [-f more.yaml|folder ...] [--namespace ns] "task"
//! ```
//!
//! With no arguments it runs offline: kagent's pre-built `k8s-agent` (`agents/kagent/`, built
//! into the binary) against the in-process fake API server with its broken-workloads scenario,
//! the Kubernetes tools served in-process, and the model of its ModelConfig when
//! `OPENAI_API_KEY` is set, otherwise a scripted demo model that calls two tools and says so.
//!
//! Options:
//!
//! - `-f PATH` (repeatable): files or folders of YAML; Secrets and ConfigMaps in them are used.
//! - `--from-cluster`: read the Agent and everything it references from the cluster of
//!   `KUBECONFIG` (needs `--agent`); Secrets come from the cluster, too.
//! - `--namespace NS`: the namespace of objects that name none (default `default`).
//! - `--agent NAME`: which Agent to run when the files declare several.
//! - `--secret NAME/KEY=env:VAR`, `--secret NS/NAME/KEY=file:PATH` (repeatable): Secret keys for
//!   a local run.
//! - `--api-key-env VAR`, `--api-key-file PATH`: the key of the agent's ModelConfig. Without
//!   them, a Secret the files do not declare is taken from the provider's usual variable
//!   (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `GEMINI_API_KEY`, `AZURE_OPENAI_API_KEY`).
//! - `--builtin-tools`: serve `kagent-tool-server` and undeclared RemoteMCPServers in-process
//!   with this workspace's tools of the same names (Kubernetes tools on `KUBECONFIG`'s cluster).
//! - `--prometheus-url URL` (or `PROMETHEUS_URL`): the Prometheus the in-process Prometheus tools
//!   query (`prometheus_query` and kagent's `prometheus_*_tool` names); `PROMETHEUS_BEARER_TOKEN`
//!   is sent as its bearer token. Without a URL those tools are not served in-process.
//! - `--alertmanager-url URL` (or `ALERTMANAGER_URL`, with `ALERTMANAGER_BEARER_TOKEN`) and
//!   `--grafana-url URL` (or `GRAFANA_URL`, with `GRAFANA_SERVICE_ACCOUNT_TOKEN`): the same for
//!   the in-process Alertmanager and Grafana tools.
//! - `--fake-cluster`: aim the in-process Kubernetes tools at the in-process fake API server
//!   loaded with its broken-workloads scenario (namespace `shop`), the Istio, Argo Rollouts and
//!   Cilium CRDs and kagent-tools' test meshes, rollouts and policies; implies `--builtin-tools`.
//! - `--kagent-approvals`: kagent's approval semantics (only `requireApproval` tools ask);
//!   default: every mutating tool asks, too.
//! - `--approve` / `--reject`: answer every approval without asking (non-interactive use).
//! - `--json`: print the event stream as JSON lines on stdout instead of the human view.
//! - `--scripted FILE` (test hook): replay the model's turns from FILE (a YAML list of
//!   `text: ...`, `tool_call: {name, arguments}` and `tool_calls: [...]`) instead of calling the
//!   ModelConfig's provider. No model is contacted.
//!
//! Exit codes: 0 answered, 1 the run failed, 2 the declarations could not be loaded, 64 usage.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kagent_api::model_config::{ModelConfig, ModelProvider as ApiProvider};
use kagent_core::testing::ScriptedProvider;
use kagent_core::{
    AgentEvent, ApprovalDecision, ApprovalRequest, Approver, RunRequest, ToolContext, Toolset,
    spawn_run,
};
use kagent_runtime::{
    AgentLoader, ApprovalMode, BuiltinTools, InProcess, KubeSource, LocalSecrets, ManifestSource,
    ResourceKind, ResourceSource,
};
use serde_json::Value;

#[path = "support/fake_cluster.rs"]
mod fake_cluster;

#[derive(Default)]
struct Args {
    files: Vec<PathBuf>,
    namespace: Option<String>,
    agent: Option<String>,
    secrets: Vec<String>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    builtin_tools: bool,
    prometheus_url: Option<String>,
    alertmanager_url: Option<String>,
    grafana_url: Option<String>,
    fake_cluster: bool,
    kagent_approvals: bool,
    auto_answer: Option<bool>,
    json: bool,
    scripted: Option<PathBuf>,
    from_cluster: bool,
    demo: bool,
    task: Vec<String>,
}

/// kagent's chart output for the offline demo (kagent's own objects and its `k8s-agent`).
const DEMO_FILES: [(&str, &str); 2] = [
    (
        "agents/kagent/kagent.yaml",
        include_str!("../agents/kagent/kagent.yaml"),
    ),
    (
        "agents/kagent/k8s-agent.yaml",
        include_str!("../agents/kagent/k8s-agent.yaml"),
    ),
];
const DEMO_TASK: &str = "Which pods in namespace shop are failing, and why?";

const USAGE: &str = "usage: kagent-run (no arguments: offline demo) | kagent-run [--from-cluster] -f agent.yaml -f model.yaml [-f ...] [--namespace NS] [--agent NAME] [--secret NAME/KEY=env:VAR|file:PATH] [--api-key-env VAR | --api-key-file PATH] [--builtin-tools] [--prometheus-url URL] [--alertmanager-url URL] [--grafana-url URL] [--fake-cluster] [--kagent-approvals] [--approve | --reject] [--json] [--scripted FILE] \"task\"";

fn parse_args() -> Result<Args, String> {
    let mut a = Args::default();
    if std::env::args().len() == 1 {
        a.demo = true;
        a.fake_cluster = true;
        a.builtin_tools = true;
        a.agent = Some("k8s-agent".into());
        a.namespace = Some("kagent".into());
        a.task.push(DEMO_TASK.into());
        return Ok(a);
    }
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-f" | "--filename" => a.files.push(value(&arg)?.into()),
            "-n" | "--namespace" => a.namespace = Some(value(&arg)?),
            "--agent" => a.agent = Some(value(&arg)?),
            "--secret" => a.secrets.push(value(&arg)?),
            "--api-key-env" => a.api_key_env = Some(value(&arg)?),
            "--api-key-file" => a.api_key_file = Some(value(&arg)?.into()),
            "--builtin-tools" => a.builtin_tools = true,
            "--prometheus-url" => a.prometheus_url = Some(value(&arg)?),
            "--alertmanager-url" => a.alertmanager_url = Some(value(&arg)?),
            "--grafana-url" => a.grafana_url = Some(value(&arg)?),
            "--fake-cluster" => {
                a.fake_cluster = true;
                a.builtin_tools = true;
            }
            "--kagent-approvals" => a.kagent_approvals = true,
            "--approve" => a.auto_answer = Some(true),
            "--reject" => a.auto_answer = Some(false),
            "--json" => a.json = true,
            "--scripted" => a.scripted = Some(value(&arg)?.into()),
            "--from-cluster" => a.from_cluster = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            _ => a.task.push(arg),
        }
    }
    if a.from_cluster {
        if !a.files.is_empty() {
            return Err("--from-cluster reads everything from the cluster: drop -f".into());
        }
        if a.agent.is_none() {
            return Err("--from-cluster needs --agent NAME (and --namespace NS)".into());
        }
    } else if a.files.is_empty() {
        return Err("no files: pass the Agent and its ModelConfig with -f".into());
    }
    if a.task.is_empty() {
        return Err("no task: give the task as the last argument".into());
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("kagent-run: {problem}");
            }
            eprintln!("{USAGE}");
            std::process::exit(64);
        }
    };
    match run(args).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("kagent-run: {e:#}");
            std::process::exit(2);
        }
    }
}

/// The environment variable a provider's key is usually in.
fn conventional_key_var(provider: ApiProvider) -> Option<&'static str> {
    match provider {
        ApiProvider::Anthropic => Some("ANTHROPIC_API_KEY"),
        ApiProvider::OpenAI => Some("OPENAI_API_KEY"),
        ApiProvider::Gemini => Some("GEMINI_API_KEY"),
        ApiProvider::AzureOpenAI => Some("AZURE_OPENAI_API_KEY"),
        _ => None,
    }
}

async fn run(args: Args) -> Result<i32> {
    let started = Instant::now();
    let default_ns = args.namespace.clone().unwrap_or_else(|| "default".into());
    if args.from_cluster {
        return run_from_cluster(args, default_ns, started).await;
    }
    let source = if args.demo {
        let mut source = ManifestSource::new(&default_ns);
        for (origin, text) in DEMO_FILES {
            source.add_yaml(text, origin)?;
        }
        source
    } else {
        ManifestSource::from_paths(&args.files, &default_ns)?
    };
    for w in source.warnings() {
        eprintln!("warning: {w}");
    }
    for s in source.skipped() {
        eprintln!("note: {s}");
    }
    // Which Agent.
    let agents = source.agents();
    let (namespace, name) = match (&args.agent, agents.as_slice()) {
        (Some(name), _) => {
            let ns = agents
                .iter()
                .find(|(_, n)| n == name)
                .map(|(ns, _)| ns.clone())
                .unwrap_or(default_ns.clone());
            (ns, name.clone())
        }
        (None, [one]) => one.clone(),
        (None, []) => bail!("the files declare no Agent ({})", source.describe()),
        (None, many) => bail!(
            "the files declare {} Agents ({}); pick one with --agent",
            many.len(),
            many.iter()
                .map(|(ns, n)| format!("{ns}/{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };

    // Secrets for a local run.
    let mut secrets = LocalSecrets::new();
    for s in &args.secrets {
        secrets = secrets.parse_arg(s)?;
    }
    let mut demo_model = None;
    if args.scripted.is_none() {
        secrets = model_key(&source, &namespace, &name, secrets, &args).await?;
        if args.demo && std::env::var_os("OPENAI_API_KEY").is_none() {
            eprintln!(
                "offline demo: kagent's k8s-agent on the fake cluster (namespace shop) with a scripted demo model;\n  set OPENAI_API_KEY for the agent's real model, or run your own agent: kagent-run -f agent.yaml -f model.yaml \"task\""
            );
            demo_model = Some(demo_scripted());
        }
    }
    let loader = AgentLoader::new(source);
    execute(args, loader, secrets, demo_model, namespace, name, started).await
}

/// Reads the Agent and everything it references from the cluster of `KUBECONFIG`.
async fn run_from_cluster(args: Args, namespace: String, started: Instant) -> Result<i32> {
    let client = kube::Client::try_default()
        .await
        .context("--from-cluster needs a cluster: set KUBECONFIG")?;
    let name = args.agent.clone().unwrap_or_default();
    let mut secrets = LocalSecrets::new();
    for s in &args.secrets {
        secrets = secrets.parse_arg(s)?;
    }
    let loader = AgentLoader::new(KubeSource::new(client).with_label("the cluster of KUBECONFIG"));
    execute(args, loader, secrets, None, namespace, name, started).await
}

/// The offline demo's model: looks at the pods and events of `shop`, then says what it is.
fn demo_scripted() -> ScriptedProvider {
    ScriptedProvider::new()
        .with_model("scripted-demo")
        .tool_call(
            "k8s_get_resources",
            serde_json::json!({"resource_type": "pods", "namespace": "shop"}),
        )
        .tool_call(
            "k8s_get_events",
            serde_json::json!({"namespace": "shop"}),
        )
        .text("This answer is scripted (no model key was set): the two tool calls above ran against the fake cluster through kagent's k8s-agent as its Helm chart renders it (add --json to see their results). Set OPENAI_API_KEY to have the agent's model analyse them.")
}

async fn execute(
    args: Args,
    loader: AgentLoader,
    secrets: LocalSecrets,
    demo_model: Option<ScriptedProvider>,
    namespace: String,
    name: String,
    started: Instant,
) -> Result<i32> {
    // In-process tools, on the fake cluster or KUBECONFIG's.
    let mut _fake = None;
    let mut builtin = None;
    let mut helm_kubeconfig = None;
    if args.builtin_tools {
        let client = if args.fake_cluster {
            let cluster = fake_cluster::start()?;
            let client = cluster.client()?;
            eprintln!(
                "fake cluster at {} with {}",
                cluster.url(),
                fake_cluster::CONTENTS
            );
            // Helm's write tools run the helm binary, which needs a kubeconfig file.
            let path =
                std::env::temp_dir().join(format!("kagent-run-{}.kubeconfig", std::process::id()));
            cluster.write_kubeconfig(&path)?;
            helm_kubeconfig = Some(path);
            _fake = Some(cluster);
            client
        } else {
            kube::Client::try_default()
                .await
                .context("--builtin-tools needs a cluster: set KUBECONFIG, or use --fake-cluster")?
        };
        let mut tools = BuiltinTools::new(client);
        if let Some(path) = &helm_kubeconfig {
            tools = tools.helm_kubeconfig(path);
        } else if let Some(path) = std::env::var_os("KUBECONFIG")
            && !path.to_string_lossy().contains(':')
        {
            tools = tools.helm_kubeconfig(PathBuf::from(path));
        }
        if let Some(url) = setting(&args.prometheus_url, "PROMETHEUS_URL") {
            tools = tools.prometheus_url(url);
            if let Some(token) = setting(&None, "PROMETHEUS_BEARER_TOKEN") {
                tools = tools.prometheus_bearer_token(token);
            }
        }
        if let Some(url) = setting(&args.alertmanager_url, "ALERTMANAGER_URL") {
            tools = tools.alertmanager_url(url);
            if let Some(token) = setting(&None, "ALERTMANAGER_BEARER_TOKEN") {
                tools = tools.alertmanager_bearer_token(token);
            }
        }
        if let Some(url) = setting(&args.grafana_url, "GRAFANA_URL") {
            tools = tools.grafana_url(url);
            if let Some(token) = setting(&None, "GRAFANA_SERVICE_ACCOUNT_TOKEN") {
                tools = tools.grafana_token(token);
            }
        }
        builtin = Some(tools);
    }

    let spinner = if args.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    };

    let previews = Arc::new(std::sync::Mutex::new(Toolset::new()));
    let approver = TerminalApprover {
        previews: previews.clone(),
        spinner: spinner.clone(),
        auto: args.auto_answer,
        json: args.json,
    };
    let mut loader =
        loader
            .secrets(secrets)
            .approver(approver)
            .approval_mode(if args.kagent_approvals {
                ApprovalMode::Kagent
            } else {
                ApprovalMode::Safe
            });
    if let Some(b) = builtin {
        loader = loader.builtin_tools(b).in_process(InProcess::builtin());
    }
    if let Some(path) = &args.scripted {
        loader = loader.model(Arc::new(scripted(path)?));
    } else if let Some(model) = demo_model {
        loader = loader.model(Arc::new(model));
    }
    spinner.set_message(format!("loading agent {namespace}/{name}"));
    let loaded = match loader.load(&namespace, &name).await {
        Ok(l) => l,
        Err(errors) => {
            spinner.finish_and_clear();
            eprintln!(
                "kagent-run: agent {namespace}/{name} cannot be loaded ({}):",
                if errors.errors.len() == 1 {
                    "1 problem".to_owned()
                } else {
                    format!("{} problems", errors.errors.len())
                }
            );
            for e in &errors.errors {
                eprintln!("  - [{}] {e}", e.condition_reason());
            }
            if let Some(path) = &helm_kubeconfig {
                let _ = std::fs::remove_file(path);
            }
            return Ok(2);
        }
    };
    *previews.lock().unwrap_or_else(|e| e.into_inner()) = loaded.previewable.clone();
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    if !args.json {
        spinner.suspend(|| {
            println!(
                "agent {namespace}/{name}: model {}, {} tool(s), loaded in {} ms",
                loaded.model,
                loaded.origins.len(),
                started.elapsed().as_millis()
            );
            for (tool, origin) in &loaded.origins {
                println!("  {tool:<40} {origin}");
            }
        });
    }

    let task = args.task.join(" ");
    let handle = spawn_run(loaded.agent.clone(), RunRequest::new(task));
    let json = args.json;
    let pb = spinner.clone();
    let result = handle
        .for_each_event(move |event| {
            if json {
                match serde_json::to_string(&event) {
                    Ok(line) => println!("{line}"),
                    Err(e) => eprintln!("kagent-run: an event could not be encoded: {e}"),
                }
                return;
            }
            human_event(&pb, &event);
        })
        .await;
    spinner.finish_and_clear();
    loaded.close().await;
    if let Some(path) = &helm_kubeconfig {
        let _ = std::fs::remove_file(path);
    }
    match result {
        Ok(output) => {
            if !json {
                println!("\n{}", output.answer.trim_end());
                println!(
                    "\n({} steps, {} tool calls, {} tokens, {:.1} s)",
                    output.steps,
                    output.tool_calls,
                    output.usage.total(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("kagent-run: the run failed: {e}");
            Ok(1)
        }
    }
}

/// A flag's value, else the environment variable's; empty counts as unset.
fn setting(flag: &Option<String>, var: &str) -> Option<String> {
    flag.clone()
        .or_else(|| std::env::var(var).ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn human_event(pb: &ProgressBar, event: &AgentEvent) {
    match event {
        AgentEvent::ModelRequest { step, .. } => {
            pb.set_message(format!("thinking (step {step})"));
        }
        AgentEvent::ToolStarted { tool, .. } => {
            pb.set_message(format!("running {tool}"));
        }
        AgentEvent::ToolCallProposed { call } => {
            let args = call.arguments.to_json_string();
            let shown: String = args.chars().take(160).collect();
            let more = if args.chars().count() > 160 {
                "…"
            } else {
                ""
            };
            pb.suspend(|| println!("→ {}({shown}{more})", call.name));
        }
        AgentEvent::ToolFinished {
            tool,
            duration,
            is_error,
            truncated,
            ..
        } => {
            let mark = if *is_error { "✗" } else { "✓" };
            let cut = if *truncated {
                ", output cut for the model"
            } else {
                ""
            };
            pb.suspend(|| println!("{mark} {tool} ({} ms{cut})", duration.as_millis()));
        }
        AgentEvent::ToolCallDenied { tool, reason, .. } => {
            pb.suspend(|| println!("✗ {tool} denied: {reason}"));
        }
        AgentEvent::ApprovalDecided { decision, .. } => {
            let text = match decision {
                ApprovalDecision::Approved { .. } => "approved".to_owned(),
                ApprovalDecision::Rejected { reason } => format!("rejected: {reason}"),
                _ => "decided".to_owned(),
            };
            pb.suspend(|| println!("  {text}"));
        }
        AgentEvent::Retrying { attempt, error, .. } => {
            pb.suspend(|| println!("… retrying the model call (attempt {attempt}): {error}"));
        }
        _ => {}
    }
}

/// Maps the agent's ModelConfig key to `--api-key-env`/`--api-key-file`, or to the provider's
/// usual variable when the files do not declare its Secret.
async fn model_key(
    source: &ManifestSource,
    namespace: &str,
    name: &str,
    mut secrets: LocalSecrets,
    args: &Args,
) -> Result<LocalSecrets> {
    let Some(agent) = source
        .resource(ResourceKind::Agent, namespace, name)
        .await?
    else {
        return Ok(secrets);
    };
    let Ok(agent) = kagent_api::decode_as::<kagent_api::Agent>(agent.value) else {
        return Ok(secrets); // the loader reports it
    };
    let Some(mref) = agent
        .object
        .spec
        .declarative
        .as_ref()
        .and_then(|d| d.model_config_ref(namespace).ok())
    else {
        return Ok(secrets);
    };
    let Some(mc) = source
        .resource(ResourceKind::ModelConfig, &mref.namespace, &mref.name)
        .await?
    else {
        return Ok(secrets);
    };
    let Ok(mc) = kagent_api::decode_as::<ModelConfig>(mc.value) else {
        return Ok(secrets);
    };
    let spec = &mc.object.spec;
    let (Some(secret), Some(key)) = (&spec.api_key_secret, &spec.api_key_secret_key) else {
        return Ok(secrets);
    };
    let ns = mref.namespace.as_str();
    if let Some(var) = &args.api_key_env {
        return Ok(secrets.env(Some(ns), secret, key, var));
    }
    if let Some(path) = &args.api_key_file {
        return Ok(secrets.file(Some(ns), secret, key, path));
    }
    let declared = source.secret(ns, secret).await?.is_some();
    if !declared
        && !secrets.contains(ns, secret, key)
        && let Some(var) = conventional_key_var(spec.provider)
        && std::env::var_os(var).is_some()
    {
        eprintln!(
            "note: Secret {ns}/{secret} is not in the files; using ${var} for its key `{key}`"
        );
        secrets = secrets.env(Some(ns), secret, key, var);
    }
    Ok(secrets)
}

/// The test hook: a scripted model read from a YAML list.
fn scripted(path: &PathBuf) -> Result<ScriptedProvider> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let steps: Vec<Value> = serde_yaml::from_str(&text)
        .with_context(|| format!("{} is not a YAML list of steps", path.display()))?;
    let mut p = ScriptedProvider::new().with_model("scripted");
    for (i, step) in steps.into_iter().enumerate() {
        let call = |v: &Value| -> Result<(String, Value)> {
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .with_context(|| format!("step {}: a tool call needs a name", i + 1))?;
            Ok((
                name.to_owned(),
                v.get("arguments")
                    .cloned()
                    .unwrap_or(Value::Object(Default::default())),
            ))
        };
        p = if let Some(t) = step.get("text").and_then(Value::as_str) {
            p.text(t)
        } else if let Some(c) = step.get("tool_call") {
            let (name, arguments) = call(c)?;
            p.tool_call(name, arguments)
        } else if let Some(Value::Array(cs)) = step.get("tool_calls") {
            p.tool_calls(cs.iter().map(call).collect::<Result<_>>()?)
        } else {
            bail!(
                "{}: step {} is not text, tool_call or tool_calls",
                path.display(),
                i + 1
            );
        };
    }
    Ok(p)
}

/// Asks on the terminal, after showing what the call would change (a server-side dry run of
/// the in-process tools).
struct TerminalApprover {
    previews: Arc<std::sync::Mutex<Toolset>>,
    spinner: ProgressBar,
    auto: Option<bool>,
    json: bool,
}

#[kagent_core::async_trait]
impl Approver for TerminalApprover {
    async fn decide(&self, request: ApprovalRequest) -> ApprovalDecision {
        let tool = self
            .previews
            .lock()
            .ok()
            .and_then(|p| p.get(&request.call.name).cloned());
        let preview = match (tool, request.call.arguments.as_json().cloned()) {
            (Some(tool), Some(arguments)) => {
                let ctx = ToolContext::detached(format!("{}-preview", request.call.id))
                    .with_dry_run(true);
                Some(match tool.call(arguments, ctx).await {
                    Ok(out) => kagent_core::message::render_tool_content(&out.content),
                    Err(e) => format!("(the dry run failed: {e})"),
                })
            }
            _ => None,
        };
        let mut text = format!(
            "approval needed: {} ({:?}): {}\n  arguments: {}\n",
            request.call.name,
            request.effect,
            request.reason,
            request.call.arguments.to_json_string()
        );
        match preview {
            Some(p) => text.push_str(&format!("  dry run:\n{}\n", indent(&p))),
            None => text.push_str("  (no dry run: the tool is not served in-process)\n"),
        }
        let auto = self.auto;
        let json = self.json;
        let pb = self.spinner.clone();
        let answer = tokio::task::spawn_blocking(move || {
            pb.suspend(|| {
                let mut err = std::io::stderr();
                let _ = write!(err, "{text}");
                if let Some(a) = auto {
                    let _ = writeln!(err, "  answered {} by flag", if a { "yes" } else { "no" });
                    return a;
                }
                let _ = write!(err, "  run it? [y/N] ");
                let _ = err.flush();
                let mut line = String::new();
                let read = std::io::stdin().read_line(&mut line);
                let _ = json;
                matches!(read, Ok(n) if n > 0) && matches!(line.trim(), "y" | "Y" | "yes")
            })
        })
        .await
        .unwrap_or(false);
        if answer {
            ApprovalDecision::Approved {
                by: Some(std::env::var("USER").unwrap_or_else(|_| "terminal".into())),
            }
        } else {
            ApprovalDecision::Rejected {
                reason: "the operator said no".into(),
            }
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
