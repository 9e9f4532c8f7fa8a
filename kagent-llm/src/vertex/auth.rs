//! Google access tokens for Vertex AI: an explicit token, or a service-account key whose signed
//! JWT (RS256) is exchanged for an access token at the key's `token_uri`, cached and refreshed
//! before it expires.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kagent_core::{ApiErrorDetails, ApiErrorKind, ProviderError, TimeoutPhase};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// The OAuth scope Vertex AI needs.
const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, form-encoded.
const JWT_BEARER_GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
/// Lifetime asked for in the assertion (Google's maximum).
const ASSERTION_LIFETIME_SECS: i64 = 3600;
/// The longest a token exchange may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Refresh this long before the token expires.
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Something that hands out bearer tokens (implement it for workload identity, the metadata
/// server, or a token broker).
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A currently valid access token.
    async fn token(&self) -> Result<SecretString, ProviderError>;
}

/// A Google service-account JSON key (the file `gcloud iam service-accounts keys create`
/// writes). `Debug` never shows the private key.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// `service_account`.
    #[serde(default, rename = "type")]
    pub key_type: Option<String>,
    /// The project the account belongs to.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Id of the key (sent as the JWT `kid`).
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// PEM-encoded RSA private key.
    pub private_key: SecretString,
    /// The account's e-mail (JWT `iss`).
    pub client_email: String,
    /// Where assertions are exchanged for tokens.
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".to_owned()
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("project_id", &self.project_id)
            .field(
                "private_key_id",
                &self.private_key_id.as_ref().map(|_| "[redacted]"),
            )
            .field("private_key", &"[redacted]")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

impl ServiceAccountKey {
    /// Parses the JSON key file contents. Errors never echo the key.
    pub fn from_json(json: &str) -> Result<Self, ProviderError> {
        serde_json::from_str(json).map_err(|e| ProviderError::Configuration {
            provider: "gcp.vertex_ai".into(),
            message: format!(
                "invalid service account key JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        })
    }
}

/// How Vertex AI requests are authenticated. Cheap to clone (shares the token cache).
#[derive(Clone)]
pub struct GoogleAuth {
    inner: Arc<AuthInner>,
}

enum AuthInner {
    Static(SecretString),
    ServiceAccount(Box<ServiceAccountAuth>),
    Metadata(Box<MetadataAuth>),
    Source(Arc<dyn TokenSource>),
}

struct ServiceAccountAuth {
    key: ServiceAccountKey,
    encoding_key: jsonwebtoken::EncodingKey,
    client: reqwest::Client,
    refresh_margin: Duration,
    cache: Mutex<Option<CachedToken>>,
}

/// Tokens from the GCE/GKE metadata server (workload identity, the node's service account).
struct MetadataAuth {
    url: String,
    client: reqwest::Client,
    refresh_margin: Duration,
    cache: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

impl fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            AuthInner::Static(_) => f.write_str("GoogleAuth::Token([redacted])"),
            AuthInner::ServiceAccount(sa) => f
                .debug_struct("GoogleAuth::ServiceAccount")
                .field("client_email", &sa.key.client_email)
                .field("token_uri", &sa.key.token_uri)
                .finish_non_exhaustive(),
            AuthInner::Source(_) => f.write_str("GoogleAuth::Source(..)"),
            AuthInner::Metadata(m) => f
                .debug_struct("GoogleAuth::MetadataServer")
                .field("url", &m.url)
                .finish_non_exhaustive(),
        }
    }
}

/// Token endpoint answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl GoogleAuth {
    /// A fixed access token (e.g. from `gcloud auth print-access-token`). It is never
    /// refreshed.
    pub fn token(token: impl Into<SecretString>) -> Self {
        GoogleAuth {
            inner: Arc::new(AuthInner::Static(token.into())),
        }
    }

    /// Tokens from a service-account key, fetched with `client` from the key's `token_uri`.
    /// Fails if the private key is not a PEM RSA key.
    pub fn service_account(
        key: ServiceAccountKey,
        client: reqwest::Client,
    ) -> Result<Self, ProviderError> {
        let encoding_key =
            jsonwebtoken::EncodingKey::from_rsa_pem(key.private_key.expose_secret().as_bytes())
                .map_err(|_| ProviderError::Configuration {
                    provider: "gcp.vertex_ai".into(),
                    message: "the service account private_key is not a PEM RSA key".into(),
                })?;
        Ok(GoogleAuth {
            inner: Arc::new(AuthInner::ServiceAccount(Box::new(ServiceAccountAuth {
                key,
                encoding_key,
                client,
                refresh_margin: DEFAULT_REFRESH_MARGIN,
                cache: Mutex::new(None),
            }))),
        })
    }

    /// Tokens from the GCE/GKE metadata server (GKE workload identity, or the VM's service
    /// account): `GET http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token`
    /// with `Metadata-Flavor: Google`, cached like service-account tokens. The host comes from
    /// `GCE_METADATA_HOST` when set.
    pub fn metadata_server(client: reqwest::Client) -> Self {
        let host = std::env::var("GCE_METADATA_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "metadata.google.internal".to_owned());
        Self::metadata_server_at(client, format!("http://{host}"))
    }

    /// [`GoogleAuth::metadata_server`] at another base URL (tests, proxies).
    pub fn metadata_server_at(client: reqwest::Client, base_url: impl Into<String>) -> Self {
        let base = base_url.into();
        GoogleAuth {
            inner: Arc::new(AuthInner::Metadata(Box::new(MetadataAuth {
                url: format!(
                    "{}/computeMetadata/v1/instance/service-accounts/default/token",
                    base.trim_end_matches('/')
                ),
                client,
                refresh_margin: DEFAULT_REFRESH_MARGIN,
                cache: Mutex::new(None),
            }))),
        }
    }

    /// Tokens from any [`TokenSource`].
    pub fn source(source: Arc<dyn TokenSource>) -> Self {
        GoogleAuth {
            inner: Arc::new(AuthInner::Source(source)),
        }
    }

    /// Refreshes a service-account token this long before it expires (default 5 minutes).
    /// Has no effect on other kinds. Call before the first token is fetched.
    pub fn with_refresh_margin(self, margin: Duration) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(AuthInner::ServiceAccount(mut sa)) => {
                sa.refresh_margin = margin;
                GoogleAuth {
                    inner: Arc::new(AuthInner::ServiceAccount(sa)),
                }
            }
            Ok(AuthInner::Metadata(mut m)) => {
                m.refresh_margin = margin;
                GoogleAuth {
                    inner: Arc::new(AuthInner::Metadata(m)),
                }
            }
            Ok(other) => GoogleAuth {
                inner: Arc::new(other),
            },
            Err(shared) => GoogleAuth { inner: shared },
        }
    }

    /// A valid access token: the fixed one, or a cached one refreshed when it is within the
    /// refresh margin of expiry. Concurrent callers share one refresh.
    pub async fn access_token(&self) -> Result<SecretString, ProviderError> {
        match &*self.inner {
            AuthInner::Static(t) => Ok(t.clone()),
            AuthInner::Source(s) => s.token().await,
            AuthInner::ServiceAccount(sa) => {
                cached(&sa.cache, sa.refresh_margin, || sa.fetch()).await
            }
            AuthInner::Metadata(m) => cached(&m.cache, m.refresh_margin, || m.fetch()).await,
        }
    }
}

#[async_trait]
impl TokenSource for GoogleAuth {
    async fn token(&self) -> Result<SecretString, ProviderError> {
        self.access_token().await
    }
}

/// The cached token, or a fresh one from `fetch` when the cached one is within `margin` of
/// expiry. The lock is held during the fetch, so concurrent callers share one refresh.
async fn cached<F, Fut>(
    cache: &Mutex<Option<CachedToken>>,
    margin: Duration,
    fetch: F,
) -> Result<SecretString, ProviderError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(SecretString, u64), ProviderError>>,
{
    let mut cache = cache.lock().await;
    if let Some(c) = cache.as_ref()
        && Instant::now() < c.refresh_at
    {
        return Ok(c.token.clone());
    }
    let fetched_at = Instant::now();
    let (token, expires_in) = fetch().await?;
    let lifetime = Duration::from_secs(expires_in);
    *cache = Some(CachedToken {
        token: token.clone(),
        refresh_at: fetched_at + lifetime.saturating_sub(margin),
    });
    Ok(token)
}

impl MetadataAuth {
    async fn fetch(&self) -> Result<(SecretString, u64), ProviderError> {
        const PROVIDER: &str = "gcp.vertex_ai";
        let request = self
            .client
            .get(&self.url)
            .header("metadata-flavor", "Google");
        let response = match tokio::time::timeout(TOKEN_TIMEOUT, request.send()).await {
            Ok(r) => r.map_err(|e| {
                crate::error::from_reqwest(PROVIDER, e, "fetching a metadata server token")
            })?,
            Err(_) => {
                return Err(ProviderError::Timeout {
                    provider: PROVIDER.into(),
                    phase: TimeoutPhase::TokenExchange,
                    after: TOKEN_TIMEOUT,
                });
            }
        };
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            crate::error::from_reqwest(PROVIDER, e, "fetching a metadata server token")
        })?;
        if !status.is_success() {
            let details = ApiErrorDetails::new(format!(
                "metadata server token request failed: {}",
                String::from_utf8_lossy(bytes.get(..bytes.len().min(200)).unwrap_or_default())
            ))
            .with_status(status.as_u16());
            let kind = if status.is_server_error() {
                ApiErrorKind::Server
            } else {
                ApiErrorKind::Authentication
            };
            return Err(ProviderError::api(PROVIDER, kind, details));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| ProviderError::Decode {
                provider: PROVIDER.into(),
                message: format!("invalid metadata server token response: {e}"),
                source: None,
            })?;
        Ok((parsed.access_token, parsed.expires_in.unwrap_or(3600)))
    }
}

impl ServiceAccountAuth {
    fn assertion(&self) -> Result<String, ProviderError> {
        let now = jiff::Timestamp::now().as_second();
        let claims = Claims {
            iss: &self.key.client_email,
            scope: CLOUD_PLATFORM_SCOPE,
            aud: &self.key.token_uri,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid.clone_from(&self.key.private_key_id);
        jsonwebtoken::encode(&header, &claims, &self.encoding_key).map_err(|e| {
            ProviderError::Configuration {
                provider: "gcp.vertex_ai".into(),
                message: format!("could not sign the token assertion: {e}"),
            }
        })
    }

    async fn fetch(&self) -> Result<(SecretString, u64), ProviderError> {
        use tracing::Instrument;
        let span = tracing::debug_span!("vertex_token_exchange", token_uri = %self.key.token_uri);
        match tokio::time::timeout(TOKEN_TIMEOUT, self.fetch_inner().instrument(span)).await {
            Ok(r) => r,
            Err(_) => Err(ProviderError::Timeout {
                provider: "gcp.vertex_ai".into(),
                phase: TimeoutPhase::TokenExchange,
                after: TOKEN_TIMEOUT,
            }),
        }
    }

    async fn fetch_inner(&self) -> Result<(SecretString, u64), ProviderError> {
        const PROVIDER: &str = "gcp.vertex_ai";
        let assertion = self.assertion()?;
        let body = format!("grant_type={JWT_BEARER_GRANT}&assertion={assertion}");
        let response = self
            .client
            .post(&self.key.token_uri)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| crate::error::from_reqwest(PROVIDER, e, "fetching an access token"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| crate::error::from_reqwest(PROVIDER, e, "fetching an access token"))?;
        if !status.is_success() {
            // OAuth errors: `{"error": "invalid_grant", "error_description": "..."}`.
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let kind = v.get("error").and_then(|e| e.as_str()).map(str::to_owned);
            let desc = v
                .get("error_description")
                .and_then(|e| e.as_str())
                .unwrap_or("no description");
            let mut details = ApiErrorDetails::new(format!("token exchange failed: {desc}"))
                .with_status(status.as_u16());
            details.error_type = kind;
            let kind = if status.is_server_error() || status.as_u16() == 429 {
                ApiErrorKind::Server
            } else {
                ApiErrorKind::Authentication
            };
            return Err(ProviderError::api(PROVIDER, kind, details));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| ProviderError::Decode {
                provider: PROVIDER.into(),
                message: format!("invalid token response: {e}"),
                source: None,
            })?;
        Ok((parsed.access_token, parsed.expires_in.unwrap_or(3600)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_private_key() {
        let key = ServiceAccountKey::from_json(
            r#"{"type":"service_account","private_key_id":"kid1","private_key":"-----BEGIN PRIVATE KEY-----\nSECRETBYTES\n-----END PRIVATE KEY-----\n","client_email":"a@b.iam.gserviceaccount.com"}"#,
        )
        .unwrap();
        let dbg = format!("{key:?}");
        assert!(!dbg.contains("SECRETBYTES"), "{dbg}");
        assert_eq!(key.token_uri, "https://oauth2.googleapis.com/token");
        let err = GoogleAuth::service_account(key, reqwest::Client::new()).unwrap_err();
        assert!(!err.to_string().contains("SECRETBYTES"));
        let bad = ServiceAccountKey::from_json(r#"{"private_key": "SECRETBYTES""#).unwrap_err();
        assert!(!bad.to_string().contains("SECRETBYTES"), "{bad}");
        let t = GoogleAuth::token("ya29.SECRET");
        assert!(!format!("{t:?}").contains("SECRET"));
    }
}
