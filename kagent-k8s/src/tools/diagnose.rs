//! `k8s_diagnose`: the deterministic analyzers of [`crate::diagnose`] as a tool.

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;

use super::k8s_tool;
use crate::args::{Flag, non_empty};
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::error::Result;

/// Arguments of `k8s_diagnose`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct DiagnoseArgs {
    /// Namespace to diagnose (default: all namespaces).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Read failing containers' logs as evidence (default true).
    #[serde(default)]
    pub include_logs: Option<Flag>,
}

k8s_tool!(
    /// `k8s_diagnose`: deterministic analyzers over the cluster's objects.
    Diagnose,
    "k8s_diagnose",
    ToolEffect::ReadOnly,
    DiagnoseArgs,
    "Diagnose problems in a namespace or the whole cluster with deterministic analyzers (pods, \
     deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs, services, ingresses, \
     PVCs, nodes, HPAs, PDBs, network policies, warning events). Returns findings with their \
     root cause and evidence (conditions, events, log lines)."
);

impl Diagnose {
    async fn exec(&self, args: DiagnoseArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let opts = DiagnoseOptions {
            namespace: non_empty(&args.namespace).map(str::to_owned),
            include_logs: args.include_logs.map(|f| f.0).unwrap_or(s.diagnose_logs),
            ..DiagnoseOptions::default()
        };
        let d = diagnose(&s.client, &s.catalog, &opts).await?;
        let text = s.bound(d.render(), "Diagnose one namespace at a time.");
        let mut output = ToolOutput::text(text);
        output.structured = serde_json::to_value(&d).ok();
        Ok(output)
    }
}
