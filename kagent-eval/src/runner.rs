//! Running an agent over scenarios: each scenario gets a fresh in-process fake API server
//! loaded with its objects (timestamps moved so that `spec.now` is the moment of loading).

use std::time::Instant;

use kagent_fake_apiserver::FakeCluster;

use crate::agent::{AgentAnswer, EvalAgent, ScenarioEnv};
use crate::error::{EvalError, Result};
use crate::judge::Judge;
use crate::report::{JudgeInfo, REPORT_SCHEMA, Report, ScenarioResult};
use crate::scenario::Scenario;
use crate::score::{Score, Verdict, score};

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Grade every answer with this judge too.
    pub judge: Option<Judge>,
    /// Characters of each answer kept in the report.
    pub answer_chars: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            judge: None,
            answer_chars: 4000,
        }
    }
}

/// What the runner reports while it works.
#[derive(Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A scenario starts (`index` from 0).
    Started {
        /// Position in the run.
        index: usize,
        /// Scenarios in the run.
        total: usize,
        /// The scenario.
        scenario: &'a Scenario,
    },
    /// A scenario is done.
    Finished {
        /// Position in the run.
        index: usize,
        /// Scenarios in the run.
        total: usize,
        /// Its result.
        result: &'a ScenarioResult,
    },
}

/// Starts a fake API server and loads the scenario's objects into it.
pub async fn start_cluster(scenario: &Scenario) -> Result<FakeCluster> {
    let yaml = scenario.cluster_yaml();
    let now = scenario.spec.now.clone();
    let name = scenario.name.clone();
    let err = {
        let name = name.clone();
        move |source| EvalError::Cluster {
            scenario: name,
            source,
        }
    };
    tokio::task::spawn_blocking(move || {
        let cluster = FakeCluster::start().map_err(err.clone())?;
        match &now {
            Some(n) => cluster.load_yaml_relative(&yaml, n),
            None => cluster.load_yaml(&yaml),
        }
        .map_err(err)?;
        Ok(cluster)
    })
    .await
    .map_err(|e| EvalError::Agent {
        agent: "runner".to_owned(),
        message: format!("loading scenario {name}: {e}"),
    })?
}

/// Stops a fake API server without blocking the async runtime.
pub async fn stop_cluster(cluster: FakeCluster) {
    let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
}

/// Runs `agent` on one scenario and scores it. Failures of the agent become a result with
/// verdict `error`; a scenario the fake API server refuses is an error of the run.
pub async fn run_scenario(
    agent: &dyn EvalAgent,
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<ScenarioResult> {
    let cluster = start_cluster(scenario).await?;
    let client = cluster.client().map_err(|source| EvalError::Cluster {
        scenario: scenario.name.clone(),
        source,
    })?;
    let env = ScenarioEnv { scenario, client };
    let started = Instant::now();
    let outcome = agent.answer(&env).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    stop_cluster(cluster).await;
    let spec = &scenario.spec;
    let mut result = ScenarioResult {
        scenario: scenario.name.clone(),
        category: spec.category.clone(),
        difficulty: spec.difficulty,
        hops: spec.hops,
        held_out: spec.held_out,
        score: Score {
            verdict: Verdict::Error,
            why: String::new(),
            false_alarms: None,
            forbidden_calls: Vec::new(),
            wrong_causes: Vec::new(),
        },
        model_calls: 0,
        input_tokens: 0,
        output_tokens: 0,
        tool_calls: 0,
        duration_ms,
        error: None,
        answer: String::new(),
        judge: None,
    };
    match outcome {
        Ok(answer) => {
            result.score = score(scenario, &answer);
            fill_costs(&mut result, &answer, options.answer_chars);
            if let Some(judge) = &options.judge {
                match judge.grade(scenario, &answer).await {
                    Ok(g) => result.judge = Some(g),
                    Err(e) => result.error = Some(format!("judge: {e}")),
                }
            }
        }
        Err(e) => {
            result.score.why = "no answer".to_owned();
            result.error = Some(e.to_string());
        }
    }
    Ok(result)
}

fn fill_costs(result: &mut ScenarioResult, answer: &AgentAnswer, keep: usize) {
    result.model_calls = answer.model_calls;
    result.input_tokens = answer.input_tokens;
    result.output_tokens = answer.output_tokens;
    result.tool_calls = u32::try_from(answer.tool_calls.len()).unwrap_or(u32::MAX);
    result.answer = if answer.text.chars().count() > keep {
        let cut: String = answer.text.chars().take(keep).collect();
        format!("{cut}\n[... cut at {keep} characters]")
    } else {
        answer.text.clone()
    };
}

/// Runs `agent` on every scenario, in order, and builds the report.
pub async fn run_suite(
    agent: &dyn EvalAgent,
    scenarios: &[Scenario],
    suite: &str,
    options: &RunOptions,
    mut on_progress: impl FnMut(Progress<'_>),
) -> Result<Report> {
    let started_at = jiff::Timestamp::now().to_string();
    let total = scenarios.len();
    let mut results = Vec::with_capacity(total);
    for (index, scenario) in scenarios.iter().enumerate() {
        on_progress(Progress::Started {
            index,
            total,
            scenario,
        });
        let result = run_scenario(agent, scenario, options).await?;
        on_progress(Progress::Finished {
            index,
            total,
            result: &result,
        });
        results.push(result);
    }
    Ok(Report {
        schema: REPORT_SCHEMA.to_owned(),
        agent: agent.name(),
        suite: suite.to_owned(),
        started_at,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        judge: options.judge.as_ref().map(|j| JudgeInfo {
            model: j.label().to_owned(),
            rubric: crate::judge::RUBRIC.to_owned(),
        }),
        results,
    })
}
