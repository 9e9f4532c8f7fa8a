//! Workloads: Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs.

use serde_json::Value;

use super::{cond, names_missing_object, pod_problem_summary, pods_of};
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::render::table::one_line;
use crate::render::{arr, desired_replicas, i, s};

pub(super) fn analyze_deployments(snap: &Snapshot, out: &mut Vec<Finding>) {
    for d in snap.of("Deployment") {
        let desired = desired_replicas(d);
        let ready = i(d, "/status/readyReplicas");
        let updated = i(d, "/status/updatedReplicas");
        let stuck = cond(d, "Progressing").filter(|c| s(c, "/status") == "False");
        let pods = pods_of(snap, d);
        let pod_summary = pod_problem_summary(&pods);
        if let Some(c) = stuck {
            let mut f = Finding::new(
                "Deployment",
                d,
                Severity::Critical,
                "RolloutStuck",
                format!(
                    "rollout is stuck ({}): {updated}/{desired} replicas updated, {ready} ready",
                    s(c, "/reason")
                ),
            );
            f.evidence.push(format!(
                "Progressing=False: {}",
                one_line(s(c, "/message"), 300)
            ));
            if let Some(p) = &pod_summary {
                f.evidence.push(format!("pods: {p}"));
            }
            out.push(f);
        } else if desired > 0 && ready < desired {
            let mut f = Finding::new(
                "Deployment",
                d,
                Severity::Critical,
                "ReplicasUnavailable",
                format!("only {ready}/{desired} replicas are ready"),
            );
            if let Some(p) = &pod_summary {
                f.evidence.push(format!("pods: {p}"));
            }
            if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
                f.evidence.push("the deployment is paused".to_owned());
            }
            out.push(f);
        }
        let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        let replicas = i(d, "/status/replicas");
        let progressing_paused =
            cond(d, "Progressing").is_some_and(|c| s(c, "/reason") == "DeploymentPaused");
        if paused && (updated < replicas || progressing_paused) {
            let mut f = Finding::new(
                "Deployment",
                d,
                Severity::Warning,
                "RolloutPaused",
                format!(
                    "the deployment is paused (spec.paused): changes to its pod template are not rolled out ({updated}/{replicas} replicas run the current template)"
                ),
            );
            let images: Vec<&str> = arr(d, "/spec/template/spec/containers")
                .iter()
                .map(|c| s(c, "/image"))
                .collect();
            f.evidence
                .push(format!("template images: {}", images.join(", ")));
            out.push(f);
        }
    }
}

pub(super) fn analyze_replicasets(snap: &Snapshot, out: &mut Vec<Finding>) {
    for rs in snap.of("ReplicaSet") {
        if let Some(c) = cond(rs, "ReplicaFailure").filter(|c| s(c, "/status") == "True") {
            out.push(Finding::new(
                "ReplicaSet",
                rs,
                Severity::Critical,
                match s(c, "/reason") {
                    "" => "ReplicaFailure",
                    r => r,
                },
                format!("cannot create pods: {}", one_line(s(c, "/message"), 300)),
            ));
        }
    }
}

pub(super) fn analyze_statefulsets(snap: &Snapshot, out: &mut Vec<Finding>) {
    for st in snap.of("StatefulSet") {
        let desired = desired_replicas(st);
        let ready = i(st, "/status/readyReplicas");
        if desired > 0 && ready < desired {
            let mut f = Finding::new(
                "StatefulSet",
                st,
                Severity::Critical,
                "ReplicasUnavailable",
                format!("only {ready}/{desired} replicas are ready"),
            );
            if let Some(p) = pod_problem_summary(&pods_of(snap, st)) {
                f.evidence.push(format!("pods: {p}"));
            }
            for t in arr(st, "/spec/volumeClaimTemplates") {
                let sc = s(t, "/spec/storageClassName");
                if !sc.is_empty() && names_missing_object(snap, "StorageClass", sc) {
                    f.evidence.push(format!(
                        "volumeClaimTemplate uses StorageClass {sc}, which does not exist"
                    ));
                }
            }
            out.push(f);
        }
    }
}

pub(super) fn analyze_daemonsets(snap: &Snapshot, out: &mut Vec<Finding>) {
    for ds in snap.of("DaemonSet") {
        let desired = i(ds, "/status/desiredNumberScheduled");
        let ready = i(ds, "/status/numberReady");
        let misscheduled = i(ds, "/status/numberMisscheduled");
        if ready < desired {
            let mut f = Finding::new(
                "DaemonSet",
                ds,
                Severity::Critical,
                "PodsUnavailable",
                format!("only {ready}/{desired} daemon pods are ready"),
            );
            if let Some(p) = pod_problem_summary(&pods_of(snap, ds)) {
                f.evidence.push(format!("pods: {p}"));
            }
            out.push(f);
        }
        if misscheduled > 0 {
            out.push(Finding::new(
                "DaemonSet",
                ds,
                Severity::Warning,
                "Misscheduled",
                format!("{misscheduled} daemon pods run on nodes they should not"),
            ));
        }
    }
}

/// Whether a failed Job is history: its CronJob has succeeded since it failed.
fn superseded(snap: &Snapshot, job: &Value, failed_at: &str) -> bool {
    let Some(owner) = arr(job, "/metadata/ownerReferences")
        .iter()
        .find(|o| s(o, "/kind") == "CronJob")
    else {
        return false;
    };
    let Some(cron) = snap.of("CronJob").iter().find(|c| {
        s(c, "/metadata/name") == s(owner, "/name")
            && s(c, "/metadata/namespace") == s(job, "/metadata/namespace")
    }) else {
        return false;
    };
    let (Ok(success), Ok(failed)) = (
        s(cron, "/status/lastSuccessfulTime").parse::<jiff::Timestamp>(),
        failed_at.parse::<jiff::Timestamp>(),
    ) else {
        return false;
    };
    success > failed
}

/// Whether `kind`/`name` in `ns` is a failed Job (or a pod of one) that a later run of its
/// CronJob has superseded: history, not a current problem.
pub(super) fn is_superseded_job_object(snap: &Snapshot, kind: &str, ns: &str, name: &str) -> bool {
    let job_name = match kind {
        "Job" => Some(name.to_owned()),
        "Pod" => snap
            .of("Pod")
            .iter()
            .find(|p| s(p, "/metadata/name") == name && s(p, "/metadata/namespace") == ns)
            .and_then(|p| {
                arr(p, "/metadata/ownerReferences")
                    .iter()
                    .find(|o| s(o, "/kind") == "Job")
                    .map(|o| s(o, "/name").to_owned())
            }),
        _ => None,
    };
    let Some(job_name) = job_name else {
        return false;
    };
    snap.of("Job").iter().any(|j| {
        s(j, "/metadata/name") == job_name
            && s(j, "/metadata/namespace") == ns
            && cond(j, "Failed")
                .filter(|c| s(c, "/status") == "True")
                .is_some_and(|c| superseded(snap, j, s(c, "/lastTransitionTime")))
    })
}

pub(super) fn analyze_jobs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for j in snap.of("Job") {
        if let Some(c) = cond(j, "Failed").filter(|c| s(c, "/status") == "True")
            && !superseded(snap, j, s(c, "/lastTransitionTime"))
        {
            let mut f = Finding::new(
                "Job",
                j,
                Severity::Critical,
                match s(c, "/reason") {
                    "" => "JobFailed",
                    r => r,
                },
                format!("job failed: {}", one_line(s(c, "/message"), 300)),
            );
            f.evidence.push(format!(
                "succeeded {}, failed {}",
                i(j, "/status/succeeded"),
                i(j, "/status/failed")
            ));
            out.push(f);
        }
    }
}

fn valid_schedule(schedule: &str) -> bool {
    let sched = schedule.trim();
    if sched.starts_with('@') {
        return matches!(
            sched,
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly"
        ) || sched.starts_with("@every ");
    }
    let fields: Vec<&str> = sched
        .split_whitespace()
        .filter(|f| !f.starts_with("TZ=") && !f.starts_with("CRON_TZ="))
        .collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '/' | ',' | '-' | '?'))
        })
}

pub(super) fn analyze_cronjobs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for cj in snap.of("CronJob") {
        let sched = s(cj, "/spec/schedule");
        if !valid_schedule(sched) {
            out.push(Finding::new(
                "CronJob",
                cj,
                Severity::Critical,
                "InvalidSchedule",
                format!("schedule {sched:?} is not a valid cron expression"),
            ));
        }
        if cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
            out.push(Finding::new(
                "CronJob",
                cj,
                Severity::Warning,
                "Suspended",
                "the cronjob is suspended and starts no jobs".to_owned(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_schedules() {
        assert!(valid_schedule("*/5 * * * *"));
        assert!(valid_schedule("@hourly"));
        assert!(valid_schedule("CRON_TZ=UTC 0 3 * * 1-5"));
        assert!(!valid_schedule("every day"));
        assert!(!valid_schedule("* * *"));
    }
}
