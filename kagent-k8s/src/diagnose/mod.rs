//! Deterministic diagnosis in the spirit of k8sgpt's analyzers: a [`Snapshot`] of the cluster
//! (one list call per kind) goes through pure analyzers that return [`Finding`]s with evidence;
//! failing containers' logs are then read as further evidence.
//!
//! Usable three ways: [`diagnose`] (a plain async function, for playbooks), [`analyze`] (pure,
//! on a snapshot you built), and the `k8s_diagnose` tool.
//!
//! Layout: `snapshot` (what is listed), `analyzers` (one file per concern: pods and containers,
//! workloads, services and ingresses, storage, nodes, autoscaling, policy, events), `finding`
//! (findings, evidence, the report), `logs` (failing containers' and failed jobs' logs as
//! evidence, their decisive line in the finding's message), `causes` (that line, and the objects
//! it points at: the Service behind a host and port, the ConfigMap behind a variable, the
//! RoleBinding behind a 403).

use kube::Client;

use crate::catalog::ResourceCatalog;
use crate::error::Result;

mod analyzers;
mod causes;
mod finding;
mod logs;
mod snapshot;

pub use crate::labels::selector_matches;
pub use analyzers::analyze;
pub use causes::cause_line;
pub use finding::{Diagnosis, Finding, Severity};
use logs::add_log_evidence;
pub use logs::telling_log_lines;
pub use snapshot::Snapshot;

/// Options of [`diagnose`]: [`DiagnoseOptions::default`] and the setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DiagnoseOptions {
    /// Namespace to look in; `None` for all.
    pub namespace: Option<String>,
    /// Read failing containers' logs as evidence.
    pub include_logs: bool,
    /// Log lines kept per container.
    pub log_lines: usize,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            namespace: None,
            include_logs: true,
            log_lines: 5,
        }
    }
}

impl DiagnoseOptions {
    /// Looks in one namespace (`None`: all).
    pub fn namespace(mut self, namespace: Option<String>) -> Self {
        self.namespace = namespace;
        self
    }

    /// Reads failing containers' logs as evidence (default on).
    pub fn include_logs(mut self, include: bool) -> Self {
        self.include_logs = include;
        self
    }

    /// Log lines kept per container (default 5).
    pub fn log_lines(mut self, lines: usize) -> Self {
        self.log_lines = lines;
        self
    }
}

/// Gathers a snapshot, analyzes it and (optionally) reads failing containers' logs.
pub async fn diagnose(
    client: &Client,
    catalog: &ResourceCatalog,
    options: &DiagnoseOptions,
) -> Result<Diagnosis> {
    let snap = Snapshot::gather(client, catalog, options.namespace.as_deref()).await?;
    let now = jiff::Timestamp::now();
    let mut findings = analyze(&snap, now);
    if options.include_logs {
        add_log_evidence(client, &snap, &mut findings, options.log_lines).await;
    }
    Ok(Diagnosis {
        findings,
        skipped: snap.skipped,
    })
}
