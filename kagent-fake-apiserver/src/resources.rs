//! The table of resource kinds the fake serves: built-ins plus CRDs registered at run time.

use serde_json::{Value, json};

/// Verbs of an ordinary read-write resource.
pub(crate) const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Metadata of one served resource (one group/version/plural).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceInfo {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) namespaced: bool,
    pub(crate) verbs: Vec<String>,
    pub(crate) short_names: Vec<String>,
    pub(crate) categories: Vec<String>,
    /// `status`, `scale`, `log`
    pub(crate) subresources: Vec<String>,
    /// Registered from a CustomResourceDefinition.
    pub(crate) custom: bool,
    /// CRD `additionalPrinterColumns` (name, type, jsonPath).
    pub(crate) printer_columns: Vec<(String, String, String)>,
    /// JSON paths for the scale subresource of a CRD (specReplicasPath, statusReplicasPath, labelSelectorPath).
    pub(crate) scale_paths: Option<(String, String, Option<String>)>,
}

impl ResourceInfo {
    /// `v1` or `apps/v1`.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`: the name used in error messages.
    pub(crate) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Storage key shared by every version of one group/resource.
    pub(crate) fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    pub(crate) fn has_sub(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }

    /// The entry of a legacy `APIResourceList`, followed by one entry per subresource.
    pub(crate) fn discovery_entries(&self) -> Vec<Value> {
        let mut out = vec![json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
            "shortNames": self.short_names,
            "categories": self.categories,
            "storageVersionHash": "",
        })];
        for sub in &self.subresources {
            let (kind, verbs, group, version): (&str, &[&str], &str, &str) = match sub.as_str() {
                "scale" => ("Scale", &["get", "patch", "update"], "autoscaling", "v1"),
                "log" => ("Pod", &["get"], "", ""),
                _ => (self.kind.as_str(), &["get", "patch", "update"], "", ""),
            };
            let mut e = json!({
                "name": format!("{}/{}", self.plural, sub),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if !group.is_empty()
                && let Some(m) = e.as_object_mut()
            {
                m.insert("group".into(), json!(group));
                m.insert("version".into(), json!(version));
            }
            out.push(e);
        }
        out
    }

    /// The `APIResourceDiscovery` entry of aggregated discovery (apidiscovery.k8s.io/v2).
    pub(crate) fn aggregated_entry(&self) -> Value {
        let subs: Vec<Value> = self
            .subresources
            .iter()
            .map(|sub| {
                let (g, v, k, verbs): (&str, &str, &str, &[&str]) = match sub.as_str() {
                    "scale" => ("autoscaling", "v1", "Scale", &["get", "patch", "update"]),
                    "log" => ("", "v1", "Pod", &["get"]),
                    _ => (
                        self.group.as_str(),
                        self.version.as_str(),
                        self.kind.as_str(),
                        &["get", "patch", "update"],
                    ),
                };
                json!({
                    "subresource": sub,
                    "responseKind": {"group": g, "version": v, "kind": k},
                    "verbs": verbs,
                })
            })
            .collect();
        json!({
            "resource": self.plural,
            "responseKind": {"group": self.group, "version": self.version, "kind": self.kind},
            "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": self.singular,
            "verbs": self.verbs,
            "shortNames": self.short_names,
            "categories": self.categories,
            "subresources": subs,
        })
    }

    /// Builds the resources a CustomResourceDefinition serves (one per served version).
    pub(crate) fn from_crd(crd: &Value) -> Result<Vec<ResourceInfo>, String> {
        let spec = crd.get("spec").ok_or("spec: Required value")?;
        let group = spec
            .get("group")
            .and_then(Value::as_str)
            .ok_or("spec.group: Required value")?;
        let names = spec.get("names").ok_or("spec.names: Required value")?;
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let plural = s(names.get("plural")).ok_or("spec.names.plural: Required value")?;
        let kind = s(names.get("kind")).ok_or("spec.names.kind: Required value")?;
        let singular = s(names.get("singular")).unwrap_or_else(|| kind.to_lowercase());
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or("spec.versions: Required value")?;
        let mut out = Vec::new();
        for v in versions {
            if v.get("served").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            let version = s(v.get("name")).ok_or("spec.versions[].name: Required value")?;
            let mut subresources = Vec::new();
            let subs = v.get("subresources");
            if subs.and_then(|x| x.get("status")).is_some() {
                subresources.push("status".to_string());
            }
            let scale = subs.and_then(|x| x.get("scale"));
            if scale.is_some() {
                subresources.push("scale".to_string());
            }
            let printer_columns = v
                .get("additionalPrinterColumns")
                .and_then(Value::as_array)
                .map(|cols| {
                    cols.iter()
                        .filter_map(|c| {
                            Some((
                                s(c.get("name"))?,
                                s(c.get("type")).unwrap_or_else(|| "string".into()),
                                s(c.get("jsonPath"))?,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(ResourceInfo {
                group: group.to_string(),
                version,
                kind: kind.clone(),
                plural: plural.clone(),
                singular: singular.clone(),
                namespaced,
                verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
                short_names: strs(names.get("shortNames")),
                categories: strs(names.get("categories")),
                subresources,
                custom: true,
                printer_columns,
                scale_paths: scale.map(|sc| {
                    (
                        s(sc.get("specReplicasPath")).unwrap_or_else(|| ".spec.replicas".into()),
                        s(sc.get("statusReplicasPath"))
                            .unwrap_or_else(|| ".status.replicas".into()),
                        s(sc.get("labelSelectorPath")),
                    )
                }),
            });
        }
        Ok(out)
    }
}

#[allow(clippy::too_many_arguments)]
fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    all: bool,
    subs: &[&str],
) -> ResourceInfo {
    ResourceInfo {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        namespaced,
        verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: if all { vec!["all".into()] } else { vec![] },
        subresources: subs.iter().map(|s| s.to_string()).collect(),
        custom: false,
        printer_columns: vec![],
        scale_paths: None,
    }
}

/// The built-in resources: the kinds an agent meets in a real cluster, one version each.
pub(crate) fn builtins() -> Vec<ResourceInfo> {
    const NS: bool = true;
    const CL: bool = false;
    #[rustfmt::skip]
    let mut v = vec![
        builtin("", "v1", "Namespace", "namespaces", CL, &["ns"], false, &["status"]),
        builtin("", "v1", "Node", "nodes", CL, &["no"], false, &["status"]),
        builtin("", "v1", "Pod", "pods", NS, &["po"], true, &["status", "log"]),
        builtin("", "v1", "Service", "services", NS, &["svc"], true, &["status"]),
        builtin("", "v1", "Endpoints", "endpoints", NS, &["ep"], false, &[]),
        builtin("", "v1", "ConfigMap", "configmaps", NS, &["cm"], false, &[]),
        builtin("", "v1", "Secret", "secrets", NS, &[], false, &[]),
        builtin("", "v1", "ServiceAccount", "serviceaccounts", NS, &["sa"], false, &[]),
        builtin("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", NS, &["pvc"], false, &["status"]),
        builtin("", "v1", "PersistentVolume", "persistentvolumes", CL, &["pv"], false, &["status"]),
        builtin("", "v1", "Event", "events", NS, &["ev"], false, &[]),
        builtin("", "v1", "ReplicationController", "replicationcontrollers", NS, &["rc"], true, &["status", "scale"]),
        builtin("", "v1", "LimitRange", "limitranges", NS, &["limits"], false, &[]),
        builtin("", "v1", "ResourceQuota", "resourcequotas", NS, &["quota"], false, &["status"]),
        builtin("apps", "v1", "Deployment", "deployments", NS, &["deploy"], true, &["status", "scale"]),
        builtin("apps", "v1", "ReplicaSet", "replicasets", NS, &["rs"], true, &["status", "scale"]),
        builtin("apps", "v1", "StatefulSet", "statefulsets", NS, &["sts"], true, &["status", "scale"]),
        builtin("apps", "v1", "DaemonSet", "daemonsets", NS, &["ds"], true, &["status"]),
        builtin("apps", "v1", "ControllerRevision", "controllerrevisions", NS, &[], false, &[]),
        builtin("batch", "v1", "Job", "jobs", NS, &[], true, &["status"]),
        builtin("batch", "v1", "CronJob", "cronjobs", NS, &["cj"], true, &["status"]),
        builtin("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", NS, &["hpa"], true, &["status"]),
        builtin("networking.k8s.io", "v1", "Ingress", "ingresses", NS, &["ing"], false, &["status"]),
        builtin("networking.k8s.io", "v1", "IngressClass", "ingressclasses", CL, &[], false, &[]),
        builtin("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", NS, &["netpol"], false, &[]),
        builtin("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", NS, &["pdb"], false, &["status"]),
        builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", NS, &[], false, &[]),
        builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", NS, &[], false, &[]),
        builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", CL, &[], false, &[]),
        builtin("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", CL, &[], false, &[]),
        builtin("storage.k8s.io", "v1", "StorageClass", "storageclasses", CL, &["sc"], false, &[]),
        builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", CL, &["crd", "crds"], false, &["status"]),
        builtin("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", NS, &[], false, &[]),
        builtin("coordination.k8s.io", "v1", "Lease", "leases", NS, &[], false, &[]),
        builtin("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", CL, &["pc"], false, &[]),
    ];
    let mut ssar = builtin(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        CL,
        &[],
        false,
        &[],
    );
    ssar.verbs = vec!["create".into()];
    v.push(ssar);
    for r in &mut v {
        if r.kind == "Endpoints" {
            r.singular = "endpoints".into();
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_versions_become_resources() {
        let crd = json!({
            "spec": {
                "group": "kagent.dev",
                "scope": "Namespaced",
                "names": {"plural": "agents", "kind": "Agent", "shortNames": ["ag"]},
                "versions": [
                    {"name": "v1alpha2", "served": true, "storage": true,
                     "subresources": {"status": {}},
                     "additionalPrinterColumns": [{"name": "Type", "type": "string", "jsonPath": ".spec.type"}]},
                    {"name": "v1alpha1", "served": false, "storage": false}
                ]
            }
        });
        let rs = ResourceInfo::from_crd(&crd).unwrap();
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].api_version(), "kagent.dev/v1alpha2");
        assert_eq!(rs[0].qualified(), "agents.kagent.dev");
        assert!(rs[0].has_sub("status") && !rs[0].has_sub("scale"));
        assert_eq!(rs[0].singular, "agent");
        assert_eq!(rs[0].printer_columns.len(), 1);
        assert!(ResourceInfo::from_crd(&json!({"spec": {"group": "x"}})).is_err());
    }

    #[test]
    fn builtins_are_unique() {
        let b = builtins();
        let mut keys: Vec<_> = b.iter().map(|r| r.storage_key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), b.len());
    }
}
