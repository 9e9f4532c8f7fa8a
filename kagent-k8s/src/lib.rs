#![doc = include_str!("../README.md")]

pub mod apply;
mod args;
pub mod catalog;
pub mod diagnose;
mod error;
pub mod kapi;
pub mod labels;
pub mod rbac;
pub mod render;
pub mod tools;

pub use args::{Count, Flag};
pub use catalog::{ResourceCatalog, ResourceInfo};
pub use diagnose::{DiagnoseOptions, Diagnosis, Finding, Severity, Snapshot, diagnose};
pub use error::K8sError;
pub use rbac::{RbacError, RbacRequest, ResourceScope};
pub use tools::{K8sTools, K8sToolsBuilder};
