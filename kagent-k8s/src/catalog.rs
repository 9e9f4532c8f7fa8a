//! The resource catalog: which resource kinds the cluster serves, found through the API
//! server's discovery endpoints (`/api`, `/apis`, per-group resource lists) and cached.
//!
//! It resolves what a model or a person types — `po`, `pods`, `Pod`, `deploy`,
//! `deployments.apps`, `deployment.v1.apps`, a CRD's plural or short name — to the exact
//! group, version, plural and scope to call. Unknown names trigger one refresh, so custom
//! resources installed after start are found.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use tokio::sync::RwLock;

use crate::error::{K8sError, Result};

/// One resource kind the cluster serves.
///
/// Discovery fills it in; to build one yourself (for [`ResourceCatalog::with_resources`]) use
/// [`ResourceInfo::new`] and the `with_*` methods:
///
/// ```
/// use kagent_k8s::ResourceInfo;
/// use kube::core::ApiResource;
/// let ar = ApiResource {
///     group: "example.com".into(),
///     version: "v1".into(),
///     api_version: "example.com/v1".into(),
///     kind: "Widget".into(),
///     plural: "widgets".into(),
/// };
/// let widgets = ResourceInfo::new(ar, true)
///     .with_short_names(["wd"])
///     .with_verbs(["get", "list", "watch"])
///     .with_subresources(["status"]);
/// assert_eq!(widgets.singular, "widget");
/// assert_eq!(widgets.qualified_name(), "widgets.example.com");
/// assert!(widgets.supports("list") && !widgets.supports("delete"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResourceInfo {
    /// Group, version, kind and plural.
    pub resource: ApiResource,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Singular name (`deployment`).
    pub singular: String,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// Verbs the server supports on the resource.
    pub verbs: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Subresources (`status`, `scale`, `log`, `exec`).
    pub subresources: Vec<String>,
}

impl ResourceInfo {
    /// A resource kind (namespaced or not) whose singular name is its lowercased kind, with no
    /// short names, verbs, categories or subresources; set those with the `with_*` methods.
    pub fn new(resource: ApiResource, namespaced: bool) -> Self {
        let singular = resource.kind.to_ascii_lowercase();
        ResourceInfo {
            resource,
            namespaced,
            singular,
            short_names: Vec::new(),
            verbs: Vec::new(),
            categories: Vec::new(),
            subresources: Vec::new(),
        }
    }

    /// Sets the singular name.
    #[must_use]
    pub fn with_singular(mut self, singular: impl Into<String>) -> Self {
        self.singular = singular.into();
        self
    }

    /// Sets the short names (replacing any).
    #[must_use]
    pub fn with_short_names(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.short_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the verbs the server supports (replacing any).
    #[must_use]
    pub fn with_verbs(mut self, verbs: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.verbs = verbs.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the categories (replacing any).
    #[must_use]
    pub fn with_categories(
        mut self,
        categories: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.categories = categories.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the subresources (replacing any).
    #[must_use]
    pub fn with_subresources(
        mut self,
        subresources: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.subresources = subresources.into_iter().map(Into::into).collect();
        self
    }

    /// `plural` for the core group, `plural.group` otherwise (what RBAC and kubectl print).
    pub fn qualified_name(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.plural.clone()
        } else {
            format!("{}.{}", self.resource.plural, self.resource.group)
        }
    }

    /// Whether the server supports `verb` on this resource.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether the resource has the named subresource.
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s == name)
    }

    /// A dynamic API handle: in `namespace` for namespaced kinds (all namespaces when `None`),
    /// cluster-wide otherwise.
    pub fn api(&self, client: Client, namespace: Option<&str>) -> Api<DynamicObject> {
        match (self.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(client, ns, &self.resource),
            _ => Api::all_with(client, &self.resource),
        }
    }

    fn matches(&self, name: &str) -> bool {
        self.resource.plural == name
            || self.singular == name
            || self.resource.kind.eq_ignore_ascii_case(name)
            || self.short_names.iter().any(|s| s == name)
    }
}

/// Short names of built-in kinds, used when a server's discovery omits them.
const BUILTIN_SHORT_NAMES: &[(&str, &str, &str)] = &[
    ("", "pods", "po"),
    ("", "services", "svc"),
    ("", "namespaces", "ns"),
    ("", "nodes", "no"),
    ("", "configmaps", "cm"),
    ("", "endpoints", "ep"),
    ("", "events", "ev"),
    ("", "persistentvolumeclaims", "pvc"),
    ("", "persistentvolumes", "pv"),
    ("", "serviceaccounts", "sa"),
    ("", "replicationcontrollers", "rc"),
    ("", "resourcequotas", "quota"),
    ("", "limitranges", "limits"),
    ("apps", "deployments", "deploy"),
    ("apps", "replicasets", "rs"),
    ("apps", "statefulsets", "sts"),
    ("apps", "daemonsets", "ds"),
    ("batch", "cronjobs", "cj"),
    ("autoscaling", "horizontalpodautoscalers", "hpa"),
    ("policy", "poddisruptionbudgets", "pdb"),
    ("networking.k8s.io", "ingresses", "ing"),
    ("networking.k8s.io", "networkpolicies", "netpol"),
    ("storage.k8s.io", "storageclasses", "sc"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "crd"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "crds"),
    ("events.k8s.io", "events", "ev"),
];

/// The discovered resource kinds of one cluster, cached.
#[derive(Clone)]
pub struct ResourceCatalog {
    client: Client,
    state: Arc<RwLock<Option<Snapshot>>>,
    max_age: Duration,
}

impl std::fmt::Debug for ResourceCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceCatalog")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Snapshot {
    resources: Arc<Vec<ResourceInfo>>,
    fetched: Instant,
}

impl ResourceCatalog {
    /// A catalog for `client`; nothing is fetched until first use. Entries are refreshed after
    /// five minutes, or at once when a name is not found.
    pub fn new(client: Client) -> Self {
        ResourceCatalog {
            client,
            state: Arc::new(RwLock::new(None)),
            max_age: Duration::from_secs(300),
        }
    }

    /// A catalog with a fixed list of resources (tests, offline rendering). It never queries the
    /// server unless a name is not found.
    pub fn with_resources(client: Client, resources: Vec<ResourceInfo>) -> Self {
        ResourceCatalog {
            client,
            state: Arc::new(RwLock::new(Some(Snapshot {
                resources: Arc::new(resources),
                fetched: Instant::now(),
            }))),
            max_age: Duration::MAX,
        }
    }

    /// Every resource kind the cluster serves (fetched on first use).
    pub async fn all(&self) -> Result<Arc<Vec<ResourceInfo>>> {
        {
            let guard = self.state.read().await;
            if let Some(s) = guard.as_ref()
                && s.fetched.elapsed() < self.max_age
            {
                return Ok(Arc::clone(&s.resources));
            }
        }
        self.refresh().await
    }

    /// Drops the cache and queries the server again.
    pub async fn refresh(&self) -> Result<Arc<Vec<ResourceInfo>>> {
        let resources = Arc::new(discover(&self.client).await?);
        let mut guard = self.state.write().await;
        *guard = Some(Snapshot {
            resources: Arc::clone(&resources),
            fetched: Instant::now(),
        });
        Ok(resources)
    }

    /// Resolves a resource type as typed by a person or a model.
    pub async fn resolve(&self, resource_type: &str) -> Result<ResourceInfo> {
        let all = self.all().await?;
        if let Some(found) = resolve_in(&all, resource_type) {
            return Ok(found);
        }
        // Maybe a CRD installed since the last discovery.
        let all = self.refresh().await?;
        resolve_in(&all, resource_type).ok_or_else(|| unknown(&all, resource_type))
    }

    /// Resolves an `apiVersion` and `kind` (from a manifest or an owner reference).
    pub async fn resolve_kind(&self, api_version: &str, kind: &str) -> Result<ResourceInfo> {
        let (group, version) = split_api_version(api_version);
        let find = |all: &[ResourceInfo]| {
            all.iter()
                .find(|r| {
                    r.resource.group == group
                        && r.resource.kind == kind
                        && (r.resource.version == version)
                })
                .or_else(|| {
                    all.iter()
                        .find(|r| r.resource.group == group && r.resource.kind == kind)
                })
                .cloned()
                .map(|mut r| {
                    // Keep the version the caller asked for: the object is written in it.
                    if r.resource.version != version {
                        r.resource.version = version.to_owned();
                        r.resource.api_version = api_version.to_owned();
                    }
                    r
                })
        };
        let all = self.all().await?;
        if let Some(r) = find(&all) {
            return Ok(r);
        }
        let all = self.refresh().await?;
        find(&all).ok_or_else(|| K8sError::UnknownResourceType {
            resource_type: format!("{kind} ({api_version})"),
            hint: ": the cluster does not serve this kind; is its CRD installed?".to_owned(),
        })
    }
}

/// `apps/v1` to (`apps`, `v1`); `v1` to (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

fn unknown(all: &[ResourceInfo], resource_type: &str) -> K8sError {
    let needle = resource_type.to_ascii_lowercase();
    let stem = needle.trim_end_matches('s');
    let mut close: Vec<String> = all
        .iter()
        .filter(|r| {
            !stem.is_empty() && (r.resource.plural.contains(stem) || stem.contains(&r.singular))
        })
        .map(ResourceInfo::qualified_name)
        .collect();
    close.sort();
    close.dedup();
    close.truncate(5);
    let hint = if close.is_empty() {
        "; call k8s_get_available_api_resources to list the resource types".to_owned()
    } else {
        format!("; did you mean {}?", close.join(", "))
    };
    K8sError::UnknownResourceType {
        resource_type: resource_type.to_owned(),
        hint,
    }
}

/// Resolves `resource_type` against a list: `po`, `pods`, `Pod`, `deployments.apps`,
/// `deployment.v1.apps`. Prefers the core group, then built-in groups, on ambiguity.
pub fn resolve_in(all: &[ResourceInfo], resource_type: &str) -> Option<ResourceInfo> {
    let wanted = resource_type.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let rank = |r: &ResourceInfo| -> u8 {
        if r.resource.group.is_empty() {
            0
        } else if r.resource.group.ends_with(".k8s.io") || !r.resource.group.contains('.') {
            1
        } else {
            2
        }
    };
    let best = |iter: &mut dyn Iterator<Item = &ResourceInfo>| -> Option<ResourceInfo> {
        iter.min_by_key(|r| rank(r)).cloned()
    };
    if let Some(found) = best(&mut all.iter().filter(|r| r.matches(&wanted))) {
        return Some(found);
    }
    // name.group or name.version.group
    let (name, rest) = wanted.split_once('.')?;
    let by_group = best(
        &mut all
            .iter()
            .filter(|r| r.matches(name) && r.resource.group == rest),
    );
    if by_group.is_some() {
        return by_group;
    }
    let (version, group) = rest.split_once('.')?;
    best(
        &mut all.iter().filter(|r| {
            r.matches(name) && r.resource.group == group && r.resource.version == version
        }),
    )
}

async fn discover(client: &Client) -> Result<Vec<ResourceInfo>> {
    let mut out = Vec::new();
    let core = client
        .list_core_api_versions()
        .await
        .map_err(|e| K8sError::api("discover /api", e))?;
    let core_version = core
        .versions
        .iter()
        .find(|v| v.as_str() == "v1")
        .or(core.versions.first())
        .cloned()
        .unwrap_or_else(|| "v1".to_owned());
    let list = client
        .list_core_api_resources(&core_version)
        .await
        .map_err(|e| K8sError::api("discover /api/v1", e))?;
    add_list(&mut out, "", &list);

    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| K8sError::api("discover /apis", e))?;
    let wanted: Vec<(String, String)> = groups
        .groups
        .iter()
        .filter_map(|g| {
            let gv = g
                .preferred_version
                .as_ref()
                .map(|p| p.group_version.clone())
                .or_else(|| g.versions.first().map(|v| v.group_version.clone()))?;
            Some((g.name.clone(), gv))
        })
        .collect();
    let lists: Vec<(String, std::result::Result<APIResourceList, kube::Error>)> =
        futures::stream::iter(wanted.into_iter().map(|(group, gv)| async move {
            let res = client.list_api_group_resources(&gv).await;
            (group, res)
        }))
        .buffered(8)
        .collect()
        .await;
    for (group, res) in lists {
        match res {
            Ok(list) => add_list(&mut out, &group, &list),
            // An aggregated API that is down (metrics.k8s.io, say) must not hide the rest.
            Err(e) => tracing::warn!(group = %group, error = %e, "skipping API group in discovery"),
        }
    }
    Ok(out)
}

fn add_list(out: &mut Vec<ResourceInfo>, group: &str, list: &APIResourceList) {
    let (_, version) = split_api_version(&list.group_version);
    let start = out.len();
    for r in &list.resources {
        if r.name.contains('/') {
            continue;
        }
        let mut short_names = r.short_names.clone().unwrap_or_default();
        for (g, plural, short) in BUILTIN_SHORT_NAMES {
            if *g == group && *plural == r.name && !short_names.iter().any(|s| s == short) {
                short_names.push((*short).to_owned());
            }
        }
        let singular = if r.singular_name.is_empty() {
            r.kind.to_ascii_lowercase()
        } else {
            r.singular_name.clone()
        };
        out.push(ResourceInfo {
            resource: ApiResource {
                group: group.to_owned(),
                version: version.to_owned(),
                api_version: list.group_version.clone(),
                kind: r.kind.clone(),
                plural: r.name.clone(),
            },
            namespaced: r.namespaced,
            singular,
            short_names,
            verbs: r.verbs.clone(),
            categories: r.categories.clone().unwrap_or_default(),
            subresources: Vec::new(),
        });
    }
    for r in &list.resources {
        if let Some((parent, sub)) = r.name.split_once('/')
            && let Some(p) = out
                .get_mut(start..)
                .and_then(|s| s.iter_mut().find(|p| p.resource.plural == parent))
        {
            p.subresources.push(sub.to_owned());
        }
    }
}

/// (group, version, kind, plural, namespaced, subresources)
type BuiltinSpec<'a> = (&'a str, &'a str, &'a str, &'a str, bool, &'a [&'a str]);

/// Well-known built-in resource kinds (for offline rendering, RBAC generation and tests).
pub fn builtin_resources() -> Vec<ResourceInfo> {
    let spec: &[BuiltinSpec<'_>] = &[
        (
            "",
            "v1",
            "Pod",
            "pods",
            true,
            &["status", "log", "exec", "eviction"],
        ),
        ("", "v1", "Service", "services", true, &["status", "proxy"]),
        ("", "v1", "Namespace", "namespaces", false, &["status"]),
        ("", "v1", "Node", "nodes", false, &["status", "proxy"]),
        ("", "v1", "ConfigMap", "configmaps", true, &[]),
        ("", "v1", "Secret", "secrets", true, &[]),
        ("", "v1", "Endpoints", "endpoints", true, &[]),
        ("", "v1", "Event", "events", true, &[]),
        (
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
            &["status"],
        ),
        (
            "",
            "v1",
            "PersistentVolume",
            "persistentvolumes",
            false,
            &["status"],
        ),
        ("", "v1", "ServiceAccount", "serviceaccounts", true, &[]),
        (
            "apps",
            "v1",
            "Deployment",
            "deployments",
            true,
            &["status", "scale"],
        ),
        (
            "apps",
            "v1",
            "ReplicaSet",
            "replicasets",
            true,
            &["status", "scale"],
        ),
        (
            "apps",
            "v1",
            "StatefulSet",
            "statefulsets",
            true,
            &["status", "scale"],
        ),
        ("apps", "v1", "DaemonSet", "daemonsets", true, &["status"]),
        (
            "apps",
            "v1",
            "ControllerRevision",
            "controllerrevisions",
            true,
            &[],
        ),
        ("batch", "v1", "Job", "jobs", true, &["status"]),
        ("batch", "v1", "CronJob", "cronjobs", true, &["status"]),
        (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            &["status"],
        ),
        (
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &["status"],
        ),
        (
            "networking.k8s.io",
            "v1",
            "Ingress",
            "ingresses",
            true,
            &["status"],
        ),
        (
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
            &[],
        ),
        (
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            true,
            &[],
        ),
        (
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            false,
            &[],
        ),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "Role",
            "roles",
            true,
            &[],
        ),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
            &[],
        ),
        (
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["status"],
        ),
        ("events.k8s.io", "v1", "Event", "events", true, &[]),
    ];
    spec.iter()
        .map(|(group, version, kind, plural, namespaced, subs)| {
            let api_version = if group.is_empty() {
                (*version).to_owned()
            } else {
                format!("{group}/{version}")
            };
            let short_names = BUILTIN_SHORT_NAMES
                .iter()
                .filter(|(g, p, _)| g == group && p == plural)
                .map(|(_, _, s)| (*s).to_owned())
                .collect();
            ResourceInfo {
                resource: ApiResource {
                    group: (*group).to_owned(),
                    version: (*version).to_owned(),
                    api_version,
                    kind: (*kind).to_owned(),
                    plural: (*plural).to_owned(),
                },
                namespaced: *namespaced,
                singular: kind.to_ascii_lowercase(),
                short_names,
                verbs: [
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                categories: Vec::new(),
                subresources: subs.iter().map(|s| (*s).to_owned()).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_the_names_people_type() {
        let all = builtin_resources();
        for (typed, plural, group) in [
            ("po", "pods", ""),
            ("pod", "pods", ""),
            ("Pods", "pods", ""),
            ("Pod", "pods", ""),
            ("deploy", "deployments", "apps"),
            ("deployments.apps", "deployments", "apps"),
            ("deployment.v1.apps", "deployments", "apps"),
            ("hpa", "horizontalpodautoscalers", "autoscaling"),
            ("events", "events", ""),
            ("events.events.k8s.io", "events", "events.k8s.io"),
            ("svc", "services", ""),
            ("netpol", "networkpolicies", "networking.k8s.io"),
        ] {
            let r = resolve_in(&all, typed).unwrap_or_else(|| panic!("{typed}"));
            assert_eq!(
                (r.resource.plural.as_str(), r.resource.group.as_str()),
                (plural, group),
                "{typed}"
            );
        }
        assert!(resolve_in(&all, "").is_none());
        assert!(resolve_in(&all, "frobnicators").is_none());
        assert!(resolve_in(&all, "deployments.batch").is_none());
    }

    /// A resource built with the public constructors resolves like a discovered one.
    #[test]
    fn hand_built_resources_resolve() {
        let widgets = ResourceInfo::new(
            ApiResource {
                group: "example.com".into(),
                version: "v1alpha1".into(),
                api_version: "example.com/v1alpha1".into(),
                kind: "Widget".into(),
                plural: "widgets".into(),
            },
            false,
        )
        .with_short_names(["wd"])
        .with_verbs(["get", "list"])
        .with_categories(["all"])
        .with_subresources(["status"]);
        assert_eq!(widgets.singular, "widget");
        assert!(!widgets.namespaced);
        assert!(widgets.has_subresource("status") && !widgets.has_subresource("scale"));
        assert_eq!(widgets.categories, ["all"]);
        let mut all = builtin_resources();
        all.push(widgets.clone());
        for typed in ["wd", "widget", "Widget", "widgets.example.com"] {
            assert_eq!(resolve_in(&all, typed).as_ref(), Some(&widgets), "{typed}");
        }
        let renamed = widgets.with_singular("gizmo");
        assert_eq!(
            resolve_in(&[renamed], "gizmo").map(|r| r.singular),
            Some("gizmo".into())
        );
    }

    #[test]
    fn unknown_names_get_suggestions() {
        let all = builtin_resources();
        let e = unknown(&all, "deployment2");
        assert!(e.to_string().contains("deployments.apps"), "{e}");
        let e = unknown(&all, "zzz");
        assert!(
            e.to_string().contains("k8s_get_available_api_resources"),
            "{e}"
        );
    }

    #[test]
    fn discovery_lists_fold_subresources_into_their_parent() {
        let list: APIResourceList = serde_json::from_value(serde_json::json!({
            "groupVersion": "apps/v1",
            "resources": [
                {"name": "deployments", "singularName": "", "namespaced": true, "kind": "Deployment", "verbs": ["get", "list"]},
                {"name": "deployments/scale", "singularName": "", "namespaced": true, "kind": "Scale", "verbs": ["get", "patch"]},
                {"name": "deployments/status", "singularName": "", "namespaced": true, "kind": "Deployment", "verbs": ["get"]}
            ]
        }))
        .unwrap();
        let mut out = Vec::new();
        add_list(&mut out, "apps", &list);
        assert_eq!(out.len(), 1);
        let d = &out[0];
        assert_eq!(d.singular, "deployment");
        assert_eq!(d.short_names, vec!["deploy"]);
        assert_eq!(d.subresources, vec!["scale", "status"]);
        assert_eq!(d.resource.api_version, "apps/v1");
        assert!(d.supports("list") && !d.supports("delete"));
        assert_eq!(d.qualified_name(), "deployments.apps");
    }
}
