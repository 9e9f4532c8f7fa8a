//! What the Argo Rollouts kubectl plugin computes from a Rollout (phase, step, weights) and the
//! patches each of its commands sends, ported from `argoproj/argo-rollouts`
//! (`pkg/kubectl-argo-rollouts/cmd/*`, `utils/rollout`, `utils/replicaset`), on plain JSON.

use serde_json::{Value, json};

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn i(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

fn b(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `Canary`, `BlueGreen` or `unknown`.
pub fn strategy(ro: &Value) -> &'static str {
    if ro.pointer("/spec/strategy/canary").is_some() {
        "Canary"
    } else if ro.pointer("/spec/strategy/blueGreen").is_some() {
        "BlueGreen"
    } else {
        "unknown"
    }
}

/// The canary steps (empty for blue-green or a canary without steps).
pub fn steps(ro: &Value) -> &[Value] {
    arr(ro, "/spec/strategy/canary/steps")
}

/// `GetCurrentCanaryStep`: the current step (if within the steps) and its index (`None` for a
/// rollout without canary steps).
pub fn current_step(ro: &Value) -> (Option<&Value>, Option<i64>) {
    let steps = steps(ro);
    if ro.pointer("/spec/strategy/canary").is_none() || steps.is_empty() {
        return (None, None);
    }
    let idx = i(ro, "/status/currentStepIndex").unwrap_or(0).max(0);
    let step = usize::try_from(idx).ok().and_then(|u| steps.get(u));
    (step, Some(idx))
}

/// `MaxTrafficWeight`: 100 unless traffic routing sets `maxTrafficWeight`.
pub fn max_weight(ro: &Value) -> i64 {
    i(ro, "/spec/strategy/canary/trafficRouting/maxTrafficWeight").unwrap_or(100)
}

/// `GetCurrentSetWeight`: the canary weight the current step asks for (desired, not actual).
pub fn set_weight(ro: &Value) -> i64 {
    if b(ro, "/status/abort") {
        return 0;
    }
    let (step, idx) = current_step(ro);
    let (Some(_), Some(idx)) = (step, idx) else {
        return max_weight(ro);
    };
    let steps = steps(ro);
    let upto = usize::try_from(idx).unwrap_or(0);
    steps
        .iter()
        .take(upto + 1)
        .rev()
        .find_map(|st| st.get("setWeight").and_then(Value::as_i64))
        .unwrap_or(0)
}

/// The actual canary weight as `kubectl argo rollouts get` computes it: the traffic router's
/// reported weight (`status.canary.weights`) with traffic routing; otherwise the share of
/// available pods that belong to the canary ReplicaSet (`canary_available`, when known).
pub fn actual_weight(ro: &Value, canary_available: Option<i64>) -> i64 {
    let (step, _) = current_step(ro);
    if step.is_none() {
        return max_weight(ro);
    }
    let available = i(ro, "/status/availableReplicas").unwrap_or(0);
    if available <= 0 {
        return 0;
    }
    if ro.pointer("/spec/strategy/canary/trafficRouting").is_none() {
        return canary_available
            .map(|c| c * max_weight(ro) / available)
            .unwrap_or_else(|| set_weight(ro));
    }
    i(ro, "/status/canary/weights/canary/weight").unwrap_or_else(|| set_weight(ro))
}

/// `GetRolloutPhase`: the phase and message, taking an unobserved spec change and an unpause in
/// flight into account (controller 1.0+ computes the rest into `status.phase`/`message`).
pub fn phase(ro: &Value) -> (String, String) {
    let generation = i(ro, "/metadata/generation").unwrap_or(0);
    if let Ok(observed) = s(ro, "/status/observedGeneration").parse::<i64>()
        && observed < generation
    {
        return (
            "Progressing".into(),
            "waiting for rollout spec update to be observed".into(),
        );
    }
    if b(ro, "/status/controllerPause") && arr(ro, "/status/pauseConditions").is_empty() {
        return (
            "Progressing".into(),
            "waiting for rollout to unpause".into(),
        );
    }
    let phase = s(ro, "/status/phase");
    if !phase.is_empty() {
        return (phase.to_owned(), s(ro, "/status/message").to_owned());
    }
    calculate_phase(ro)
}

/// `CalculateRolloutPhase`, for controllers older than 1.0 that do not write `status.phase`.
fn calculate_phase(ro: &Value) -> (String, String) {
    for c in arr(ro, "/status/conditions") {
        if s(c, "/type") == "InvalidSpec" {
            return (
                "Degraded".into(),
                format!("InvalidSpec: {}", s(c, "/message")),
            );
        }
        let reason = s(c, "/reason");
        if reason == "RolloutAborted" || reason == "ProgressDeadlineExceeded" {
            return ("Degraded".into(), format!("{reason}: {}", s(c, "/message")));
        }
    }
    if b(ro, "/spec/paused") {
        return ("Paused".into(), "manually paused".into());
    }
    if let Some(pc) = arr(ro, "/status/pauseConditions").first() {
        return ("Paused".into(), s(pc, "/reason").to_owned());
    }
    let desired = i(ro, "/spec/replicas").unwrap_or(1);
    let updated = i(ro, "/status/updatedReplicas").unwrap_or(0);
    let available = i(ro, "/status/availableReplicas").unwrap_or(0);
    if updated < desired {
        return (
            "Progressing".into(),
            "more replicas need to be updated".into(),
        );
    }
    if available < updated {
        return (
            "Progressing".into(),
            "updated replicas are still becoming available".into(),
        );
    }
    let stable = s(ro, "/status/stableRS");
    let current = s(ro, "/status/currentPodHash");
    if stable.is_empty() || stable != current {
        return (
            "Progressing".into(),
            "waiting for all steps to complete".into(),
        );
    }
    ("Healthy".into(), String::new())
}

/// `step` as the plugin lists it (`2/5`), `-` without canary steps.
pub fn step_label(ro: &Value) -> String {
    let n = steps(ro).len();
    match i(ro, "/status/currentStepIndex") {
        Some(idx) if n > 0 && strategy(ro) == "Canary" => format!("{idx}/{n}"),
        _ => "-".to_owned(),
    }
}

/// One canary step in a line: `setWeight: 40`, `pause: 10m`, `pause: (until promoted)`,
/// `analysis: error-rate`, ...
pub fn describe_step(step: &Value) -> String {
    let Some(m) = step.as_object() else {
        return step.to_string();
    };
    let mut parts = Vec::new();
    for (k, v) in m {
        let text = match (k.as_str(), v) {
            ("setWeight", v) => format!("setWeight: {v}"),
            ("pause", v) => match v.get("duration") {
                Some(Value::String(d)) => format!("pause: {d}"),
                Some(d) => format!("pause: {d}s"),
                None => "pause: (until promoted)".to_owned(),
            },
            ("analysis", v) => format!(
                "analysis: {}",
                arr(v, "/templates")
                    .iter()
                    .map(|t| s(t, "/templateName"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ("experiment", v) => format!(
                "experiment: {}",
                arr(v, "/templates")
                    .iter()
                    .map(|t| s(t, "/name"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (k, v) => format!("{k}: {}", compact(v)),
        };
        parts.push(text);
    }
    parts.join(", ")
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The patches of `kubectl argo rollouts promote` (`getPatches`, without the deprecated skip
/// flags): a spec patch for the Rollout, a status patch for its `status` subresource, and the
/// unified patch used instead when the cluster serves no status subresource (Rollouts ≤ 0.9).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Patches {
    /// Merge patch of the Rollout (spec).
    pub spec: Option<Value>,
    /// Merge patch of the `status` subresource.
    pub status: Option<Value>,
    /// Merge patch of the Rollout used when the status subresource is not served.
    pub unified: Option<Value>,
}

fn is_inconclusive(ro: &Value) -> bool {
    strategy(ro) == "Canary"
        && s(ro, "/status/canary/currentStepAnalysisRunStatus/status") == "Inconclusive"
}

/// The step index after the current one, capped at the number of steps.
fn next_index(ro: &Value) -> Option<i64> {
    let (_, idx) = current_step(ro);
    let n = i64::try_from(steps(ro).len()).unwrap_or(i64::MAX);
    idx.map(|i| if i < n { i + 1 } else { i })
}

/// `promote` (`full = false`) and `promote --full`.
pub fn promote_patches(ro: &Value, full: bool) -> Patches {
    let paused = b(ro, "/spec/paused");
    let mut p = Patches::default();
    if full {
        if paused {
            p.spec = Some(json!({"spec": {"paused": false}}));
        }
        if s(ro, "/status/currentPodHash") != s(ro, "/status/stableRS") {
            p.status = Some(json!({"status": {"promoteFull": true}}));
        }
        p.unified = Some(json!({"spec": {"paused": false}, "status": {"promoteFull": true}}));
        return p;
    }
    p.unified = Some(json!({"spec": {"paused": false}, "status": {"pauseConditions": null}}));
    if paused {
        p.spec = Some(json!({"spec": {"paused": false}}));
    }
    let has_pause_conditions = !arr(ro, "/status/pauseConditions").is_empty();
    if is_inconclusive(ro) && has_pause_conditions && b(ro, "/status/controllerPause") {
        if let Some(idx) = next_index(ro) {
            p.status = Some(json!({"status": {
                "pauseConditions": null, "controllerPause": false, "currentStepIndex": idx
            }}));
        }
    } else if has_pause_conditions {
        p.status = Some(json!({"status": {"pauseConditions": null}}));
    } else if strategy(ro) == "Canary"
        && let Some(idx) = next_index(ro)
    {
        p.status = Some(json!({"status": {"pauseConditions": null, "currentStepIndex": idx}}));
        p.unified = Some(json!({
            "spec": {"paused": false},
            "status": {"pauseConditions": null, "currentStepIndex": idx}
        }));
    }
    p
}

/// `pause`: `{"spec":{"paused":true}}` on the Rollout.
pub fn pause_patches() -> Patches {
    Patches {
        spec: Some(json!({"spec": {"paused": true}})),
        ..Patches::default()
    }
}

/// `abort`: `{"status":{"abort":true}}` on the status subresource (the Rollout itself when it
/// has none).
pub fn abort_patches() -> Patches {
    let p = json!({"status": {"abort": true}});
    Patches {
        spec: None,
        status: Some(p.clone()),
        unified: Some(p),
    }
}

/// `retry rollout`: `{"status":{"abort":false}}` on the status subresource (the Rollout itself
/// when it has none).
pub fn retry_patches() -> Patches {
    let p = json!({"status": {"abort": false}});
    Patches {
        spec: None,
        status: Some(p.clone()),
        unified: Some(p),
    }
}

/// Resume a paused rollout without advancing it: the plugin's former `resume` command
/// (`{"spec":{"paused":false},"status":{"pauseConditions":null}}`, replaced by `promote` in
/// Rollouts 0.6), split into a spec and a status-subresource patch as `promote` sends them
/// today. `None` when the rollout is not paused.
pub fn resume_patches(ro: &Value) -> Option<Patches> {
    let paused = b(ro, "/spec/paused");
    let has_pause_conditions = !arr(ro, "/status/pauseConditions").is_empty();
    if !paused && !has_pause_conditions {
        return None;
    }
    Some(Patches {
        spec: paused.then(|| json!({"spec": {"paused": false}})),
        status: has_pause_conditions.then(|| json!({"status": {"pauseConditions": null}})),
        unified: Some(json!({"spec": {"paused": false}, "status": {"pauseConditions": null}})),
    })
}

/// `set image`'s `newRolloutSetImage`: sets `image` on every init, regular and ephemeral
/// container of the pod template named `container` (`*`: all). Returns the names changed; empty
/// when no container has that name.
pub fn set_image(obj: &mut Value, container: &str, image: &str) -> Vec<String> {
    let mut changed = Vec::new();
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        let ptr = format!("/spec/template/spec/{field}");
        if let Some(list) = obj.pointer_mut(&ptr).and_then(Value::as_array_mut) {
            for c in list.iter_mut() {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if (name == container || container == "*")
                    && let Some(m) = c.as_object_mut()
                {
                    m.insert("image".into(), Value::String(image.to_owned()));
                    changed.push(name);
                }
            }
        }
    }
    changed
}

/// Names of the pod template's containers (init, regular, ephemeral).
pub fn container_names(obj: &Value) -> Vec<String> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|f| arr(obj, &format!("/spec/template/spec/{f}")))
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(step: i64, extra_status: Value) -> Value {
        let mut ro = json!({
            "metadata": {"name": "web", "generation": 3},
            "spec": {"replicas": 5, "strategy": {"canary": {"steps": [
                {"setWeight": 20}, {"pause": {}}, {"setWeight": 40},
                {"pause": {"duration": "10m"}}, {"analysis": {"templates": [{"templateName": "error-rate"}]}}
            ]}}},
            "status": {"currentStepIndex": step, "observedGeneration": "3",
                       "stableRS": "aaa", "currentPodHash": "bbb", "availableReplicas": 5}
        });
        if let (Some(st), Some(extra)) = (ro["status"].as_object_mut(), extra_status.as_object()) {
            for (k, v) in extra {
                st.insert(k.clone(), v.clone());
            }
        }
        ro
    }

    #[test]
    fn weights_and_steps_follow_the_plugin() {
        let ro = canary(2, json!({}));
        assert_eq!(step_label(&ro), "2/5");
        assert_eq!(set_weight(&ro), 40);
        assert_eq!(
            set_weight(&canary(1, json!({}))),
            20,
            "a pause keeps the last weight"
        );
        assert_eq!(
            set_weight(&canary(5, json!({}))),
            100,
            "past the last step: full weight"
        );
        assert_eq!(set_weight(&canary(2, json!({"abort": true}))), 0);
        assert_eq!(actual_weight(&ro, Some(2)), 40, "2 of 5 available pods");
        let mut routed = ro.clone();
        routed["spec"]["strategy"]["canary"]["trafficRouting"] = json!({"istio": {}});
        routed["status"]["canary"] =
            json!({"weights": {"canary": {"weight": 35}, "stable": {"weight": 65}}});
        assert_eq!(actual_weight(&routed, None), 35);
        assert_eq!(
            describe_step(&json!({"pause": {}})),
            "pause: (until promoted)"
        );
        assert_eq!(
            describe_step(&json!({"pause": {"duration": 30}})),
            "pause: 30s"
        );
        assert_eq!(
            describe_step(
                &json!({"analysis": {"templates": [{"templateName": "a"}, {"templateName": "b"}]}})
            ),
            "analysis: a, b"
        );
    }

    #[test]
    fn phase_prefers_the_controller_and_spots_unobserved_changes() {
        let mut ro = canary(2, json!({"phase": "Paused", "message": "CanaryPauseStep"}));
        assert_eq!(phase(&ro), ("Paused".into(), "CanaryPauseStep".into()));
        ro["metadata"]["generation"] = json!(4);
        assert_eq!(phase(&ro).0, "Progressing");
        let unpausing = canary(2, json!({"controllerPause": true, "pauseConditions": []}));
        assert_eq!(phase(&unpausing).1, "waiting for rollout to unpause");
        let old = canary(
            2,
            json!({"conditions": [{"type": "Progressing", "reason": "RolloutAborted", "message": "x"}]}),
        );
        assert_eq!(phase(&old).0, "Degraded");
    }

    #[test]
    fn promote_patches_match_get_patches() {
        // paused at a pause step by the controller: clear the pause conditions
        let ro = canary(
            1,
            json!({"pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": true}),
        );
        let p = promote_patches(&ro, false);
        assert_eq!(p.spec, None);
        assert_eq!(p.status, Some(json!({"status": {"pauseConditions": null}})));
        assert_eq!(
            p.unified,
            Some(json!({"spec": {"paused": false}, "status": {"pauseConditions": null}}))
        );
        // running (not paused): skip to the next step
        let p = promote_patches(&canary(2, json!({})), false);
        assert_eq!(
            p.status,
            Some(json!({"status": {"pauseConditions": null, "currentStepIndex": 3}}))
        );
        // inconclusive analysis: unpause the controller and advance
        let ro = canary(
            4,
            json!({"pauseConditions": [{"reason": "InconclusiveAnalysisRun"}], "controllerPause": true,
                                  "canary": {"currentStepAnalysisRunStatus": {"status": "Inconclusive"}}}),
        );
        assert_eq!(
            promote_patches(&ro, false).status,
            Some(
                json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": 5}})
            )
        );
        // user-paused
        let mut ro = canary(2, json!({}));
        ro["spec"]["paused"] = json!(true);
        assert_eq!(
            promote_patches(&ro, false).spec,
            Some(json!({"spec": {"paused": false}}))
        );
        // full
        let p = promote_patches(&ro, true);
        assert_eq!(p.spec, Some(json!({"spec": {"paused": false}})));
        assert_eq!(p.status, Some(json!({"status": {"promoteFull": true}})));
        let mut done = canary(5, json!({}));
        done["status"]["currentPodHash"] = json!("aaa");
        assert_eq!(promote_patches(&done, true).status, None);
    }

    #[test]
    fn resume_needs_a_pause() {
        assert_eq!(resume_patches(&canary(2, json!({}))), None);
        let p = resume_patches(&canary(
            1,
            json!({"pauseConditions": [{"reason": "CanaryPauseStep"}]}),
        ))
        .unwrap();
        assert_eq!(p.spec, None);
        assert_eq!(p.status, Some(json!({"status": {"pauseConditions": null}})));
    }

    #[test]
    fn set_image_touches_named_containers() {
        let mut ro = json!({"spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{"name": "web", "image": "nginx:1.25"}, {"name": "proxy", "image": "envoy"}]
        }}}});
        assert_eq!(set_image(&mut ro, "web", "nginx:1.26"), ["web"]);
        assert_eq!(
            ro["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.26"
        );
        assert!(set_image(&mut ro, "nope", "x").is_empty());
        assert_eq!(set_image(&mut ro, "*", "x").len(), 3);
        assert_eq!(container_names(&ro), ["init", "web", "proxy"]);
    }
}
