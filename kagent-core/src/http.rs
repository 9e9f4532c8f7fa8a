//! Building a `reqwest` client from [`TlsOptions`] (feature `http`).
//!
//! This is the one place in the workspace that turns TLS settings into a client:
//! kagent-llm (model providers), kagent-mcp (remote MCP servers) and kagent-tools (Prometheus,
//! Grafana, ...) all start from [`client_builder`] and add their own settings (timeouts,
//! pooling, redirects). kagent-core itself never sends a request: the feature only adds this
//! builder and the `reqwest` dependency.
//!
//! ```
//! use kagent_core::TlsOptions;
//! use std::time::Duration;
//!
//! let client = kagent_core::http::client_builder(&TlsOptions::default())?
//!     .connect_timeout(Duration::from_secs(5))
//!     .build()
//!     .map_err(|source| kagent_core::http::HttpClientError::Build { source })?;
//! # let _ = client;
//! # Ok::<(), kagent_core::http::HttpClientError>(())
//! ```

use secrecy::ExposeSecret;

use crate::tls::TlsOptions;

/// Why TLS settings could not be turned into an HTTP client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The CA bundle is not valid PEM.
    #[error("invalid CA certificate PEM")]
    CaCert {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The CA bundle holds no certificate.
    #[error("the CA certificate PEM holds no certificate")]
    NoCaCert,
    /// The client identity is not a valid PEM certificate and key.
    #[error("invalid client identity PEM (expected a certificate and its private key)")]
    Identity {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// `disable_system_cas` without a CA bundle (and with verification on) would trust nothing.
    #[error(
        "disable_system_cas needs ca_cert_pem (or insecure_skip_verify): no certificate would be trusted"
    )]
    NoRoots,
    /// reqwest refused the settings when building the client.
    #[error("could not build the HTTP client")]
    Build {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
}

/// A `reqwest::ClientBuilder` with `tls` applied and reqwest's other defaults unchanged.
///
/// Callers add what their protocol needs (connect timeout, pooling, redirect policy, default
/// headers) and build it.
pub fn client_builder(tls: &TlsOptions) -> Result<reqwest::ClientBuilder, HttpClientError> {
    apply_tls(reqwest::Client::builder(), tls)
}

/// Applies `tls` to an existing builder: extra CA certificates (merged with the system roots,
/// or alone with `disable_system_cas`), the client identity, and `insecure_skip_verify`
/// (logged as a warning).
pub fn apply_tls(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsOptions,
) -> Result<reqwest::ClientBuilder, HttpClientError> {
    match &tls.ca_cert_pem {
        Some(pem) => {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|source| HttpClientError::CaCert { source })?;
            if certs.is_empty() {
                return Err(HttpClientError::NoCaCert);
            }
            builder = if tls.disable_system_cas {
                builder.tls_certs_only(certs)
            } else {
                builder.tls_certs_merge(certs)
            };
        }
        None if tls.disable_system_cas && !tls.insecure_skip_verify => {
            return Err(HttpClientError::NoRoots);
        }
        None => {}
    }
    if let Some(pem) = &tls.client_identity_pem {
        let identity = reqwest::Identity::from_pem(pem.expose_secret().as_bytes())
            .map_err(|source| HttpClientError::Identity { source })?;
        builder = builder.identity(identity);
    }
    if tls.insecure_skip_verify {
        tracing::warn!("TLS certificate verification is disabled for an HTTP client");
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(tls: &TlsOptions) -> Result<reqwest::Client, HttpClientError> {
        client_builder(tls)?
            .build()
            .map_err(|source| HttpClientError::Build { source })
    }

    /// A self-signed CA certificate (no key is kept anywhere).
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBiDCCAS+gAwIBAgIUTXJsPbYktNVgrSuuCu9BG68QZqQwCgYIKoZIzj0EAwIw\nGTEXMBUGA1UEAwwOa2FnZW50LXRlc3QtY2EwIBcNMjYxMjA1MDcyNjM4WhgPMjEy\nNjExMTEwNzI2MzhaMBkxFzAVBgNVBAMMDmthZ2VudC10ZXN0LWNhMFkwEwYHKoZI\nzj0CAQYIKoZIzj0DAQcDQgAEVbD01SWmkNshX8v5eodvWqEEVwh1Qpy/ctqlTPAH\nLESoadRO6cHj9LuEFEqEJfuMXIATG9nMXTsh69n2oamnkaNTMFEwHQYDVR0OBBYE\nFHvSz4ztrL3BoEYL1UPVtQflBjEvMB8GA1UdIwQYMBaAFHvSz4ztrL3BoEYL1UPV\ntQflBjEvMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgf5n+YJFI\nTk4y7oeIWqHNfaWS7ZsqMiItrbsZpyF5GF4CICZBFBM7j18hMkjHb5LwNemf4QTt\n98t0vxLRNm19ZlC7\n-----END CERTIFICATE-----";

    #[test]
    fn defaults_and_a_valid_ca_build() {
        assert!(build(&TlsOptions::default()).is_ok());
        assert!(build(&TlsOptions::default().with_ca_cert_pem(TEST_CA)).is_ok());
        assert!(
            build(
                &TlsOptions::default()
                    .with_ca_cert_pem(TEST_CA)
                    .with_disable_system_cas(true)
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_tls_settings_are_typed_errors() {
        assert!(matches!(
            build(&TlsOptions::default().with_disable_system_cas(true)),
            Err(HttpClientError::NoRoots)
        ));
        // Trusting nothing is allowed when nothing is verified.
        assert!(
            build(
                &TlsOptions::default()
                    .with_disable_system_cas(true)
                    .with_insecure_skip_verify(true)
            )
            .is_ok()
        );
        assert!(matches!(
            build(&TlsOptions::default().with_ca_cert_pem("not a pem")),
            Err(HttpClientError::NoCaCert | HttpClientError::CaCert { .. })
        ));
        assert!(matches!(
            build(&TlsOptions::default().with_client_identity_pem("not a pem")),
            Err(HttpClientError::Identity { .. })
        ));
    }
}
