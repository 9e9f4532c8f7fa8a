//! `k8s_create_resource_from_url`: fetches a manifest from an allow-listed host and creates it.

use futures::StreamExt;
use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{is_dry, k8s_tool};
use crate::args::Flag;
use crate::error::{K8sError, Result};

/// Arguments of `k8s_create_resource_from_url`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct FromUrlArgs {
    /// The URL of the manifest (its host must be on the configured allow-list).
    pub url: String,
    /// The namespace to create the resource in.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would be created, without creating anything.
    #[serde(default)]
    pub dry_run: Flag,
}

k8s_tool!(
    /// `k8s_create_resource_from_url`: fetches a manifest from an allowed host and creates it.
    CreateResourceFromUrl,
    "k8s_create_resource_from_url",
    ToolEffect::Mutating,
    FromUrlArgs,
    "Create Kubernetes resources from a URL pointing to a YAML manifest. Only hosts on the \
     configured allow-list may be used."
);

/// Largest manifest fetched from a URL.
const MAX_MANIFEST_BYTES: usize = 2 * 1024 * 1024;

/// Whether `host` is on the allow-list (`example.com` exact, `*.example.com` subdomains).
pub(crate) fn host_allowed(allow: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    allow.iter().any(|a| match a.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => *a == host,
    })
}

impl CreateResourceFromUrl {
    async fn exec(&self, args: FromUrlArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        if s.url_allow_list.is_empty() {
            return Err(K8sError::Forbidden {
                message:
                    "creating resources from URLs is turned off (no allowed hosts are configured)"
                        .into(),
            });
        }
        let url = url::Url::parse(args.url.trim())
            .map_err(|e| K8sError::invalid("url", e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(K8sError::invalid(
                "url",
                "only http and https URLs are supported",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(K8sError::invalid(
                "url",
                "URLs with credentials are not accepted",
            ));
        }
        let host = url.host_str().unwrap_or("");
        if !host_allowed(&s.url_allow_list, host) {
            return Err(K8sError::Forbidden {
                message: format!(
                    "host {host:?} is not on the allow-list ({})",
                    s.url_allow_list.join(", ")
                ),
            });
        }
        let Some(http) = &s.http else {
            return Err(K8sError::Forbidden {
                message: "no HTTP client is configured for fetching manifests".into(),
            });
        };
        let shown = format!("{}://{}{}", url.scheme(), host, url.path());
        let resp = http
            .get(url.clone())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| K8sError::Fetch {
                url: shown.clone(),
                source: e.without_url(),
            })?;
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| K8sError::Fetch {
                url: shown.clone(),
                source: e.without_url(),
            })?;
            body.extend_from_slice(&chunk);
            if body.len() > MAX_MANIFEST_BYTES {
                return Err(K8sError::invalid(
                    "url",
                    format!("manifest larger than {MAX_MANIFEST_BYTES} bytes"),
                ));
            }
        }
        let text =
            String::from_utf8(body).map_err(|_| K8sError::invalid("manifest", "not UTF-8 text"))?;
        let ns = s.ns(&args.namespace).to_owned();
        super::write::create_docs(s, &text, &ns, is_dry(args.dry_run, ctx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matching() {
        let allow = vec![
            "raw.githubusercontent.com".to_owned(),
            "*.example.com".to_owned(),
        ];
        assert!(host_allowed(&allow, "raw.githubusercontent.com"));
        assert!(host_allowed(&allow, "RAW.githubusercontent.com"));
        assert!(host_allowed(&allow, "a.example.com"));
        assert!(!host_allowed(&allow, "example.com"));
        assert!(!host_allowed(&allow, "evil-example.com"));
        assert!(!host_allowed(&allow, "raw.githubusercontent.com.evil.io"));
        assert!(!host_allowed(&[], "a.example.com"));
    }
}
