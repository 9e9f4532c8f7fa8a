//! PodDisruptionBudgets and NetworkPolicies: what they select and what they block.

use serde_json::Value;

use super::pods_selected;
use crate::diagnose::{Finding, Severity, Snapshot};
use crate::labels::label_selector;
use crate::render::{arr, i};

pub(super) fn analyze_pdbs(snap: &Snapshot, out: &mut Vec<Finding>) {
    for p in snap.of("PodDisruptionBudget") {
        let expected = i(p, "/status/expectedPods");
        let allowed = i(p, "/status/disruptionsAllowed");
        if expected > 0 && allowed == 0 {
            out.push(Finding::new(
                "PodDisruptionBudget",
                p,
                Severity::Warning,
                "NoDisruptionsAllowed",
                format!(
                    "0 disruptions allowed ({} healthy of {} desired): node drains will block",
                    i(p, "/status/currentHealthy"),
                    i(p, "/status/desiredHealthy")
                ),
            ));
        }
        // An invalid selector selects nothing.
        if let Some(sel) = p.pointer("/spec/selector")
            && snap.objects.contains_key("Pod")
            && !label_selector(sel).is_ok_and(|sel| pods_selected(snap, p, &sel).next().is_some())
        {
            out.push(Finding::new(
                "PodDisruptionBudget",
                p,
                Severity::Warning,
                "SelectorMatchesNothing",
                "selector matches no pod".to_owned(),
            ));
        }
    }
}

pub(super) fn analyze_netpols(snap: &Snapshot, out: &mut Vec<Finding>) {
    for np in snap.of("NetworkPolicy") {
        let Some(sel) = np.pointer("/spec/podSelector") else {
            continue;
        };
        let empty = sel.as_object().is_none_or(|m| {
            m.values().all(|v| {
                v.as_object().is_some_and(|o| o.is_empty())
                    || v.as_array().is_some_and(|a| a.is_empty())
            })
        });
        if empty {
            let types: Vec<&str> = arr(np, "/spec/policyTypes")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if (types.contains(&"Ingress") || types.is_empty())
                && arr(np, "/spec/ingress").is_empty()
            {
                out.push(Finding::new(
                    "NetworkPolicy",
                    np,
                    Severity::Warning,
                    "DenyAllIngress",
                    "selects every pod in the namespace and allows no ingress: all inbound traffic is denied".to_owned(),
                ));
            }
        } else if !label_selector(sel)
            .is_ok_and(|sel| pods_selected(snap, np, &sel).next().is_some())
        {
            out.push(Finding::new(
                "NetworkPolicy",
                np,
                Severity::Warning,
                "SelectorMatchesNothing",
                "podSelector matches no pod; the policy has no effect".to_owned(),
            ));
        }
    }
}
