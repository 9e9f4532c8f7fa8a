//! HorizontalPodAutoscalers: missing targets, running at the maximum, inactive scaling.

use serde_json::Value;

use super::{cond, same_ns};
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::render::table::one_line;
use crate::render::{arr, i, s};

pub(super) fn analyze_hpas(snap: &Snapshot, out: &mut Vec<Finding>) {
    for h in snap.of("HorizontalPodAutoscaler") {
        let max = i(h, "/spec/maxReplicas");
        let current = i(h, "/status/currentReplicas");
        let desired = i(h, "/status/desiredReplicas");
        let tkind = s(h, "/spec/scaleTargetRef/kind");
        let tname = s(h, "/spec/scaleTargetRef/name");
        if snap.objects.contains_key(tkind)
            && !snap
                .of(tkind)
                .iter()
                .any(|o| s(o, "/metadata/name") == tname && same_ns(o, h))
        {
            out.push(Finding::new(
                "HorizontalPodAutoscaler",
                h,
                Severity::Critical,
                "ScaleTargetNotFound",
                format!("scale target {tkind}/{tname} does not exist"),
            ));
            continue;
        }
        if max > 0 && current >= max {
            let mut f = Finding::new(
                "HorizontalPodAutoscaler",
                h,
                Severity::Warning,
                "HpaAtMaxReplicas",
                format!(
                    "running at its maximum of {max} replicas{}; load may exceed capacity",
                    if desired > max {
                        format!(" (wants {desired})")
                    } else {
                        String::new()
                    }
                ),
            );
            for (idx, m) in arr(h, "/spec/metrics").iter().enumerate() {
                let target = m
                    .pointer("/resource/target/averageUtilization")
                    .and_then(Value::as_i64);
                let cur = arr(h, "/status/currentMetrics")
                    .get(idx)
                    .and_then(|c| c.pointer("/resource/current/averageUtilization"))
                    .and_then(Value::as_i64);
                if let (Some(t), Some(c)) = (target, cur) {
                    f.evidence.push(format!(
                        "{} utilization {c}% vs target {t}%",
                        s(m, "/resource/name")
                    ));
                }
            }
            if let Some(c) = cond(h, "ScalingLimited").filter(|c| s(c, "/status") == "True") {
                f.evidence.push(format!(
                    "ScalingLimited: {}",
                    one_line(s(c, "/message"), 200)
                ));
            }
            f.evidence.push(format!("target {tkind}/{tname}"));
            out.push(f);
        }
        if let Some(c) = cond(h, "ScalingActive").filter(|c| s(c, "/status") == "False") {
            out.push(Finding::new(
                "HorizontalPodAutoscaler",
                h,
                Severity::Warning,
                "ScalingInactive",
                format!(
                    "cannot compute replicas: {}",
                    one_line(s(c, "/message"), 300)
                ),
            ));
        }
    }
}
