#![doc = include_str!("../README.md")]

pub mod argo;
pub mod findings;
pub mod helm;
pub mod istio;
mod kube_tool;
pub mod netpol;

pub use argo::{ArgoError, ArgoTools, ArgoToolsBuilder};
pub use helm::{HelmError, HelmTools, HelmToolsBuilder};
pub use istio::{IstioError, IstioTools, IstioToolsBuilder};
pub use netpol::{NetworkPolicyError, NetworkPolicyTools, NetworkPolicyToolsBuilder};
