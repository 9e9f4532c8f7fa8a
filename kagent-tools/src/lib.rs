#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod alertmanager;
pub mod argo;
pub mod common;
mod family;
pub mod findings;
pub mod grafana;
pub mod helm;
pub mod istio;
pub mod netpol;
pub mod prometheus;

pub use alertmanager::{AlertmanagerClient, AlertmanagerTools, AlertmanagerToolsBuilder};
pub use argo::{ArgoError, ArgoTools, ArgoToolsBuilder};
pub use common::{Auth, BuildError, HttpToolError};
pub use grafana::{GrafanaTools, GrafanaToolsBuilder};
pub use helm::{HelmError, HelmTools, HelmToolsBuilder};
pub use istio::{IstioError, IstioTools, IstioToolsBuilder};
pub use netpol::{NetworkPolicyError, NetworkPolicyTools, NetworkPolicyToolsBuilder};
pub use prometheus::{PrometheusClient, PrometheusTools, PrometheusToolsBuilder};

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
