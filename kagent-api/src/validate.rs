//! kagent's validation rules (its CEL rules, kubebuilder markers and the checks its controller
//! makes before running an agent), with every broken rule collected and named by field path.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_core::Resource;

use crate::agent::{
    Agent, AgentType, ByoDeploymentSpec, DeclarativeAgentSpec, DeclarativeDeploymentSpec,
    ServiceAccountConfig, Tool, ToolProviderType, ToolServerKind,
};
use crate::common::{AllowedNamespaces, FromNamespaces, GoDuration, TlsConfig, ValueRef};
use crate::error::{FieldError, ObjectRef, Reason, ValidationErrors, Warning};
use crate::model_config::{ModelConfig, ModelConfigSpec, ModelProvider, TokenExchangeType};
use crate::model_provider_config::ModelProviderConfig;
use crate::path::FieldPath;
use crate::remote_mcp_server::RemoteMCPServer;

/// Fields whose value was unreadable (already reported while decoding): rules that depend on
/// them are skipped so one mistake gives one error, not a cascade.
#[derive(Debug, Clone, Default)]
pub struct Unreadable(BTreeSet<String>);

impl Unreadable {
    /// Nothing unreadable.
    pub fn none() -> Self {
        Unreadable::default()
    }

    pub(crate) fn from_errors(errors: &[FieldError]) -> Self {
        Unreadable(errors.iter().map(|e| e.path.to_string()).collect())
    }

    fn has(&self, path: &FieldPath) -> bool {
        self.0.contains(&path.to_string())
    }
}

/// A resource that can check itself against kagent's rules.
pub trait Validate: Resource<DynamicType = ()> + Sized {
    /// Every broken rule, given which fields could not be read at all.
    fn field_errors_with(&self, unreadable: &Unreadable) -> Vec<FieldError>;

    /// Legal declarations that are likely mistakes.
    fn advice(&self) -> Vec<Warning> {
        Vec::new()
    }

    /// Every broken rule.
    fn field_errors(&self) -> Vec<FieldError> {
        self.field_errors_with(&Unreadable::none())
    }

    /// `Ok` when no rule is broken; otherwise all broken rules with the object they belong to.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let errors = self.field_errors();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                object: object_ref(self),
                errors,
            })
        }
    }
}

pub(crate) fn object_ref<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectRef {
    ObjectRef::new(
        K::api_version(&()),
        K::kind(&()),
        obj.meta().namespace.clone(),
        obj.meta().name.clone(),
    )
}

/// Collects errors under a base path.
struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn new() -> Self {
        Check { errors: Vec::new() }
    }

    fn push(&mut self, path: FieldPath, reason: Reason) {
        self.errors.push(FieldError::new(path, reason));
    }

    fn required(&mut self, path: FieldPath, hint: impl Into<String>) {
        self.push(path, Reason::Required { hint: hint.into() });
    }

    fn required_str(&mut self, value: &str, path: FieldPath, hint: &str) {
        if value.trim().is_empty() {
            self.required(path, hint);
        }
    }

    fn max_items<T>(&mut self, list: &[T], max: usize, path: FieldPath) {
        if list.len() > max {
            self.push(
                path,
                Reason::TooMany {
                    max,
                    found: list.len(),
                },
            );
        }
    }

    fn max_len(&mut self, value: &str, max: usize, path: FieldPath) {
        let n = value.chars().count();
        if n > max {
            self.push(path, Reason::TooLong { max, found: n });
        }
    }

    fn minimum(&mut self, value: Option<i64>, min: i64, path: FieldPath) {
        if let Some(v) = value
            && v < min
        {
            self.push(path, Reason::BelowMinimum { min, found: v });
        }
    }

    fn exclusive(&mut self, path: FieldPath, other: FieldPath, hint: &str) {
        self.push(
            path,
            Reason::MutuallyExclusive {
                other: other.to_string(),
                hint: hint.to_string(),
            },
        );
    }

    fn uri(&mut self, value: Option<&str>, path: FieldPath) {
        if let Some(v) = value
            && !is_absolute_uri(v)
        {
            self.push(
                path,
                Reason::Malformed {
                    value: v.to_string(),
                    expected: "an absolute URI (scheme://host/...)".into(),
                },
            );
        }
    }

    fn duration(&mut self, value: Option<&GoDuration>, path: FieldPath) {
        if let Some(d) = value
            && let Err(e) = d.to_duration()
        {
            self.push(
                path,
                Reason::Malformed {
                    value: e.text,
                    expected: format!("a duration ({}; e.g. `30s`, `5m0s`)", e.problem),
                },
            );
        }
    }

    fn decimal(&mut self, value: Option<&str>, path: FieldPath) {
        if let Some(v) = value
            && v.trim().parse::<f64>().is_err()
        {
            self.push(
                path,
                Reason::Malformed {
                    value: v.to_string(),
                    expected: "a decimal number such as \"0.7\" (kagent would ignore it silently)"
                        .into(),
                },
            );
        }
    }

    fn value_refs(&mut self, refs: &[ValueRef], path: &FieldPath) {
        for (i, r) in refs.iter().enumerate() {
            let p = path.index(i);
            self.required_str(&r.name, p.field("name"), "the header name");
            match (&r.value, &r.value_from) {
                (Some(_), Some(_)) => self.exclusive(
                    p.field("value"),
                    p.field("valueFrom"),
                    "exactly one of value or valueFrom must be specified",
                ),
                (None, None) => self.required(
                    p.field("value"),
                    "exactly one of value (inline) or valueFrom (a ConfigMap or Secret key) must be specified",
                ),
                _ => {}
            }
            if let Some(from) = &r.value_from {
                let fp = p.field("valueFrom");
                self.required_str(&from.name, fp.field("name"), "the ConfigMap or Secret name");
                self.required_str(&from.key, fp.field("key"), "the key holding the value");
                self.max_len(&from.name, 253, fp.field("name"));
                self.max_len(&from.key, 253, fp.field("key"));
            }
        }
    }

    fn allowed_namespaces(&mut self, an: Option<&AllowedNamespaces>, path: FieldPath) {
        if let Some(an) = an
            && an.from == FromNamespaces::Selector
            && an.selector.is_none()
        {
            self.required(
                path.field("selector"),
                "selector must be specified when from is Selector",
            );
        }
    }

    fn tls(&mut self, tls: Option<&TlsConfig>, path: FieldPath) {
        let Some(t) = tls else { return };
        let has_ref = t
            .ca_cert_secret_ref
            .as_deref()
            .is_some_and(|s| !s.is_empty());
        let has_key = t
            .ca_cert_secret_key
            .as_deref()
            .is_some_and(|s| !s.is_empty());
        if has_key && !has_ref {
            self.required(
                path.field("caCertSecretRef"),
                "caCertSecretKey requires caCertSecretRef (the Secret holding the CA bundle)",
            );
        }
        if has_ref && !has_key {
            self.required(
                path.field("caCertSecretKey"),
                "caCertSecretRef requires caCertSecretKey (the key in the Secret holding the PEM data)",
            );
        }
        if t.disable_system_cas && !t.disable_verify && !has_ref {
            self.push(
                path.field("disableSystemCAs"),
                Reason::NotAllowed {
                    hint: "disableSystemCAs requires caCertSecretRef or disableVerify (trusting nothing rejects every server)".into(),
                },
            );
        }
    }

    fn metadata(&mut self, meta: &ObjectMeta) {
        let p = FieldPath::root().field("metadata");
        match meta.name.as_deref() {
            None | Some("") => self.required(p.field("name"), "every resource needs a name"),
            Some(name) => {
                if !is_dns1123_subdomain(name) {
                    self.push(
                        p.field("name"),
                        Reason::Malformed {
                            value: name.to_string(),
                            expected: "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters, starting and ending alphanumeric)".into(),
                        },
                    );
                }
            }
        }
        if let Some(ns) = meta.namespace.as_deref()
            && !ns.is_empty()
            && !is_dns1123_label(ns)
        {
            self.push(
                p.field("namespace"),
                Reason::Malformed {
                    value: ns.to_string(),
                    expected: "a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)".into(),
                },
            );
        }
    }
}

fn is_absolute_uri(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Kubernetes' DNS-1123 subdomain: object names.
pub(crate) fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label_part)
}

/// Kubernetes' DNS-1123 label: namespace names.
pub(crate) fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && is_dns1123_label_part(s)
}

fn is_dns1123_label_part(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A `namespace/name` or `name` reference, as v1alpha1 wrote `modelConfig` and kagent's
/// `ParseRefString` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespacedName {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

/// Parses `name` or `namespace/name`, with `default_namespace` for the first form.
pub fn parse_ref(reference: &str, default_namespace: &str) -> Result<NamespacedName, Reason> {
    let malformed = |expected: &str| Reason::Malformed {
        value: reference.to_string(),
        expected: expected.to_string(),
    };
    match reference.split_once('/') {
        None => {
            if !is_dns1123_subdomain(reference) {
                return Err(malformed("a name (a DNS-1123 subdomain) or namespace/name"));
            }
            Ok(NamespacedName {
                namespace: default_namespace.to_string(),
                name: reference.to_string(),
            })
        }
        Some((ns, name)) => {
            if name.contains('/') {
                return Err(malformed("`name` or `namespace/name` (at most one slash)"));
            }
            if !is_dns1123_label(ns) || !is_dns1123_subdomain(name) {
                return Err(malformed(
                    "namespace/name with a non-empty DNS-1123 namespace and name",
                ));
            }
            Ok(NamespacedName {
                namespace: ns.to_string(),
                name: name.to_string(),
            })
        }
    }
}

impl DeclarativeAgentSpec {
    /// The ModelConfig this agent uses: `modelConfig` in the Agent's namespace, or the
    /// namespace given by the v1alpha1 form `namespace/name`.
    pub fn model_config_ref(&self, agent_namespace: &str) -> Result<NamespacedName, FieldError> {
        let path = FieldPath::root()
            .field("spec")
            .field("declarative")
            .field("modelConfig");
        match self.model_config.as_deref() {
            None | Some("") => Err(FieldError::new(path, model_config_required())),
            Some(r) => {
                parse_ref(r, agent_namespace).map_err(|reason| FieldError::new(path, reason))
            }
        }
    }
}

fn model_config_required() -> Reason {
    Reason::Required {
        hint: "name the ModelConfig this agent uses (kagent's controller cannot resolve an empty name; its installation calls its default `default-model-config`)".into(),
    }
}

impl Validate for Agent {
    fn field_errors_with(&self, unreadable: &Unreadable) -> Vec<FieldError> {
        let mut c = Check::new();
        c.metadata(&self.metadata);
        let sp = FieldPath::root().field("spec");
        let spec = &self.spec;
        let type_known = !unreadable.has(&sp.field("type"));
        if type_known {
            match spec.type_ {
                AgentType::Declarative if spec.declarative.is_none() => c.required(
                    sp.field("declarative"),
                    "a Declarative agent needs spec.declarative (modelConfig, systemMessage, tools)",
                ),
                AgentType::Byo if spec.byo.is_none() => c.required(
                    sp.field("byo"),
                    "a BYO agent needs spec.byo.deployment.image (an image serving A2A on port 8080)",
                ),
                _ => {}
            }
        }
        c.uri(spec.icon_url.as_deref(), sp.field("iconUrl"));
        c.uri(
            spec.documentation_url.as_deref(),
            sp.field("documentationUrl"),
        );
        if let Some(p) = &spec.provider {
            let pp = sp.field("provider");
            c.required_str(
                &p.organization,
                pp.field("organization"),
                "the organization's name",
            );
            if p.url.is_empty() {
                c.required(pp.field("url"), "the organization's website");
            } else {
                c.uri(Some(&p.url), pp.field("url"));
            }
        }
        if let Some(skills) = &spec.skills {
            let kp = sp.field("skills");
            if skills.refs.is_empty() && skills.git_refs.is_empty() && skills.s3_refs.is_empty() {
                c.required(
                    kp.field("refs"),
                    "at least one of refs, gitRefs or s3Refs must list a skill source",
                );
            }
            c.max_items(&skills.refs, 20, kp.field("refs"));
            c.max_items(&skills.git_refs, 20, kp.field("gitRefs"));
            c.max_items(&skills.s3_refs, 20, kp.field("s3Refs"));
            c.max_items(&skills.image_pull_secrets, 20, kp.field("imagePullSecrets"));
            for (i, g) in skills.git_refs.iter().enumerate() {
                c.required_str(
                    &g.url,
                    kp.field("gitRefs").index(i).field("url"),
                    "the repository URL",
                );
            }
            for (i, s) in skills.s3_refs.iter().enumerate() {
                let p = kp.field("s3Refs").index(i).field("uri");
                if s.uri.is_empty() {
                    c.required(p, "an s3://bucket/key URI");
                } else if s.uri.strip_prefix("s3://").is_none_or(str::is_empty) {
                    c.push(
                        p,
                        Reason::Malformed {
                            value: s.uri.clone(),
                            expected: "an s3://bucket/key URI".into(),
                        },
                    );
                }
            }
        }
        c.allowed_namespaces(
            spec.allowed_namespaces.as_ref(),
            sp.field("allowedNamespaces"),
        );
        if let Some(byo) = &spec.byo {
            let bp = sp.field("byo");
            if type_known && spec.type_ == AgentType::Byo {
                match &byo.deployment {
                    Some(ByoDeploymentSpec { image: Some(i), .. }) if !i.trim().is_empty() => {}
                    _ => c.required(
                        bp.field("deployment").field("image"),
                        "a BYO agent runs this container image, which must serve A2A on port 8080",
                    ),
                }
            }
            if let Some(d) = &byo.deployment {
                deployment_account(
                    &mut c,
                    d.service_account_name.as_deref(),
                    d.service_account_config.as_ref(),
                    bp.field("deployment"),
                );
            }
        }
        if let Some(decl) = &spec.declarative {
            declarative(&mut c, self, decl, &sp.field("declarative"), unreadable);
        }
        c.errors
    }

    fn advice(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        let sp = FieldPath::root().field("spec");
        match self.spec.type_ {
            AgentType::Declarative if self.spec.byo.is_some() => out.push(Warning::ignored(
                sp.field("byo"),
                "spec.type is Declarative, so kagent does not use spec.byo",
            )),
            AgentType::Byo if self.spec.declarative.is_some() => out.push(Warning::ignored(
                sp.field("declarative"),
                "spec.type is BYO, so kagent does not use spec.declarative",
            )),
            _ => {}
        }
        if let Some(decl) = &self.spec.declarative {
            let dp = sp.field("declarative");
            if decl
                .system_message
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
                && decl.system_message_from.is_none()
            {
                out.push(Warning::advice(
                    dp.field("systemMessage"),
                    "the agent has no system message (neither systemMessage nor systemMessageFrom); it runs without instructions",
                ));
            }
            let templated = decl
                .prompt_template
                .as_ref()
                .is_some_and(|t| !t.data_sources.is_empty());
            if !templated && !decl.prompt_includes().is_empty() {
                out.push(Warning::advice(
                    dp.field("systemMessage"),
                    "contains {{include ...}} directives but promptTemplate.dataSources is empty, so kagent sends them to the model as literal text",
                ));
            }
            if let Some(mc) = decl.model_config.as_deref()
                && let Some((ns, _)) = mc.split_once('/')
                && self.metadata.namespace.as_deref() != Some(ns)
            {
                out.push(Warning::advice(
                    dp.field("modelConfig"),
                    format!("`{mc}` names a ModelConfig in namespace {ns}: kagent-rs resolves it there, but kagent's v1alpha2 controller only looks in the Agent's own namespace"),
                ));
            }
        }
        out
    }
}

fn deployment_account(
    c: &mut Check,
    name: Option<&str>,
    config: Option<&ServiceAccountConfig>,
    path: FieldPath,
) {
    if name.is_some() && config.is_some() {
        c.exclusive(
            path.field("serviceAccountConfig"),
            path.field("serviceAccountName"),
            "use an existing ServiceAccount (serviceAccountName) or configure the one kagent creates (serviceAccountConfig), not both",
        );
    }
}

fn declarative(
    c: &mut Check,
    agent: &Agent,
    decl: &DeclarativeAgentSpec,
    dp: &FieldPath,
    unreadable: &Unreadable,
) {
    if decl.system_message.is_some() && decl.system_message_from.is_some() {
        c.exclusive(
            dp.field("systemMessageFrom"),
            dp.field("systemMessage"),
            "give the system message inline (systemMessage) or from a ConfigMap/Secret (systemMessageFrom), not both",
        );
    }
    if let Some(from) = &decl.system_message_from {
        let fp = dp.field("systemMessageFrom");
        c.required_str(&from.name, fp.field("name"), "the ConfigMap or Secret name");
        c.required_str(
            &from.key,
            fp.field("key"),
            "the key holding the system message",
        );
        c.max_len(&from.name, 253, fp.field("name"));
        c.max_len(&from.key, 253, fp.field("key"));
    }
    match decl.model_config.as_deref() {
        None | Some("") => c.push(dp.field("modelConfig"), model_config_required()),
        Some(r) => {
            if let Err(reason) = parse_ref(r, "default") {
                c.push(dp.field("modelConfig"), reason);
            }
        }
    }
    if let Some(t) = &decl.prompt_template {
        let tp = dp.field("promptTemplate").field("dataSources");
        c.max_items(&t.data_sources, 20, tp.clone());
        let mut seen = BTreeSet::new();
        for (i, s) in t.data_sources.iter().enumerate() {
            let p = tp.index(i);
            c.required_str(
                &s.name,
                p.field("name"),
                "the ConfigMap holding the prompt fragments",
            );
            if let Some(kind) = s.kind.as_deref()
                && !kind.is_empty()
                && kind != "ConfigMap"
            {
                c.push(
                    p.field("kind"),
                    Reason::UnknownValue {
                        value: kind.to_string(),
                        allowed: vec!["ConfigMap".into()],
                    },
                );
            }
            let id = s
                .alias
                .as_deref()
                .filter(|a| !a.is_empty())
                .unwrap_or(&s.name);
            if !id.is_empty() && !seen.insert(id.to_string()) {
                c.push(
                    p,
                    Reason::NotAllowed {
                        hint: format!("a second data source is identified as `{id}`; give one of them a different alias"),
                    },
                );
            }
        }
        if !t.data_sources.is_empty() {
            let declared: Vec<String> = decl
                .prompt_source_identifiers()
                .into_iter()
                .map(str::to_string)
                .collect();
            for inc in decl.prompt_includes() {
                if !declared.contains(&inc.source) {
                    c.push(
                        dp.field("systemMessage"),
                        Reason::UnknownPromptSource {
                            include: inc.path.clone(),
                            source_name: inc.source.clone(),
                            declared: declared.clone(),
                        },
                    );
                }
            }
        }
    }
    let tools_path = dp.field("tools");
    c.max_items(&decl.tools, 20, tools_path.clone());
    for (i, tool) in decl.tools.iter().enumerate() {
        self_tool(c, agent, tool, &tools_path.index(i), unreadable);
    }
    if let Some(a2a) = &decl.a2a_config {
        let sp = dp.field("a2aConfig").field("skills");
        if a2a.skills.is_empty() {
            c.push(sp.clone(), Reason::TooFew { min: 1, found: 0 });
        }
        for (i, s) in a2a.skills.iter().enumerate() {
            let p = sp.index(i);
            c.required_str(&s.name, p.field("name"), "a human-readable skill name");
            c.max_items(&s.tags, 20, p.field("tags"));
            c.max_items(&s.examples, 20, p.field("examples"));
        }
    }
    if let Some(m) = &decl.memory {
        let mp = dp.field("memory");
        c.required_str(
            &m.model_config,
            mp.field("modelConfig"),
            "the ModelConfig whose embedding model makes the memory vectors",
        );
        c.minimum(m.ttl_days, 1, mp.field("ttlDays"));
    }
    if let Some(comp) = decl.context.as_ref().and_then(|x| x.compaction.as_ref()) {
        let cp = dp.field("context").field("compaction");
        c.minimum(
            Some(comp.compaction_interval),
            1,
            cp.field("compactionInterval"),
        );
        c.minimum(Some(comp.overlap_size), 0, cp.field("overlapSize"));
    }
    if let Some(DeclarativeDeploymentSpec {
        service_account_name,
        service_account_config,
        ..
    }) = &decl.deployment
    {
        deployment_account(
            c,
            service_account_name.as_deref(),
            service_account_config.as_ref(),
            dp.field("deployment"),
        );
    }
}

fn self_tool(c: &mut Check, agent: &Agent, tool: &Tool, tp: &FieldPath, unreadable: &Unreadable) {
    let type_known = !unreadable.has(&tp.field("type"));
    match tool.type_ {
        None if type_known => c.required(
            tp.field("type"),
            "McpServer (with an mcpServer block) or Agent (with an agent block)",
        ),
        Some(ToolProviderType::McpServer) => {
            if tool.mcp_server.is_none() {
                c.required(
                    tp.field("mcpServer"),
                    "a tool of type McpServer needs mcpServer: {name, kind, toolNames}",
                );
            }
            if tool.agent.is_some() {
                c.push(
                    tp.field("agent"),
                    Reason::NotAllowed {
                        hint: "agent is only allowed when type is Agent".into(),
                    },
                );
            }
            if tool.isolate_sessions.is_some() {
                c.push(
                    tp.field("isolateSessions"),
                    Reason::NotAllowed {
                        hint: "isolateSessions can only be set when type is Agent".into(),
                    },
                );
            }
        }
        Some(ToolProviderType::Agent) => {
            if tool.agent.is_none() {
                c.required(
                    tp.field("agent"),
                    "a tool of type Agent needs agent: {name} (another Agent)",
                );
            }
            if tool.mcp_server.is_some() {
                c.push(
                    tp.field("mcpServer"),
                    Reason::NotAllowed {
                        hint: "mcpServer is only allowed when type is McpServer".into(),
                    },
                );
            }
        }
        None => {}
    }
    c.value_refs(&tool.headers_from, &tp.field("headersFrom"));
    if let Some(m) = &tool.mcp_server {
        let mp = tp.field("mcpServer");
        c.required_str(
            &m.name,
            mp.field("name"),
            "the name of the RemoteMCPServer (or MCPServer, Service)",
        );
        if let ToolServerKind::Unknown { api_group, kind } = m.target() {
            c.push(
                mp.field("kind"),
                Reason::UnknownValue {
                    value: if api_group.is_empty() {
                        kind
                    } else {
                        format!("{api_group}/{kind}")
                    },
                    allowed: vec![
                        "kagent.dev/RemoteMCPServer".into(),
                        "kagent.dev/MCPServer".into(),
                        "Service".into(),
                    ],
                },
            );
        }
        c.max_items(&m.tool_names, 50, mp.field("toolNames"));
        c.max_items(&m.require_approval, 50, mp.field("requireApproval"));
        for (j, name) in m.tool_names.iter().enumerate() {
            if name.trim().is_empty() {
                c.required(mp.field("toolNames").index(j), "a tool name");
            }
        }
        for (j, name) in m.require_approval.iter().enumerate() {
            if !m.tool_names.iter().any(|t| t == name) {
                c.push(
                    mp.field("requireApproval").index(j),
                    Reason::NotInToolNames { tool: name.clone() },
                );
            }
        }
    }
    if let Some(a) = &tool.agent {
        let ap = tp.field("agent");
        c.required_str(&a.name, ap.field("name"), "the name of the Agent to call");
        let kind = a.kind.as_deref().unwrap_or("");
        if !matches!(kind, "" | "Agent" | "SandboxAgent") {
            c.push(
                ap.field("kind"),
                Reason::UnknownValue {
                    value: kind.to_string(),
                    allowed: vec!["Agent".into(), "SandboxAgent".into()],
                },
            );
        }
        let own_ns = agent.metadata.namespace.as_deref().unwrap_or("");
        if matches!(kind, "" | "Agent")
            && agent.metadata.name.as_deref() == Some(a.name.as_str())
            && a.namespace_or(own_ns) == own_ns
        {
            c.push(ap.field("name"), Reason::SelfReference);
        }
    }
}

impl Validate for ModelConfig {
    fn field_errors_with(&self, unreadable: &Unreadable) -> Vec<FieldError> {
        let mut c = Check::new();
        c.metadata(&self.metadata);
        let sp = FieldPath::root().field("spec");
        let s = &self.spec;
        c.required_str(
            &s.model,
            sp.field("model"),
            "the model name, e.g. claude-sonnet-4-20250514 or gpt-4.1-mini",
        );
        if !unreadable.has(&sp.field("provider")) {
            provider_blocks(&mut c, s, &sp);
            credentials(&mut c, s, &sp);
        }
        if let Some(o) = &s.open_ai {
            let op = sp.field("openAI");
            if o.max_tokens.is_some() && o.max_completion_tokens.is_some() {
                c.exclusive(
                    op.field("maxCompletionTokens"),
                    op.field("maxTokens"),
                    "reasoning models (GPT-5, o-series) take maxCompletionTokens, older models maxTokens; set one",
                );
            }
            c.minimum(o.max_tokens, 1, op.field("maxTokens"));
            c.minimum(o.max_completion_tokens, 1, op.field("maxCompletionTokens"));
            for (f, v) in [
                ("temperature", &o.temperature),
                ("topP", &o.top_p),
                ("frequencyPenalty", &o.frequency_penalty),
                ("presencePenalty", &o.presence_penalty),
            ] {
                c.decimal(v.as_deref(), op.field(f));
            }
            if let Some(te) = &o.token_exchange {
                let tp = op.field("tokenExchange");
                if s.api_key_secret.as_deref().is_none_or(str::is_empty) {
                    c.required(
                        sp.field("apiKeySecret"),
                        "openAI.tokenExchange requires apiKeySecret (the service account secret)",
                    );
                }
                if s.api_key_passthrough {
                    c.exclusive(
                        tp.clone(),
                        sp.field("apiKeyPassthrough"),
                        "token exchange acquires its own bearer token; turn apiKeyPassthrough off",
                    );
                }
                if te.type_ == TokenExchangeType::GDCHServiceAccount {
                    match &te.gdch_service_account {
                        None => c.required(
                            tp.field("gdchServiceAccount"),
                            "type GDCHServiceAccount requires gdchServiceAccount: {audience}",
                        ),
                        Some(g) => c.required_str(
                            &g.audience,
                            tp.field("gdchServiceAccount").field("audience"),
                            "the GDC inference gateway base URL",
                        ),
                    }
                }
            }
        }
        if let Some(a) = &s.anthropic {
            let ap = sp.field("anthropic");
            c.decimal(a.temperature.as_deref(), ap.field("temperature"));
            c.decimal(a.top_p.as_deref(), ap.field("topP"));
        }
        if let Some(a) = &s.azure_open_ai {
            let ap = sp.field("azureOpenAI");
            c.required_str(
                &a.endpoint,
                ap.field("azureEndpoint"),
                "the Azure OpenAI endpoint, e.g. https://my-resource.openai.azure.com/",
            );
            c.required_str(
                &a.api_version,
                ap.field("apiVersion"),
                "the API version, e.g. 2024-10-21",
            );
            c.decimal(a.temperature.as_deref(), ap.field("temperature"));
            c.decimal(a.top_p.as_deref(), ap.field("topP"));
        }
        if let Some(g) = &s.gemini {
            c.minimum(
                g.max_output_tokens,
                1,
                sp.field("gemini").field("maxOutputTokens"),
            );
        }
        for (block, project, location, temp, top_p, top_k) in [
            s.gemini_vertex_ai.as_ref().map(|v| {
                (
                    "geminiVertexAI",
                    &v.project_id,
                    &v.location,
                    &v.temperature,
                    &v.top_p,
                    &v.top_k,
                )
            }),
            s.anthropic_vertex_ai.as_ref().map(|v| {
                (
                    "anthropicVertexAI",
                    &v.project_id,
                    &v.location,
                    &v.temperature,
                    &v.top_p,
                    &v.top_k,
                )
            }),
        ]
        .into_iter()
        .flatten()
        {
            let bp = sp.field(block);
            c.required_str(
                project,
                bp.field("projectID"),
                "the Google Cloud project ID",
            );
            c.required_str(
                location,
                bp.field("location"),
                "the Google Cloud location, e.g. us-central1",
            );
            c.decimal(temp.as_deref(), bp.field("temperature"));
            c.decimal(top_p.as_deref(), bp.field("topP"));
            c.decimal(top_k.as_deref(), bp.field("topK"));
        }
        if let Some(v) = &s.gemini_vertex_ai {
            c.minimum(
                v.max_output_tokens,
                1,
                sp.field("geminiVertexAI").field("maxOutputTokens"),
            );
        }
        if let Some(b) = &s.bedrock {
            let bp = sp.field("bedrock");
            c.required_str(
                &b.region,
                bp.field("region"),
                "the AWS region, e.g. us-east-1",
            );
            c.minimum(b.read_timeout, 1, bp.field("readTimeout"));
            c.minimum(b.connect_timeout, 1, bp.field("connectTimeout"));
            if let Some(g) = &b.guardrail {
                let gp = bp.field("guardrail");
                c.required_str(
                    &g.identifier,
                    gp.field("identifier"),
                    "the guardrail ID or ARN",
                );
                c.max_len(&g.identifier, 2048, gp.field("identifier"));
                c.required_str(
                    &g.version,
                    gp.field("version"),
                    "the guardrail version, e.g. \"1\" or DRAFT",
                );
                c.max_len(&g.version, 8, gp.field("version"));
            }
        }
        if let Some(sap) = &s.sap_ai_core {
            c.required_str(
                &sap.base_url,
                sp.field("sapAICore").field("baseUrl"),
                "the SAP AI Core API URL",
            );
        }
        if let Some(f) = &s.foundry {
            let fp = sp.field("foundry");
            let has_endpoint = f.endpoint.as_deref().is_some_and(|e| !e.is_empty());
            if has_endpoint && f.endpoint_from.is_some() {
                c.exclusive(
                    fp.field("endpointFrom"),
                    fp.field("endpoint"),
                    "give the endpoint inline or from a ConfigMap key, not both",
                );
            }
            if !has_endpoint && f.endpoint_from.is_none() {
                c.required(
                    fp.field("endpoint"),
                    "foundry.endpoint or foundry.endpointFrom is required",
                );
            }
            c.required_str(
                &f.deployment,
                fp.field("deployment"),
                "the Foundry model deployment name",
            );
        }
        c.tls(s.tls.as_ref(), sp.field("tls"));
        c.errors
    }
}

fn provider_blocks(c: &mut Check, s: &ModelConfigSpec, sp: &FieldPath) {
    let present = s.present_blocks();
    for block in &present {
        if *block != s.provider {
            c.push(
                sp.field(block.block_name()),
                Reason::ProviderBlockMismatch {
                    provider: s.provider.to_string(),
                    block_provider: block.to_string(),
                },
            );
        }
    }
    if s.provider.requires_block() && !present.contains(&s.provider) {
        c.required(
            sp.field(s.provider.block_name()),
            format!(
                "provider {} needs its settings block `{}` ({})",
                s.provider,
                s.provider.block_name(),
                match s.provider {
                    ModelProvider::AzureOpenAI => "azureEndpoint, apiVersion",
                    ModelProvider::GeminiVertexAI | ModelProvider::AnthropicVertexAI =>
                        "projectID, location",
                    ModelProvider::Bedrock => "region",
                    ModelProvider::SAPAICore => "baseUrl",
                    _ => "endpoint, deployment",
                }
            ),
        );
    }
}

fn credentials(c: &mut Check, s: &ModelConfigSpec, sp: &FieldPath) {
    let has_secret = s.api_key_secret.as_deref().is_some_and(|v| !v.is_empty());
    let has_key = s
        .api_key_secret_key
        .as_deref()
        .is_some_and(|v| !v.is_empty());
    if has_key && !has_secret {
        c.required(
            sp.field("apiKeySecret"),
            "apiKeySecretKey names a key, but apiKeySecret (the Secret holding it) is missing",
        );
    }
    if has_secret
        && !has_key
        && !matches!(
            s.provider,
            ModelProvider::Bedrock | ModelProvider::SAPAICore
        )
    {
        c.required(
            sp.field("apiKeySecretKey"),
            "the key in apiKeySecret that holds the API key",
        );
    }
    if s.api_key_passthrough && has_secret {
        c.exclusive(
            sp.field("apiKeyPassthrough"),
            sp.field("apiKeySecret"),
            "the key comes from the caller's bearer token (apiKeyPassthrough) or from a Secret, not both",
        );
    }
    if s.api_key_passthrough
        && matches!(
            s.provider,
            ModelProvider::Gemini
                | ModelProvider::GeminiVertexAI
                | ModelProvider::AnthropicVertexAI
        )
    {
        c.push(
            sp.field("apiKeyPassthrough"),
            Reason::NotAllowed {
                hint: format!(
                    "provider {} does not take a bearer token as its API key",
                    s.provider
                ),
            },
        );
    }
}

impl Validate for RemoteMCPServer {
    fn field_errors_with(&self, _: &Unreadable) -> Vec<FieldError> {
        let mut c = Check::new();
        c.metadata(&self.metadata);
        let sp = FieldPath::root().field("spec");
        let s = &self.spec;
        c.required_str(
            &s.description,
            sp.field("description"),
            "a short description of the server's tools",
        );
        c.required_str(
            &s.url,
            sp.field("url"),
            "the server's URL, e.g. http://kagent-tools.kagent:8084/mcp",
        );
        if s.url.starts_with("http://") && s.tls.is_some() {
            c.push(
                sp.field("tls"),
                Reason::NotAllowed {
                    hint: "spec.tls must be unset when spec.url has the http:// scheme; drop spec.tls or use https://".into(),
                },
            );
        }
        let cross_ns = s
            .allowed_namespaces
            .as_ref()
            .is_some_and(|a| matches!(a.from, FromNamespaces::All | FromNamespaces::Selector));
        let pinned_ca = s
            .tls
            .as_ref()
            .and_then(|t| t.ca_cert_secret_ref.as_deref())
            .is_some_and(|r| !r.is_empty());
        if cross_ns && pinned_ca {
            c.exclusive(
                sp.field("allowedNamespaces").field("from"),
                sp.field("tls").field("caCertSecretRef"),
                "a pinned CA Secret is mounted into the consuming agent's namespace, so a CA-pinning server cannot be shared across namespaces; use from: Same or drop the CA Secret",
            );
        }
        c.value_refs(&s.headers_from, &sp.field("headersFrom"));
        c.duration(s.timeout.as_ref(), sp.field("timeout"));
        c.duration(s.sse_read_timeout.as_ref(), sp.field("sseReadTimeout"));
        c.allowed_namespaces(s.allowed_namespaces.as_ref(), sp.field("allowedNamespaces"));
        c.tls(s.tls.as_ref(), sp.field("tls"));
        c.errors
    }
}

impl Validate for ModelProviderConfig {
    fn field_errors_with(&self, unreadable: &Unreadable) -> Vec<FieldError> {
        let mut c = Check::new();
        c.metadata(&self.metadata);
        let sp = FieldPath::root().field("spec");
        let s = &self.spec;
        if let Some(e) = s.endpoint.as_deref()
            && !e.is_empty()
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            c.push(
                sp.field("endpoint"),
                Reason::Malformed {
                    value: e.to_string(),
                    expected: "a URL starting with http:// or https://".into(),
                },
            );
        }
        if !unreadable.has(&sp.field("type"))
            && s.requires_secret()
            && s.secret_ref.as_ref().is_none_or(|r| r.name.is_empty())
        {
            c.required(
                sp.field("secretRef").field("name"),
                format!(
                    "provider {} needs a Secret with its API key (only Ollama works without)",
                    s.type_
                ),
            );
        }
        c.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_parse_like_kagent() {
        assert_eq!(
            parse_ref("mc", "kagent").unwrap(),
            NamespacedName {
                namespace: "kagent".into(),
                name: "mc".into()
            }
        );
        assert_eq!(parse_ref("team/mc", "kagent").unwrap().namespace, "team");
        assert!(parse_ref("a/b/c", "x").is_err());
        assert!(parse_ref("/mc", "x").is_err());
        assert!(parse_ref("ns/", "x").is_err());
        assert!(parse_ref("Bad_Name", "x").is_err());
    }

    #[test]
    fn dns_names() {
        assert!(is_dns1123_subdomain("k8s-agent"));
        assert!(is_dns1123_subdomain("a.b-c"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(!is_dns1123_subdomain("A"));
        assert!(!is_dns1123_subdomain(""));
        assert!(is_dns1123_label("kagent"));
        assert!(!is_dns1123_label("a.b"));
    }

    #[test]
    fn uris() {
        assert!(is_absolute_uri("https://kagent.dev/icon.png"));
        assert!(is_absolute_uri("mailto:x@y"));
        assert!(!is_absolute_uri("kagent.dev/icon.png"));
        assert!(!is_absolute_uri("https://a b"));
    }
}
