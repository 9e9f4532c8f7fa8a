#![doc = include_str!("../README.md")]

pub mod agent;
pub mod error;
pub mod judge;
pub mod model;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod score;

pub use agent::{
    AgentAnswer, AnalyzersAgent, Claim, EvalAgent, PlaybookAgent, ScenarioEnv, ToolCallRecord,
};
pub use error::{EvalError, Result};
pub use judge::Judge;
pub use model::{Model, ModelAgent};
pub use report::{Report, ScenarioResult, Summary, Threshold, compare, read_thresholds};
pub use runner::{Progress, RunOptions, run_scenario, run_suite};
pub use scenario::{Difficulty, Scenario, ScenarioSpec, load_suite};
pub use score::{Score, Verdict, score};

/// The suite shipped with this crate (`kagent-eval/scenarios`).
pub fn builtin_suite_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The CI thresholds shipped with this crate (`kagent-eval/thresholds.yaml`).
pub fn builtin_thresholds() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("thresholds.yaml")
}
