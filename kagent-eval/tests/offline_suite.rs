//! The offline part of the evaluation (the deterministic analyzers and the playbook) over the
//! built-in suite: fails when a score drops below `thresholds.yaml`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kagent_eval::report::Report;
use kagent_eval::{
    AnalyzersAgent, EvalAgent, PlaybookAgent, RunOptions, builtin_suite_dir, builtin_thresholds,
    load_suite, read_thresholds, run_suite,
};

async fn gate(agent: &dyn EvalAgent) -> Report {
    let suite = load_suite(builtin_suite_dir()).unwrap();
    let report = run_suite(agent, &suite, "builtin", &RunOptions::default(), |_| {})
        .await
        .unwrap();
    let thresholds = read_thresholds(&builtin_thresholds()).unwrap();
    let th = thresholds
        .get(&agent.name())
        .unwrap_or_else(|| panic!("thresholds.yaml has no entry for {}", agent.name()));
    let overall = report.overall();
    let failures = th.failures(&overall);
    assert!(
        failures.is_empty(),
        "{} fell below kagent-eval/thresholds.yaml: {}\n\n{}",
        agent.name(),
        failures.join("; "),
        report.markdown()
    );
    assert_eq!(overall.errors, 0, "{}", report.markdown());
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyzers_meet_the_recorded_threshold() {
    let report = gate(&AnalyzersAgent::default()).await;
    // the analyzers call no model and no tool
    assert_eq!(report.overall().model_calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playbook_meets_the_recorded_threshold() {
    let report = gate(&PlaybookAgent).await;
    assert!(report.results.iter().all(|r| r.tool_calls >= 1));
}
