//! The built-in suite is what the issue asks for: at least 40 scenarios over ten categories, a
//! quarter of them needing two or more hops, a held-out set, and a cluster the fake API server
//! accepts for every one of them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use kagent_eval::{builtin_suite_dir, load_suite};

#[test]
fn suite_covers_the_categories_with_multi_hop_and_held_out_scenarios() {
    let suite = load_suite(builtin_suite_dir()).unwrap();
    assert!(suite.len() >= 40, "{} scenarios", suite.len());
    let cats: BTreeSet<&str> = suite.iter().map(|s| s.spec.category.as_str()).collect();
    for c in [
        "workloads",
        "networking",
        "storage",
        "scheduling",
        "configuration",
        "rbac",
        "autoscaling",
        "jobs",
        "rollouts",
        "observability",
    ] {
        assert!(cats.contains(c), "no scenario of category {c}");
    }
    let multi = suite.iter().filter(|s| s.spec.hops >= 2).count();
    assert!(
        multi * 4 >= suite.len(),
        "{multi} multi-hop of {}",
        suite.len()
    );
    let held_out = suite.iter().filter(|s| s.spec.held_out).count();
    assert!(held_out >= 5, "{held_out} held-out scenarios");
    assert!(suite.iter().any(|s| s.spec.prometheus.is_some()));
    for s in &suite {
        // healthy objects around every broken one
        let deployments = s
            .objects
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .count();
        assert!(deployments >= 3, "{}: {deployments} deployments", s.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_loads_into_the_fake_api_server() {
    for s in load_suite(builtin_suite_dir()).unwrap() {
        let cluster = kagent_eval::runner::start_cluster(&s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        kagent_eval::runner::stop_cluster(cluster).await;
    }
}
