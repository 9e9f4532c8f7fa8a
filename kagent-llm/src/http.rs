//! HTTP plumbing shared by every provider: sending JSON, mapping error statuses before the
//! first byte, and turning a response body into a [`ByteStream`] with an idle timeout.
//!
//! The client is always injected: providers take a `reqwest::Client` and never build one
//! ([`ModelConfig::build_client`](crate::ModelConfig::build_client) builds one from a
//! configuration, through kagent-core's shared TLS client builder).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use http::HeaderMap;
use http::HeaderValue;
use kagent_core::{ProviderError, SecretValues, TimeoutPhase};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error;
use crate::framing::{ByteStream, with_idle_timeout};

/// Largest error body read before mapping an error status (the rest is ignored).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A header value for a credential, marked sensitive. Fails (without echoing the secret) when
/// the secret contains bytes a header cannot carry.
pub(crate) fn secret_header(provider: &str, value: &str) -> Result<HeaderValue, ProviderError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        ProviderError::configuration(
            provider,
            "the credential contains characters not allowed in an HTTP header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// `Bearer {token}` as a sensitive header value.
pub(crate) fn bearer(provider: &str, token: &SecretString) -> Result<HeaderValue, ProviderError> {
    secret_header(provider, &format!("Bearer {}", token.expose_secret()))
}

/// Sends a request and maps failures: connect/transport errors, a timeout until the response
/// headers, and any non-2xx status (the body is read, up to 64 KiB, and classified by
/// [`error::from_http_response`] whatever its content type).
///
/// The provider's own credentials never come back in the error: every sensitive header value
/// the request carried (the API key, a bearer token, a credential-like default header) is
/// replaced by `[REDACTED]` in the error body before it is read (a server that echoes the key
/// it rejected, as some gateways do on 401, cannot put it into an error message).
pub(crate) async fn send(
    provider: &str,
    request: reqwest::RequestBuilder,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, ProviderError> {
    let (client, built) = request.build_split();
    let request = built.map_err(|e| error::from_reqwest(provider, e, "building the request"))?;
    let credentials = credential_values(request.headers());
    let fut = client.execute(request);
    let result = match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => {
                return Err(ProviderError::timeout(provider, TimeoutPhase::FirstByte, t));
            }
        },
        None => fut.await,
    };
    let mut response = result.map_err(|e| map_send_error(provider, e, timeout))?;
    if response.status().is_success() {
        // For the stream's in-band errors (see [`credentials_of`]).
        response.extensions_mut().insert(credentials);
        return Ok(response);
    }
    Err(error_from_response(provider, response, &credentials).await)
}

/// The credentials [`send`] found in the request a successful response answers, for the
/// stream driver to redact from in-band error events; empty for a response from elsewhere.
pub(crate) fn credentials_of(response: &reqwest::Response) -> SecretValues {
    response
        .extensions()
        .get::<SecretValues>()
        .cloned()
        .unwrap_or_default()
}

/// The credentials a request carries: the value of every header marked sensitive, and of a
/// `Scheme token` value (`Bearer ...`, `Basic ...`) the token alone. Values shorter than
/// [`SecretValues::MIN_LEN`] are not secrets worth redacting and are skipped.
pub(crate) fn credential_values(headers: &HeaderMap) -> SecretValues {
    let values = SecretValues::new();
    for value in headers.values().filter(|v| v.is_sensitive()) {
        let Ok(text) = value.to_str() else { continue };
        values.insert(text);
        if let Some((_scheme, token)) = text.split_once(' ') {
            values.insert(token);
        }
    }
    values
}

fn map_send_error(provider: &str, e: reqwest::Error, timeout: Option<Duration>) -> ProviderError {
    if e.is_timeout() {
        // The client's own timeouts: its connect timeout, or a total timeout set on it.
        let phase = if e.is_connect() {
            TimeoutPhase::Connect
        } else {
            TimeoutPhase::Request
        };
        return ProviderError::timeout(provider, phase, timeout.unwrap_or_default());
    }
    error::from_reqwest(provider, e, "sending the request")
}

/// Reads (at most 64 KiB of) an error response's body and classifies it, with `credentials`
/// (the values the request sent, see [`credential_values`]) replaced by `[REDACTED]` in the
/// body and in the error built from it.
pub(crate) async fn error_from_response(
    provider: &str,
    response: reqwest::Response,
    credentials: &SecretValues,
) -> ProviderError {
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
    if credentials.is_empty() {
        return error::from_http_response(provider, status, &headers, &body);
    }
    // The raw bytes first (a body that is not JSON becomes the message as it is), then the
    // parsed error (a value the JSON escaped, such as `\/`, is caught once unescaped).
    let text = String::from_utf8_lossy(&body);
    let body = credentials.redact(&text);
    let e = error::from_http_response(provider, status, &headers, body.as_bytes());
    credentials.redact_provider_error(e)
}

/// POSTs a JSON body with extra headers (credentials, versions) and maps failures as
/// [`send`] does.
pub(crate) async fn post_json<T: Serialize + ?Sized>(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: HeaderMap,
    body: &T,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, ProviderError> {
    let bytes = serde_json::to_vec(body).map_err(|e| {
        ProviderError::decode(
            provider,
            "could not encode the request body",
            Some(Box::new(e)),
        )
    })?;
    let request = client
        .post(url)
        .headers(headers)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(bytes);
    send(provider, request, timeout).await
}

/// GETs a URL with extra headers and maps failures as [`send`] does.
pub(crate) async fn get(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: HeaderMap,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, ProviderError> {
    send(provider, client.get(url).headers(headers), timeout).await
}

/// Reads a whole (successful) response body as JSON. The `timeout` bounds reading the body.
pub(crate) async fn read_json<T: DeserializeOwned>(
    provider: &str,
    response: reqwest::Response,
    timeout: Option<Duration>,
) -> Result<T, ProviderError> {
    let fut = response.bytes();
    let bytes = match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ProviderError::timeout(provider, TimeoutPhase::Request, t))?,
        None => fut.await,
    }
    .map_err(|e| error::from_reqwest(provider, e, "reading the response"))?;
    decode_json(provider, &bytes)
}

/// Decodes JSON, mapping failures to [`ProviderError::Decode`] with a short excerpt.
pub(crate) fn decode_json<T: DeserializeOwned>(
    provider: &str,
    bytes: &[u8],
) -> Result<T, ProviderError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ProviderError::decode(
            provider,
            format!("invalid JSON response: {e}"),
            Some(Box::new(e)),
        )
    })
}

/// The response body as a [`ByteStream`]: transport errors mapped to
/// [`ProviderError::Transport`], and an idle timeout between chunks.
pub(crate) fn byte_stream(
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
pub(crate) fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    format!("{base}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_urls() {
        assert_eq!(join_url("http://x/v1/", "/chat"), "http://x/v1/chat");
        assert_eq!(join_url("http://x/v1", "chat"), "http://x/v1/chat");
    }
}
