//! Model-driven agents and the LLM judge: the only place this crate uses kagent-llm.
//!
//! A model comes from a kagent `ModelConfig` spec (YAML or JSON; `kagent_llm::config`) whose key
//! is in the file (`apiKey`) or in the environment (`KAGENT_API_KEY`, or the provider's usual
//! variable: `OPENAI_API_KEY`, `AZURE_OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kagent_core::{LlmAgent, ModelProvider, ReactPlanner};
use kagent_k8s::K8sTools;
use kagent_llm::{ModelConfig, ProviderKind};

use crate::agent::{AgentAnswer, Claim, EvalAgent, ScenarioEnv, agent_err, run_llm_agent};
use crate::error::{EvalError, Result, io_err};

/// The environment variable that may hold a key for any provider.
pub const KEY_ENV: &str = "KAGENT_API_KEY";

fn provider_key_env(p: ProviderKind) -> Option<&'static str> {
    match p {
        ProviderKind::OpenAI => Some("OPENAI_API_KEY"),
        ProviderKind::AzureOpenAI => Some("AZURE_OPENAI_API_KEY"),
        ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
        ProviderKind::Gemini => Some("GEMINI_API_KEY"),
        _ => None,
    }
}

/// A model ready to use: its provider and a name for reports.
#[derive(Clone)]
pub struct Model {
    /// The provider.
    pub provider: Arc<dyn ModelProvider>,
    /// `provider/model` for reports.
    pub label: String,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("label", &self.label).finish()
    }
}

impl Model {
    /// Reads a `ModelConfig` spec from `path`, takes the key from the file or the environment,
    /// and builds the provider. Fails with [`EvalError::ModelNotConfigured`] (naming the variable
    /// to set) when the provider needs a key and none is configured.
    pub fn from_config_file(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        Model::from_config_text(&path.display().to_string(), &text, |k| {
            std::env::var(k).ok()
        })
    }

    /// Like [`Model::from_config_file`] on the text of a spec, or of a whole `ModelConfig`
    /// resource (`apiVersion: kagent.dev/v1alpha2`, `kind: ModelConfig`, its `spec` is used);
    /// `env` looks up variables.
    pub fn from_config_text(
        origin: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Model> {
        let bad_yaml = |e: serde_yaml::Error| EvalError::ModelConfig {
            path: origin.to_owned(),
            message: e.to_string(),
        };
        let mut doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(bad_yaml)?;
        if doc.get("kind").and_then(serde_yaml::Value::as_str) == Some("ModelConfig") {
            doc = doc
                .get("spec")
                .cloned()
                .ok_or_else(|| EvalError::ModelConfig {
                    path: origin.to_owned(),
                    message: "the ModelConfig resource has no spec".to_owned(),
                })?;
        }
        let mut config: ModelConfig = serde_yaml::from_value(doc).map_err(bad_yaml)?;
        if config.api_key().is_none() {
            let var = provider_key_env(config.provider);
            let key = env(KEY_ENV).or_else(|| var.and_then(&env));
            match key {
                Some(k) => config = config.with_api_key(k),
                None if var.is_some() && config.base_url.is_none() => {
                    let secret = config
                        .api_key_secret
                        .as_deref()
                        .map(|s| format!(" (its apiKeySecret {s} is a Kubernetes Secret, which the runner does not read)"))
                        .unwrap_or_default();
                    return Err(EvalError::ModelNotConfigured {
                        message: format!(
                            "{origin} sets provider {} without apiKey{secret}; set {KEY_ENV} or {} (or apiKey in the file) to run the model agent",
                            config.provider,
                            var.unwrap_or(KEY_ENV)
                        ),
                    });
                }
                None => {}
            }
        }
        let label = format!("{}/{}", config.provider, config.model);
        let bad = |e: kagent_llm::ConfigError| EvalError::ModelConfig {
            path: origin.to_owned(),
            message: e.to_string(),
        };
        let http = config.build_client().map_err(bad)?;
        let provider = kagent_llm::build_provider(&config, http).map_err(bad)?;
        Ok(Model { provider, label })
    }
}

/// The system prompt of [`ModelAgent`]. The `Findings:` list at the end lets the scorer count
/// false alarms without a judge.
pub const MODEL_AGENT_PROMPT: &str = "You are a Kubernetes SRE investigating a problem. Start with k8s_diagnose, \
then confirm with k8s_describe_resource, k8s_get_pod_logs, k8s_get_events and k8s_get_resources. Follow the \
evidence across objects (a Service to its pods and their ports, an environment variable to its ConfigMap or \
Secret, a ReplicaSet's events, the scheduler's message to nodes and taints). Diagnose only: do not change \
anything. Answer with the root cause first, then the evidence (quote log lines and events), then the fix you \
propose. End your answer with a section `Findings:` listing every object you consider broken, one per line as \
`- Kind/name: cause`.";

/// A ReAct agent driven by a real model, with every Kubernetes tool offered (mutating ones too,
/// so that a forbidden action shows; with no approver configured the engine rejects them
/// before they run).
#[derive(Debug, Clone)]
pub struct ModelAgent {
    model: Model,
    timeout: Duration,
}

impl ModelAgent {
    /// An agent on `model`; each scenario may take `timeout`.
    pub fn new(model: Model, timeout: Duration) -> Self {
        ModelAgent { model, timeout }
    }
}

#[async_trait::async_trait]
impl EvalAgent for ModelAgent {
    fn name(&self) -> String {
        format!("model:{}", self.model.label)
    }

    async fn answer(&self, env: &ScenarioEnv<'_>) -> Result<AgentAnswer> {
        let name = self.name();
        let mut builder = K8sTools::builder(env.client.clone()).model(self.model.provider.clone());
        if let Some(ns) = &env.scenario.spec.namespace {
            builder = builder.default_namespace(ns);
        }
        let tools = builder.build().map_err(|e| agent_err(&name, e))?;
        let agent = LlmAgent::builder("troubleshooter")
            .description("Finds the root cause of a cluster problem")
            .system_prompt(MODEL_AGENT_PROMPT)
            .provider(self.model.provider.clone())
            .planner(ReactPlanner::new())
            .toolset(tools.clone())
            .build()
            .map_err(|e| agent_err(&name, e))?;
        let mut answer = run_llm_agent(agent, &tools, &env.scenario.spec.task, Some(self.timeout))
            .await
            .map_err(|message| EvalError::Agent {
                agent: name.clone(),
                message,
            })?;
        answer.claims = parse_findings(&answer.text);
        Ok(answer)
    }
}

/// The `Findings:` list at the end of a free-text answer (`- Kind/name: cause`), if any.
pub fn parse_findings(text: &str) -> Option<Vec<Claim>> {
    let mut in_section = false;
    let mut claims = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        let bare = t
            .trim_start_matches(['#', '*', ' '])
            .trim_end_matches(['*', ' ']);
        if bare.eq_ignore_ascii_case("findings:") || bare.eq_ignore_ascii_case("findings") {
            in_section = true;
            claims.clear();
            continue;
        }
        if !in_section {
            continue;
        }
        let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) else {
            continue;
        };
        let item = item.trim().trim_matches('`');
        let Some((object, cause)) = item.split_once(':') else {
            continue;
        };
        let object = object.trim().trim_matches('`');
        let Some((kind, name)) = object.split_once('/') else {
            continue;
        };
        // namespace/Kind/name is accepted too
        let (kind, name) = match name.split_once('/') {
            Some((k, n)) if kind.chars().next().is_some_and(|c| c.is_ascii_lowercase()) => (k, n),
            _ => (kind, name),
        };
        if kind.is_empty() || name.is_empty() || !kind.chars().all(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        claims.push(Claim {
            object: format!("{kind}/{name}"),
            workload: None,
            cause: cause.trim().to_owned(),
            evidence: Vec::new(),
        });
    }
    in_section.then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_parsed_from_the_end_of_an_answer() {
        let text = "The pods crash.\n\n## Findings:\n- Deployment/web: crash loop (exit 1)\n- `shop/Service/web`: no endpoints\n- not a finding\nsome prose\n";
        let claims = parse_findings(text).unwrap();
        assert_eq!(claims.len(), 2);
        assert_eq!(claims[0].object, "Deployment/web");
        assert_eq!(claims[0].cause, "crash loop (exit 1)");
        assert_eq!(claims[1].object, "Service/web");
        assert_eq!(parse_findings("no section here"), None);
        assert_eq!(parse_findings("Findings:\nnone").map(|c| c.len()), Some(0));
    }

    #[test]
    fn a_missing_key_is_a_clear_error() {
        let e =
            Model::from_config_text("m.yaml", "provider: OpenAI\nmodel: gpt-4.1-mini\n", |_| {
                None
            })
            .unwrap_err();
        assert!(matches!(e, EvalError::ModelNotConfigured { .. }), "{e}");
        assert!(e.to_string().contains("OPENAI_API_KEY"), "{e}");

        let ok =
            Model::from_config_text("m.yaml", "provider: OpenAI\nmodel: gpt-4.1-mini\n", |k| {
                (k == "OPENAI_API_KEY").then(|| "sk-test".to_owned())
            })
            .unwrap();
        assert_eq!(ok.label, "OpenAI/gpt-4.1-mini");
        assert!(!format!("{ok:?}").contains("sk-test"));

        // an OpenAI-compatible server may need no key
        Model::from_config_text(
            "m.yaml",
            "provider: OpenAI\nmodel: llama\nbaseUrl: http://127.0.0.1:1/v1\n",
            |_| None,
        )
        .unwrap();

        // a whole resource, as kagent's users keep it, is read through its spec
        let resource = "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: claude, namespace: kagent}\nspec:\n  provider: Anthropic\n  model: claude-sonnet-4-20250514\n  apiKeySecret: anthropic-key\n  apiKeySecretKey: key\n";
        let e = Model::from_config_text("r.yaml", resource, |_| None).unwrap_err();
        assert!(e.to_string().contains("ANTHROPIC_API_KEY"), "{e}");
        assert!(e.to_string().contains("apiKeySecret anthropic-key"), "{e}");
        let ok = Model::from_config_text("r.yaml", resource, |k| {
            (k == KEY_ENV).then(|| "sk-ant".to_owned())
        })
        .unwrap();
        assert_eq!(ok.label, "Anthropic/claude-sonnet-4-20250514");
        let e =
            Model::from_config_text("r.yaml", "kind: ModelConfig\nmetadata: {name: x}\n", |_| {
                None
            })
            .unwrap_err();
        assert!(e.to_string().contains("no spec"), "{e}");

        let e = Model::from_config_text("m.yaml", "provider: [", |_| None).unwrap_err();
        assert!(matches!(e, EvalError::ModelConfig { .. }), "{e}");
    }
}
