//! Thin calls on the Kubernetes API that return plain JSON (`serde_json::Value`), for any
//! resource kind: one parse per response and nothing kind-specific in between.

use kube::Client;
use kube::api::{DeleteParams, GetParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::Request;
use serde_json::Value;

use crate::catalog::ResourceInfo;
use crate::error::{K8sError, Result};

/// The collection URL of a resource: `/apis/apps/v1/namespaces/ns/deployments`.
pub fn url(info: &ResourceInfo, namespace: Option<&str>) -> String {
    let base = if info.resource.group.is_empty() {
        format!("/api/{}", info.resource.version)
    } else {
        format!("/apis/{}/{}", info.resource.group, info.resource.version)
    };
    match (info.namespaced, namespace) {
        (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", info.resource.plural),
        _ => format!("{base}/{}", info.resource.plural),
    }
}

fn describe(verb: &str, info: &ResourceInfo, ns: Option<&str>, name: Option<&str>) -> String {
    let mut s = format!("{verb} {}", info.qualified_name());
    if let Some(n) = name {
        s.push('/');
        s.push_str(n);
    }
    if info.namespaced {
        match ns {
            Some(ns) => {
                s.push_str(" in namespace ");
                s.push_str(ns);
            }
            None => s.push_str(" in all namespaces"),
        }
    }
    s
}

/// Sends a request built by [`Request`] and parses its JSON answer; `action` names the call
/// in errors.
async fn send(
    client: &Client,
    action: String,
    req: std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<Value> {
    let req = match req {
        Ok(req) => req,
        Err(e) => return Err(K8sError::api(action, kube::Error::BuildRequest(e))),
    };
    client
        .request(req)
        .await
        .map_err(|e| K8sError::api(action, e))
}

/// Fills in `apiVersion` and `kind` (list items usually lack them).
pub fn with_type(mut v: Value, info: &ResourceInfo) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.entry("apiVersion")
            .or_insert_with(|| Value::String(info.resource.api_version.clone()));
        m.entry("kind")
            .or_insert_with(|| Value::String(info.resource.kind.clone()));
    }
    v
}

/// GET one object.
pub async fn get(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    name: &str,
) -> Result<Value> {
    let action = describe("get", info, ns, Some(name));
    let req = Request::new(url(info, ns)).get(name, &GetParams::default());
    Ok(with_type(send(client, action, req).await?, info))
}

/// GET one object; `None` when it does not exist.
pub async fn get_opt(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    name: &str,
) -> Result<Option<Value>> {
    match get(client, info, ns, name).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status_code() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One page of a LIST.
#[derive(Debug, Default)]
pub struct Page {
    /// The objects, with `apiVersion` and `kind` filled in.
    pub items: Vec<Value>,
    /// Token for the next page, when the server cut the list.
    pub continue_token: Option<String>,
    /// How many objects remain after this page, when the server says.
    pub remaining: Option<i64>,
}

/// LIST a collection (`ns = None`: all namespaces or cluster-scoped).
pub async fn list(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    lp: &ListParams,
) -> Result<Page> {
    let action = describe("list", info, ns, None);
    let mut v = send(client, action, Request::new(url(info, ns)).list(lp)).await?;
    let continue_token = v
        .pointer("/metadata/continue")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let remaining = v
        .pointer("/metadata/remainingItemCount")
        .and_then(Value::as_i64);
    let items = match v.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items.into_iter().map(|i| with_type(i, info)).collect(),
        _ => Vec::new(),
    };
    Ok(Page {
        items,
        continue_token,
        remaining,
    })
}

/// LIST every page (bounded by `max_items`).
pub async fn list_all(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    lp: &ListParams,
    max_items: usize,
) -> Result<Vec<Value>> {
    let mut lp = lp.clone();
    let mut out = Vec::new();
    loop {
        let page = list(client, info, ns, &lp).await?;
        out.extend(page.items);
        match page.continue_token {
            Some(token) if out.len() < max_items => lp.continue_token = Some(token),
            _ => break,
        }
    }
    out.truncate(max_items);
    Ok(out)
}

/// PATCH an object or one of its subresources.
pub async fn patch(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    name: &str,
    subresource: Option<&str>,
    pp: &PatchParams,
    patch: &Patch<Value>,
) -> Result<Value> {
    let verb = match subresource {
        Some(sub) => format!("patch {sub} of"),
        None => "patch".to_owned(),
    };
    let action = describe(&verb, info, ns, Some(name));
    let r = Request::new(url(info, ns));
    let req = match subresource {
        Some(sub) => r.patch_subresource(sub, name, pp, patch),
        None => r.patch(name, pp, patch),
    };
    Ok(with_type(send(client, action, req).await?, info))
}

/// PUT (replace) an object: the whole object, with its `metadata.resourceVersion` for
/// optimistic concurrency (a stale one is a 409 `Conflict`), as `kubectl replace` and client-go
/// `Update` do.
pub async fn replace(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    name: &str,
    obj: &Value,
    pp: &PostParams,
) -> Result<Value> {
    let action = describe("replace", info, ns, Some(name));
    let body = serde_json::to_vec(obj).map_err(|e| K8sError::invalid("object", e.to_string()))?;
    let req = Request::new(url(info, ns)).replace(name, pp, body);
    Ok(with_type(send(client, action, req).await?, info))
}

/// POST (create) an object.
pub async fn create(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    obj: &Value,
    pp: &PostParams,
) -> Result<Value> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .or_else(|| {
            obj.pointer("/metadata/generateName")
                .and_then(Value::as_str)
        });
    let action = describe("create", info, ns, name);
    let body = serde_json::to_vec(obj).map_err(|e| K8sError::invalid("manifest", e.to_string()))?;
    let req = Request::new(url(info, ns)).create(pp, body);
    Ok(with_type(send(client, action, req).await?, info))
}

/// DELETE an object. Returns the server's answer (the object being deleted, or a Status).
pub async fn delete(
    client: &Client,
    info: &ResourceInfo,
    ns: Option<&str>,
    name: &str,
    dp: &DeleteParams,
) -> Result<Value> {
    let action = describe("delete", info, ns, Some(name));
    send(client, action, Request::new(url(info, ns)).delete(name, dp)).await
}

/// Reads a container's log.
pub async fn logs(
    client: &Client,
    ns: &str,
    pod: &str,
    lp: &kube::api::LogParams,
) -> Result<String> {
    let action = format!(
        "read logs of pod/{pod}{} in namespace {ns}",
        lp.container
            .as_deref()
            .map(|c| format!(" container {c}"))
            .unwrap_or_default()
    );
    let req = Request::new(format!("/api/v1/namespaces/{ns}/pods"))
        .logs(pod, lp)
        .map_err(|e| K8sError::api(action.clone(), kube::Error::BuildRequest(e)))?;
    client
        .request_text(req)
        .await
        .map_err(|e| K8sError::api(action, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{builtin_resources, resolve_in};

    #[test]
    fn urls_follow_the_api_layout() {
        let all = builtin_resources();
        let deploy = resolve_in(&all, "deploy").unwrap();
        assert_eq!(
            url(&deploy, Some("a")),
            "/apis/apps/v1/namespaces/a/deployments"
        );
        assert_eq!(url(&deploy, None), "/apis/apps/v1/deployments");
        let node = resolve_in(&all, "nodes").unwrap();
        assert_eq!(url(&node, Some("ignored")), "/api/v1/nodes");
        assert_eq!(
            describe("get", &deploy, Some("a"), Some("web")),
            "get deployments.apps/web in namespace a"
        );
    }
}
