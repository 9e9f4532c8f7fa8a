//! Istio's resource kinds, read through the API server's discovery (whichever version the
//! cluster serves: `v1`, `v1beta1` or `v1alpha3`), and the snapshot the analyzers work on.

use std::collections::BTreeMap;

use kagent_k8s::kapi;
use kagent_k8s::{K8sError, ResourceCatalog, ResourceInfo};
use kube::Client;
use kube::api::ListParams;
use serde_json::Value;

use super::error::{IstioError, Result};

/// Most objects of one kind a snapshot reads.
const MAX_OBJECTS: usize = 20_000;

/// The Istio configuration kinds the tools read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IstioKind {
    /// `networking.istio.io` VirtualService: routing.
    VirtualService,
    /// `networking.istio.io` DestinationRule: subsets and client-side traffic policy.
    DestinationRule,
    /// `networking.istio.io` Gateway: ingress/egress listeners.
    Gateway,
    /// `networking.istio.io` ServiceEntry: hosts outside the registry.
    ServiceEntry,
    /// `networking.istio.io` Sidecar: a proxy's reachable hosts and ports.
    Sidecar,
    /// `security.istio.io` PeerAuthentication: server-side mTLS mode.
    PeerAuthentication,
    /// `security.istio.io` AuthorizationPolicy: who may call what.
    AuthorizationPolicy,
    /// `security.istio.io` RequestAuthentication: JWT validation.
    RequestAuthentication,
}

impl IstioKind {
    /// Every kind, in the order tools list them.
    pub const ALL: [IstioKind; 8] = [
        IstioKind::VirtualService,
        IstioKind::DestinationRule,
        IstioKind::Gateway,
        IstioKind::ServiceEntry,
        IstioKind::Sidecar,
        IstioKind::PeerAuthentication,
        IstioKind::AuthorizationPolicy,
        IstioKind::RequestAuthentication,
    ];

    /// The kind as written in manifests.
    pub fn kind(self) -> &'static str {
        match self {
            IstioKind::VirtualService => "VirtualService",
            IstioKind::DestinationRule => "DestinationRule",
            IstioKind::Gateway => "Gateway",
            IstioKind::ServiceEntry => "ServiceEntry",
            IstioKind::Sidecar => "Sidecar",
            IstioKind::PeerAuthentication => "PeerAuthentication",
            IstioKind::AuthorizationPolicy => "AuthorizationPolicy",
            IstioKind::RequestAuthentication => "RequestAuthentication",
        }
    }

    /// The API group.
    pub fn group(self) -> &'static str {
        match self {
            IstioKind::PeerAuthentication
            | IstioKind::AuthorizationPolicy
            | IstioKind::RequestAuthentication => "security.istio.io",
            _ => "networking.istio.io",
        }
    }

    /// The plural resource name.
    pub fn plural(self) -> &'static str {
        match self {
            IstioKind::VirtualService => "virtualservices",
            IstioKind::DestinationRule => "destinationrules",
            IstioKind::Gateway => "gateways",
            IstioKind::ServiceEntry => "serviceentries",
            IstioKind::Sidecar => "sidecars",
            IstioKind::PeerAuthentication => "peerauthentications",
            IstioKind::AuthorizationPolicy => "authorizationpolicies",
            IstioKind::RequestAuthentication => "requestauthentications",
        }
    }

    /// `plural.group`, unambiguous for discovery (`gateways.networking.istio.io`, not the
    /// Gateway API's `gateways.gateway.networking.k8s.io`).
    pub fn resource_type(self) -> String {
        format!("{}.{}", self.plural(), self.group())
    }

    /// Parses what a model types: the kind, plural or singular (any case), or Istio's short
    /// names `vs`, `dr`, `gw`, `se`, plus `pa`, `ap`, `ra`.
    pub fn parse(text: &str) -> Option<IstioKind> {
        let t = text.trim().to_ascii_lowercase();
        let t = t
            .strip_suffix(".networking.istio.io")
            .or_else(|| t.strip_suffix(".security.istio.io"))
            .unwrap_or(&t);
        IstioKind::ALL.into_iter().find(|k| {
            let kind = k.kind().to_ascii_lowercase();
            let short = match k {
                IstioKind::VirtualService => "vs",
                IstioKind::DestinationRule => "dr",
                IstioKind::Gateway => "gw",
                IstioKind::ServiceEntry => "se",
                IstioKind::Sidecar => "sidecar",
                IstioKind::PeerAuthentication => "pa",
                IstioKind::AuthorizationPolicy => "ap",
                IstioKind::RequestAuthentication => "ra",
            };
            t == kind || t == k.plural() || t == short
        })
    }

    /// Resolves the kind through discovery (the cluster's preferred served version).
    pub async fn resolve(self, catalog: &ResourceCatalog) -> Result<ResourceInfo> {
        catalog
            .resolve(&self.resource_type())
            .await
            .map_err(|e| match e {
                K8sError::UnknownResourceType { .. } => IstioError::NotInstalled {
                    what: format!("{} ({})", self.kind(), self.resource_type()),
                },
                other => IstioError::Kube(other),
            })
    }
}

impl std::fmt::Display for IstioKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

/// Everything the mesh analyzers look at: namespaces, pods, services and the Istio objects.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MeshSnapshot {
    /// Namespace objects.
    pub namespaces: Vec<Value>,
    /// Pods (every phase).
    pub pods: Vec<Value>,
    /// Services.
    pub services: Vec<Value>,
    /// Istio objects by kind (kinds the cluster does not serve are absent).
    pub istio: BTreeMap<IstioKind, Vec<Value>>,
    /// The version each served Istio kind was read in (`networking.istio.io/v1`).
    pub versions: BTreeMap<IstioKind, String>,
    /// What could not be read, and why.
    pub notes: Vec<String>,
}

impl MeshSnapshot {
    /// A snapshot from objects you already have (tests, offline analysis).
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Self {
        let mut snap = MeshSnapshot::default();
        for o in objects {
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
            match kind {
                "Namespace" => snap.namespaces.push(o),
                "Pod" => snap.pods.push(o),
                "Service" => snap.services.push(o),
                other => {
                    if let Some(k) = IstioKind::ALL.into_iter().find(|k| k.kind() == other) {
                        snap.istio.entry(k).or_default().push(o);
                    }
                }
            }
        }
        snap
    }

    /// The objects of one Istio kind.
    pub fn of(&self, kind: IstioKind) -> &[Value] {
        self.istio.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Reads namespaces, pods, services and every served Istio kind, cluster-wide. When the
    /// caller may not list cluster-wide (403), falls back to `namespace` and `root_namespace`
    /// and says so in [`MeshSnapshot::notes`]. Fails with [`IstioError::NotInstalled`] when the
    /// cluster serves none of Istio's kinds.
    pub async fn gather(
        client: &Client,
        catalog: &ResourceCatalog,
        namespace: Option<&str>,
        root_namespace: &str,
    ) -> Result<MeshSnapshot> {
        let mut snap = MeshSnapshot::default();
        let mut fallback: Vec<String> = Vec::new();
        if let Some(ns) = namespace {
            fallback.push(ns.to_owned());
        }
        if !fallback.iter().any(|n| n == root_namespace) {
            fallback.push(root_namespace.to_owned());
        }

        let core = ["namespaces", "pods", "services"];
        let core_lists = futures::future::join_all(core.iter().map(|ty| async {
            let info = catalog.resolve(ty).await?;
            list_scoped(client, &info, &fallback).await
        }))
        .await;
        for (ty, res) in core.iter().zip(core_lists) {
            let (items, note) = res?;
            if let Some(n) = note {
                snap.notes.push(n);
            }
            match *ty {
                "namespaces" => snap.namespaces = items,
                "pods" => snap.pods = items,
                _ => snap.services = items,
            }
        }

        let fallback = &fallback;
        let istio = futures::future::join_all(IstioKind::ALL.into_iter().map(|k| async move {
            let res = match k.resolve(catalog).await {
                Ok(info) => list_scoped(client, &info, fallback)
                    .await
                    .map(|r| Some((info.resource.api_version.clone(), r))),
                Err(IstioError::NotInstalled { .. }) => Ok(None),
                Err(e) => Err(e),
            };
            (k, res)
        }))
        .await;
        let mut missing = Vec::new();
        for (k, res) in istio {
            match res? {
                Some((version, (items, note))) => {
                    if let Some(n) = note {
                        snap.notes.push(n);
                    }
                    snap.versions.insert(k, version);
                    snap.istio.insert(k, items);
                }
                None => missing.push(k.kind()),
            }
        }
        if snap.istio.is_empty() {
            return Err(IstioError::NotInstalled {
                what: "the Istio API (every kind)".to_owned(),
            });
        }
        if !missing.is_empty() {
            snap.notes.push(format!(
                "not served by this cluster (CRD missing), not analyzed: {}",
                missing.join(", ")
            ));
        }
        Ok(snap)
    }
}

/// Lists a kind cluster-wide, or (when that is forbidden) in each fallback namespace.
async fn list_scoped(
    client: &Client,
    info: &ResourceInfo,
    fallback: &[String],
) -> Result<(Vec<Value>, Option<String>)> {
    let lp = ListParams::default();
    match kapi::list_all(client, info, None, &lp, MAX_OBJECTS).await {
        Ok(items) => Ok((items, None)),
        Err(e) if matches!(e.status_code(), Some(401 | 403)) && info.namespaced => {
            let mut items = Vec::new();
            for ns in fallback {
                match kapi::list_all(client, info, Some(ns), &lp, MAX_OBJECTS).await {
                    Ok(mut more) => items.append(&mut more),
                    Err(e) if matches!(e.status_code(), Some(401 | 403)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok((
                items,
                Some(format!(
                    "may not list {} in all namespaces; read only {}",
                    info.qualified_name(),
                    fallback.join(", ")
                )),
            ))
        }
        Err(e) if matches!(e.status_code(), Some(401 | 403)) => Ok((
            Vec::new(),
            Some(format!("may not list {}: {e}", info.qualified_name())),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_what_models_type() {
        for (typed, kind) in [
            ("vs", IstioKind::VirtualService),
            ("VirtualService", IstioKind::VirtualService),
            (
                "virtualservices.networking.istio.io",
                IstioKind::VirtualService,
            ),
            ("dr", IstioKind::DestinationRule),
            ("gateways", IstioKind::Gateway),
            ("se", IstioKind::ServiceEntry),
            ("sidecars", IstioKind::Sidecar),
            ("PeerAuthentication", IstioKind::PeerAuthentication),
            ("authorizationpolicies", IstioKind::AuthorizationPolicy),
            ("requestauthentication", IstioKind::RequestAuthentication),
        ] {
            assert_eq!(IstioKind::parse(typed), Some(kind), "{typed}");
        }
        assert_eq!(IstioKind::parse("pods"), None);
        assert_eq!(
            IstioKind::Gateway.resource_type(),
            "gateways.networking.istio.io"
        );
        assert_eq!(IstioKind::AuthorizationPolicy.group(), "security.istio.io");
    }
}
