//! The fake cluster behind the examples' `--fake-cluster`: the in-process fake API server with
//! its broken-workloads scenario (namespace `shop`), plus the Istio, Argo Rollouts and Cilium
//! CRDs and kagent-tools' test meshes, rollouts and network policies, so every
//! Kubernetes-backed tool family has objects to read.

use anyhow::{Context, Result};
use kagent_fake_apiserver::FakeCluster;

/// What the cluster holds, for the examples' start-up line.
pub const CONTENTS: &str = "the broken-workloads scenario (namespace shop), Istio meshes, Argo Rollouts and network policies";

/// Loaded on top of the scenario, in order (CRDs before their objects).
const EXTRAS: [(&str, &str); 6] = [
    (
        "istio-crds.yaml",
        include_str!("../../kagent-tools/tests/fixtures/istio-crds.yaml"),
    ),
    (
        "argo-rollouts-crds.yaml",
        include_str!("../../kagent-tools/tests/fixtures/argo-rollouts-crds.yaml"),
    ),
    (
        "cilium-crds.yaml",
        include_str!("../../kagent-tools/tests/fixtures/cilium-crds.yaml"),
    ),
    (
        "mesh-broken.yaml",
        include_str!("../../kagent-tools/tests/fixtures/mesh-broken.yaml"),
    ),
    (
        "argo-rollouts.yaml",
        include_str!("../../kagent-tools/tests/fixtures/argo-rollouts.yaml"),
    ),
    (
        "netpol.yaml",
        include_str!("../../kagent-tools/tests/fixtures/netpol.yaml"),
    ),
];

/// Starts the fake cluster with everything above loaded.
pub fn start() -> Result<FakeCluster> {
    let cluster = FakeCluster::start_with_scenario().context("starting the fake API server")?;
    for (name, yaml) in EXTRAS {
        cluster
            .load_yaml(yaml)
            .with_context(|| format!("loading {name} into the fake cluster"))?;
    }
    Ok(cluster)
}
