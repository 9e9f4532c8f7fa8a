//! HTTP plumbing shared by every provider: building a `reqwest::Client` from configuration,
//! sending JSON, mapping error statuses before the first byte, and turning a response body
//! into a [`ByteStream`] with an idle timeout.
//!
//! The client is always injected: providers take a `reqwest::Client` and never build one.
//! [`build_client`] is a convenience for callers that start from a [`HttpOptions`].

use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue};
use kagent_core::ProviderError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::ConfigError;
use crate::error;
use crate::framing::{ByteStream, with_idle_timeout};

/// Largest error body read before mapping an error status (the rest is ignored).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Timeouts of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// TCP + TLS connect (applied when building the client).
    pub connect: Option<Duration>,
    /// Until the response headers arrive, and for a non-streamed call the whole response.
    pub request: Option<Duration>,
    /// The longest gap between two chunks of a streamed response.
    pub stream_idle: Option<Duration>,
}

impl Timeouts {
    /// Defaults used when the configuration sets none: connect 10 s, request 600 s (long
    /// reasoning calls), stream idle 120 s.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Some(Duration::from_secs(10)),
        request: Some(Duration::from_secs(600)),
        stream_idle: Some(Duration::from_secs(120)),
    };
}

/// TLS settings for the client (kagent's `TLSConfig`, with the CA already resolved to PEM).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Extra trusted CA certificates, PEM (one or more).
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate. Development only.
    pub disable_verify: bool,
    /// Trust only `ca_pem`, not the built-in roots.
    pub disable_system_cas: bool,
}

/// Everything [`build_client`] needs.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Timeouts (only `connect` is used by the client itself).
    pub timeouts: Timeouts,
    /// TLS settings.
    pub tls: TlsOptions,
    /// Headers sent with every request (kagent's `defaultHeaders`).
    pub default_headers: HeaderMap,
}

/// Builds a `reqwest::Client` from options: connect timeout, TLS roots, default headers.
///
/// Whole-request timeouts are not set on the client because they would also cut long streams;
/// providers apply [`Timeouts::request`] and [`Timeouts::stream_idle`] per call.
pub fn build_client(options: &HttpOptions) -> Result<reqwest::Client, ConfigError> {
    let mut builder = reqwest::Client::builder().default_headers(options.default_headers.clone());
    if let Some(connect) = options.timeouts.connect {
        builder = builder.connect_timeout(connect);
    }
    let tls = &options.tls;
    if tls.disable_system_cas && tls.ca_pem.is_none() && !tls.disable_verify {
        return Err(ConfigError::InvalidValue {
            field: "tls.disableSystemCAs".into(),
            message: "disabling system CAs requires a CA certificate or disableVerify".into(),
        });
    }
    if let Some(pem) = &tls.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ConfigError::Tls {
            message: "could not parse the CA certificate PEM".into(),
            source: Some(Box::new(e)),
        })?;
        if certs.is_empty() {
            return Err(ConfigError::Tls {
                message: "the CA certificate PEM holds no certificate".into(),
                source: None,
            });
        }
        builder = if tls.disable_system_cas {
            builder.tls_certs_only(certs)
        } else {
            builder.tls_certs_merge(certs)
        };
    }
    if tls.disable_verify {
        tracing::warn!("TLS certificate verification is disabled for a model provider client");
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| ConfigError::Tls {
        message: "could not build the HTTP client".into(),
        source: Some(Box::new(e)),
    })
}

/// Parses `name: value` pairs into a header map; values of headers whose name suggests a
/// credential are marked sensitive (kept out of `Debug`).
pub fn header_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<HeaderMap, ConfigError> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| ConfigError::InvalidValue {
                field: "defaultHeaders".into(),
                message: format!("invalid header name {name:?}"),
            })?;
        let mut v = HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidValue {
            field: "defaultHeaders".into(),
            // The value may be a credential: never echo it.
            message: format!("invalid value for header {name:?}"),
        })?;
        if is_sensitive_header(header.as_str()) {
            v.set_sensitive(true);
        }
        map.append(header, v);
    }
    Ok(map)
}

/// Whether a header name usually carries a credential.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("api-key")
        || n.contains("apikey")
        || n.contains("token")
        || n.contains("secret")
        || n == "cookie"
}

/// A header value for a credential, marked sensitive. Fails (without echoing the secret) when
/// the secret contains bytes a header cannot carry.
pub fn secret_header(provider: &str, value: &str) -> Result<HeaderValue, ProviderError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| ProviderError::Configuration {
        provider: provider.to_owned(),
        message: "the credential contains characters not allowed in an HTTP header".into(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Sends a request and maps failures: connect/transport errors, a timeout until the response
/// headers, and any non-2xx status (the body is read, up to 64 KiB, and classified by
/// [`error::from_http_response`] whatever its content type).
pub async fn send(
    provider: &str,
    request: reqwest::RequestBuilder,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, ProviderError> {
    let fut = request.send();
    let result = match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => {
                return Err(ProviderError::Timeout {
                    provider: provider.to_owned(),
                    phase: "first byte".into(),
                    after: t,
                });
            }
        },
        None => fut.await,
    };
    let response = result.map_err(|e| map_send_error(provider, e, timeout))?;
    if response.status().is_success() {
        return Ok(response);
    }
    Err(error_from_response(provider, response).await)
}

fn map_send_error(provider: &str, e: reqwest::Error, timeout: Option<Duration>) -> ProviderError {
    if e.is_timeout() {
        return ProviderError::Timeout {
            provider: provider.to_owned(),
            phase: "request".into(),
            after: timeout.unwrap_or_default(),
        };
    }
    error::from_reqwest(provider, e, "sending the request")
}

/// Reads (at most 64 KiB of) an error response's body and classifies it.
pub async fn error_from_response(provider: &str, response: reqwest::Response) -> ProviderError {
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                let room = MAX_ERROR_BODY.saturating_sub(body.len());
                body.extend_from_slice(c.get(..c.len().min(room)).unwrap_or_default());
                if body.len() >= MAX_ERROR_BODY {
                    break;
                }
            }
            // A broken error body still yields a typed error from the status.
            Err(_) => break,
        }
    }
    error::from_http_response(provider, status, &headers, &body)
}

/// POSTs a JSON body with extra headers (credentials, versions) and maps failures as
/// [`send`] does.
pub async fn post_json<T: Serialize + ?Sized>(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: HeaderMap,
    body: &T,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, ProviderError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ProviderError::Decode {
        provider: provider.to_owned(),
        message: "could not encode the request body".into(),
        source: Some(Box::new(e)),
    })?;
    let request = client
        .post(url)
        .headers(headers)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes);
    send(provider, request, timeout).await
}

/// GETs a URL with extra headers and maps failures as [`send`] does.
pub async fn get(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: HeaderMap,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, ProviderError> {
    send(provider, client.get(url).headers(headers), timeout).await
}

/// Reads a whole (successful) response body as JSON. The `timeout` bounds reading the body.
pub async fn read_json<T: DeserializeOwned>(
    provider: &str,
    response: reqwest::Response,
    timeout: Option<Duration>,
) -> Result<T, ProviderError> {
    let fut = response.bytes();
    let bytes = match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ProviderError::Timeout {
                provider: provider.to_owned(),
                phase: "request".into(),
                after: t,
            })?,
        None => fut.await,
    }
    .map_err(|e| error::from_reqwest(provider, e, "reading the response"))?;
    decode_json(provider, &bytes)
}

/// Decodes JSON, mapping failures to [`ProviderError::Decode`] with a short excerpt.
pub fn decode_json<T: DeserializeOwned>(provider: &str, bytes: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(bytes).map_err(|e| ProviderError::Decode {
        provider: provider.to_owned(),
        message: format!("invalid JSON response: {e}"),
        source: Some(Box::new(e)),
    })
}

/// The response body as a [`ByteStream`]: transport errors mapped to
/// [`ProviderError::Transport`], and an idle timeout between chunks.
pub fn byte_stream(
    provider: &str,
    response: reqwest::Response,
    idle: Option<Duration>,
) -> ByteStream {
    let p = provider.to_owned();
    let bytes: ByteStream = Box::pin(
        response
            .bytes_stream()
            .map_err(move |e| error::from_reqwest(&p, e, "reading the stream")),
    );
    with_idle_timeout(provider, bytes, idle)
}

/// Joins a base URL and a path with exactly one `/` between them.
pub fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    format!("{base}/{path}")
}

/// A stream of byte chunks from memory (tests, benches, replaying recordings).
pub fn bytes_from_chunks(chunks: Vec<Bytes>) -> ByteStream {
    Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_urls() {
        assert_eq!(join_url("http://x/v1/", "/chat"), "http://x/v1/chat");
        assert_eq!(join_url("http://x/v1", "chat"), "http://x/v1/chat");
    }

    #[test]
    fn sensitive_headers_are_hidden_in_debug() {
        let map = header_map([("Authorization", "Bearer sk-secret"), ("x-trace", "1")]).unwrap();
        let dbg = format!("{map:?}");
        assert!(!dbg.contains("sk-secret"), "{dbg}");
        assert!(dbg.contains("x-trace"));
        let err = header_map([("x-api-key", "bad\nvalue-secret")]).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn tls_options_are_validated() {
        let only_system_off = HttpOptions {
            tls: TlsOptions {
                disable_system_cas: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(build_client(&only_system_off).is_err());
        let bad_pem = HttpOptions {
            tls: TlsOptions {
                ca_pem: Some(b"not a pem".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(build_client(&bad_pem).is_err());
        assert!(build_client(&HttpOptions::default()).is_ok());
        let insecure = HttpOptions {
            tls: TlsOptions {
                disable_verify: true,
                disable_system_cas: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(build_client(&insecure).is_ok());
    }
}
