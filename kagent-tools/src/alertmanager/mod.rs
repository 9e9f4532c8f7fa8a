//! Alertmanager tools (API v2): list alerts and silences, create and expire silences (with dry-run
//! previews), and their builder.

pub mod client;
mod tools;

use std::sync::Arc;
use std::time::Duration;

use kagent_core::{IntoTool, TlsOptions, ToolEffect, Toolset};
use secrecy::SecretString;

use crate::common::{Auth, BuildError, EndpointBuilder};

pub use client::{AlertFilter, AlertmanagerClient, Matcher, NewSilence};
pub use tools::{CreateSilence, ExpireSilence, ListAlerts, ListSilences};

/// Every Alertmanager tool, with its effect, in registration order.
pub const TOOLS: &[(&str, ToolEffect)] = &[
    ("alertmanager_list_alerts", ToolEffect::ReadOnly),
    ("alertmanager_list_silences", ToolEffect::ReadOnly),
    ("alertmanager_create_silence", ToolEffect::Mutating),
    ("alertmanager_expire_silence", ToolEffect::Mutating),
];

/// Settings shared by the Alertmanager tools.
pub(crate) struct Shared {
    pub(crate) client: AlertmanagerClient,
    pub(crate) max_output_chars: usize,
    pub(crate) max_rows: usize,
    pub(crate) creator: String,
    pub(crate) default_duration: f64,
    pub(crate) max_duration: f64,
}

impl Shared {
    pub(crate) fn bound(&self, text: String, how: &str) -> String {
        crate::common::bound_text(text, self.max_output_chars, how)
    }
}

/// Entry point: `AlertmanagerTools::builder(url)...build()` gives a [`Toolset`].
#[derive(Debug, Clone, Copy)]
pub struct AlertmanagerTools;

impl AlertmanagerTools {
    /// A builder for the tools of the Alertmanager at `url` (`http://alertmanager:9093`).
    pub fn builder(url: impl Into<String>) -> AlertmanagerToolsBuilder {
        AlertmanagerToolsBuilder {
            endpoint: EndpointBuilder::new("Alertmanager", url),
            read_only: false,
            max_output_chars: 20_000,
            max_rows: 100,
            creator: "kagent".to_owned(),
            default_duration: 3600.0,
            max_duration: 7.0 * 86_400.0,
        }
    }

    /// The names of every tool, in registration order.
    pub fn tool_names() -> impl Iterator<Item = &'static str> {
        TOOLS.iter().map(|(n, _)| *n)
    }
}

/// Configures the Alertmanager tools. See [`AlertmanagerTools::builder`].
pub struct AlertmanagerToolsBuilder {
    endpoint: EndpointBuilder,
    read_only: bool,
    max_output_chars: usize,
    max_rows: usize,
    creator: String,
    default_duration: f64,
    max_duration: f64,
}

impl std::fmt::Debug for AlertmanagerToolsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerToolsBuilder")
            .field("endpoint", &self.endpoint)
            .field("read_only", &self.read_only)
            .field("creator", &self.creator)
            .field("max_duration", &self.max_duration)
            .finish_non_exhaustive()
    }
}

impl AlertmanagerToolsBuilder {
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

    /// An extra header on every request (treated as a secret).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.endpoint.header(name, value);
        self
    }

    /// Time limit of one request. Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.timeout(timeout);
        self
    }

    /// Registers only the read-only tools (no create or expire). Default: false.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// `createdBy` of silences when the call names no creator; the calling agent's name is
    /// appended (`kagent/<agent>`). Default: `kagent`.
    pub fn silence_creator(mut self, creator: impl Into<String>) -> Self {
        self.creator = creator.into();
        self
    }

    /// Duration of a silence when the call gives none. Default: 1 h.
    pub fn default_silence_duration(mut self, d: Duration) -> Self {
        self.default_duration = d.as_secs_f64().max(1.0);
        self
    }

    /// Longest silence a call may create. Default: 7 days.
    pub fn max_silence_duration(mut self, d: Duration) -> Self {
        self.max_duration = d.as_secs_f64().max(1.0);
        self
    }

    /// Upper bound on the characters of one result. Default: 20 000.
    pub fn max_output_chars(mut self, max: usize) -> Self {
        self.max_output_chars = max.max(1_000);
        self
    }

    /// Alerts or silences one result lists. Default: 100.
    pub fn max_rows(mut self, max: usize) -> Self {
        self.max_rows = max.max(1);
        self
    }

    /// An [`AlertmanagerClient`] with these settings, for direct use.
    pub fn build_client(self) -> Result<AlertmanagerClient, BuildError> {
        Ok(AlertmanagerClient::new(self.endpoint.build()?))
    }

    /// Builds the toolset.
    pub fn build(self) -> Result<Toolset, BuildError> {
        let read_only = self.read_only;
        let s = Arc::new(Shared {
            client: AlertmanagerClient::new(self.endpoint.build()?),
            max_output_chars: self.max_output_chars,
            max_rows: self.max_rows,
            creator: self.creator,
            default_duration: self.default_duration,
            max_duration: self.max_duration,
        });
        let mut set = Toolset::new();
        set.add(ListAlerts(s.clone()).into_tool()?)?;
        set.add(ListSilences(s.clone()).into_tool()?)?;
        if !read_only {
            set.add(CreateSilence(s.clone()).into_tool()?)?;
            set.add(ExpireSilence(s).into_tool()?)?;
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_mode_leaves_the_writes_out() {
        let all = AlertmanagerTools::builder("http://127.0.0.1:9")
            .build()
            .unwrap();
        assert_eq!(
            all.names().collect::<Vec<_>>(),
            AlertmanagerTools::tool_names().collect::<Vec<_>>()
        );
        for (name, effect) in TOOLS {
            assert_eq!(all.get(name).unwrap().spec().effect, *effect);
        }
        let ro = AlertmanagerTools::builder("http://127.0.0.1:9")
            .read_only(true)
            .build()
            .unwrap();
        assert_eq!(
            ro.names().collect::<Vec<_>>(),
            ["alertmanager_list_alerts", "alertmanager_list_silences"]
        );
    }
}
