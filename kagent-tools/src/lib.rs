#![doc = include_str!("../README.md")]

pub mod argo;
pub mod helm;
mod kube_tool;

pub use argo::{ArgoError, ArgoTools, ArgoToolsBuilder};
pub use helm::{HelmError, HelmTools, HelmToolsBuilder};
