//! Writing whole objects — server-side apply, or create — optionally as a server-side dry run
//! (`dryRun=All`), with the change of each object reported as a unified diff.
//!
//! This is what `k8s_apply_manifest` and `k8s_create_resource` do, exposed for other tool
//! families that generate manifests (Istio policies, NetworkPolicies, ...) and want the same
//! validation and preview:
//!
//! ```rust,no_run
//! use kagent_k8s::ResourceCatalog;
//! use kagent_k8s::apply::{ApplyOptions, apply_objects};
//! use serde_json::json;
//!
//! # async fn demo(client: kube::Client) -> Result<(), kagent_k8s::K8sError> {
//! let catalog = ResourceCatalog::new(client.clone());
//! let policy = json!({
//!     "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
//!     "metadata": {"name": "default-deny-ingress"},
//!     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}
//! });
//! // Validated by the API server, nothing is written.
//! let applied = apply_objects(&client, &catalog, vec![policy], "shop",
//!     &ApplyOptions::new("kagent").dry_run(true)).await?;
//! for a in &applied {
//!     println!("{}\n{}", a.summary(), a.diff);
//! }
//! # Ok(()) }
//! ```

use kube::Client;
use kube::api::{Patch, PatchParams, PostParams};
use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::ResourceCatalog;
use crate::error::Result;
use crate::kapi;
use crate::render::{object_diff, s as vs};
use crate::tools::obj_ref;

/// How [`apply_objects`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Field manager of the writes (`kagent` in the tools).
    pub field_manager: String,
    /// Server-side dry run (`dryRun=All`): the API server validates and defaults the objects
    /// (admission webhooks included) and answers with the result; nothing is stored.
    pub dry_run: bool,
    /// Create (POST; fails when the object exists) instead of server-side apply.
    pub create_only: bool,
    /// Let Secret values appear in diffs (otherwise redacted).
    pub allow_secret_values: bool,
}

impl ApplyOptions {
    /// Server-side apply with `field_manager`, for real, Secret values redacted in diffs.
    pub fn new(field_manager: impl Into<String>) -> Self {
        ApplyOptions {
            field_manager: field_manager.into(),
            dry_run: false,
            create_only: false,
            allow_secret_values: false,
        }
    }

    /// Sets [`ApplyOptions::dry_run`].
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Sets [`ApplyOptions::create_only`].
    #[must_use]
    pub fn create_only(mut self, create_only: bool) -> Self {
        self.create_only = create_only;
        self
    }

    /// Sets [`ApplyOptions::allow_secret_values`].
    #[must_use]
    pub fn allow_secret_values(mut self, allow: bool) -> Self {
        self.allow_secret_values = allow;
        self
    }
}

/// What happened (or, in a dry run, would happen) to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// The object did not exist.
    Created,
    /// The object existed and changed.
    Configured,
    /// The object existed and the write changed nothing.
    Unchanged,
}

impl ApplyOutcome {
    /// `created`, `configured` or `unchanged`, as kubectl prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyOutcome::Created => "created",
            ApplyOutcome::Configured => "configured",
            ApplyOutcome::Unchanged => "unchanged",
        }
    }
}

/// One object written by [`apply_objects`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AppliedObject {
    /// `kind.group/name` (`deployment.apps/web`, `configmap/settings`), as kubectl prints it.
    pub reference: String,
    /// The namespace, for namespaced kinds.
    pub namespace: Option<String>,
    /// Created, configured or unchanged.
    pub outcome: ApplyOutcome,
    /// Unified diff (YAML) of the object before and after, server-set fields left out;
    /// `(no changes)` when equal.
    pub diff: String,
    /// The object as the API server answered (the would-be object in a dry run).
    pub object: Value,
}

impl AppliedObject {
    /// `deployment.apps/web configured in namespace shop`.
    pub fn summary(&self) -> String {
        match &self.namespace {
            Some(ns) => format!(
                "{} {} in namespace {ns}",
                self.reference,
                self.outcome.as_str()
            ),
            None => format!("{} {}", self.reference, self.outcome.as_str()),
        }
    }
}

/// Writes each object, in order: server-side apply with forced conflicts (like `kubectl apply
/// --server-side --force-conflicts`), or create when [`ApplyOptions::create_only`] is set or
/// the object has only a `generateName`. Kinds resolve through `catalog` from each object's
/// `apiVersion` and `kind`; namespaced objects without a namespace go to `default_namespace`.
/// Stops at the first object the API server refuses (earlier ones stay written unless this is
/// a dry run).
pub async fn apply_objects(
    client: &Client,
    catalog: &ResourceCatalog,
    objects: Vec<Value>,
    default_namespace: &str,
    opts: &ApplyOptions,
) -> Result<Vec<AppliedObject>> {
    let mut out = Vec::with_capacity(objects.len());
    for mut doc in objects {
        let info = catalog
            .resolve_kind(vs(&doc, "/apiVersion"), vs(&doc, "/kind"))
            .await?;
        let ns = match vs(&doc, "/metadata/namespace").trim() {
            "" => default_namespace.to_owned(),
            n => n.to_owned(),
        };
        if info.namespaced
            && let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("namespace".into(), json!(ns));
        }
        let ns_opt = info.namespaced.then_some(ns.as_str());
        let name = vs(&doc, "/metadata/name").to_owned();
        let (created, before, after) = if opts.create_only || name.is_empty() {
            let pp = PostParams {
                dry_run: opts.dry_run,
                field_manager: Some(opts.field_manager.clone()),
            };
            let after = kapi::create(client, &info, ns_opt, &doc, &pp).await?;
            (true, None, after)
        } else {
            let before = kapi::get_opt(client, &info, ns_opt, &name).await?;
            let mut pp = PatchParams::apply(&opts.field_manager).force();
            pp.dry_run = opts.dry_run;
            let after =
                kapi::patch(client, &info, ns_opt, &name, None, &pp, &Patch::Apply(doc)).await?;
            (before.is_none(), before, after)
        };
        let shown_name = match vs(&after, "/metadata/name") {
            "" => name,
            n => n.to_owned(),
        };
        let diff = object_diff(
            before.as_ref(),
            Some(&after),
            false,
            opts.allow_secret_values,
        );
        let outcome = if created {
            ApplyOutcome::Created
        } else if diff == "(no changes)" {
            ApplyOutcome::Unchanged
        } else {
            ApplyOutcome::Configured
        };
        out.push(AppliedObject {
            reference: obj_ref(&info, &shown_name),
            namespace: info.namespaced.then_some(ns),
            outcome,
            diff,
            object: after,
        });
    }
    Ok(out)
}
