//! Typed errors. Every failure names the object, the field path in it and the reason, so a
//! controller can put it into a status condition verbatim ([`LoadError::condition_reason`] and
//! its `Display`), and a person running `kagent-run` reads what to fix.
//!
//! No error, warning or `Debug` output carries a secret value: secrets are named by their
//! Secret, key, environment variable or file, never shown.

use std::fmt;
use std::path::PathBuf;

use kagent_api::{FieldPath, ObjectRef, ValidationErrors};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a declaration could not become a running agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadReason {
    /// The object breaks kagent's rules (every broken rule is listed).
    #[error("{errors}")]
    Invalid {
        /// The broken rules, each with its path.
        errors: ValidationErrors,
    },
    /// The object could not be read at all (not a kagent object, unsupported version, ...).
    #[error("{message}")]
    Decode {
        /// What is wrong.
        message: String,
    },
    /// A referenced object does not exist.
    #[error("{kind} {namespace}/{name} was not found in {source_name}; {hint}")]
    NotFound {
        /// Its kind.
        kind: String,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Where it was looked up (files, a cluster).
        source_name: String,
        /// How to declare it.
        hint: String,
    },
    /// A reference into another namespace that the target does not allow.
    #[error("{kind} {namespace}/{name} may not be used from namespace {from}: {hint}")]
    NotAllowed {
        /// The target's kind.
        kind: String,
        /// The target's namespace.
        namespace: String,
        /// The target's name.
        name: String,
        /// The referencing object's namespace.
        from: String,
        /// What to change.
        hint: String,
    },
    /// A Secret that is referenced is missing.
    #[error("Secret {namespace}/{name} was not found in {source_name}; {hint}")]
    SecretNotFound {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Where it was looked up.
        source_name: String,
        /// How to provide it.
        hint: String,
    },
    /// A Secret exists but lacks the key.
    #[error(
        "Secret {namespace}/{name} has no key `{key}` (it has: {})",
        list(available)
    )]
    SecretKeyMissing {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The key asked for.
        key: String,
        /// The keys it has (names only).
        available: Vec<String>,
    },
    /// A ConfigMap that is referenced is missing.
    #[error("ConfigMap {namespace}/{name} was not found in {source_name}; {hint}")]
    ConfigMapNotFound {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Where it was looked up.
        source_name: String,
        /// How to provide it.
        hint: String,
    },
    /// A ConfigMap exists but lacks the key.
    #[error(
        "ConfigMap {namespace}/{name} has no key `{key}` (it has: {})",
        list(available)
    )]
    ConfigMapKeyMissing {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The key asked for.
        key: String,
        /// The keys it has.
        available: Vec<String>,
    },
    /// A local secret names an environment variable that is not set.
    #[error("environment variable {var} is not set (it stands for {stands_for})")]
    EnvVarMissing {
        /// The variable.
        var: String,
        /// Which secret key it provides.
        stands_for: String,
    },
    /// A local secret names a file that cannot be read.
    #[error("cannot read {} (it stands for {stands_for})", path.display())]
    SecretFileUnreadable {
        /// The file.
        path: PathBuf,
        /// Which secret key it provides.
        stands_for: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Something kagent declares that kagent-rs does not run (yet).
    #[error("{feature} is not supported by kagent-rs: {hint}")]
    Unsupported {
        /// What.
        feature: String,
        /// What to do instead.
        hint: String,
    },
    /// `toolNames` lists tools the server does not offer.
    #[error(
        "MCP server {server} does not offer {} (it offers: {}); fix the names in toolNames or remove them",
        missing.join(", "),
        list(offered)
    )]
    UnknownTools {
        /// The server.
        server: String,
        /// The names it does not offer, sorted.
        missing: Vec<String>,
        /// The names it offers.
        offered: Vec<String>,
    },
    /// The server was to be served in-process, but some of the names its `toolNames` lists are
    /// not registered in-process: kagent-rs has no tool by that name, or has one that this
    /// [`BuiltinTools`](crate::BuiltinTools) configuration leaves out (no Prometheus URL, ...).
    #[error(
        "{} {} not available in-process for MCP server {server}: {}; {hint}",
        tools.join(", "),
        if tools.len() == 1 { "is" } else { "are" },
        not_in_process_detail(unknown, needs, offered)
    )]
    NotInProcess {
        /// The server the tools were to stand in for, `namespace/name`.
        server: String,
        /// The listed names that are not registered in-process, sorted.
        tools: Vec<String>,
        /// Those of `tools` kagent-rs has no tool by at all.
        unknown: Vec<String>,
        /// For each of `tools` that kagent-rs has but this configuration leaves out, what to
        /// configure (`prometheus_query needs a Prometheus URL (...)`).
        needs: Vec<String>,
        /// The names kagent-rs serves in-process.
        offered: Vec<String>,
        /// How to get the tools instead (declare the server, drop the names).
        hint: String,
    },
    /// An MCP server could not be reached (connection, handshake or listing its tools).
    #[error("MCP server {server} at {url} could not be reached: {source}")]
    Unreachable {
        /// The server.
        server: String,
        /// Its URL.
        url: String,
        /// The client's error.
        #[source]
        source: kagent_mcp::McpError,
    },
    /// Agents that use each other as tools.
    #[error("agent tools form a cycle: {}; an agent cannot (indirectly) be its own tool", chain.join(" -> "))]
    Cycle {
        /// The agents of the cycle, `namespace/name`, the first repeated at the end.
        chain: Vec<String>,
    },
    /// The system message template cannot be rendered.
    #[error("the system message template cannot be rendered: {message}")]
    Template {
        /// What is wrong, with the position.
        message: String,
    },
    /// The model provider cannot be built from the ModelConfig.
    #[error("the model provider cannot be built: {source}")]
    Provider {
        /// kagent-llm's error.
        #[source]
        source: kagent_llm::ConfigError,
    },
    /// In-process tools could not be built or combined.
    #[error("{message}")]
    Tools {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The agent could not be assembled (two tools with one name, ...).
    #[error("the agent cannot be built: {source}")]
    Build {
        /// kagent-core's error.
        #[source]
        source: kagent_core::BuildError,
    },
    /// The source could not be read (API server unreachable, forbidden, ...).
    #[error("{source}")]
    Source {
        /// The source's error.
        #[source]
        source: SourceError,
    },
}

/// The middle of [`LoadReason::NotInProcess`]'s message: what to configure, and which names
/// kagent-rs does not have at all.
fn not_in_process_detail(unknown: &[String], needs: &[String], offered: &[String]) -> String {
    let mut parts: Vec<String> = needs.to_vec();
    if !unknown.is_empty() {
        parts.push(format!(
            "kagent-rs has no tool by {} {} (in-process tools: {})",
            if unknown.len() == 1 {
                "the name"
            } else {
                "the names"
            },
            unknown.join(", "),
            list(offered)
        ));
    }
    parts.join("; ")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

impl LoadReason {
    /// A CamelCase reason for a Kubernetes status condition (`ModelConfigNotFound`,
    /// `SecretKeyMissing`, `UnknownTools`, ...).
    pub fn condition_reason(&self) -> &'static str {
        match self {
            LoadReason::Invalid { .. } => "Invalid",
            LoadReason::Decode { .. } => "Unreadable",
            LoadReason::NotFound { kind, .. } => match kind.as_str() {
                "ModelConfig" => "ModelConfigNotFound",
                "RemoteMCPServer" => "RemoteMCPServerNotFound",
                "Agent" => "AgentNotFound",
                _ => "NotFound",
            },
            LoadReason::NotAllowed { .. } => "CrossNamespaceNotAllowed",
            LoadReason::SecretNotFound { .. } => "SecretNotFound",
            LoadReason::SecretKeyMissing { .. } => "SecretKeyMissing",
            LoadReason::ConfigMapNotFound { .. } => "ConfigMapNotFound",
            LoadReason::ConfigMapKeyMissing { .. } => "ConfigMapKeyMissing",
            LoadReason::EnvVarMissing { .. } => "EnvVarMissing",
            LoadReason::SecretFileUnreadable { .. } => "SecretFileUnreadable",
            LoadReason::Unsupported { .. } => "Unsupported",
            LoadReason::UnknownTools { .. } => "UnknownTools",
            LoadReason::NotInProcess { .. } => "ToolsNotAvailableInProcess",
            LoadReason::Unreachable { .. } => "MCPServerUnreachable",
            LoadReason::Cycle { .. } => "AgentToolCycle",
            LoadReason::Template { .. } => "TemplateError",
            LoadReason::Provider { .. } => "ModelProviderError",
            LoadReason::Tools { .. } => "ToolsError",
            LoadReason::Build { .. } => "BuildError",
            LoadReason::Source { .. } => "SourceError",
        }
    }
}

/// One failure: the object, the field in it, and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub struct LoadError {
    /// The object whose field is at fault (`Agent kagent/k8s-agent`).
    pub object: ObjectRef,
    /// The field, e.g. `spec.declarative.tools[1].mcpServer.toolNames`.
    pub path: FieldPath,
    /// Where the object was read from (`agent.yaml, document 1 (line 1)`), when known.
    pub origin: Option<String>,
    /// What is wrong.
    #[source]
    pub reason: LoadReason,
}

impl LoadError {
    /// An error about `path` in `object`.
    pub fn new(object: ObjectRef, path: FieldPath, reason: LoadReason) -> Self {
        LoadError {
            object,
            path,
            origin: None,
            reason,
        }
    }

    /// Sets where the object was read from.
    #[must_use]
    pub fn with_origin(mut self, origin: Option<String>) -> Self {
        self.origin = origin;
        self
    }

    /// The reason for a status condition (see [`LoadReason::condition_reason`]).
    pub fn condition_reason(&self) -> &'static str {
        self.reason.condition_reason()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ValidationErrors already name the object and every path.
        if let LoadReason::Invalid { errors } = &self.reason {
            write!(f, "{errors}")?;
        } else if self.path.is_root() {
            write!(f, "{}: {}", self.object, self.reason)?;
        } else {
            write!(f, "{}: {}: {}", self.object, self.path, self.reason)?;
        }
        if let Some(origin) = &self.origin {
            write!(f, " [{origin}]")?;
        }
        Ok(())
    }
}

/// Every failure found while loading one agent (loading goes on past a missing server or an
/// unknown tool name, so one run reports them all).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub struct LoadErrors {
    /// The failures, in the order found. Never empty.
    pub errors: Vec<LoadError>,
}

impl LoadErrors {
    /// The first failure.
    pub fn first(&self) -> Option<&LoadError> {
        self.errors.first()
    }

    /// The failures.
    pub fn iter(&self) -> impl Iterator<Item = &LoadError> {
        self.errors.iter()
    }
}

impl From<LoadError> for LoadErrors {
    fn from(e: LoadError) -> Self {
        LoadErrors { errors: vec![e] }
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for e in many {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a source could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The Kubernetes API answered with an error or could not be reached.
    #[error("reading {kind} {namespace}/{name} from the cluster failed: {source}")]
    Kube {
        /// The kind read.
        kind: String,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Documents of a YAML stream could not be read (each with its file, document and line).
    #[error("{} could not be read:{}", origin, problems.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
    Documents {
        /// The file.
        origin: String,
        /// What is wrong with each document.
        problems: Vec<String>,
    },
    /// The same object is declared twice.
    #[error("{kind} {namespace}/{name} is declared twice: in {first} and in {second}")]
    Duplicate {
        /// Its kind.
        kind: String,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The first declaration.
        first: String,
        /// The second.
        second: String,
    },
    /// A Secret or ConfigMap document whose shape is wrong.
    #[error("{origin}: {message}")]
    Malformed {
        /// Where.
        origin: String,
        /// What is wrong (never a secret value).
        message: String,
    },
}
