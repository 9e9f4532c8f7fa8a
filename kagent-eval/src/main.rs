//! `kagent-eval`: runs an agent over broken-cluster scenarios and scores it.
//!
//! ```text
//! cargo run -p kagent-eval -- run --agent analyzers
//! cargo run -p kagent-eval -- run --agent model --model-config model.yaml --suite my-scenarios/
//! cargo run -p kagent-eval -- compare before/analyzers.json after/analyzers.json
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kagent_eval::report::{Report, read_thresholds};
use kagent_eval::{
    AnalyzersAgent, EvalAgent, Judge, Model, ModelAgent, PlaybookAgent, Progress, RunOptions,
    Scenario, builtin_suite_dir, compare, load_suite, run_suite,
};

#[derive(Parser)]
#[command(
    name = "kagent-eval",
    version,
    about = "Scores how well kagent-rs agents find root causes in broken-cluster scenarios"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an agent over a suite and write JSON and Markdown reports.
    Run(RunArgs),
    /// Compare two JSON reports (before / after a change) and print Markdown.
    Compare {
        /// The report before the change.
        before: PathBuf,
        /// The report after the change.
        after: PathBuf,
        /// Also write the comparison to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the scenarios of a suite.
    List {
        /// A scenario file, a scenario folder, or a folder of them (default: the built-in suite).
        #[arg(long)]
        suite: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AgentKind {
    /// The deterministic analyzers alone (kagent_k8s::diagnose).
    Analyzers,
    /// The offline troubleshooting playbook (no model).
    Playbook,
    /// A ReAct agent on the model of --model-config.
    Model,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HeldOut {
    /// Run every scenario.
    Include,
    /// Skip the held-out set (while tuning).
    Exclude,
    /// Run only the held-out set.
    Only,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The agent under test.
    #[arg(long, value_enum, default_value = "analyzers")]
    agent: AgentKind,
    /// A scenario file, a scenario folder, or a folder of them (default: the built-in suite).
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Only scenarios whose name contains one of these.
    #[arg(long = "scenario")]
    scenarios: Vec<String>,
    /// Only scenarios of these categories.
    #[arg(long = "category")]
    categories: Vec<String>,
    /// Which part of the held-out set to run.
    #[arg(long, value_enum, default_value = "include")]
    held_out: HeldOut,
    /// A kagent ModelConfig spec (YAML/JSON) for `--agent model` (default: $KAGENT_MODEL_CONFIG).
    #[arg(long)]
    model_config: Option<PathBuf>,
    /// A ModelConfig spec for the LLM judge; without it, no judge runs.
    #[arg(long)]
    judge_config: Option<PathBuf>,
    /// Time limit of the model agent per scenario, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Folder for the reports (`<agent>.json`, `<agent>.md`).
    #[arg(long, default_value = "kagent-eval-report")]
    out: PathBuf,
    /// Fail (exit 1) when the overall score is below this agent's entry in a thresholds file.
    #[arg(long)]
    thresholds: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match real_main().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kagent-eval: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn real_main() -> Result<ExitCode> {
    match Cli::parse().command {
        Command::Run(args) => run(args).await,
        Command::Compare { before, after, out } => {
            let b = Report::read_json(&before)?;
            let a = Report::read_json(&after)?;
            let md = compare(&b, &a);
            print!("{md}");
            if let Some(out) = out {
                std::fs::write(&out, md).with_context(|| format!("writing {}", out.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List { suite } => {
            let dir = suite.unwrap_or_else(builtin_suite_dir);
            let scenarios = load_suite(&dir)?;
            println!(
                "{:<36} {:<14} {:<7} {:>4}  held-out",
                "scenario", "category", "level", "hops"
            );
            for s in &scenarios {
                println!(
                    "{:<36} {:<14} {:<7} {:>4}  {}",
                    s.name,
                    s.spec.category,
                    s.spec.difficulty,
                    s.spec.hops,
                    if s.spec.held_out { "yes" } else { "" }
                );
            }
            println!("{} scenarios in {}", scenarios.len(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn model_config_path(arg: Option<PathBuf>) -> Option<PathBuf> {
    arg.or_else(|| std::env::var_os("KAGENT_MODEL_CONFIG").map(PathBuf::from))
}

fn select(all: Vec<Scenario>, args: &RunArgs) -> Vec<Scenario> {
    all.into_iter()
        .filter(|s| match args.held_out {
            HeldOut::Include => true,
            HeldOut::Exclude => !s.spec.held_out,
            HeldOut::Only => s.spec.held_out,
        })
        .filter(|s| {
            args.scenarios.is_empty() || args.scenarios.iter().any(|n| s.name.contains(n.as_str()))
        })
        .filter(|s| {
            args.categories.is_empty() || args.categories.iter().any(|c| c == &s.spec.category)
        })
        .collect()
}

async fn run(args: RunArgs) -> Result<ExitCode> {
    let suite = args.suite.clone().unwrap_or_else(builtin_suite_dir);
    // the built-in suite is named, not its absolute path on this machine
    let suite_label = match &args.suite {
        Some(p) => p.display().to_string(),
        None => "built-in (kagent-eval/scenarios)".to_owned(),
    };
    let scenarios = select(load_suite(&suite)?, &args);
    if scenarios.is_empty() {
        bail!("no scenario in {} matches the filters", suite.display());
    }
    let agent: Box<dyn EvalAgent> = match args.agent {
        AgentKind::Analyzers => Box::new(AnalyzersAgent::default()),
        AgentKind::Playbook => Box::new(PlaybookAgent),
        AgentKind::Model => {
            let Some(path) = model_config_path(args.model_config.clone()) else {
                eprintln!(
                    "kagent-eval: --agent model needs a model: pass --model-config <ModelConfig spec file> or set KAGENT_MODEL_CONFIG \
                     (e.g. `{{provider: OpenAI, model: gpt-4.1-mini}}` with the key in OPENAI_API_KEY). Nothing was run."
                );
                return Ok(ExitCode::from(2));
            };
            let model = match Model::from_config_file(&path) {
                Ok(m) => m,
                Err(e @ kagent_eval::EvalError::ModelNotConfigured { .. }) => {
                    eprintln!("kagent-eval: {e}. Nothing was run.");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            };
            Box::new(ModelAgent::new(model, Duration::from_secs(args.timeout)))
        }
    };
    let judge = match &args.judge_config {
        Some(p) => {
            let m = Model::from_config_file(p)?;
            Some(Judge::new(m.provider, m.label))
        }
        None => None,
    };
    let options = RunOptions {
        judge,
        ..RunOptions::default()
    };

    let bar = ProgressBar::new(scenarios.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.println(format!(
        "{:<36} {:<14} {:<7} {:<7} {:>6} {:>9} {:>6} {:>8} {:>7}",
        "scenario", "category", "level", "verdict", "false", "forbidden", "calls", "tokens", "time"
    ));
    let report = run_suite(
        agent.as_ref(),
        &scenarios,
        &suite_label,
        &options,
        |p| match p {
            Progress::Started { scenario, .. } => bar.set_message(scenario.name.clone()),
            Progress::Finished { result: r, .. } => {
                bar.println(format!(
                    "{:<36} {:<14} {:<7} {:<7} {:>6} {:>9} {:>6} {:>8} {:>6.1}s{}",
                    r.scenario,
                    r.category,
                    r.difficulty.to_string(),
                    r.score.verdict.as_str(),
                    r.score
                        .false_alarms
                        .as_ref()
                        .map_or("-".to_owned(), |f| f.len().to_string()),
                    r.score.forbidden_count(),
                    r.model_calls,
                    r.input_tokens + r.output_tokens,
                    r.duration_ms as f64 / 1000.0,
                    if r.held_out { "  (held out)" } else { "" }
                ));
                bar.inc(1);
            }
            _ => {}
        },
    )
    .await?;
    bar.finish_and_clear();

    println!();
    print_summary("all", &report.overall());
    if report.held_out().scenarios > 0 && report.tuning().scenarios > 0 {
        print_summary("tuning set", &report.tuning());
        print_summary("held-out set", &report.held_out());
    }
    for (cat, s) in report.by_category() {
        print_summary(&format!("  {cat}"), &s);
    }
    if report.held_out().scenarios > 0 && report.tuning().scenarios > 0 {
        println!("held-out set per category:");
        for (cat, s) in report.by_category_of(Some(true)) {
            print_summary(&format!("  {cat}"), &s);
        }
    }
    write_reports(&report, &args.out)?;

    if let Some(path) = &args.thresholds {
        let thresholds = read_thresholds(path)?;
        let key = report
            .agent
            .split(':')
            .next()
            .unwrap_or(&report.agent)
            .to_owned();
        let Some(th) = thresholds.get(&key) else {
            bail!("{} has no threshold for agent {key}", path.display());
        };
        let failures = th.failures(&report.overall());
        if !failures.is_empty() {
            for f in failures {
                eprintln!("threshold: {f}");
            }
            return Ok(ExitCode::from(1));
        }
        println!("thresholds of {} met", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(name: &str, s: &kagent_eval::Summary) {
    println!(
        "{name:<16} {:>3} scenarios: {:>3} found ({:>3.0} %), {:>2} partly, {:>2} missed, {:>2} errors; {} false alarms ({:.1} per 10); {} forbidden; {} model calls, {} tokens",
        s.scenarios,
        s.found,
        s.found_rate * 100.0,
        s.partly,
        s.missed,
        s.errors,
        s.false_alarms,
        s.false_alarms_per_10,
        s.forbidden,
        s.model_calls,
        s.tokens
    );
}

fn write_reports(report: &Report, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let stem: String = report
        .agent
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let json = out.join(format!("{stem}.json"));
    let md = out.join(format!("{stem}.md"));
    report.write_json(&json)?;
    std::fs::write(&md, report.markdown()).with_context(|| format!("writing {}", md.display()))?;
    println!("reports: {} and {}", json.display(), md.display());
    Ok(())
}
