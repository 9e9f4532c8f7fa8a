//! Reading Helm's release storage (the Secrets driver) through the Kubernetes API.
//!
//! Listing uses metadata-only LISTs (`PartialObjectMetadata`: the labels `name`, `status`,
//! `version` say all a listing needs) and decodes only the Secrets it shows, so listing a
//! namespace with long release histories does not download every revision's chart.

use std::collections::BTreeMap;

use futures::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use kagent_k8s::K8sError;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt as _};

use super::error::{HelmError, Result};
use super::release::{OWNER_SELECTOR, Release, decode_release, secret_name};

/// A release revision as its Secret's labels describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) version: u32,
    pub(crate) status: String,
}

fn api(client: &Client, ns: Option<&str>) -> Api<Secret> {
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

fn where_(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!("in namespace {ns}"),
        None => "in all namespaces".to_owned(),
    }
}

/// Lists the revisions (from labels only) of every release, or of `name`, in `ns` (`None`: all
/// namespaces).
pub(crate) async fn heads(
    client: &Client,
    ns: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<Head>> {
    let selector = match name {
        Some(n) => format!("{OWNER_SELECTOR},name={n}"),
        None => OWNER_SELECTOR.to_owned(),
    };
    let lp = ListParams::default().labels(&selector);
    let list = api(client, ns).list_metadata(&lp).await.map_err(|e| {
        K8sError::api(
            format!("list Helm release Secrets ({selector}) {}", where_(ns)),
            e,
        )
    })?;
    let mut out: Vec<Head> = list
        .items
        .iter()
        .filter_map(|m| {
            let labels = m.labels();
            Some(Head {
                namespace: m.namespace().unwrap_or_default(),
                name: labels.get("name")?.clone(),
                version: labels.get("version")?.parse().ok()?,
                status: labels.get("status").cloned().unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.namespace.as_str(), a.name.as_str(), a.version).cmp(&(
            b.namespace.as_str(),
            b.name.as_str(),
            b.version,
        ))
    });
    Ok(out)
}

/// The newest revision of each release (`helm list`'s "latest releases" filter).
pub(crate) fn latest_heads(heads: Vec<Head>) -> Vec<Head> {
    let mut latest: BTreeMap<(String, String), Head> = BTreeMap::new();
    for h in heads {
        let key = (h.namespace.clone(), h.name.clone());
        match latest.get(&key) {
            Some(cur) if cur.version > h.version => {}
            _ => {
                latest.insert(key, h);
            }
        }
    }
    latest.into_values().collect()
}

/// Decodes the `data.release` of a release Secret.
pub(crate) fn decode_secret(secret: &Secret) -> Result<Release> {
    let ns = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    let data = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .map(|b| b.0.as_slice())
        .unwrap_or_default();
    let mut rel = decode_release(data).map_err(|source| HelmError::Decode {
        secret: name,
        namespace: ns.clone(),
        source,
    })?;
    if rel.namespace.is_empty() {
        rel.namespace = ns;
    }
    Ok(rel)
}

/// GETs and decodes one revision's Secret; `None` when it does not exist.
pub(crate) async fn get_revision(
    client: &Client,
    ns: &str,
    name: &str,
    revision: u32,
) -> Result<Option<Release>> {
    let secret = secret_name(name, revision);
    let found = api(client, Some(ns))
        .get_opt(&secret)
        .await
        .map_err(|e| K8sError::api(format!("get secrets/{secret} in namespace {ns}"), e))?;
    found.as_ref().map(decode_secret).transpose()
}

/// GETs and decodes the Secrets of `heads`, 8 at a time, in order. A Secret gone between the
/// LIST and the GET (a concurrent upgrade pruned it) is skipped.
pub(crate) async fn fetch(client: &Client, heads: &[Head]) -> Result<Vec<Release>> {
    let found: Vec<Option<Release>> = futures::stream::iter(heads.iter().cloned().map(|h| {
        let client = client.clone();
        async move { get_revision(&client, &h.namespace, &h.name, h.version).await }
    }))
    .buffered(8)
    .try_collect()
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Where else a release of this name exists (for a not-found hint); empty when nowhere or when
/// the cluster-wide LIST is not allowed.
async fn other_namespaces(client: &Client, name: &str, ns: &str) -> Vec<String> {
    let mut found: Vec<String> = match heads(client, None, Some(name)).await {
        Ok(h) => h
            .into_iter()
            .map(|h| h.namespace)
            .filter(|n| n != ns)
            .collect(),
        Err(_) => Vec::new(),
    };
    found.dedup();
    found
}

pub(crate) async fn not_found(client: &Client, name: &str, ns: &str) -> HelmError {
    let others = other_namespaces(client, name, ns).await;
    let hint = if others.is_empty() {
        String::new()
    } else {
        format!(
            "; a release of that name exists in namespace {}",
            others.join(", ")
        )
    };
    HelmError::ReleaseNotFound {
        name: name.to_owned(),
        namespace: ns.to_owned(),
        hint,
    }
}

/// The revision `revision` of release `name` (`None`: the newest, whatever its status, as
/// `helm get` and `helm status` use).
pub(crate) async fn release(
    client: &Client,
    ns: &str,
    name: &str,
    revision: Option<u32>,
) -> Result<Release> {
    match revision {
        Some(rev) => match get_revision(client, ns, name, rev).await? {
            Some(r) => Ok(r),
            None => {
                let hs = heads(client, Some(ns), Some(name)).await?;
                if hs.is_empty() {
                    return Err(not_found(client, name, ns).await);
                }
                Err(HelmError::RevisionNotFound {
                    name: name.to_owned(),
                    namespace: ns.to_owned(),
                    revision: rev,
                    available: hs
                        .iter()
                        .map(|h| h.version.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        },
        None => match latest_opt(client, ns, name).await? {
            Some(r) => Ok(r),
            None => Err(not_found(client, name, ns).await),
        },
    }
}

/// The newest revision of release `name`, `None` when there is none.
pub(crate) async fn latest_opt(client: &Client, ns: &str, name: &str) -> Result<Option<Release>> {
    let hs = heads(client, Some(ns), Some(name)).await?;
    match hs.iter().max_by_key(|h| h.version) {
        Some(h) => get_revision(client, ns, name, h.version).await,
        None => Ok(None),
    }
}

/// Every revision of release `name`, oldest first, at most the newest `max`.
pub(crate) async fn history(
    client: &Client,
    ns: &str,
    name: &str,
    max: usize,
) -> Result<(Vec<Release>, usize)> {
    let hs = heads(client, Some(ns), Some(name)).await?;
    if hs.is_empty() {
        return Err(not_found(client, name, ns).await);
    }
    let total = hs.len();
    let skip = total.saturating_sub(max);
    let shown: Vec<Head> = hs.into_iter().skip(skip).collect();
    Ok((fetch(client, &shown).await?, total))
}
