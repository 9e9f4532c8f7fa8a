//! The HTTP side: routing Kubernetes REST paths onto the store, discovery documents, watch
//! streams, tables and pod logs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::patch::PatchKind;
use super::resources::ResourceInfo;
use super::selector::{FieldSelector, LabelSelector};
use super::store::{ApiError, Change, ChangeKind, DeleteOpts, State, Sub, WatchStart, WriteOpts};
use super::table;

/// Server-wide shared state.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) bookmark_interval: Duration,
    pub(crate) addr: String,
    pub(crate) exec_handler: Mutex<Option<super::exec::ExecHandler>>,
    pub(crate) pod_port_handler: Mutex<Option<super::podport::PodPortHandler>>,
    pub(crate) limits: kagent_http_limits::ServerLimits,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limits = kagent_http_limits::LimitsLayer::new(&shared.limits)
        .with_format(Arc::new(KubeStatusRejections));
    Router::new()
        .fallback(handle)
        .with_state(shared)
        .layer(limits)
}

/// Limit answers as the Kubernetes API server words them: a `Status` object with the reason
/// kube-apiserver uses for the code (`TooManyRequests`, `RequestEntityTooLarge`, `Timeout`,
/// `ServiceUnavailable`), which kube clients and kubectl understand.
pub(crate) struct KubeStatusRejections;

impl kagent_http_limits::RejectionFormat for KubeStatusRejections {
    fn render(
        &self,
        rejection: &kagent_http_limits::Rejection,
    ) -> kagent_http_limits::RejectionBody {
        kagent_http_limits::RejectionBody::json(&limit_status(rejection))
    }
}

fn limit_status(rejection: &kagent_http_limits::Rejection) -> Value {
    let code = rejection.status().as_u16();
    let reason = match code {
        429 => "TooManyRequests",
        413 => "RequestEntityTooLarge",
        408 => "Timeout",
        _ => "ServiceUnavailable",
    };
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": rejection.to_string(),
        "reason": reason,
        "details": {"causes": [{"reason": rejection.reason(), "message": format!("limit {}", rejection.limit())}]},
        "code": code,
    })
}

const AGGREGATED_CT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(e: &ApiError) -> Response {
    json_response(e.code, &e.to_status())
}

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Version,
    OpenApiV2,
    Health,
    Api,
    Apis,
    GroupVersion(String, String),
    Group(String),
    Resource(ResPath),
    NotFound,
}

#[derive(Debug, PartialEq, Eq)]
struct ResPath {
    group: String,
    version: String,
    ns: Option<String>,
    plural: String,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_path(path: &str) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["openapi", "v2"] | ["swagger.json"] => Route::OpenApiV2,
        ["healthz" | "livez" | "readyz"] => Route::Health,
        ["api"] => Route::Api,
        ["api", v] => Route::GroupVersion(String::new(), (*v).to_string()),
        ["api", v, rest @ ..] => parse_rest("", v, rest),
        ["apis"] => Route::Apis,
        ["apis", g] => Route::Group((*g).to_string()),
        ["apis", g, v] => Route::GroupVersion((*g).to_string(), (*v).to_string()),
        ["apis", g, v, rest @ ..] => parse_rest(g, v, rest),
        _ => Route::NotFound,
    }
}

fn parse_rest(group: &str, version: &str, rest: &[&str]) -> Route {
    let s = |x: &&str| (*x).to_string();
    let (ns, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            (Some((*ns).to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        other => (None, other.to_vec()),
    };
    // services/<name>:<port>/proxy/<path...>: the tail is the proxied path
    let proxied = rest.get(2) == Some(&"proxy");
    if rest.is_empty() || (rest.len() > 3 && !proxied) {
        return Route::NotFound;
    }
    Route::Resource(ResPath {
        group: group.to_string(),
        version: version.to_string(),
        ns,
        plural: rest.first().map(s).unwrap_or_default(),
        name: rest.get(1).map(s),
        sub: rest.get(2).map(s),
    })
}

fn parse_query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

fn truthy(q: &HashMap<String, String>, k: &str) -> bool {
    q.get(k).is_some_and(|v| v == "true" || v == "1")
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if ct.contains("yaml") {
        serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid YAML body: {e}")))
    } else if ct.contains("json") || ct.is_empty() {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })
    } else {
        Err(ApiError::unsupported_media(ct))
    }
}

/// Version priority as Kubernetes sorts versions: GA > beta > alpha, higher numbers first.
fn version_rank(v: &str) -> (u8, i64, i64) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse::<i64>().unwrap_or(0);
    let tail = rest.get(digits.len()..).unwrap_or_default();
    if tail.is_empty() {
        (3, major, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, major, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, major, n.parse().unwrap_or(0))
    } else {
        (0, major, 0)
    }
}

/// group -> versions (preferred first), in order of first appearance.
fn groups(resources: &[ResourceInfo]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, vs)) => {
                if !vs.contains(&r.version) {
                    vs.push(r.version.clone());
                }
            }
            None => out.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    for (_, vs) in &mut out {
        vs.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
    }
    out
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv),
    })
}

fn aggregated(resources: &[ResourceInfo], core: bool) -> Value {
    let items: Vec<Value> = groups(resources)
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let rs: Vec<Value> = resources
                        .iter()
                        .filter(|r| r.group == g && r.version == *v)
                        .map(ResourceInfo::aggregated_entry)
                        .collect();
                    json!({"version": v, "resources": rs, "freshness": "Current"})
                })
                .collect();
            let mut md = json!({"creationTimestamp": null});
            if !g.is_empty()
                && let Some(m) = md.as_object_mut()
            {
                m.insert("name".into(), json!(g));
            }
            json!({"metadata": md, "versions": vs})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn discovery_response(body: &Value, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

async fn handle(AxState(sh): AxState<Arc<Shared>>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    let body = match axum::body::to_bytes(body, sh.limits.max_request_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            if let Some(rejection) = kagent_http_limits::body_rejection(&e, &sh.limits) {
                return json_response(rejection.status().as_u16(), &limit_status(&rejection));
            }
            return error_response(&ApiError::bad_request(format!(
                "failed to read the request body: {e}"
            )));
        }
    };
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let path = uri.path().to_string();
    let query = parse_query(&uri);
    tracing::debug!(%method, %uri, "fake apiserver request");
    {
        let mut st = sh.lock();
        // bounded, so benches that send millions of requests do not grow without limit
        if st.requests.len() >= 100_000 {
            st.requests.drain(..50_000);
        }
        st.requests.push(super::store::RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: uri.query().unwrap_or_default().to_string(),
        });
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // e.g. "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    let wants_aggregated = accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"as=APIGroupDiscoveryList") && params.contains(&"v=v2")
    });
    let shape = if accept.contains("as=Table") {
        Shape::Table
    } else if accept.contains("as=PartialObjectMetadata") {
        Shape::Metadata
    } else {
        Shape::Full
    };
    match parse_path(&path) {
        Route::Version => json_response(
            200,
            &json!({
                "major": "1", "minor": "31", "gitVersion": "v1.31.0-kagent-fake",
                "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                "buildDate": "2024-08-13T00:00:00Z", "goVersion": "go1.22.5", "compiler": "gc",
                "platform": "linux/amd64"
            }),
        ),
        Route::Health => (StatusCode::OK, "ok").into_response(),
        // kubectl insists on downloading the OpenAPI v2 document (as protobuf) before it
        // validates or applies; an empty protobuf message is a valid, empty document, which
        // makes kubectl skip client-side schema validation and fall back to its compiled-in
        // strategic-merge metadata. /openapi/v3 stays 404, which kubectl tolerates.
        Route::OpenApiV2 => {
            let mut resp = (StatusCode::OK, Bytes::new()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                ),
            );
            resp
        }
        Route::Api => {
            let st = sh.lock();
            if wants_aggregated {
                discovery_response(&aggregated(&st.resources, true), AGGREGATED_CT)
            } else {
                json_response(
                    200,
                    &json!({
                        "kind": "APIVersions",
                        "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": sh.addr}],
                    }),
                )
            }
        }
        Route::Apis => {
            let st = sh.lock();
            if wants_aggregated {
                discovery_response(&aggregated(&st.resources, false), AGGREGATED_CT)
            } else {
                let gs: Vec<Value> = groups(&st.resources)
                    .into_iter()
                    .filter(|(g, _)| !g.is_empty())
                    .map(|(g, vs)| group_json(&g, &vs))
                    .collect();
                json_response(
                    200,
                    &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": gs}),
                )
            }
        }
        Route::Group(g) => {
            let st = sh.lock();
            match groups(&st.resources).into_iter().find(|(x, _)| *x == g) {
                Some((g, vs)) => {
                    let mut body = group_json(&g, &vs);
                    if let Some(m) = body.as_object_mut() {
                        m.insert("kind".into(), json!("APIGroup"));
                        m.insert("apiVersion".into(), json!("v1"));
                    }
                    json_response(200, &body)
                }
                None => error_response(&ApiError::no_resource()),
            }
        }
        Route::GroupVersion(g, v) => {
            let st = sh.lock();
            let rs: Vec<Value> = st
                .resources
                .iter()
                .filter(|r| r.group == g && r.version == v)
                .flat_map(ResourceInfo::discovery_entries)
                .collect();
            if rs.is_empty() {
                error_response(&ApiError::no_resource())
            } else {
                let gv = if g.is_empty() { v } else { format!("{g}/{v}") };
                json_response(
                    200,
                    &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": rs}),
                )
            }
        }
        Route::Resource(rp) => {
            let req = Req {
                method,
                uri: &uri,
                q: &query,
                headers: &headers,
                body: &body,
                shape,
                upgrade,
            };
            match resource(&sh, rp, req).await {
                Ok(r) => r,
                Err(e) => error_response(&e),
            }
        }
        Route::NotFound => error_response(&ApiError::no_resource()),
    }
}

fn write_opts(q: &HashMap<String, String>) -> Result<WriteOpts, ApiError> {
    let dry_run = match q.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            )));
        }
    };
    Ok(WriteOpts {
        dry_run,
        from_api: true,
        field_manager: q.get("fieldManager").cloned(),
    })
}

fn selectors(
    q: &HashMap<String, String>,
    ri: &ResourceInfo,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let ls = LabelSelector::parse(
        q.get("labelSelector")
            .map(String::as_str)
            .unwrap_or_default(),
    )
    .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fs = FieldSelector::parse(
        q.get("fieldSelector")
            .map(String::as_str)
            .unwrap_or_default(),
        &ri.group,
        &ri.plural,
        ri.custom,
    )
    .map_err(ApiError::bad_request)?;
    Ok((ls, fs))
}

/// The representation a client asked for with its `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The objects themselves.
    Full,
    /// A `meta.k8s.io/v1` `Table` (kubectl get).
    Table,
    /// `PartialObjectMetadata` / `PartialObjectMetadataList` (kube's `*_metadata` calls).
    Metadata,
}

fn partial(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn partial_list(list: &Value) -> Value {
    let items: Vec<Value> = list
        .get("items")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(partial).collect())
        .unwrap_or_default();
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "items": items,
    })
}

/// The parts of a request that resource handlers need.
struct Req<'a> {
    method: Method,
    uri: &'a Uri,
    q: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    shape: Shape,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
}

async fn resource(sh: &Arc<Shared>, rp: ResPath, req: Req<'_>) -> Result<Response, ApiError> {
    let Req {
        method,
        uri,
        q,
        headers,
        body,
        shape,
        upgrade,
    } = req;
    let ri = sh
        .lock()
        .find(&rp.group, &rp.version, &rp.plural)
        .ok_or_else(ApiError::no_resource)?;
    if rp.ns.is_some() && !ri.namespaced {
        return Err(ApiError::no_resource());
    }
    let sub = match rp.sub.as_deref() {
        None => Sub::Main,
        Some("status") if ri.has_sub("status") => Sub::Status,
        Some("scale") if ri.has_sub("scale") => Sub::Scale,
        Some("log") if ri.has_sub("log") => {
            if method != Method::GET {
                return Err(ApiError::method_not_allowed(format!(
                    "the server does not allow this method on the requested resource ({method} pods/log)"
                )));
            }
            return pod_log(sh, &rp, q);
        }
        Some("proxy") if ri.kind == "Service" && !ri.custom => {
            return service_proxy(
                sh,
                &ri,
                rp.ns.as_deref().unwrap_or_default(),
                rp.name.as_deref().unwrap_or_default(),
                uri,
            );
        }
        Some("proxy") if ri.kind == "Pod" && !ri.custom => {
            return super::podport::pod_proxy(
                sh,
                rp.ns.as_deref().unwrap_or_default(),
                rp.name.as_deref().unwrap_or_default(),
                &method,
                uri,
                body,
            );
        }
        Some("portforward") if ri.kind == "Pod" && !ri.custom => {
            return super::podport::port_forward(
                sh,
                rp.ns.as_deref().unwrap_or_default(),
                rp.name.as_deref().unwrap_or_default(),
                uri,
                headers,
                upgrade,
            );
        }
        Some("exec") if ri.kind == "Pod" && !ri.custom => {
            return super::exec::exec(
                sh,
                &rp.ns.unwrap_or_default(),
                rp.name.as_deref().unwrap_or_default(),
                uri,
                headers,
                upgrade,
            );
        }
        // unknown subresources (and attach/portforward, which the fake does not serve)
        Some(_) => return Err(ApiError::no_resource()),
    };
    let ns = rp.ns.clone().unwrap_or_default();
    let ns_opt = rp.ns.as_deref();
    match (method, rp.name.as_deref()) {
        (Method::GET, None) => {
            let (ls, fs) = selectors(q, &ri)?;
            if truthy(q, "watch") {
                return watch(sh, &ri, ns_opt, ls, fs, q, shape);
            }
            let limit = q.get("limit").and_then(|l| l.parse::<usize>().ok());
            let list = sh.lock().list(
                &ri,
                ns_opt,
                &ls,
                &fs,
                limit,
                q.get("continue").map(String::as_str),
            )?;
            if shape == Shape::Metadata {
                return Ok(json_response(200, &partial_list(&list)));
            }
            if shape == Shape::Table {
                let include = q
                    .get("includeObject")
                    .map(String::as_str)
                    .unwrap_or("PartialObjectMetadata");
                return Ok(json_response(200, &table::list_table(&ri, &list, include)));
            }
            Ok(json_response(200, &list))
        }
        (Method::GET, Some(name)) => {
            let st = sh.lock();
            let obj = match sub {
                Sub::Scale => st.get_scale(&ri, &ns, name)?,
                _ => st.get(&ri, &ns, name)?,
            };
            if shape == Shape::Metadata && sub == Sub::Main {
                return Ok(json_response(200, &partial(&obj)));
            }
            if shape == Shape::Table && sub == Sub::Main {
                let include = q
                    .get("includeObject")
                    .map(String::as_str)
                    .unwrap_or("PartialObjectMetadata");
                return Ok(json_response(
                    200,
                    &table::objects_table(&ri, &[obj], include, None),
                ));
            }
            Ok(json_response(200, &obj))
        }
        (Method::POST, None) => {
            let obj = parse_body(headers, body)?;
            let o = write_opts(q)?;
            let created = sh.lock().create(
                &ri,
                Some(&ns).filter(|_| ri.namespaced).map(String::as_str),
                obj,
                &o,
            )?;
            Ok(json_response(201, &created))
        }
        (Method::PUT, Some(name)) => {
            let obj = parse_body(headers, body)?;
            let o = write_opts(q)?;
            let out = sh.lock().update(&ri, &ns, name, obj, sub, &o)?;
            Ok(json_response(200, &out))
        }
        (Method::PATCH, Some(name)) => {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let kind =
                PatchKind::from_content_type(ct).ok_or_else(|| ApiError::unsupported_media(ct))?;
            let patch: Value = if kind == PatchKind::Apply {
                serde_yaml::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
            } else {
                serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?
            };
            if kind == PatchKind::Apply && sub == Sub::Scale {
                return Err(ApiError::bad_request(
                    "the fake API server does not support apply on the scale subresource",
                ));
            }
            let o = write_opts(q)?;
            let (out, created) = sh.lock().patch(&ri, &ns, name, kind, &patch, sub, &o)?;
            Ok(json_response(if created { 201 } else { 200 }, &out))
        }
        (Method::DELETE, name) => {
            let opts: Value = if body.is_empty() {
                json!({})
            } else {
                serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
            };
            let dry_run = write_opts(q)?.dry_run
                || opts
                    .get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v == "All"));
            let d = DeleteOpts {
                dry_run,
                precondition_rv: opts
                    .pointer("/preconditions/resourceVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                precondition_uid: opts
                    .pointer("/preconditions/uid")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                propagation: opts
                    .get("propagationPolicy")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| q.get("propagationPolicy").cloned()),
            };
            if sub != Sub::Main {
                return Err(ApiError::method_not_allowed(
                    "subresources cannot be deleted",
                ));
            }
            let out = match name {
                Some(n) => sh.lock().delete(&ri, &ns, n, &d)?,
                None => {
                    let (ls, fs) = selectors(q, &ri)?;
                    sh.lock().delete_collection(&ri, ns_opt, &ls, &fs, &d)?
                }
            };
            Ok(json_response(200, &out))
        }
        (m, _) => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({m} {})",
            ri.qualified()
        ))),
    }
}

fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            })
}

/// `services/<[scheme:]name[:port]>/proxy/<path>`: 503 when no ready endpoint backs the
/// Service (its Endpoints object when there is one, else the ready pods its selector
/// matches), else 200 with a short text naming the pod that "answered".
fn service_proxy(
    sh: &Arc<Shared>,
    ri: &ResourceInfo,
    ns: &str,
    name_port: &str,
    uri: &Uri,
) -> Result<Response, ApiError> {
    let parts: Vec<&str> = name_port.split(':').collect();
    let name = match parts.as_slice() {
        [_, name, _] => *name,
        [name, ..] => *name,
        [] => "",
    };
    let st = sh.lock();
    let svc = st.get(ri, ns, name)?;
    let endpoints = st
        .find("", "v1", "endpoints")
        .and_then(|ep| st.get(&ep, ns, name).ok());
    let ready: Vec<String> = match endpoints {
        Some(ep) => ep
            .get("subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("addresses").and_then(Value::as_array))
            .flatten()
            .map(|a| {
                a.pointer("/targetRef/name")
                    .or_else(|| a.get("ip"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .collect(),
        None => match svc.pointer("/spec/selector") {
            Some(sel) if sel.as_object().is_some_and(|m| !m.is_empty()) => {
                let ls = LabelSelector::from_label_selector_object(&json!({"matchLabels": sel}));
                let pods = st
                    .find("", "v1", "pods")
                    .ok_or_else(ApiError::no_resource)?;
                let list = st.list(&pods, Some(ns), &ls, &FieldSelector::default(), None, None)?;
                list.get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|p| pod_ready(p))
                    .filter_map(|p| {
                        p.pointer("/metadata/name")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect()
            }
            _ => Vec::new(),
        },
    };
    let Some(first) = ready.first() else {
        return Err(ApiError {
            code: 503,
            reason: "ServiceUnavailable",
            message: format!("no endpoints available for service \"{name_port}\""),
            details: None,
        });
    };
    let path = uri
        .path()
        .split_once("/proxy")
        .map(|(_, p)| if p.is_empty() { "/" } else { p })
        .unwrap_or("/");
    let mut resp = (
        StatusCode::OK,
        format!("fake response from pod {first} for {path}\n"),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(resp)
}

fn pod_log(
    sh: &Arc<Shared>,
    rp: &ResPath,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let name = rp.name.as_deref().unwrap_or_default();
    let ns = rp.ns.as_deref().unwrap_or_default();
    let tail = match q.get("tailLines") {
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("tailLines: Invalid value: {t:?}")))?,
        ),
        None => None,
    };
    let limit = match q.get("limitBytes") {
        Some(t) => Some(
            t.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("limitBytes: Invalid value: {t:?}")))?,
        ),
        None => None,
    };
    let text = sh.lock().pod_log(
        ns,
        name,
        q.get("container").map(String::as_str),
        truthy(q, "previous"),
        tail,
        limit,
    )?;
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(resp)
}

fn event_line(kind: &str, object: Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

struct WatchFilter {
    ri: ResourceInfo,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    shape: Shape,
}

impl WatchFilter {
    fn matches(&self, obj: &Value) -> bool {
        let ns_ok = match (&self.ns, self.ri.namespaced) {
            (Some(ns), true) => {
                obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str())
            }
            _ => true,
        };
        ns_ok && self.labels.matches(obj) && self.fields.matches(obj)
    }

    fn render(&self, obj: &Value) -> Value {
        let o = State::present(&self.ri, obj);
        match self.shape {
            Shape::Table => table::objects_table(&self.ri, &[o], "Object", None),
            Shape::Metadata => partial(&o),
            Shape::Full => o,
        }
    }

    /// The event a watcher with this filter sees for a change, if any.
    fn translate(&self, c: &Change) -> Option<Bytes> {
        if c.key != self.ri.storage_key() {
            return None;
        }
        let new_m = self.matches(&c.new);
        let old_m = c.old.as_ref().is_some_and(|o| self.matches(o));
        let kind = match (c.kind, old_m, new_m) {
            (ChangeKind::Added, _, true) => "ADDED",
            (ChangeKind::Deleted, true, _) => "DELETED",
            (ChangeKind::Modified, true, true) => "MODIFIED",
            (ChangeKind::Modified, false, true) => "ADDED",
            (ChangeKind::Modified, true, false) => "DELETED",
            _ => return None,
        };
        Some(event_line(kind, self.render(&c.new)))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut md = json!({"resourceVersion": rv.to_string()});
        if initial_end && let Some(m) = md.as_object_mut() {
            m.insert(
                "annotations".into(),
                json!({"k8s.io/initial-events-end": "true"}),
            );
        }
        event_line(
            "BOOKMARK",
            json!({"kind": self.ri.kind, "apiVersion": self.ri.api_version(), "metadata": md}),
        )
    }
}

fn watch(
    sh: &Arc<Shared>,
    ri: &ResourceInfo,
    ns: Option<&str>,
    labels: LabelSelector,
    fields: FieldSelector,
    q: &HashMap<String, String>,
    shape: Shape,
) -> Result<Response, ApiError> {
    let send_initial = truthy(q, "sendInitialEvents");
    let since = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let bookmarks = truthy(q, "allowWatchBookmarks");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let (start, mut rx, start_rv) = {
        let st = sh.lock();
        let (start, rx) = st.watch_start(ri, ns, if send_initial { None } else { since })?;
        (start, rx, st.rv)
    };
    let filter = WatchFilter {
        ri: ri.clone(),
        ns: ns.map(str::to_string),
        labels,
        fields,
        shape,
    };
    let interval = sh.bookmark_interval;
    let (tx, body_rx) = futures::channel::mpsc::unbounded::<Bytes>();
    tokio::spawn(async move {
        let mut last_rv = start_rv;
        match start {
            WatchStart::Objects(objs) => {
                for o in objs.iter().filter(|o| filter.matches(o)) {
                    if tx
                        .unbounded_send(event_line("ADDED", filter.render(o)))
                        .is_err()
                    {
                        return;
                    }
                }
            }
            WatchStart::Changes(changes) => {
                for c in changes {
                    if let Some(line) = filter.translate(&c)
                        && tx.unbounded_send(line).is_err()
                    {
                        return;
                    }
                }
            }
        }
        if send_initial && tx.unbounded_send(filter.bookmark(last_rv, true)).is_err() {
            return;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(interval);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tick.tick() => {
                    if tx.is_closed() {
                        break;
                    }
                    if bookmarks && tx.unbounded_send(filter.bookmark(last_rv, false)).is_err() {
                        break;
                    }
                }
                r = rx.recv() => match r {
                    Ok(c) => {
                        if c.rv <= last_rv {
                            continue;
                        }
                        last_rv = c.rv;
                        if let Some(line) = filter.translate(&c)
                            && tx.unbounded_send(line).is_err()
                        {
                            break;
                        }
                    }
                    // a watcher that fell behind is closed; clients re-list
                    Err(RecvError::Lagged(_) | RecvError::Closed) => break,
                }
            }
        }
    });
    let stream = body_rx.map(Ok::<Bytes, Infallible>);
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::TRANSFER_ENCODING,
        HeaderValue::from_static("chunked"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("/version"), Route::Version);
        assert_eq!(parse_path("/api"), Route::Api);
        assert_eq!(
            parse_path("/api/v1"),
            Route::GroupVersion(String::new(), "v1".into())
        );
        assert_eq!(parse_path("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(
            parse_path("/api/v1/namespaces/ns1/pods/p/log"),
            Route::Resource(ResPath {
                group: String::new(),
                version: "v1".into(),
                ns: Some("ns1".into()),
                plural: "pods".into(),
                name: Some("p".into()),
                sub: Some("log".into()),
            })
        );
        let Route::Resource(r) = parse_path("/api/v1/namespaces/ns1") else {
            panic!()
        };
        assert_eq!(
            (r.plural.as_str(), r.name.as_deref(), r.ns),
            ("namespaces", Some("ns1"), None)
        );
        let Route::Resource(r) = parse_path("/api/v1/namespaces/ns1/status") else {
            panic!()
        };
        assert_eq!(
            (r.plural.as_str(), r.sub.as_deref()),
            ("namespaces", Some("status"))
        );
        let Route::Resource(r) = parse_path("/apis/apps/v1/deployments") else {
            panic!()
        };
        assert_eq!((r.group.as_str(), r.ns, r.name), ("apps", None, None));
        assert_eq!(
            parse_path("/apis/apps/v1/namespaces/a/deployments/b/scale/x"),
            Route::NotFound
        );
        assert_eq!(parse_path("/metrics"), Route::NotFound);
    }

    #[test]
    fn version_order() {
        let mut v = vec!["v1alpha1", "v2beta1", "v1", "v2", "v1beta2"];
        v.sort_by_key(|x| std::cmp::Reverse(version_rank(x)));
        assert_eq!(v, ["v2", "v1", "v2beta1", "v1beta2", "v1alpha1"]);
    }
}
