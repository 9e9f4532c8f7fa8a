//! Mutating Argo Rollouts tools. Each sends the patches `kubectl argo rollouts` sends (merge
//! patches; the `status` subresource first where the plugin uses it, the Rollout itself when the
//! cluster serves no status subresource), or, for `set image`, the same whole-object update. With
//! `dry_run` (or [`ToolContext::dry_run`]) every request is a server-side dry run (`dryRun=All`)
//! and the answer is the diff of the Rollout before and after.

use kagent_core::{ToolContext, ToolEffect, ToolOutput};
use kagent_k8s::render::{change_report, object_diff};
use kagent_k8s::{Flag, ResourceInfo, kapi};
use kube::api::{Patch, PatchParams, PostParams};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::error::{ArgoError, Result};
use super::read::get_rollout;
use super::rollout::{
    Patches, abort_patches, container_names, pause_patches, promote_patches, resume_patches,
    retry_patches, set_image,
};
use super::{Shared, check_name, check_namespace};
use crate::family::family_tool;

/// Attempts of `set image` on a 409 Conflict, as the plugin makes.
const SET_IMAGE_ATTEMPTS: usize = 5;

fn sv<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Arguments naming one rollout, plus dry run.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RolloutNameArgs {
    /// The name of the rollout.
    pub rollout_name: String,
    /// The namespace of the rollout (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

/// Arguments of `argo_promote_rollout`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PromoteRolloutArgs {
    /// The name of the rollout to promote.
    pub rollout_name: String,
    /// The namespace of the rollout (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Promote the rollout to the final step (skipping remaining steps, pauses and analysis).
    #[serde(default)]
    pub full: Flag,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

/// Arguments of `argo_set_rollout_image`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SetRolloutImageArgs {
    /// The name of the rollout to set the image for.
    pub rollout_name: String,
    /// CONTAINER=IMAGE (e.g. web=nginx:1.27; *=IMAGE sets every container). A bare IMAGE is
    /// accepted when the rollout has a single container.
    pub container_image: String,
    /// The namespace of the rollout (default: the configured namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Validate on the server and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: Flag,
}

/// A resolved rollout to act on.
struct Target {
    info: ResourceInfo,
    ns: String,
    name: String,
    before: Value,
}

async fn target(s: &Shared, name: &str, namespace: &Option<String>) -> Result<Target> {
    let name = name.trim();
    check_name("rollout_name", name)?;
    let ns = s.ns(namespace).to_owned();
    check_namespace(&ns)?;
    let info = s.resolve("rollouts").await?;
    let before = get_rollout(s, &info, &ns, name).await?;
    Ok(Target {
        info,
        ns,
        name: name.to_owned(),
        before,
    })
}

fn patch_params(s: &Shared, dry: bool) -> PatchParams {
    PatchParams {
        dry_run: dry,
        field_manager: Some(s.field_manager.clone()),
        ..PatchParams::default()
    }
}

/// Sends `patches` as the plugin does and returns the Rollout after them and a description of
/// what was sent.
async fn send(s: &Shared, t: &Target, patches: Patches, dry: bool) -> Result<(Value, String)> {
    let pp = patch_params(s, dry);
    let mut sent = Vec::new();
    let mut spec = patches.spec;
    let mut after_status: Option<Value> = None;
    if let Some(status) = patches.status {
        match kapi::patch(
            &s.client,
            &t.info,
            Some(&t.ns),
            &t.name,
            Some("status"),
            &pp,
            &Patch::Merge(status.clone()),
        )
        .await
        {
            Ok(v) => {
                sent.push(format!("status subresource {status}"));
                after_status = Some(v);
            }
            // No status subresource (Rollouts <= 0.9): one patch of the Rollout with both.
            Err(e) if e.status_code() == Some(404) => spec = patches.unified,
            Err(e) => return Err(e.into()),
        }
    }
    let after = match spec {
        Some(body) => {
            let mut v = kapi::patch(
                &s.client,
                &t.info,
                Some(&t.ns),
                &t.name,
                None,
                &pp,
                &Patch::Merge(body.clone()),
            )
            .await?;
            sent.push(format!("rollout {body}"));
            // A dry-run spec patch answers with the stored (unchanged) status.
            if dry
                && let (Some(st), Some(m)) = (after_status, v.as_object_mut())
                && let Some(status) = st.get("status")
            {
                m.insert("status".into(), status.clone());
            }
            v
        }
        None => after_status.unwrap_or_else(|| t.before.clone()),
    };
    Ok((after, sent.join("; ")))
}

fn report(dry: bool, t: &Target, verb: &str, sent: &str, after: &Value) -> ToolOutput {
    let what = format!(
        "{verb} rollout {} in namespace {} (merge patch: {sent})",
        t.name, t.ns
    );
    let diff = object_diff(Some(&t.before), Some(after), true, false);
    change_report(dry, &what, &diff)
}

family_tool!(
    /// `argo_promote_rollout`: the plugin's `promote [--full]`.
    PromoteRollout,
    Shared,
    "argo_promote_rollout",
    ToolEffect::Mutating,
    PromoteRolloutArgs,
    "Promote a paused rollout to the next step (clears its pause, or skips the running step), \
     or with full=true to the final step skipping remaining steps, pauses and analysis. Returns \
     a diff; dry_run=true previews it."
);

impl PromoteRollout {
    async fn exec(&self, args: PromoteRolloutArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let t = target(s, &args.rollout_name, &args.namespace).await?;
        let patches = promote_patches(&t.before, args.full.0);
        let (after, sent) = send(s, &t, patches, dry).await?;
        let verb = if args.full.0 {
            "fully promote"
        } else {
            "promote"
        };
        Ok(report(dry, &t, verb, &sent, &after))
    }
}

family_tool!(
    /// `argo_pause_rollout`: the plugin's `pause` (`spec.paused: true`).
    PauseRollout,
    Shared,
    "argo_pause_rollout",
    ToolEffect::Mutating,
    RolloutNameArgs,
    "Pause a rollout (sets spec.paused; the controller stops progressing it until it is \
     resumed or promoted). Returns a diff; dry_run=true previews it."
);

impl PauseRollout {
    async fn exec(&self, args: RolloutNameArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let t = target(s, &args.rollout_name, &args.namespace).await?;
        let (after, sent) = send(s, &t, pause_patches(), dry).await?;
        Ok(report(dry, &t, "pause", &sent, &after))
    }
}

family_tool!(
    /// `argo_resume_rollout`: unpause without advancing a step.
    ResumeRollout,
    Shared,
    "argo_resume_rollout",
    ToolEffect::Mutating,
    RolloutNameArgs,
    "Resume a paused rollout without skipping a step: clears spec.paused and the pause \
     conditions (the plugin's former `resume`). To move past a canary pause step use \
     argo_promote_rollout. Returns a diff; dry_run=true previews it."
);

impl ResumeRollout {
    async fn exec(&self, args: RolloutNameArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let t = target(s, &args.rollout_name, &args.namespace).await?;
        let Some(patches) = resume_patches(&t.before) else {
            let (phase, msg) = super::rollout::phase(&t.before);
            return Err(ArgoError::NotApplicable {
                message: format!(
                    "rollout {} in namespace {} is not paused (status {phase}{}); nothing to \
                     resume. argo_promote_rollout moves a running canary to its next step.",
                    t.name,
                    t.ns,
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!(": {msg}")
                    }
                ),
            });
        };
        let (after, sent) = send(s, &t, patches, dry).await?;
        Ok(report(dry, &t, "resume", &sent, &after))
    }
}

family_tool!(
    /// `argo_abort_rollout`: the plugin's `abort` (`status.abort: true`).
    AbortRollout,
    Shared,
    "argo_abort_rollout",
    ToolEffect::Mutating,
    RolloutNameArgs,
    "Abort a rollout: stops progressing the update and shifts all traffic back to the stable \
     ReplicaSet. spec.template still holds the new version (argo_retry_rollout tries again; \
     setting the image back rolls back for good). Returns a diff; dry_run=true previews it."
);

impl AbortRollout {
    async fn exec(&self, args: RolloutNameArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let t = target(s, &args.rollout_name, &args.namespace).await?;
        let (after, sent) = send(s, &t, abort_patches(), dry).await?;
        Ok(report(dry, &t, "abort", &sent, &after))
    }
}

family_tool!(
    /// `argo_retry_rollout`: the plugin's `retry rollout` (`status.abort: false`).
    RetryRollout,
    Shared,
    "argo_retry_rollout",
    ToolEffect::Mutating,
    RolloutNameArgs,
    "Retry an aborted rollout (clears status.abort so the controller starts the update again). \
     Returns a diff; dry_run=true previews it."
);

impl RetryRollout {
    async fn exec(&self, args: RolloutNameArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let t = target(s, &args.rollout_name, &args.namespace).await?;
        let (after, sent) = send(s, &t, retry_patches(), dry).await?;
        Ok(report(dry, &t, "retry", &sent, &after))
    }
}

family_tool!(
    /// `argo_set_rollout_image`: the plugin's `set image ROLLOUT CONTAINER=IMAGE`.
    SetRolloutImage,
    Shared,
    "argo_set_rollout_image",
    ToolEffect::Mutating,
    SetRolloutImageArgs,
    "Set the image of a rollout's container (container_image is CONTAINER=IMAGE, or *=IMAGE for \
     all), which starts a new rollout. Rollouts that reference a Deployment (workloadRef) get \
     the Deployment updated. Returns a diff; dry_run=true previews it."
);

/// Splits `CONTAINER=IMAGE` as the plugin does; a bare image names the only container.
fn parse_container_image(arg: &str, containers: &[String]) -> Result<(String, String)> {
    let arg = arg.trim();
    let parts: Vec<&str> = arg.split('=').collect();
    match parts.as_slice() {
        [c, i] if !c.trim().is_empty() && !i.trim().is_empty() => {
            Ok((c.trim().to_owned(), i.trim().to_owned()))
        }
        [i] if !i.is_empty() && containers.len() == 1 => Ok((
            containers.first().cloned().unwrap_or_default(),
            (*i).to_owned(),
        )),
        _ => Err(ArgoError::invalid(
            "container_image",
            format!(
                "{arg:?}: expected CONTAINER=IMAGE (or *=IMAGE); the rollout's containers: {}",
                if containers.is_empty() {
                    "none".to_owned()
                } else {
                    containers.join(", ")
                }
            ),
        )),
    }
}

impl SetRolloutImage {
    async fn exec(&self, args: SetRolloutImageArgs, ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let dry = args.dry_run.0 || ctx.dry_run;
        let pp = PostParams {
            dry_run: dry,
            field_manager: Some(s.field_manager.clone()),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let t = target(s, &args.rollout_name, &args.namespace).await?;
            // A Rollout referencing a Deployment takes its pod template from there.
            let (info, obj_name, before) = match t.before.pointer("/spec/workloadRef/name") {
                Some(Value::String(dep)) => {
                    let info = s.catalog.resolve("deployments.apps").await?;
                    let before = kapi::get(&s.client, &info, Some(&t.ns), dep).await?;
                    (info, dep.clone(), before)
                }
                Some(other) => {
                    return Err(ArgoError::NotApplicable {
                        message: format!("spec.workloadRef.name is not a string: {other}"),
                    });
                }
                None => (t.info.clone(), t.name.clone(), t.before.clone()),
            };
            let containers = container_names(&before);
            let (container, image) = parse_container_image(&args.container_image, &containers)?;
            let mut updated = before.clone();
            let changed = set_image(&mut updated, &container, &image);
            if changed.is_empty() {
                return Err(ArgoError::NotApplicable {
                    message: format!(
                        "unable to find container named {container:?} in {} {obj_name}; \
                         containers: {}",
                        before
                            .get("kind")
                            .and_then(Value::as_str)
                            .unwrap_or("object"),
                        containers.join(", ")
                    ),
                });
            }
            match kapi::replace(&s.client, &info, Some(&t.ns), &obj_name, &updated, &pp).await {
                Ok(after) => {
                    let kind = sv(&before, "/kind").to_ascii_lowercase();
                    let what = format!(
                        "set image of container {} to {image} on {kind} {obj_name} in namespace {} \
                         (update of the whole object)",
                        changed.join(", "),
                        t.ns
                    );
                    let diff = object_diff(Some(&before), Some(&after), false, false);
                    return Ok(change_report(dry, &what, &diff));
                }
                Err(e) if e.status_code() == Some(409) && attempt < SET_IMAGE_ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_image_parses_like_the_plugin() {
        let one = vec!["web".to_owned()];
        let two = vec!["web".to_owned(), "proxy".to_owned()];
        assert_eq!(
            parse_container_image("web=nginx:1.27", &two).unwrap(),
            ("web".into(), "nginx:1.27".into())
        );
        assert_eq!(parse_container_image("*=nginx:1.27", &two).unwrap().0, "*");
        assert_eq!(
            parse_container_image("nginx:1.27", &one).unwrap(),
            ("web".into(), "nginx:1.27".into())
        );
        let e = parse_container_image("nginx:1.27", &two).unwrap_err();
        assert!(e.to_string().contains("web, proxy"), "{e}");
        assert!(parse_container_image("a=b=c", &two).is_err());
        assert!(parse_container_image("=x", &two).is_err());
    }
}
