//! TLS settings for the HTTP clients of model providers, MCP servers and ops tools.
//!
//! [`TlsOptions`] is plain data (no I/O here), read from configuration with serde. Turning it
//! into a `reqwest` client builder is `kagent_core::http::client_builder`, behind the `http`
//! feature.
//!
//! ```
//! use kagent_core::TlsOptions;
//!
//! // From YAML/JSON; kagent's spellings (`disableVerify`, `disableSystemCAs`) are accepted too.
//! let tls: TlsOptions = serde_json::from_value(serde_json::json!({
//!     "caCertPem": "-----BEGIN CERTIFICATE-----\n...",
//!     "disableSystemCAs": true,
//! }))?;
//! assert!(tls.disable_system_cas && !tls.insecure_skip_verify);
//!
//! // In code:
//! let tls = TlsOptions::default().with_ca_cert_pem("-----BEGIN CERTIFICATE-----\n...");
//! # let _ = tls;
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;

/// TLS settings for an HTTPS client.
///
/// Only `Deserialize` is derived: the client identity holds a private key, which is never
/// written back out. `Debug` shows the PEM lengths, never their content.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Accept any server certificate. Development only. (kagent's `disableVerify`.)
    #[serde(alias = "disableVerify")]
    pub insecure_skip_verify: bool,
    /// Extra trusted CA certificates, PEM (one or more).
    pub ca_cert_pem: Option<String>,
    /// Trust only [`ca_cert_pem`](Self::ca_cert_pem), not the system roots. (kagent's
    /// `disableSystemCAs`.)
    #[serde(alias = "disableSystemCAs")]
    pub disable_system_cas: bool,
    /// Client certificate and private key for mutual TLS, PEM, both in one buffer.
    pub client_identity_pem: Option<SecretString>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field(
                "ca_cert_pem_len",
                &self.ca_cert_pem.as_ref().map(String::len),
            )
            .field("disable_system_cas", &self.disable_system_cas)
            .field("client_identity_pem", &self.client_identity_pem.is_some())
            .finish()
    }
}

impl TlsOptions {
    /// Accepts any server certificate when `on`. Development only.
    #[must_use]
    pub fn with_insecure_skip_verify(mut self, on: bool) -> Self {
        self.insecure_skip_verify = on;
        self
    }

    /// Trusts these CA certificates (PEM, one or more) in addition to the system roots.
    #[must_use]
    pub fn with_ca_cert_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_cert_pem = Some(pem.into());
        self
    }

    /// Trusts only the configured CA certificates when `on`.
    #[must_use]
    pub fn with_disable_system_cas(mut self, on: bool) -> Self {
        self.disable_system_cas = on;
        self
    }

    /// Presents this client certificate and key (PEM, both in one buffer) for mutual TLS.
    #[must_use]
    pub fn with_client_identity_pem(mut self, pem: impl Into<SecretString>) -> Self {
        self.client_identity_pem = Some(pem.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_spellings_and_hides_the_key() {
        let t: TlsOptions = serde_json::from_value(serde_json::json!({
            "disableVerify": true, "disableSystemCAs": true,
            "clientIdentityPem": "-----BEGIN PRIVATE KEY-----secret"
        }))
        .unwrap();
        assert!(t.insecure_skip_verify && t.disable_system_cas);
        let t2: TlsOptions = serde_json::from_value(serde_json::json!({
            "insecureSkipVerify": true, "disableSystemCas": true, "caCertPem": "pem"
        }))
        .unwrap();
        assert!(t2.insecure_skip_verify && t2.disable_system_cas);
        assert_eq!(t2.ca_cert_pem.as_deref(), Some("pem"));
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
        let unknown: Result<TlsOptions, _> =
            serde_json::from_value(serde_json::json!({"disableVerify": "yes"}));
        assert!(unknown.is_err());
    }
}
