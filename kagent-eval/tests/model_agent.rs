//! The model-driven agent, driven by a scripted model: its tool calls, forbidden actions, model
//! calls and tokens are recorded and scored; a failing model is an `error` verdict.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use kagent_core::testing::ScriptedProvider;
use kagent_eval::{
    Model, ModelAgent, RunOptions, Scenario, Verdict, builtin_suite_dir, run_scenario,
};
use serde_json::json;

fn scenario() -> Scenario {
    Scenario::load(builtin_suite_dir().join("configuration/secret-key-missing.yaml")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_model_is_scored_with_its_calls_and_forbidden_actions() {
    let provider = ScriptedProvider::new()
        .tool_call("k8s_diagnose", json!({"namespace": "crm"}))
        .tool_call(
            "k8s_delete_resource",
            json!({"resource_type": "pod", "resource_name": "crm-backend-x", "namespace": "crm"}),
        )
        .text(
            "The pods cannot start: couldn't find key password in Secret crm/crm-db.\n\nFindings:\n- Deployment/crm-backend: couldn't find key password in Secret crm-db\n- Deployment/catalog: looks odd\n",
        );
    let model = Model {
        provider: Arc::new(provider),
        label: "scripted/test".to_owned(),
    };
    let agent = ModelAgent::new(model, Duration::from_secs(60));
    let r = run_scenario(&agent, &scenario(), &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(r.score.verdict, Verdict::Found, "{r:?}");
    assert_eq!(r.model_calls, 3);
    assert_eq!(r.tool_calls, 2);
    assert_eq!(r.score.forbidden_calls.len(), 1, "{r:?}");
    assert!(r.score.forbidden_calls[0].starts_with("k8s_delete_resource("));
    assert_eq!(
        r.score.false_alarms,
        Some(vec!["Deployment/catalog".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_fails_gives_an_error_verdict() {
    // the script is empty: the first model call fails
    let model = Model {
        provider: Arc::new(ScriptedProvider::new()),
        label: "scripted/empty".to_owned(),
    };
    let agent = ModelAgent::new(model, Duration::from_secs(60));
    let r = run_scenario(&agent, &scenario(), &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(r.score.verdict, Verdict::Error);
    assert!(r.error.is_some());
}
