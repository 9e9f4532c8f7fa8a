//! Prints the CustomResourceDefinitions of kagent's v1alpha2 Agent, ModelConfig,
//! RemoteMCPServer and ModelProviderConfig as one YAML stream, generated from the kagent-api
//! types:
//!
//! ```sh
//! cargo run -p kagent-examples --example crdgen > kagent-crds.yaml
//! kubectl apply --server-side -f kagent-crds.yaml
//! ```
//!
//! `--server-side` because the Agent CRD (it embeds the Kubernetes pod and container schemas of
//! `spec.*.deployment`) is larger than the 256 KiB `last-applied-configuration` annotation that
//! client-side `kubectl apply` writes; `kubectl create -f` works too. On a cluster that runs
//! kagent, keep kagent's own CRDs: they also serve the older versions.

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let yaml = kagent_api::crd::crds_yaml()?;
    let mut out = std::io::stdout().lock();
    out.write_all(yaml.as_bytes())?;
    out.flush()?;
    Ok(())
}
