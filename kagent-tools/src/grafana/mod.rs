//! Grafana tools: the ones kagent's observability agent uses from grafana's MCP server (same
//! names and arguments), natively over Grafana's HTTP API with a service-account token.

mod tools;

use std::sync::Arc;
use std::time::Duration;

use kagent_core::{IntoTool, TlsOptions, ToolEffect, Toolset};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::common::{Auth, BuildError, Endpoint, EndpointBuilder, HttpToolError};

pub use tools::{
    GetAlertRuleByUid, GetDashboardByUid, GetDashboardPanelQueries, GetDatasource, ListAlertRules,
    ListDatasources, QueryLokiLogs, QueryPrometheus, SearchDashboards,
};

/// Every Grafana tool, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("search_dashboards", ToolEffect::ReadOnly),
    ("get_dashboard_by_uid", ToolEffect::ReadOnly),
    ("get_dashboard_panel_queries", ToolEffect::ReadOnly),
    ("list_datasources", ToolEffect::ReadOnly),
    ("get_datasource", ToolEffect::ReadOnly),
    ("query_prometheus", ToolEffect::ReadOnly),
    ("query_loki_logs", ToolEffect::ReadOnly),
    ("list_alert_rules", ToolEffect::ReadOnly),
    ("get_alert_rule_by_uid", ToolEffect::ReadOnly),
];

/// Grafana's error bodies: `{"message": "...", "traceID": ...}` or text.
pub(crate) fn api_error(service: &'static str, status: u16, body: &[u8]) -> HttpToolError {
    crate::prometheus::client::api_error(service, status, body)
}

/// Settings shared by the Grafana tools.
pub(crate) struct Shared {
    pub(crate) endpoint: Endpoint,
    pub(crate) max_output_chars: usize,
    pub(crate) max_series: usize,
}

impl Shared {
    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        crate::common::bound_text(text, self.max_output_chars, how)
    }

    /// GETs a Grafana API path; 404 becomes [`HttpToolError::NotFound`] with `not_found`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        not_found: impl FnOnce() -> String,
    ) -> Result<T, HttpToolError> {
        match self
            .endpoint
            .get_json(path, query.iter().map(|(k, v)| (*k, v.as_str())), api_error)
            .await
        {
            Err(HttpToolError::Api {
                status: 404,
                message,
                ..
            }) => Err(HttpToolError::NotFound {
                message: format!("{} (Grafana: {message})", not_found()),
            }),
            other => other,
        }
    }
}

/// Entry point: `GrafanaTools::builder(url).service_account_token(token)...build()` gives a
/// [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct GrafanaTools;

impl GrafanaTools {
    /// A builder for the tools of the Grafana at `url` (`https://grafana.example.com`, or with
    /// a sub-path when Grafana is served under one).
    pub fn builder(url: impl Into<String>) -> GrafanaToolsBuilder {
        GrafanaToolsBuilder {
            endpoint: EndpointBuilder::new("Grafana", url),
            max_output_chars: 20_000,
            max_series: 50,
            read_only: false,
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the Grafana tools. See [`GrafanaTools::builder`].
pub struct GrafanaToolsBuilder {
    endpoint: EndpointBuilder,
    max_output_chars: usize,
    max_series: usize,
    read_only: bool,
}

impl std::fmt::Debug for GrafanaToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrafanaToolsBuilder")
            .field("endpoint", &self.endpoint)
            .field("read_only", &self.read_only)
            .field("max_output_chars", &self.max_output_chars)
            .field("max_series", &self.max_series)
            .finish()
    }
}

impl GrafanaToolsBuilder {
    /// A service-account token (`glsa_...`), sent as `Authorization: Bearer`.
    pub fn service_account_token(mut self, token: impl Into<SecretString>) -> Self {
        self.endpoint.auth(Auth::Bearer(token.into()));
        self
    }

    /// HTTP basic authentication instead of a token.
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

    /// The organization (`X-Grafana-Org-Id`) when the token's default is not the one wanted.
    pub fn org_id(mut self, org_id: u64) -> Self {
        self.endpoint.header("X-Grafana-Org-Id", org_id.to_string());
        self
    }

    /// An extra header on every request (treated as a secret).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.endpoint.header(name, value);
        self
    }

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

    /// Time limit of one request. Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.timeout(timeout);
        self
    }

    /// Read-only mode. Every Grafana tool here only reads, so this registers the same tools; it
    /// exists so every family's builder takes the same switch.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Upper bound on the characters of one result. Default: 20 000.
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.max_output_chars = max.max(1_000);
        self
    }

    /// Rows (series) a `query_prometheus` result shows. Default: 50.
    pub fn max_series(mut self, max: usize) -> Self {
        self.max_series = max.max(1);
        self
    }

    /// Builds the toolset.
    pub fn build(self) -> Result<Toolset, BuildError> {
        let s = Arc::new(Shared {
            endpoint: self.endpoint.build()?,
            max_output_chars: self.max_output_chars,
            max_series: self.max_series,
        });
        let mut set = Toolset::new();
        set.add(SearchDashboards(s.clone()).into_tool()?)?;
        set.add(GetDashboardByUid(s.clone()).into_tool()?)?;
        set.add(GetDashboardPanelQueries(s.clone()).into_tool()?)?;
        set.add(ListDatasources(s.clone()).into_tool()?)?;
        set.add(GetDatasource(s.clone()).into_tool()?)?;
        set.add(QueryPrometheus(s.clone()).into_tool()?)?;
        set.add(QueryLokiLogs(s.clone()).into_tool()?)?;
        set.add(ListAlertRules(s.clone()).into_tool()?)?;
        set.add(GetAlertRuleByUid(s).into_tool()?)?;
        Ok(set)
    }
}
