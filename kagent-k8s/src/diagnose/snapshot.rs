//! The objects the analyzers look at, listed once per kind.

use std::collections::BTreeMap;

use kube::Client;
use kube::api::ListParams;
use serde_json::Value;

use crate::catalog::ResourceCatalog;
use crate::error::Result;
use crate::kapi;

/// The objects the analyzers look at. Build it with [`Snapshot::gather`] or by hand (tests).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Snapshot {
    /// Objects by kind (`Pod`, `Deployment`, ...), with `apiVersion`/`kind` set.
    pub objects: BTreeMap<String, Vec<Value>>,
    /// Kinds that could not be listed, with why.
    pub skipped: Vec<String>,
}

/// The kinds a snapshot lists: (resource type to resolve, kind key).
const KINDS: &[(&str, &str)] = &[
    ("pods", "Pod"),
    ("deployments.apps", "Deployment"),
    ("replicasets.apps", "ReplicaSet"),
    ("statefulsets.apps", "StatefulSet"),
    ("daemonsets.apps", "DaemonSet"),
    ("jobs.batch", "Job"),
    ("cronjobs.batch", "CronJob"),
    ("services", "Service"),
    ("ingresses.networking.k8s.io", "Ingress"),
    ("ingressclasses.networking.k8s.io", "IngressClass"),
    ("persistentvolumeclaims", "PersistentVolumeClaim"),
    ("persistentvolumes", "PersistentVolume"),
    ("configmaps", "ConfigMap"),
    ("storageclasses.storage.k8s.io", "StorageClass"),
    ("nodes", "Node"),
    (
        "horizontalpodautoscalers.autoscaling",
        "HorizontalPodAutoscaler",
    ),
    ("poddisruptionbudgets.policy", "PodDisruptionBudget"),
    ("networkpolicies.networking.k8s.io", "NetworkPolicy"),
    ("rolebindings.rbac.authorization.k8s.io", "RoleBinding"),
    (
        "clusterrolebindings.rbac.authorization.k8s.io",
        "ClusterRoleBinding",
    ),
    ("events", "Event"),
];

impl Snapshot {
    /// Lists every analyzed kind in `namespace` (all namespaces when `None`). Kinds the cluster
    /// does not serve or the caller may not list are recorded in `skipped`, not fatal.
    pub async fn gather(
        client: &Client,
        catalog: &ResourceCatalog,
        namespace: Option<&str>,
    ) -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        let futs = KINDS.iter().map(|(ty, kind)| async move {
            let res = match catalog.resolve(ty).await {
                Ok(info) => {
                    kapi::list_all(client, &info, namespace, &ListParams::default(), 20_000).await
                }
                Err(e) => Err(e),
            };
            (*kind, res)
        });
        for (kind, res) in futures::future::join_all(futs).await {
            match res {
                Ok(items) => {
                    snap.objects.insert(kind.to_owned(), items);
                }
                Err(e) => snap.skipped.push(format!("{kind}: {e}")),
            }
        }
        Ok(snap)
    }

    /// The objects of one kind.
    pub fn of(&self, kind: &str) -> &[Value] {
        self.objects.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }
}
