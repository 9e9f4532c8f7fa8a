//! One HTTP service the tools talk to: base URL, authentication, extra headers, timeout, and
//! the HTTP client: the embedder's `reqwest::Client`, or one built from [`TlsOptions`] by
//! [`kagent_core::http::client_builder`] (the workspace's one place that turns TLS settings into
//! a client). Secrets are `secrecy` types: they never appear in `Debug`
//! output, logs or errors, and are marked sensitive on the wire (`HeaderValue::set_sensitive`).

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use kagent_core::TlsOptions;
use reqwest::{Method, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{BuildError, HttpToolError};

/// How requests authenticate.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// `Authorization: Bearer <token>` (Grafana service-account tokens, most proxies).
    Bearer(SecretString),
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: SecretString,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// A configured HTTP service. Cheap to clone (the client is reference-counted).
#[derive(Clone)]
pub struct Endpoint {
    service: &'static str,
    base: Url,
    client: reqwest::Client,
    auth: Auth,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("service", &self.service)
            .field("base", &self.display_url())
            .field("auth", &self.auth)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Collects an [`Endpoint`]'s settings; the families' builders wrap it.
#[derive(Clone)]
pub struct EndpointBuilder {
    service: &'static str,
    url: String,
    client: Option<reqwest::Client>,
    tls: Option<TlsOptions>,
    auth: Auth,
    headers: Vec<(String, SecretString)>,
    timeout: Duration,
}

impl std::fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("service", &self.service)
            .field("url", &strip_userinfo(&self.url))
            .field("auth", &self.auth)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("has_client", &self.client.is_some())
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl EndpointBuilder {
    /// Settings for `service` at `url`.
    pub fn new(service: &'static str, url: impl Into<String>) -> Self {
        EndpointBuilder {
            service,
            url: url.into(),
            client: None,
            tls: None,
            auth: Auth::None,
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
        }
    }

    /// The HTTP client (TLS roots, client certificates, proxies and pooling are the
    /// embedder's). Default: a client built from [`tls`](Self::tls) (rustls with aws-lc-rs and
    /// the platform's roots when no TLS options are given).
    pub fn client(&mut self, client: reqwest::Client) {
        self.client = Some(client);
    }

    /// TLS settings (extra CA certificates, trusting only them, a client certificate for mutual
    /// TLS, skipping verification) for the client the builder makes. Setting both this and
    /// [`client`](Self::client) is a [`BuildError::TlsWithClient`]: an injected client already
    /// carries its own TLS configuration.
    pub fn tls(&mut self, tls: TlsOptions) {
        self.tls = Some(tls);
    }

    /// Authentication.
    pub fn auth(&mut self, auth: Auth) {
        self.auth = auth;
    }

    /// An extra header on every request (for example `X-Scope-OrgID` for Mimir or Cortex).
    /// The value is treated as a secret.
    pub fn header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers
            .push((name.into(), SecretString::from(value.into())));
    }

    /// Time limit of one request. Default: 30 s.
    pub fn timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Checks the settings and builds the endpoint.
    pub fn build(self) -> Result<Endpoint, BuildError> {
        let invalid = |message: String| BuildError::InvalidUrl {
            service: self.service,
            url: strip_userinfo(&self.url),
            message,
        };
        let mut base = Url::parse(self.url.trim()).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme {:?} is not http or https",
                base.scheme()
            )));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("a base URL takes no query or fragment".into()));
        }
        // Credentials in the URL become basic auth, never part of what is displayed.
        let mut auth = self.auth;
        if !base.username().is_empty() && matches!(auth, Auth::None) {
            let username = percent_decode(base.username());
            let password = percent_decode(base.password().unwrap_or(""));
            auth = Auth::Basic {
                username,
                password: SecretString::from(password),
            };
        }
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, value) in self.headers {
            let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| {
                BuildError::InvalidHeader {
                    name: name.clone(),
                    message: e.to_string(),
                }
            })?;
            let mut v = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
                BuildError::InvalidHeader {
                    name: name.clone(),
                    message: "the value has characters not allowed in a header".into(),
                }
            })?;
            v.set_sensitive(true);
            headers.push((header, v));
        }
        let client = match (self.client, self.tls) {
            (Some(_), Some(_)) => {
                return Err(BuildError::TlsWithClient {
                    service: self.service,
                });
            }
            (Some(c), None) => c,
            (None, tls) => kagent_core::http::client_builder(&tls.unwrap_or_default())
                .map_err(|source| BuildError::HttpClient {
                    service: self.service,
                    source,
                })?
                .build()
                .map_err(|source| BuildError::HttpClient {
                    service: self.service,
                    source: kagent_core::http::HttpClientError::Build { source },
                })?,
        };
        Ok(Endpoint {
            service: self.service,
            base,
            client,
            auth,
            headers,
            timeout: self.timeout,
        })
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The URL with any `user:password@` removed, for messages.
fn strip_userinfo(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => match url.split_once('@') {
            Some((_, rest)) => format!("<redacted>@{rest}"),
            None => url.to_owned(),
        },
    }
}

impl Endpoint {
    /// The service name (`Prometheus`, ...).
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The base URL (always ends with `/`, never carries credentials).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The base URL as shown to a model and in errors (no trailing slash).
    pub fn display_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    /// Whether `given` names this endpoint: same scheme, host, port and path (a trailing slash,
    /// letter case of the host and a default port do not matter). Credentials, a query or a
    /// fragment in `given` never match.
    pub fn same_url(&self, given: &str) -> bool {
        let Ok(u) = Url::parse(given.trim()) else {
            return false;
        };
        if !u.username().is_empty()
            || u.password().is_some()
            || u.query().is_some()
            || u.fragment().is_some()
        {
            return false;
        }
        u.scheme() == self.base.scheme()
            && u.host_str() == self.base.host_str()
            && u.port_or_known_default() == self.base.port_or_known_default()
            && u.path().trim_end_matches('/') == self.base.path().trim_end_matches('/')
    }

    /// The URL of an API path (relative, no leading slash) with query parameters.
    pub fn url<'a, I>(&self, path: &str, query: I) -> Result<Url, HttpToolError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| HttpToolError::invalid("path", e.to_string()))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    /// A request with auth, headers and timeout applied.
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let mut req = self
            .client
            .request(method, url)
            .timeout(self.timeout)
            .header(http::header::ACCEPT, "application/json");
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                if let Ok(mut v) =
                    HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                {
                    v.set_sensitive(true);
                    req = req.header(http::header::AUTHORIZATION, v);
                }
            }
            Auth::Basic { username, password } => {
                req = req.basic_auth(username, Some(password.expose_secret()));
            }
        }
        for (name, value) in &self.headers {
            req = req.header(name.clone(), value.clone());
        }
        req
    }

    /// Sends a request and returns the status and body; transport failures become
    /// [`HttpToolError::Transport`].
    pub async fn send(&self, req: RequestBuilder) -> Result<Reply, HttpToolError> {
        let (client, request) = req.build_split();
        let request = request.map_err(|e| self.transport_error("", e))?;
        let shown = url_for_message(request.url());
        let response: Response = client
            .execute(request)
            .await
            .map_err(|e| self.transport_error(&shown, e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&shown, e))?;
        Ok(Reply {
            status,
            bytes: body,
            url: shown,
        })
    }

    fn transport_error(&self, url: &str, source: reqwest::Error) -> HttpToolError {
        let url = if url.is_empty() {
            self.display_url()
        } else {
            url.to_owned()
        };
        HttpToolError::Transport {
            service: self.service,
            url,
            source: source.without_url(),
        }
    }

    /// GETs `path` and parses the JSON body; error statuses go through `on_error`.
    pub async fn get_json<'a, T, I>(
        &self,
        path: &str,
        query: I,
        on_error: fn(&'static str, u16, &[u8]) -> HttpToolError,
    ) -> Result<T, HttpToolError>
    where
        T: DeserializeOwned,
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let url = self.url(path, query)?;
        let reply = self.send(self.request(Method::GET, url)).await?;
        if !reply.is_success() {
            return Err(on_error(self.service, reply.status, &reply.bytes));
        }
        reply.json(self.service)
    }
}

/// The URL without query and credentials, for messages.
fn url_for_message(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// A response: status, body, and the URL it came from (without query or credentials).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// The body.
    pub bytes: bytes::Bytes,
    /// The URL without query or credentials, for messages.
    pub url: String,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Parses the body as JSON.
    pub fn json<T: DeserializeOwned>(&self, service: &'static str) -> Result<T, HttpToolError> {
        serde_json::from_slice(&self.bytes).map_err(|e| HttpToolError::Decode {
            service,
            url: self.url.clone(),
            message: format!(
                "{e}; body starts with {:?}",
                String::from_utf8_lossy(self.bytes.get(..200).unwrap_or(&self.bytes))
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        EndpointBuilder::new("Prometheus", url).build().unwrap()
    }

    #[test]
    fn urls_compare_by_what_they_address() {
        let e = endpoint("http://prom.example:9090");
        assert!(e.same_url("http://prom.example:9090"));
        assert!(e.same_url("http://prom.example:9090/"));
        assert!(e.same_url("http://PROM.example:9090/"));
        assert!(!e.same_url("http://prom.example:9091"));
        assert!(!e.same_url("https://prom.example:9090"));
        assert!(!e.same_url("http://user:pw@prom.example:9090"));
        assert!(!e.same_url("http://prom.example:9090/?x=1"));
        assert!(!e.same_url("http://169.254.169.254/latest/meta-data"));
        assert!(!e.same_url("not a url"));
        let https = endpoint("https://prom.example/prometheus/");
        assert!(https.same_url("https://prom.example:443/prometheus"));
        assert!(!https.same_url("https://prom.example/"));
    }

    #[test]
    fn paths_join_under_the_base_path() {
        let e = endpoint("http://h:9090/prom");
        let u = e
            .url("api/v1/query", [("query", "up{job=\"a b\"}")])
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://h:9090/prom/api/v1/query?query=up%7Bjob%3D%22a+b%22%7D"
        );
        assert_eq!(
            e.url("/api/v1/labels", []).unwrap().as_str(),
            "http://h:9090/prom/api/v1/labels"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let mut b = EndpointBuilder::new("Grafana", "https://admin:hunter2@grafana.example");
        b.header("X-Api-Key", "sekrit-header");
        let debug_builder = format!("{b:?}");
        assert!(!debug_builder.contains("hunter2"), "{debug_builder}");
        assert!(!debug_builder.contains("sekrit"), "{debug_builder}");
        let e = b.build().unwrap();
        let debug = format!("{e:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("sekrit"), "{debug}");
        assert!(debug.contains("admin"), "{debug}");
        assert_eq!(e.display_url(), "https://grafana.example");

        let mut t = EndpointBuilder::new("Grafana", "https://g");
        t.auth(Auth::Bearer(SecretString::from("glsa_token".to_owned())));
        let debug = format!("{:?}", t.build().unwrap());
        assert!(!debug.contains("glsa_token"), "{debug}");
    }

    #[test]
    fn bad_configuration_is_reported() {
        assert!(matches!(
            EndpointBuilder::new("Prometheus", "prom:9090").build(),
            Err(BuildError::InvalidUrl { .. })
        ));
        assert!(matches!(
            EndpointBuilder::new("Prometheus", "ftp://prom").build(),
            Err(BuildError::InvalidUrl { .. })
        ));
        let mut b = EndpointBuilder::new("Prometheus", "http://prom");
        b.header("bad header", "v");
        assert!(matches!(b.build(), Err(BuildError::InvalidHeader { .. })));
    }

    #[test]
    fn tls_options_build_the_client_and_conflict_with_an_injected_one() {
        let mut ok = EndpointBuilder::new("Prometheus", "https://prom");
        ok.tls(TlsOptions::default().with_insecure_skip_verify(true));
        assert!(ok.build().is_ok());

        let mut bad = EndpointBuilder::new("Prometheus", "https://prom");
        bad.tls(TlsOptions::default().with_ca_cert_pem("not a certificate"));
        let e = bad.build().unwrap_err();
        assert!(matches!(e, BuildError::HttpClient { .. }), "{e:?}");
        assert!(e.to_string().contains("Prometheus"), "{e}");

        let mut no_roots = EndpointBuilder::new("Alertmanager", "https://am");
        no_roots.tls(TlsOptions::default().with_disable_system_cas(true));
        let e = no_roots.build().unwrap_err();
        assert!(
            std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("disable_system_cas")),
            "{e:?}"
        );

        let mut both = EndpointBuilder::new("Grafana", "https://g");
        both.client(reqwest::Client::new());
        both.tls(TlsOptions::default());
        let e = both.build().unwrap_err();
        assert!(matches!(e, BuildError::TlsWithClient { .. }), "{e:?}");
        assert!(e.to_string().contains("injected"), "{e}");
    }

    #[tokio::test]
    async fn requests_carry_auth_and_headers_marked_sensitive() {
        let mut b = EndpointBuilder::new("Prometheus", "http://prom:9090");
        b.auth(Auth::Bearer(SecretString::from("tok".to_owned())));
        b.header("X-Scope-OrgID", "tenant-1");
        let e = b.build().unwrap();
        let req = e
            .request(Method::GET, e.url("api/v1/labels", []).unwrap())
            .build()
            .unwrap();
        let auth = req.headers().get(http::header::AUTHORIZATION).unwrap();
        assert_eq!(auth.to_str().unwrap(), "Bearer tok");
        assert!(auth.is_sensitive());
        let org = req.headers().get("x-scope-orgid").unwrap();
        assert_eq!(org.to_str().unwrap(), "tenant-1");
        assert!(org.is_sensitive());
        assert_eq!(req.timeout(), Some(&Duration::from_secs(30)));
    }
}
