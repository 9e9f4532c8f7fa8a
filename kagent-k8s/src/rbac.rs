//! RBAC generation: the minimal Role or ClusterRole a set of tools needs.
//!
//! ```
//! use kagent_k8s::rbac::{RbacRequest, ResourceScope};
//!
//! let yaml = RbacRequest::new(["k8s_get_resources", "k8s_get_pod_logs"])
//!     .scope(ResourceScope::only([("", "pods"), ("apps", "deployments")]))
//!     .role_yaml("troubleshooter", "shop")
//!     .unwrap();
//! assert!(yaml.contains("pods/log"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use kube::api::ObjectMeta;

use crate::tools::TOOLS;

/// Errors of RBAC generation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RbacError {
    /// A tool name is not one of this crate's tools.
    #[error("unknown tool(s): {}", names.join(", "))]
    UnknownTools {
        /// The unknown names.
        names: Vec<String>,
    },
    /// Serializing to YAML failed.
    #[error("serializing RBAC to YAML: {message}")]
    Yaml {
        /// What failed.
        message: String,
    },
}

/// Which resources the generic tools (get, yaml, describe, patch, apply, delete, label...) may
/// touch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ResourceScope {
    /// Every resource (`apiGroups: ["*"], resources: ["*"]`).
    #[default]
    Any,
    /// Only these (group, plural) pairs; the core group is `""`.
    Only(BTreeSet<(String, String)>),
}

impl ResourceScope {
    /// A scope of (group, plural) pairs.
    pub fn only<I, G, R>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (G, R)>,
        G: Into<String>,
        R: Into<String>,
    {
        ResourceScope::Only(
            pairs
                .into_iter()
                .map(|(g, r)| (g.into(), r.into()))
                .collect(),
        )
    }

    fn pairs(&self) -> Vec<(String, String)> {
        match self {
            ResourceScope::Any => vec![("*".into(), "*".into())],
            ResourceScope::Only(set) => set.iter().cloned().collect(),
        }
    }
}

/// A request for the RBAC rules a set of tools needs.
#[derive(Debug, Clone)]
pub struct RbacRequest {
    tools: Vec<String>,
    scope: ResourceScope,
}

/// Cluster-scoped built-in resources (dropped from a namespaced Role).
const CLUSTER_SCOPED: &[&str] = &[
    "nodes",
    "namespaces",
    "persistentvolumes",
    "storageclasses",
    "ingressclasses",
    "customresourcedefinitions",
    "clusterroles",
    "clusterrolebindings",
];

type Rules = BTreeMap<(String, String), BTreeSet<&'static str>>;

fn add(rules: &mut Rules, group: &str, resource: &str, verbs: &[&'static str]) {
    rules
        .entry((group.to_owned(), resource.to_owned()))
        .or_default()
        .extend(verbs.iter().copied());
}

impl RbacRequest {
    /// Rules for the named tools (kagent's names, e.g. from an Agent's `toolNames`).
    pub fn new<I, S>(tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RbacRequest {
            tools: tools.into_iter().map(Into::into).collect(),
            scope: ResourceScope::Any,
        }
    }

    /// Restricts the generic tools to these resources (default: every resource).
    pub fn scope(mut self, scope: ResourceScope) -> Self {
        self.scope = scope;
        self
    }

    fn collect(&self) -> Result<Rules, RbacError> {
        let unknown: Vec<String> = self
            .tools
            .iter()
            .filter(|t| !TOOLS.iter().any(|(n, _)| n == t))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(RbacError::UnknownTools { names: unknown });
        }
        let mut r = Rules::new();
        let scoped = self.scope.pairs();
        let on_scope = |r: &mut Rules, verbs: &[&'static str]| {
            for (g, res) in &scoped {
                add(r, g, res, verbs);
            }
        };
        for tool in &self.tools {
            match tool.as_str() {
                "k8s_get_resources" | "k8s_get_resource_yaml" => on_scope(&mut r, &["get", "list"]),
                "k8s_describe_resource" => {
                    on_scope(&mut r, &["get", "list"]);
                    add(&mut r, "", "events", &["list"]);
                    add(&mut r, "", "pods", &["list"]);
                    add(&mut r, "", "endpoints", &["get"]);
                    add(&mut r, "discovery.k8s.io", "endpointslices", &["list"]);
                }
                "k8s_get_pod_logs" => {
                    add(&mut r, "", "pods", &["get"]);
                    add(&mut r, "", "pods/log", &["get"]);
                }
                "k8s_get_events" => add(&mut r, "", "events", &["list"]),
                // Discovery and /version are open to every authenticated user
                // (system:discovery, system:public-info-viewer).
                "k8s_get_available_api_resources"
                | "k8s_get_cluster_configuration"
                | "k8s_generate_resource" => {}
                "k8s_check_service_connectivity" => {
                    add(&mut r, "", "services", &["get"]);
                    add(&mut r, "", "services/proxy", &["get"]);
                    add(&mut r, "", "pods", &["list"]);
                    add(&mut r, "", "endpoints", &["get"]);
                    add(&mut r, "discovery.k8s.io", "endpointslices", &["list"]);
                }
                "k8s_diagnose" => {
                    for (g, res) in [
                        ("", "pods"),
                        ("", "services"),
                        ("", "persistentvolumeclaims"),
                        ("", "persistentvolumes"),
                        ("", "configmaps"),
                        ("", "nodes"),
                        ("", "events"),
                        ("apps", "deployments"),
                        ("apps", "replicasets"),
                        ("apps", "statefulsets"),
                        ("apps", "daemonsets"),
                        ("batch", "jobs"),
                        ("batch", "cronjobs"),
                        ("networking.k8s.io", "ingresses"),
                        ("networking.k8s.io", "ingressclasses"),
                        ("networking.k8s.io", "networkpolicies"),
                        ("storage.k8s.io", "storageclasses"),
                        ("autoscaling", "horizontalpodautoscalers"),
                        ("policy", "poddisruptionbudgets"),
                        ("rbac.authorization.k8s.io", "rolebindings"),
                        ("rbac.authorization.k8s.io", "clusterrolebindings"),
                    ] {
                        add(&mut r, g, res, &["list"]);
                    }
                    add(&mut r, "", "pods/log", &["get"]);
                }
                "k8s_scale" => {
                    for res in ["deployments", "statefulsets", "replicasets"] {
                        add(&mut r, "apps", res, &["get"]);
                        add(&mut r, "apps", &format!("{res}/scale"), &["patch"]);
                    }
                }
                "k8s_patch_resource"
                | "k8s_label_resource"
                | "k8s_remove_label"
                | "k8s_annotate_resource"
                | "k8s_remove_annotation" => on_scope(&mut r, &["get", "patch"]),
                "k8s_patch_status" => {
                    on_scope(&mut r, &["get"]);
                    for (g, res) in &scoped {
                        add(&mut r, g, &format!("{res}/status"), &["patch"]);
                    }
                }
                "k8s_apply_manifest" => on_scope(&mut r, &["get", "create", "patch"]),
                "k8s_create_resource" | "k8s_create_resource_from_url" => {
                    on_scope(&mut r, &["create"])
                }
                "k8s_delete_resource" => on_scope(&mut r, &["get", "delete"]),
                "k8s_rollout" => {
                    for res in ["deployments", "statefulsets", "daemonsets"] {
                        add(&mut r, "apps", res, &["get", "patch"]);
                    }
                    add(&mut r, "apps", "replicasets", &["list"]);
                    add(&mut r, "apps", "controllerrevisions", &["list"]);
                }
                "k8s_execute_command" => {
                    add(&mut r, "", "pods", &["get"]);
                    // POST for SPDY, GET for the WebSocket upgrade.
                    add(&mut r, "", "pods/exec", &["create", "get"]);
                }
                _ => {}
            }
        }
        // A wildcard rule subsumes the specific ones with the same verbs.
        if let Some(wild) = r.get(&("*".to_owned(), "*".to_owned())).cloned() {
            r.retain(|(g, res), verbs| {
                (g == "*" && res == "*") || res.contains('/') || !verbs.is_subset(&wild)
            });
        }
        Ok(r)
    }

    /// The rules, merged: one rule per (apiGroup, verbs) with all its resources.
    pub fn rules(&self, namespaced: bool) -> Result<Vec<PolicyRule>, RbacError> {
        let mut merged: BTreeMap<(String, Vec<&'static str>), BTreeSet<String>> = BTreeMap::new();
        for ((group, res), verbs) in self.collect()? {
            let base = res.split('/').next().unwrap_or(&res);
            if namespaced && CLUSTER_SCOPED.contains(&base) {
                continue;
            }
            merged
                .entry((group, verbs.into_iter().collect()))
                .or_default()
                .insert(res);
        }
        Ok(merged
            .into_iter()
            .map(|((group, verbs), resources)| PolicyRule {
                api_groups: Some(vec![group]),
                resources: Some(resources.into_iter().collect()),
                verbs: verbs.into_iter().map(str::to_owned).collect(),
                ..PolicyRule::default()
            })
            .collect())
    }

    /// A namespaced Role (cluster-scoped resources such as nodes are left out).
    pub fn role(&self, name: &str, namespace: &str) -> Result<Role, RbacError> {
        Ok(Role {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_owned(),
                        "kagent-rs".to_owned(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            rules: Some(self.rules(true)?),
        })
    }

    /// A ClusterRole.
    pub fn cluster_role(&self, name: &str) -> Result<ClusterRole, RbacError> {
        Ok(ClusterRole {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_owned(),
                        "kagent-rs".to_owned(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            rules: Some(self.rules(false)?),
            aggregation_rule: None,
        })
    }

    /// The Role as YAML (with `apiVersion` and `kind`).
    pub fn role_yaml(&self, name: &str, namespace: &str) -> Result<String, RbacError> {
        to_yaml(&self.role(name, namespace)?)
    }

    /// The ClusterRole as YAML (with `apiVersion` and `kind`).
    pub fn cluster_role_yaml(&self, name: &str) -> Result<String, RbacError> {
        to_yaml(&self.cluster_role(name)?)
    }
}

fn to_yaml<K: k8s_openapi::Resource + serde::Serialize>(obj: &K) -> Result<String, RbacError> {
    let mut v = serde_json::to_value(obj).map_err(|e| RbacError::Yaml {
        message: e.to_string(),
    })?;
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), K::API_VERSION.into());
        m.insert("kind".into(), K::KIND.into());
    }
    serde_yaml::to_string(&v).map_err(|e| RbacError::Yaml {
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(rules: &'a [PolicyRule], group: &str, resource: &str) -> Vec<&'a str> {
        rules
            .iter()
            .filter(|r| {
                r.api_groups.as_deref() == Some(&[group.to_owned()][..])
                    && r.resources
                        .as_ref()
                        .is_some_and(|rs| rs.iter().any(|x| x == resource))
            })
            .flat_map(|r| r.verbs.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn read_only_tools_get_read_verbs_only() {
        let rules = RbacRequest::new(["k8s_get_resources", "k8s_get_pod_logs", "k8s_get_events"])
            .scope(ResourceScope::only([("", "pods"), ("apps", "deployments")]))
            .rules(true)
            .unwrap();
        assert_eq!(find(&rules, "", "pods"), vec!["get", "list"]);
        assert_eq!(find(&rules, "", "pods/log"), vec!["get"]);
        assert_eq!(find(&rules, "apps", "deployments"), vec!["get", "list"]);
        assert_eq!(find(&rules, "", "events"), vec!["list"]);
        for r in &rules {
            for v in &r.verbs {
                assert!(["get", "list"].contains(&v.as_str()), "{v} in {rules:?}");
            }
        }
    }

    #[test]
    fn mutating_tools_add_exactly_their_verbs() {
        let rules = RbacRequest::new(["k8s_scale", "k8s_execute_command", "k8s_rollout"])
            .rules(false)
            .unwrap();
        assert_eq!(find(&rules, "apps", "deployments/scale"), vec!["patch"]);
        assert_eq!(find(&rules, "", "pods/exec"), vec!["create", "get"]);
        assert_eq!(find(&rules, "apps", "replicasets"), vec!["get", "list"]);
        assert!(find(&rules, "", "secrets").is_empty());
        assert!(rules.iter().all(|r| !r.verbs.iter().any(|v| v == "delete")));
    }

    #[test]
    fn wildcard_scope_and_cluster_scoped_kinds() {
        let req = RbacRequest::new(["k8s_get_resources", "k8s_diagnose", "k8s_delete_resource"]);
        let cluster = req.cluster_role_yaml("kagent-tools").unwrap();
        assert!(cluster.contains("kind: ClusterRole"), "{cluster}");
        // The wildcard read rule covers nodes; only subresources stay explicit.
        assert!(!cluster.contains("nodes"), "{cluster}");
        assert!(cluster.contains("- '*'"), "{cluster}");
        assert!(cluster.contains("pods/log"), "{cluster}");
        assert!(cluster.contains("- delete"), "{cluster}");
        let role = req.role_yaml("kagent-tools", "shop").unwrap();
        assert!(role.contains("kind: Role"), "{role}");
        assert!(role.contains("namespace: shop"), "{role}");
        assert!(!role.contains("nodes"), "{role}");
        let back: Role = serde_yaml::from_str(&role).unwrap();
        assert!(!back.rules.unwrap().is_empty());
    }

    #[test]
    fn tools_without_api_needs_and_unknown_tools() {
        let rules = RbacRequest::new(["k8s_get_available_api_resources", "k8s_generate_resource"])
            .rules(false)
            .unwrap();
        assert!(rules.is_empty());
        let err = RbacRequest::new(["k8s_get_resources", "kubectl_yolo"])
            .rules(false)
            .unwrap_err();
        assert_eq!(
            err,
            RbacError::UnknownTools {
                names: vec!["kubectl_yolo".into()]
            }
        );
    }
}
