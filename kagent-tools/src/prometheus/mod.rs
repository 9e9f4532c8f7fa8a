//! Prometheus tools (kagent's tool server names and arguments) and their builder.

pub mod client;
mod promql;
pub mod render;
mod tools;

use std::sync::Arc;
use std::time::Duration;

use kagent_core::{IntoTool, ModelProvider, TlsOptions, ToolEffect, Toolset};
use secrecy::SecretString;

use crate::common::{Auth, BuildError, EndpointBuilder, HttpToolError};

pub use client::PrometheusClient;
pub use promql::{PromqlAnalysis, analyze_promql};
pub use tools::{
    GeneratePromql, PromAlerts, PromLabelNames, PromLabelValues, PromMetricMetadata, PromQuery,
    PromQueryRange, PromRules, PromSeries, PromTargets, PromTsdbStatus,
};

/// Every Prometheus tool, with its effect, in registration order (`prometheus_query` is the
/// alias of `prometheus_query_tool`, registered unless turned off).
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("prometheus_query_tool", ToolEffect::ReadOnly),
    ("prometheus_query", ToolEffect::ReadOnly),
    ("prometheus_query_range_tool", ToolEffect::ReadOnly),
    ("prometheus_label_names_tool", ToolEffect::ReadOnly),
    ("prometheus_label_values_tool", ToolEffect::ReadOnly),
    ("prometheus_series_tool", ToolEffect::ReadOnly),
    ("prometheus_metric_metadata_tool", ToolEffect::ReadOnly),
    ("prometheus_targets_tool", ToolEffect::ReadOnly),
    ("prometheus_alerts_tool", ToolEffect::ReadOnly),
    ("prometheus_rules_tool", ToolEffect::ReadOnly),
    ("prometheus_tsdb_status_tool", ToolEffect::ReadOnly),
    ("prometheus_promql_tool", ToolEffect::ReadOnly),
];

/// Settings shared by the Prometheus tools.
pub(crate) struct Shared {
    pub(crate) client: PrometheusClient,
    pub(crate) max_output_chars: usize,
    pub(crate) max_series: usize,
    pub(crate) default_step: f64,
    pub(crate) default_range: f64,
    pub(crate) max_points: f64,
    pub(crate) model: Option<Arc<dyn ModelProvider>>,
    pub(crate) model_name: Option<String>,
}

impl Shared {
    /// Accepts kagent's `prometheus_url` argument only when it names the configured server.
    pub(crate) fn check_url(&self, given: &Option<String>) -> Result<(), HttpToolError> {
        match crate::family::non_empty(given) {
            None => Ok(()),
            Some(url) if self.client.endpoint().same_url(url) => Ok(()),
            Some(url) => Err(HttpToolError::UrlMismatch {
                argument: "prometheus_url",
                service: "Prometheus",
                given: url.to_owned(),
                configured: self.client.endpoint().display_url(),
            }),
        }
    }

    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        crate::common::bound_text(text, self.max_output_chars, how)
    }
}

/// Entry point: `PrometheusTools::builder(url)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct PrometheusTools;

impl PrometheusTools {
    /// A builder for the tools of the Prometheus at `url` (`http://prometheus:9090`, or a
    /// path prefix such as `https://thanos.example/prometheus`).
    pub fn builder(url: impl Into<String>) -> PrometheusToolsBuilder {
        PrometheusToolsBuilder {
            endpoint: EndpointBuilder::new("Prometheus", url),
            read_only: false,
            alias: true,
            max_output_chars: 20_000,
            max_series: 50,
            default_step: 15.0,
            default_range: 3600.0,
            max_points: 11_000.0,
            model: None,
            model_name: None,
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the Prometheus tools. See [`PrometheusTools::builder`].
pub struct PrometheusToolsBuilder {
    endpoint: EndpointBuilder,
    read_only: bool,
    alias: bool,
    max_output_chars: usize,
    max_series: usize,
    default_step: f64,
    default_range: f64,
    max_points: f64,
    model: Option<Arc<dyn ModelProvider>>,
    model_name: Option<String>,
}

impl std::fmt::Debug for PrometheusToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusToolsBuilder")
            .field("endpoint", &self.endpoint)
            .field("read_only", &self.read_only)
            .field("alias", &self.alias)
            .field("max_output_chars", &self.max_output_chars)
            .field("max_series", &self.max_series)
            .field("has_model", &self.model.is_some())
            .finish_non_exhaustive()
    }
}

impl PrometheusToolsBuilder {
    /// The embedder's HTTP client (its TLS configuration, proxy and pooling are used as they
    /// are). Default: a client built from [`tls`](Self::tls), or a new `reqwest::Client`
    /// (rustls with aws-lc-rs, the platform's roots) when no TLS options are given.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.client(client);
        self
    }

    /// TLS for the client the builder makes: extra CA certificates (`with_ca_cert_pem`),
    /// trusting only them (`with_disable_system_cas`), a client certificate for mutual TLS
    /// (`with_client_identity_pem`). Built by [`kagent_core::http::client_builder`]; not
    /// combinable with [`http_client`](Self::http_client) (a [`BuildError::TlsWithClient`]).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.endpoint.tls(tls);
        self
    }

    /// `Authorization: Bearer <token>` on every request.
    pub fn bearer_token(mut self, token: impl Into<SecretString>) -> Self {
        self.endpoint.auth(Auth::Bearer(token.into()));
        self
    }

    /// HTTP basic authentication on every request.
    pub fn basic_auth(
        mut self,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        self.endpoint.auth(Auth::Basic {
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// An extra header on every request (`X-Scope-OrgID` for Mimir, Cortex and Thanos
    /// tenants, an API-gateway key, ...). Values are treated as secrets.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.endpoint.header(name, value);
        self
    }

    /// Time limit of one request. Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.timeout(timeout);
        self
    }

    /// Read-only mode. Every Prometheus tool only reads, so this registers the same tools; it
    /// exists so every family's builder takes the same switch.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Whether to register `prometheus_query` as an alias of `prometheus_query_tool` (the name
    /// the article this SDK follows gives its agent). Default: true.
    pub fn query_alias(mut self, enabled: bool) -> Self {
        self.alias = enabled;
        self
    }

    /// The model `prometheus_promql_tool` writes PromQL with (normally the agent's own).
    pub fn model(mut self, provider: Arc<dyn ModelProvider>) -> Self {
        self.model = Some(provider);
        self
    }

    /// Model name recorded on the PromQL generation request's span.
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.model_name = Some(name.into());
        self
    }

    /// Upper bound on the characters of one result; longer output is cut with a note.
    /// Default: 20 000.
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.max_output_chars = max.max(1_000);
        self
    }

    /// Rows (series) a query result shows unless the call asks for another `limit`.
    /// Default: 50.
    pub fn max_series(mut self, max: usize) -> Self {
        self.max_series = max.max(1);
        self
    }

    /// Step of a range query that gives none. Default: 15 s (kagent's).
    pub fn default_step(mut self, step: Duration) -> Self {
        self.default_step = step.as_secs_f64().max(0.001);
        self
    }

    /// Range of a range query that gives no start. Default: 1 h.
    pub fn default_range(mut self, range: Duration) -> Self {
        self.default_range = range.as_secs_f64().max(1.0);
        self
    }

    /// A [`PrometheusClient`] with these settings, for direct use.
    pub fn build_client(self) -> Result<PrometheusClient, BuildError> {
        Ok(PrometheusClient::new(self.endpoint.build()?))
    }

    /// Builds the toolset.
    pub fn build(self) -> Result<Toolset, BuildError> {
        let alias = self.alias;
        let s = Arc::new(Shared {
            client: PrometheusClient::new(self.endpoint.build()?),
            max_output_chars: self.max_output_chars,
            max_series: self.max_series,
            default_step: self.default_step,
            default_range: self.default_range,
            max_points: self.max_points,
            model: self.model,
            model_name: self.model_name,
        });
        let mut set = Toolset::new();
        set.add(PromQuery::named(s.clone(), tools::QUERY_TOOL).into_tool()?)?;
        if alias {
            set.add(PromQuery::named(s.clone(), tools::QUERY_ALIAS).into_tool()?)?;
        }
        set.add(PromQueryRange(s.clone()).into_tool()?)?;
        set.add(PromLabelNames(s.clone()).into_tool()?)?;
        set.add(PromLabelValues(s.clone()).into_tool()?)?;
        set.add(PromSeries(s.clone()).into_tool()?)?;
        set.add(PromMetricMetadata(s.clone()).into_tool()?)?;
        set.add(PromTargets(s.clone()).into_tool()?)?;
        set.add(PromAlerts(s.clone()).into_tool()?)?;
        set.add(PromRules(s.clone()).into_tool()?)?;
        set.add(PromTsdbStatus(s.clone()).into_tool()?)?;
        set.add(GeneratePromql(s).into_tool()?)?;
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_is_registered_under_its_name() {
        let set = PrometheusTools::builder("http://127.0.0.1:9")
            .build()
            .unwrap();
        let names: Vec<&str> = set.names().collect();
        let want: Vec<&str> = PrometheusTools::tool_names().collect();
        assert_eq!(names, want);
        for (name, effect) in TOOLS {
            kagent_core::validate_tool_name(name).unwrap();
            assert_eq!(set.get(name).unwrap().spec().effect, *effect);
        }
        let no_alias = PrometheusTools::builder("http://127.0.0.1:9")
            .query_alias(false)
            .build()
            .unwrap();
        assert!(!no_alias.contains("prometheus_query"));
        assert!(no_alias.contains("prometheus_query_tool"));
    }

    #[test]
    fn kagent_argument_names_are_in_the_schemas() {
        let set = PrometheusTools::builder("http://127.0.0.1:9")
            .build()
            .unwrap();
        let props = |tool: &str| set.get(tool).unwrap().spec().input_schema["properties"].clone();
        for tool in ["prometheus_query_tool", "prometheus_query"] {
            let p = props(tool);
            assert!(
                p.get("query").is_some() && p.get("prometheus_url").is_some(),
                "{p}"
            );
        }
        let r = props("prometheus_query_range_tool");
        for arg in ["query", "start", "end", "step", "prometheus_url"] {
            assert!(r.get(arg).is_some(), "{arg}: {r}");
        }
        assert!(
            props("prometheus_label_names_tool")
                .get("prometheus_url")
                .is_some()
        );
        assert!(
            props("prometheus_targets_tool")
                .get("prometheus_url")
                .is_some()
        );
        assert!(
            props("prometheus_promql_tool")
                .get("query_description")
                .is_some()
        );
    }

    #[test]
    fn bad_urls_fail_the_build() {
        assert!(matches!(
            PrometheusTools::builder("localhost:9090").build(),
            Err(BuildError::InvalidUrl { .. })
        ));
    }
}
