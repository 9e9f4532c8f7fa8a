//! The loader: an Agent declaration and everything it references, resolved into a running
//! [`LlmAgent`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kagent_api::agent::{AgentType, DeclarativeAgentSpec, McpServerTool, ToolServerKind};
use kagent_api::common::{AllowedNamespaces, FromNamespaces, TypedReference};
use kagent_api::model_config::ModelConfig;
use kagent_api::remote_mcp_server::RemoteMCPServer;
use kagent_api::{Agent, DecodeError, FieldPath, KagentKind, ObjectRef};
use kagent_core::{
    Approver, AuditSink, BuildError, Limits, LlmAgent, ModelProvider, Rule, SecretValues,
    StandardPolicy, Tool, ToolSource, ToolSourceExt, Toolset, agent_as_tool,
};
use kagent_mcp::{McpClient, McpError, McpToolset, TlsOptions};
use tokio::sync::OnceCell;

use crate::builtin::{BuiltinTools, InProcess};
use crate::error::{LoadError, LoadErrors, LoadReason};
use crate::mcp::{DeclaredHeaders, HeaderError, HeaderOwner, server_config};
use crate::model::{self, ResolvedModelSecrets};
use crate::prompt::{self, TemplateContext};
use crate::resolve::Resolver;
use crate::secrets::LocalSecrets;
use crate::source::{ResourceKind, ResourceSource, SourceObject, expose};

/// How kagent's `requireApproval` becomes kagent-core's [`StandardPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ApprovalMode {
    /// kagent-rs's safe default: read-only tools run; mutating and destructive tools (by their
    /// declared effect) and every tool in `requireApproval` wait for an approver, and are
    /// rejected when there is none.
    #[default]
    Safe,
    /// kagent's semantics: only the tools in `requireApproval` wait for approval; every other
    /// tool runs, whatever its effect.
    Kagent,
}

/// Where a tool of a loaded agent comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolOrigin {
    /// An MCP server reached over the network.
    Remote {
        /// The RemoteMCPServer, `namespace/name`.
        server: String,
        /// Its URL.
        url: String,
    },
    /// kagent-rs's own tools, in this process, standing in for the named server.
    InProcess {
        /// The server it stands in for, `namespace/name`.
        server: String,
        /// Whether the server was declared (false: served because it was missing).
        declared: bool,
    },
    /// Another agent used as a tool.
    Agent {
        /// The agent, `namespace/name`.
        agent: String,
    },
}

impl fmt::Display for ToolOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolOrigin::Remote { server, url } => write!(f, "MCP server {server} ({url})"),
            ToolOrigin::InProcess {
                server,
                declared: true,
            } => write!(f, "in-process, for {server}"),
            ToolOrigin::InProcess { server, .. } => {
                write!(f, "in-process, for undeclared {server}")
            }
            ToolOrigin::Agent { agent } => write!(f, "agent {agent}"),
        }
    }
}

/// A loaded agent, ready to run.
#[non_exhaustive]
pub struct LoadedAgent {
    /// The agent (run it with `kagent_core::spawn_run`).
    pub agent: Arc<LlmAgent>,
    /// The Agent object it was built from.
    pub object: ObjectRef,
    /// `provider/model` of the model it calls.
    pub model: String,
    /// Where each tool comes from, by the name the model sees.
    pub origins: BTreeMap<String, ToolOrigin>,
    /// Tools that honour `ToolContext::dry_run` (the in-process ones), by the name the model
    /// sees: an approver can preview a call with them before deciding.
    pub previewable: Toolset,
    /// Warnings: unknown fields, rewritten forms, settings without effect.
    pub warnings: Vec<String>,
    clients: Vec<McpClient>,
}

impl fmt::Debug for LoadedAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedAgent")
            .field("object", &self.object)
            .field("model", &self.model)
            .field("origins", &self.origins)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl LoadedAgent {
    /// Closes the MCP connections (sub-agents' included).
    pub async fn close(&self) {
        for c in &self.clients {
            c.close().await;
        }
    }
}

/// Resolves Agent declarations into running agents: the ModelConfig into a provider, the
/// RemoteMCPServers into live MCP toolsets (or in-process tools), agent tools into
/// agents-as-tools, Secrets and ConfigMaps into keys, headers and the system message.
///
/// The same loader works on files ([`ManifestSource`](crate::ManifestSource)) and on a cluster
/// ([`KubeSource`](crate::KubeSource)); every failure is a [`LoadError`] naming the object, the
/// field and the reason, and loading goes on past failures so one call reports them all.
///
/// ```no_run
/// use kagent_runtime::{AgentLoader, LocalSecrets, ManifestSource};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let source = ManifestSource::from_paths(&["agent.yaml", "model.yaml"], "kagent")?;
/// let loaded = AgentLoader::new(source)
///     .secrets(LocalSecrets::new().env(None, "anthropic-api-key", "api-key", "ANTHROPIC_API_KEY"))
///     .load("kagent", "k8s-troubleshooter")
///     .await?;
/// let run = kagent_core::spawn_run(loaded.agent.clone(), kagent_core::RunRequest::new("Why is checkout failing?"));
/// println!("{}", run.for_each_event(|_| {}).await?.answer);
/// loaded.close().await;
/// # Ok(()) }
/// ```
pub struct AgentLoader {
    resolver: Resolver,
    builtin: Option<BuiltinTools>,
    in_process: InProcess,
    model: Option<Arc<dyn ModelProvider>>,
    approver: Option<Arc<dyn Approver>>,
    audit: Option<Arc<dyn AuditSink>>,
    approval: ApprovalMode,
    limits: Option<Limits>,
    mcp_http: OnceCell<reqwest::Client>,
}

impl fmt::Debug for AgentLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentLoader")
            .field("source", &self.resolver.source.describe())
            .field("secrets", &self.resolver.secrets)
            .field("builtin", &self.builtin)
            .field("in_process", &self.in_process)
            .field("model_override", &self.model.is_some())
            .field("approval", &self.approval)
            .finish_non_exhaustive()
    }
}

type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, ()>> + Send + 'a>>;

/// What one `load` call has found so far.
#[derive(Default)]
struct State {
    errors: Vec<LoadError>,
    warnings: Vec<String>,
    clients: Vec<McpClient>,
    builtin: Option<Toolset>,
}

struct Built {
    agent: Arc<LlmAgent>,
    allowed: Option<AllowedNamespaces>,
    model: String,
    origins: BTreeMap<String, ToolOrigin>,
    previewable: Toolset,
}

fn agent_ref(namespace: &str, name: &str) -> ObjectRef {
    ObjectRef::new(
        kagent_api::API_VERSION,
        "Agent",
        Some(namespace.to_owned()),
        Some(name.to_owned()),
    )
}

fn object_ref(kind: ResourceKind, namespace: &str, name: &str) -> ObjectRef {
    ObjectRef::new(
        kagent_api::API_VERSION,
        kind.as_str(),
        Some(namespace.to_owned()),
        Some(name.to_owned()),
    )
}

/// kagent's name for an agent used as a tool (`ConvertToPythonIdentifier("ns/name")`):
/// `kagent__NS__k8s_agent`.
pub fn agent_tool_name(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
        .replace('-', "_")
        .replace('/', "__NS__")
        .replace('.', "_")
}

fn allows(allowed: Option<&AllowedNamespaces>, own: &str, from: &str) -> Result<(), String> {
    if own == from {
        return Ok(());
    }
    match allowed.map(|a| a.from) {
        Some(FromNamespaces::All) => Ok(()),
        Some(FromNamespaces::Selector) => Err(
            "its allowedNamespaces uses a namespace selector, which kagent-rs's loader does not evaluate; use from: All, or move the objects into one namespace".to_owned(),
        ),
        _ => Err(
            "it only allows its own namespace (allowedNamespaces unset or from: Same); set spec.allowedNamespaces.from: All on it, or move the objects into one namespace".to_owned(),
        ),
    }
}

impl AgentLoader {
    /// A loader reading from `source`.
    pub fn new(source: impl ResourceSource + 'static) -> Self {
        Self::from_arc(Arc::new(source))
    }

    /// A loader reading from a shared source.
    pub fn from_arc(source: Arc<dyn ResourceSource>) -> Self {
        AgentLoader {
            resolver: Resolver {
                source,
                secrets: LocalSecrets::new(),
                seen: SecretValues::new(),
            },
            builtin: None,
            in_process: InProcess::none(),
            model: None,
            approver: None,
            audit: None,
            approval: ApprovalMode::default(),
            limits: None,
            mcp_http: OnceCell::new(),
        }
    }

    /// Secret values for local runs (consulted before the source's Secrets).
    #[must_use]
    pub fn secrets(mut self, secrets: LocalSecrets) -> Self {
        self.resolver.secrets = secrets;
        self
    }

    /// The set every Secret value the loader resolves is registered in (default: a new, empty
    /// one). Every agent it builds redacts these values from its events, audit records, errors,
    /// tool output and answers (see [`LlmAgentBuilder::secret_values`]); pass a set you also use
    /// elsewhere (a log writer, another agent) to share it. Values resolved later (a
    /// `headersFrom` Secret read again at an MCP reconnect) are added to the same set.
    ///
    /// [`LlmAgentBuilder::secret_values`]: kagent_core::LlmAgentBuilder::secret_values
    #[must_use]
    pub fn secret_values(mut self, values: SecretValues) -> Self {
        self.resolver.seen = values;
        self
    }

    /// The in-process tools (needed for [`AgentLoader::in_process`] to serve anything).
    #[must_use]
    pub fn builtin_tools(mut self, tools: BuiltinTools) -> Self {
        self.builtin = Some(tools);
        self
    }

    /// Which servers to serve in-process (default: none).
    #[must_use]
    pub fn in_process(mut self, in_process: InProcess) -> Self {
        self.in_process = in_process;
        self
    }

    /// Uses `provider` for every agent instead of the one its ModelConfig describes (the
    /// ModelConfig is still looked up and validated; its Secrets are not read). For tests,
    /// evaluations and embedders that bring their own model.
    #[must_use]
    pub fn model(mut self, provider: Arc<dyn ModelProvider>) -> Self {
        self.model = Some(provider);
        self
    }

    /// Who answers approval requests (without one, calls that need approval are rejected).
    #[must_use]
    pub fn approver(mut self, approver: impl Approver + 'static) -> Self {
        self.approver = Some(Arc::new(approver));
        self
    }

    /// Where every tool decision is recorded.
    #[must_use]
    pub fn audit(mut self, audit: impl AuditSink + 'static) -> Self {
        self.audit = Some(Arc::new(audit));
        self
    }

    /// How `requireApproval` maps onto the policy (default [`ApprovalMode::Safe`]).
    #[must_use]
    pub fn approval_mode(mut self, mode: ApprovalMode) -> Self {
        self.approval = mode;
        self
    }

    /// Budgets of the agents built.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The HTTP client for MCP servers without TLS settings of their own (default: kagent-mcp's
    /// pooled client).
    #[must_use]
    pub fn mcp_http_client(self, client: reqwest::Client) -> Self {
        let _ = self.mcp_http.set(client);
        self
    }

    /// The source's description, for messages.
    pub fn source_name(&self) -> String {
        self.resolver.source.describe()
    }

    /// Loads the Agent `namespace/name` with everything it references.
    pub async fn load(&self, namespace: &str, name: &str) -> Result<LoadedAgent, LoadErrors> {
        let mut st = State::default();
        let built = self
            .agent(&mut st, namespace, name, &mut Vec::new(), None)
            .await;
        match built {
            Ok(b) if st.errors.is_empty() => Ok(LoadedAgent {
                agent: b.agent,
                object: agent_ref(namespace, name),
                model: b.model,
                origins: b.origins,
                previewable: b.previewable,
                warnings: st.warnings,
                clients: st.clients,
            }),
            _ => {
                for c in &st.clients {
                    c.close().await;
                }
                if st.errors.is_empty() {
                    // Unreachable in practice: every failure pushes an error.
                    st.errors.push(LoadError::new(
                        agent_ref(namespace, name),
                        FieldPath::root(),
                        LoadReason::Tools {
                            message: "the agent could not be built".into(),
                            source: None,
                        },
                    ));
                }
                Err(LoadErrors { errors: st.errors })
            }
        }
    }

    async fn fetch<K: KagentKind>(
        &self,
        st: &mut State,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
        referrer: (&ObjectRef, &FieldPath),
        hint: impl FnOnce() -> String,
    ) -> Result<(K, Option<String>), ()> {
        let found = match self.resolver.source.resource(kind, namespace, name).await {
            Ok(f) => f,
            Err(source) => {
                st.errors.push(LoadError::new(
                    referrer.0.clone(),
                    referrer.1.clone(),
                    LoadReason::Source { source },
                ));
                return Err(());
            }
        };
        let Some(SourceObject { value, origin }) = found else {
            st.errors.push(LoadError::new(
                referrer.0.clone(),
                referrer.1.clone(),
                LoadReason::NotFound {
                    kind: kind.as_str().to_owned(),
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    source_name: self.resolver.source.describe(),
                    hint: hint(),
                },
            ));
            return Err(());
        };
        let me = object_ref(kind, namespace, name);
        match kagent_api::decode_as::<K>(value) {
            Ok(d) => {
                for w in d.warnings {
                    let line = format!("{me}: {w}");
                    if !st.warnings.contains(&line) {
                        st.warnings.push(line);
                    }
                }
                Ok((d.object, origin))
            }
            Err(DecodeError::Invalid { errors, .. }) => {
                st.errors.push(
                    LoadError::new(me, FieldPath::root(), LoadReason::Invalid { errors })
                        .with_origin(origin),
                );
                Err(())
            }
            Err(other) => {
                st.errors.push(
                    LoadError::new(
                        me,
                        FieldPath::root(),
                        LoadReason::Decode {
                            message: other.to_string(),
                        },
                    )
                    .with_origin(origin),
                );
                Err(())
            }
        }
    }

    fn agent<'a>(
        &'a self,
        st: &'a mut State,
        namespace: &'a str,
        name: &'a str,
        stack: &'a mut Vec<String>,
        referrer: Option<(ObjectRef, FieldPath)>,
    ) -> Pending<'a, Built> {
        Box::pin(async move {
            let key = format!("{namespace}/{name}");
            let me = agent_ref(namespace, name);
            let (ref_obj, ref_path) = referrer
                .clone()
                .unwrap_or_else(|| (me.clone(), FieldPath::root()));
            if stack.contains(&key) {
                let mut chain: Vec<String> =
                    stack.iter().skip_while(|k| **k != key).cloned().collect();
                chain.push(key);
                st.errors.push(LoadError::new(
                    ref_obj,
                    ref_path,
                    LoadReason::Cycle { chain },
                ));
                return Err(());
            }
            let (agent, origin) = self
                .fetch::<Agent>(
                    st,
                    ResourceKind::Agent,
                    namespace,
                    name,
                    (&ref_obj, &ref_path),
                    || {
                        "declare it (kubectl apply -f agent.yaml), or pass the file that declares it"
                            .to_owned()
                    },
                )
                .await?;
            let at = |path: FieldPath, reason| {
                LoadError::new(me.clone(), path, reason).with_origin(origin.clone())
            };
            let spec_path = FieldPath::root().field("spec");
            if agent.spec.type_ == AgentType::Byo {
                st.errors.push(at(
                    spec_path.field("type"),
                    LoadReason::Unsupported {
                        feature: "a BYO agent".into(),
                        hint: "a BYO agent is a container image serving A2A; run its image, or declare the agent with type: Declarative".into(),
                    },
                ));
                return Err(());
            }
            let Some(decl) = agent.spec.declarative.as_ref() else {
                st.errors.push(at(
                    spec_path.field("declarative"),
                    LoadReason::Decode {
                        message: "a Declarative agent needs spec.declarative".into(),
                    },
                ));
                return Err(());
            };
            stack.push(key.clone());
            let result = self
                .declarative(st, &agent, decl, namespace, name, origin.as_ref(), stack)
                .await;
            stack.pop();
            result
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn declarative(
        &self,
        st: &mut State,
        agent: &Agent,
        decl: &DeclarativeAgentSpec,
        namespace: &str,
        name: &str,
        origin: Option<&String>,
        stack: &mut Vec<String>,
    ) -> Result<Built, ()> {
        let me = agent_ref(namespace, name);
        let at = |path: FieldPath, reason| {
            LoadError::new(me.clone(), path, reason).with_origin(origin.cloned())
        };
        let dpath = FieldPath::root().field("spec").field("declarative");
        let errors_before = st.errors.len();

        // The model.
        let provider = self.provider(st, decl, &me, namespace).await;

        // The system message.
        let system = self.system_message(st, agent, decl, &me, origin).await;

        // The tools.
        let mut sources: Vec<Arc<dyn ToolSource>> = Vec::new();
        let mut origins = BTreeMap::new();
        let mut previewable = Toolset::new();
        let mut require_approval = BTreeSet::new();
        for (i, tool) in decl.tools.iter().enumerate() {
            let tpath = dpath.field("tools").index(i);
            if let Some(m) = &tool.mcp_server {
                require_approval.extend(m.require_approval.iter().cloned());
                if !m.allowed_headers.is_empty() {
                    st.warnings.push(format!(
                        "{me}: {}: ignored: allowedHeaders forwards headers of an incoming A2A request, and the loader's agents are run in-process",
                        tpath.field("mcpServer").field("allowedHeaders")
                    ));
                }
                let _ = self
                    .mcp_tool(
                        st,
                        m,
                        &tool.headers_from,
                        &me,
                        namespace,
                        &tpath,
                        provider.as_ref().ok().cloned(),
                        &mut sources,
                        &mut origins,
                        &mut previewable,
                    )
                    .await;
            } else if let Some(r) = &tool.agent {
                if !tool.headers_from.is_empty() {
                    st.warnings.push(format!(
                        "{me}: {}: ignored: headers for an agent tool are sent over A2A, and the loader runs agent tools in-process",
                        tpath.field("headersFrom")
                    ));
                }
                let _ = self
                    .agent_tool(
                        st,
                        r,
                        &me,
                        namespace,
                        &tpath,
                        stack,
                        &mut sources,
                        &mut origins,
                    )
                    .await;
            }
        }

        if st.errors.len() > errors_before {
            return Err(());
        }
        let (Ok(provider), Ok(system)) = (provider, system) else {
            return Err(());
        };

        let mut policy = match self.approval {
            ApprovalMode::Safe => StandardPolicy::default(),
            ApprovalMode::Kagent => StandardPolicy::default()
                .with_mutating(Rule::Allow)
                .with_destructive(Rule::Allow),
        };
        policy = policy.require_approval(require_approval);
        let model = format!("{}/{}", provider.info().provider, provider.info().model);
        let mut builder = LlmAgent::builder(name)
            .description(agent.spec.description.clone().unwrap_or_default())
            .provider(provider)
            .policy(policy)
            .secret_values(self.resolver.seen.clone());
        if let Some(system) = system {
            builder = builder.system_prompt(system);
        }
        for s in sources {
            builder = builder.toolset(s);
        }
        if let Some(a) = &self.approver {
            builder = builder.approver(a.clone());
        }
        if let Some(a) = &self.audit {
            builder = builder.audit(a.clone());
        }
        if let Some(l) = &self.limits {
            builder = builder.limits(l.clone());
        }
        match builder.build() {
            Ok(agent_built) => Ok(Built {
                agent: Arc::new(agent_built),
                allowed: agent.spec.allowed_namespaces.clone(),
                model,
                origins,
                previewable,
            }),
            Err(e) => {
                let path = match &e {
                    BuildError::ToolClash { .. } | BuildError::ToolSource { .. } => {
                        dpath.field("tools")
                    }
                    _ => FieldPath::root(),
                };
                st.errors.push(at(path, LoadReason::Build { source: e }));
                Err(())
            }
        }
    }

    async fn provider(
        &self,
        st: &mut State,
        decl: &DeclarativeAgentSpec,
        me: &ObjectRef,
        namespace: &str,
    ) -> Result<Arc<dyn ModelProvider>, ()> {
        let mpath = FieldPath::root()
            .field("spec")
            .field("declarative")
            .field("modelConfig");
        let mref = match decl.model_config_ref(namespace) {
            Ok(r) => r,
            Err(e) => {
                st.errors.push(LoadError::new(
                    me.clone(),
                    e.path.clone(),
                    LoadReason::Decode {
                        message: e.reason.to_string(),
                    },
                ));
                return Err(());
            }
        };
        let (mc, origin) = self
            .fetch::<ModelConfig>(
                st,
                ResourceKind::ModelConfig,
                &mref.namespace,
                &mref.name,
                (me, &mpath),
                || {
                    format!(
                        "declare it, e.g.\n    apiVersion: kagent.dev/v1alpha2\n    kind: ModelConfig\n    metadata: {{name: {}, namespace: {}}}\n    spec: {{provider: Anthropic, model: claude-sonnet-4-20250514, apiKeySecret: anthropic-api-key, apiKeySecretKey: api-key}}\n  and pass its file with -f",
                        mref.name, mref.namespace
                    )
                },
            )
            .await?;
        if let Some(p) = &self.model {
            return Ok(p.clone());
        }
        let mc_ref = object_ref(ResourceKind::ModelConfig, &mref.namespace, &mref.name);
        let at = |path: FieldPath, reason| {
            LoadError::new(mc_ref.clone(), path, reason).with_origin(origin.clone())
        };
        let spec = &mc.spec;
        let sp = FieldPath::root().field("spec");
        let mut secrets = ResolvedModelSecrets::new();
        if let (Some(secret), Some(key)) = (&spec.api_key_secret, &spec.api_key_secret_key) {
            match self.resolver.secret_key(&mref.namespace, secret, key).await {
                Ok(v) => secrets.api_key = Some(v),
                Err(reason) => {
                    let field = if matches!(reason, LoadReason::SecretKeyMissing { .. }) {
                        "apiKeySecretKey"
                    } else {
                        "apiKeySecret"
                    };
                    st.errors.push(at(sp.field(field), reason));
                    return Err(());
                }
            }
        }
        if spec.api_key_passthrough && secrets.api_key.is_none() {
            st.errors.push(at(
                sp.field("apiKeyPassthrough"),
                LoadReason::Unsupported {
                    feature: "apiKeyPassthrough".into(),
                    hint: "it forwards the bearer token of an incoming A2A request, which the loader does not serve; declare apiKeySecret instead, or for a local run provide the key (--secret)".into(),
                },
            ));
            return Err(());
        }
        if let Some(tls) = &spec.tls
            && let (Some(secret), Some(key)) = (&tls.ca_cert_secret_ref, &tls.ca_cert_secret_key)
            && !secret.is_empty()
        {
            match self.resolver.secret_key(&mref.namespace, secret, key).await {
                Ok(v) => secrets.ca_cert_pem = Some(expose(&v).to_owned()),
                Err(reason) => {
                    st.errors
                        .push(at(sp.field("tls").field("caCertSecretRef"), reason));
                    return Err(());
                }
            }
        }
        let conversion = match model::convert(spec, secrets) {
            Ok(c) => c,
            Err((path, reason)) => {
                st.errors.push(at(path, reason));
                return Err(());
            }
        };
        for i in &conversion.ignored {
            st.warnings
                .push(format!("{mc_ref}: {}: ignored: {}", i.path, i.note));
        }
        let built = conversion
            .config
            .build_client()
            .and_then(|client| kagent_llm::build_provider(&conversion.config, client));
        match built {
            Ok(p) => Ok(p),
            Err(source) => {
                st.errors
                    .push(at(sp.clone(), LoadReason::Provider { source }));
                Err(())
            }
        }
    }

    async fn system_message(
        &self,
        st: &mut State,
        agent: &Agent,
        decl: &DeclarativeAgentSpec,
        me: &ObjectRef,
        origin: Option<&String>,
    ) -> Result<Option<String>, ()> {
        let namespace = me.namespace.clone().unwrap_or_default();
        let dpath = FieldPath::root().field("spec").field("declarative");
        let at = |path: FieldPath, reason| {
            LoadError::new(me.clone(), path, reason).with_origin(origin.cloned())
        };
        let raw = match (&decl.system_message, &decl.system_message_from) {
            (Some(text), _) => text.clone(),
            (None, Some(from)) => match self.resolver.value(&namespace, from).await {
                Ok(v) => expose(&v).to_owned(),
                Err(reason) => {
                    st.errors.push(at(dpath.field("systemMessageFrom"), reason));
                    return Err(());
                }
            },
            (None, None) => return Ok(None),
        };
        let sources = decl
            .prompt_template
            .as_ref()
            .map(|t| t.data_sources.as_slice())
            .unwrap_or_default();
        if sources.is_empty() {
            return Ok(Some(raw));
        }
        let mut lookup = BTreeMap::new();
        for (i, src) in sources.iter().enumerate() {
            let spath = dpath.field("promptTemplate").field("dataSources").index(i);
            let identifier = match src.alias.as_deref() {
                Some(a) if !a.is_empty() => a,
                _ => src.name.as_str(),
            };
            let data = match src.kind.as_deref().unwrap_or("ConfigMap") {
                "ConfigMap" => self.resolver.config_map(&namespace, &src.name).await,
                "Secret" => match self.resolver.source.secret(&namespace, &src.name).await {
                    Ok(Some(d)) => Ok(d
                        .keys()
                        .into_iter()
                        .filter_map(|k| d.get(&k).map(|v| (k, expose(v).to_owned())))
                        .collect()),
                    Ok(None) => self
                        .resolver
                        .secret_key(&namespace, &src.name, "")
                        .await
                        .map(|_| BTreeMap::new()),
                    Err(source) => Err(LoadReason::Source { source }),
                },
                other => Err(LoadReason::Unsupported {
                    feature: format!("a prompt data source of kind {other}"),
                    hint: "use a ConfigMap (or a Secret)".into(),
                }),
            };
            match data {
                Ok(d) => {
                    for (k, v) in d {
                        lookup.insert(format!("{identifier}/{k}"), v);
                    }
                }
                Err(reason) => st.errors.push(at(spath, reason)),
            }
        }
        let ctx = template_context(agent, decl, me);
        match prompt::render(&raw, &lookup, &ctx) {
            Ok(text) => Ok(Some(text)),
            Err(e) => {
                let field = if decl.system_message.is_some() {
                    "systemMessage"
                } else {
                    "systemMessageFrom"
                };
                st.errors.push(at(
                    dpath.field(field),
                    LoadReason::Template {
                        message: e.to_string(),
                    },
                ));
                Err(())
            }
        }
    }

    async fn builtin_toolset(
        &self,
        st: &mut State,
        model: Option<Arc<dyn ModelProvider>>,
    ) -> Option<Result<Toolset, LoadReason>> {
        let builtin = self.builtin.as_ref()?;
        if let Some(t) = &st.builtin {
            return Some(Ok(t.clone()));
        }
        Some(match builtin.toolset(model) {
            Ok(t) => {
                st.builtin = Some(t.clone());
                Ok(t)
            }
            Err(e) => Err(LoadReason::Tools {
                message: format!("the in-process tools could not be built: {e}"),
                source: Some(Box::new(e)),
            }),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn in_process_tools(
        &self,
        st: &mut State,
        m: &McpServerTool,
        server: &str,
        declared: bool,
        model: Option<Arc<dyn ModelProvider>>,
        fail: &(dyn Fn(LoadReason) -> LoadError + Send + Sync),
        sources: &mut Vec<Arc<dyn ToolSource>>,
        origins: &mut BTreeMap<String, ToolOrigin>,
        previewable: &mut Toolset,
    ) -> Result<(), ()> {
        let all = match self.builtin_toolset(st, model).await {
            Some(Ok(t)) => t,
            Some(Err(reason)) => {
                st.errors.push(fail(reason));
                return Err(());
            }
            None => return Err(()),
        };
        let chosen = if m.tool_names.is_empty() {
            all.clone()
        } else {
            let missing: Vec<String> = m
                .tool_names
                .iter()
                .filter(|n| !all.contains(n))
                .cloned()
                .collect();
            if !missing.is_empty() {
                let mut missing = missing;
                missing.sort();
                let why = |n: &String| self.builtin.as_ref().and_then(|b| b.unavailable_reason(n));
                let needs: Vec<String> = missing.iter().filter_map(why).collect();
                let unknown: Vec<String> = missing
                    .iter()
                    .filter(|n| why(n).is_none())
                    .cloned()
                    .collect();
                let configure = if needs.is_empty() {
                    ""
                } else {
                    "configure what the in-process tools need (above), "
                };
                let hint = if declared {
                    format!(
                        "{configure}stop serving {server} in-process to reach it over the network, or remove the names from toolNames"
                    )
                } else {
                    format!(
                        "{configure}declare RemoteMCPServer {server} with the URL of a server that offers them (and pass its file), or remove the names from toolNames"
                    )
                };
                st.errors.push(fail(LoadReason::NotInProcess {
                    server: server.to_owned(),
                    tools: missing,
                    unknown,
                    needs,
                    offered: all.names().map(str::to_owned).collect(),
                    hint,
                }));
                return Err(());
            }
            match all.filter(&m.tool_names) {
                Ok(t) => t,
                Err(e) => {
                    st.errors.push(fail(LoadReason::Tools {
                        message: e.to_string(),
                        source: Some(Box::new(e)),
                    }));
                    return Err(());
                }
            }
        };
        for t in chosen.iter() {
            let tool_name = t.spec().name.clone();
            origins.insert(
                tool_name,
                ToolOrigin::InProcess {
                    server: server.to_owned(),
                    declared,
                },
            );
            // Names were checked unique within the built-in set.
            let _ = previewable.add_arc(t.clone());
        }
        sources.push(Arc::new(chosen));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn mcp_tool(
        &self,
        st: &mut State,
        m: &McpServerTool,
        headers_from: &[kagent_api::common::ValueRef],
        me: &ObjectRef,
        namespace: &str,
        tpath: &FieldPath,
        model: Option<Arc<dyn ModelProvider>>,
        sources: &mut Vec<Arc<dyn ToolSource>>,
        origins: &mut BTreeMap<String, ToolOrigin>,
        previewable: &mut Toolset,
    ) -> Result<(), ()> {
        let mpath = tpath.field("mcpServer");
        let fail_at = |path: FieldPath| {
            let me = me.clone();
            move |reason| LoadError::new(me.clone(), path.clone(), reason)
        };
        match m.target() {
            ToolServerKind::RemoteMcpServer => {}
            other => {
                let what = match other {
                    ToolServerKind::McpServer => "a kmcp MCPServer".to_owned(),
                    ToolServerKind::Service => "an MCP server behind a Service".to_owned(),
                    ToolServerKind::Unknown { api_group, kind } => {
                        format!("tool server kind {kind} (apiGroup {api_group:?})")
                    }
                    _ => "this tool server kind".to_owned(),
                };
                st.errors.push(fail_at(mpath.field("kind"))(LoadReason::Unsupported {
                    feature: what,
                    hint: "declare a RemoteMCPServer with the server's URL and reference it with kind: RemoteMCPServer".into(),
                }));
                return Err(());
            }
        }
        let server_ns = m
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(namespace)
            .to_owned();
        let server_key = format!("{server_ns}/{}", m.name);
        let found = self
            .resolver
            .source
            .resource(ResourceKind::RemoteMCPServer, &server_ns, &m.name)
            .await;
        let found = match found {
            Ok(f) => f,
            Err(source) => {
                st.errors
                    .push(fail_at(mpath.field("name"))(LoadReason::Source { source }));
                return Err(());
            }
        };
        if found.is_none() {
            if self.in_process.missing_servers && self.builtin.is_some() {
                let fail = fail_at(mpath.field("toolNames"));
                return self
                    .in_process_tools(
                        st,
                        m,
                        &server_key,
                        false,
                        model,
                        &fail,
                        sources,
                        origins,
                        previewable,
                    )
                    .await;
            }
            let hint = format!(
                "declare it, e.g.\n    apiVersion: kagent.dev/v1alpha2\n    kind: RemoteMCPServer\n    metadata: {{name: {}, namespace: {server_ns}}}\n    spec: {{description: ..., protocol: STREAMABLE_HTTP, url: http://HOST:PORT/mcp}}\n  and pass its file with -f; or serve the tools it lists from this workspace in-process (kagent-run --builtin-tools)",
                m.name
            );
            st.errors
                .push(fail_at(mpath.field("name"))(LoadReason::NotFound {
                    kind: "RemoteMCPServer".into(),
                    namespace: server_ns,
                    name: m.name.clone(),
                    source_name: self.resolver.source.describe(),
                    hint,
                }));
            return Err(());
        }
        let (server, origin) = self
            .fetch::<RemoteMCPServer>(
                st,
                ResourceKind::RemoteMCPServer,
                &server_ns,
                &m.name,
                (me, &mpath.field("name")),
                String::new,
            )
            .await?;
        let server_ref = object_ref(ResourceKind::RemoteMCPServer, &server_ns, &m.name);
        let srv_at = |path: FieldPath, reason| {
            LoadError::new(server_ref.clone(), path, reason).with_origin(origin.clone())
        };
        if let Err(hint) = allows(
            server.spec.allowed_namespaces.as_ref(),
            &server_ns,
            namespace,
        ) {
            st.errors
                .push(fail_at(mpath.field("namespace"))(LoadReason::NotAllowed {
                    kind: "RemoteMCPServer".into(),
                    namespace: server_ns,
                    name: m.name.clone(),
                    from: namespace.to_owned(),
                    hint,
                }));
            return Err(());
        }
        if self.in_process.serves_declared(&m.name, &server.spec.url) && self.builtin.is_some() {
            let fail = fail_at(mpath.field("toolNames"));
            return self
                .in_process_tools(
                    st,
                    m,
                    &server_key,
                    true,
                    model,
                    &fail,
                    sources,
                    origins,
                    previewable,
                )
                .await;
        }

        let headers = DeclaredHeaders {
            resolver: self.resolver.clone(),
            server_namespace: server_ns.clone(),
            server_refs: server.spec.headers_from.clone(),
            server_path: FieldPath::root().field("spec").field("headersFrom"),
            agent_namespace: namespace.to_owned(),
            tool_refs: headers_from.to_vec(),
            tool_path: tpath.field("headersFrom"),
        };
        // Resolve once now, so a missing Secret is reported with its field; the client
        // resolves again at every connect.
        if let Err(HeaderError {
            owner,
            path,
            reason,
        }) = headers.resolve().await
        {
            st.errors.push(match owner {
                HeaderOwner::Server => srv_at(path, reason),
                HeaderOwner::AgentTool => LoadError::new(me.clone(), path, reason),
            });
            return Err(());
        }
        let config = match server_config(&server_key, &server.spec, Some(headers)) {
            Ok(c) => c,
            Err((path, reason)) => {
                st.errors.push(srv_at(path, reason));
                return Err(());
            }
        };
        let http = match self.mcp_http_for(&server, &server_ns).await {
            Ok(h) => h,
            Err((path, reason)) => {
                st.errors.push(srv_at(path, reason));
                return Err(());
            }
        };
        let client = McpClient::with_http_client(config, http);
        let toolset = if m.tool_names.is_empty() {
            McpToolset::connect(client.clone()).await
        } else {
            McpToolset::with_tool_names(client.clone(), &m.tool_names).await
        };
        st.clients.push(client.clone());
        match toolset {
            Ok(t) => {
                for n in t.toolset().names() {
                    origins.insert(
                        n.to_owned(),
                        ToolOrigin::Remote {
                            server: server_key.clone(),
                            url: server.spec.url.clone(),
                        },
                    );
                }
                sources.push(Arc::new(t));
                Ok(())
            }
            Err(McpError::UnknownTools { names, .. }) => {
                let offered = client
                    .list_tools()
                    .await
                    .map(|ts| ts.into_iter().map(|t| t.name.to_string()).collect())
                    .unwrap_or_default();
                st.errors.push(fail_at(mpath.field("toolNames"))(
                    LoadReason::UnknownTools {
                        server: server_key,
                        missing: names,
                        offered,
                    },
                ));
                Err(())
            }
            Err(McpError::Headers { source, .. }) => {
                let reason = match source.downcast::<HeaderError>() {
                    Ok(h) => h.reason,
                    Err(other) => LoadReason::Tools {
                        message: "the MCP server's headers could not be resolved".into(),
                        source: Some(other),
                    },
                };
                st.errors.push(srv_at(
                    FieldPath::root().field("spec").field("headersFrom"),
                    reason,
                ));
                Err(())
            }
            Err(source) => {
                st.errors.push(srv_at(
                    FieldPath::root().field("spec").field("url"),
                    LoadReason::Unreachable {
                        server: server_key,
                        url: server.spec.url.clone(),
                        source,
                    },
                ));
                Err(())
            }
        }
    }

    /// The HTTP client for a server: the shared one, or one with the server's TLS settings.
    async fn mcp_http_for(
        &self,
        server: &RemoteMCPServer,
        namespace: &str,
    ) -> Result<reqwest::Client, (FieldPath, LoadReason)> {
        let tls_path = FieldPath::root().field("spec").field("tls");
        let client_error = |e: kagent_mcp::http::HttpClientError| {
            (
                tls_path.clone(),
                LoadReason::Tools {
                    message: format!("the HTTP client for the MCP server cannot be built: {e}"),
                    source: Some(Box::new(e)),
                },
            )
        };
        match server.spec.tls.as_ref().filter(|t| !t.is_empty()) {
            None => {
                let client = self
                    .mcp_http
                    .get_or_try_init(|| async { kagent_mcp::http_client(&TlsOptions::default()) })
                    .await
                    .map_err(client_error)?;
                Ok(client.clone())
            }
            Some(tls) => {
                let mut pem = None;
                if let (Some(secret), Some(key)) =
                    (&tls.ca_cert_secret_ref, &tls.ca_cert_secret_key)
                    && !secret.is_empty()
                {
                    let v = self
                        .resolver
                        .secret_key(namespace, secret, key)
                        .await
                        .map_err(|r| (tls_path.field("caCertSecretRef"), r))?;
                    pem = Some(expose(&v).to_owned());
                }
                kagent_mcp::http_client(&model::tls_options(tls, pem)).map_err(client_error)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn agent_tool(
        &self,
        st: &mut State,
        r: &TypedReference,
        me: &ObjectRef,
        namespace: &str,
        tpath: &FieldPath,
        stack: &mut Vec<String>,
        sources: &mut Vec<Arc<dyn ToolSource>>,
        origins: &mut BTreeMap<String, ToolOrigin>,
    ) -> Result<(), ()> {
        let apath = tpath.field("agent");
        let kind = r.kind.as_deref().unwrap_or("Agent");
        if !(kind.is_empty() || kind == "Agent") {
            st.errors.push(LoadError::new(
                me.clone(),
                apath.field("kind"),
                LoadReason::Unsupported {
                    feature: format!("an agent tool of kind {kind}"),
                    hint: "reference a kagent.dev Agent".into(),
                },
            ));
            return Err(());
        }
        let sub_ns = r.namespace_or(namespace).to_owned();
        let sub = self
            .agent(
                st,
                &sub_ns,
                &r.name,
                stack,
                Some((me.clone(), apath.field("name"))),
            )
            .await?;
        if let Err(hint) = allows(sub.allowed.as_ref(), &sub_ns, namespace) {
            st.errors.push(LoadError::new(
                me.clone(),
                apath.field("namespace"),
                LoadReason::NotAllowed {
                    kind: "Agent".into(),
                    namespace: sub_ns,
                    name: r.name.clone(),
                    from: namespace.to_owned(),
                    hint,
                },
            ));
            return Err(());
        }
        let tool: Arc<dyn Tool> = match agent_as_tool(sub.agent.clone()) {
            Ok(t) => t,
            Err(e) => {
                st.errors.push(LoadError::new(
                    me.clone(),
                    apath.clone(),
                    LoadReason::Tools {
                        message: format!("agent {sub_ns}/{} cannot be a tool: {e}", r.name),
                        source: Some(Box::new(e)),
                    },
                ));
                return Err(());
            }
        };
        let mut set = Toolset::new();
        let card_name = tool.spec().name.clone();
        if let Err(e) = set.add_arc(tool) {
            st.errors.push(LoadError::new(
                me.clone(),
                apath,
                LoadReason::Tools {
                    message: e.to_string(),
                    source: Some(Box::new(e)),
                },
            ));
            return Err(());
        }
        let tool_name = agent_tool_name(&sub_ns, &r.name);
        origins.insert(
            tool_name.clone(),
            ToolOrigin::Agent {
                agent: format!("{sub_ns}/{}", r.name),
            },
        );
        sources.push(Arc::new(set.alias(card_name, tool_name)));
        Ok(())
    }
}

fn template_context(agent: &Agent, decl: &DeclarativeAgentSpec, me: &ObjectRef) -> TemplateContext {
    let mut skill_names = Vec::new();
    if let Some(skills) = &agent.spec.skills {
        for r in &skills.refs {
            let last = r.rsplit('/').next().unwrap_or(r);
            skill_names.push(last.split(':').next().unwrap_or(last).to_owned());
        }
        for g in &skills.git_refs {
            match g.name.as_deref() {
                Some(n) if !n.is_empty() => skill_names.push(n.to_owned()),
                _ => {
                    let url = g.url.trim_end_matches(".git");
                    skill_names.push(url.rsplit('/').next().unwrap_or(url).to_owned());
                }
            }
        }
    }
    TemplateContext {
        agent_name: me.name.clone().unwrap_or_default(),
        agent_namespace: me.namespace.clone().unwrap_or_default(),
        description: agent.spec.description.clone().unwrap_or_default(),
        tool_names: decl
            .tools
            .iter()
            .filter_map(|t| t.mcp_server.as_ref())
            .flat_map(|m| m.tool_names.iter().cloned())
            .collect(),
        skill_names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_tool_names_follow_kagent() {
        assert_eq!(
            agent_tool_name("kagent", "k8s-agent"),
            "kagent__NS__k8s_agent"
        );
    }
}
