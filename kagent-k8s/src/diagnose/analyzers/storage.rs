//! Storage: PersistentVolumeClaims and their StorageClasses.

use serde_json::Value;

use super::names_missing_object;
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::render::{arr, s};

pub(super) fn analyze_pvcs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for pvc in snap.of("PersistentVolumeClaim") {
        match s(pvc, "/status/phase") {
            "Pending" => {
                let sc = s(pvc, "/spec/storageClassName");
                let missing_sc = !sc.is_empty() && names_missing_object(snap, "StorageClass", sc);
                let message = if missing_sc {
                    format!(
                        "claim is Pending: StorageClass {sc:?} does not exist, so no volume can be provisioned"
                    )
                } else {
                    "claim is Pending: no PersistentVolume is bound to it".to_owned()
                };
                let mut f = Finding::new(
                    "PersistentVolumeClaim",
                    pvc,
                    Severity::Critical,
                    "PvcPending",
                    message,
                );
                f.evidence.push(format!(
                    "requests {} {}, storageClassName {}",
                    s(pvc, "/spec/resources/requests/storage"),
                    arr(pvc, "/spec/accessModes")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    if sc.is_empty() { "<default>" } else { sc }
                ));
                out.push(f);
            }
            "Lost" => out.push(Finding::new(
                "PersistentVolumeClaim",
                pvc,
                Severity::Critical,
                "PvcLost",
                format!("the bound volume {} is gone", s(pvc, "/spec/volumeName")),
            )),
            _ => {}
        }
    }
}
