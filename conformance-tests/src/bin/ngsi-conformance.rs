//! `ngsi-conformance`: runs the conformance cases against any NGSI-LD broker and reports by
//! clause of GS CIM 009 which pass, which fail (with the request, the expected and the actual
//! response), and which it skipped because they need what the run does not have.
//!
//! ```text
//! ngsi-conformance --broker http://localhost:1026
//! ngsi-conformance --broker http://broker:1026 --notify-host 10.0.0.5 --notify-port 9000 \
//!     --only 5.7 --only subscriptions --junit report.xml
//! ngsi-conformance --list
//! ```
//!
//! The broker calls back one listener of this tool (notifications, @context documents) at
//! `--notify-host`:`--notify-port`, which must be reachable from the broker. Everything the
//! cases create is named after a fresh run id and deleted at the end (unless `--keep`).
//! Exit status: 0 when no case failed, 1 when one did, 2 when the run could not start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use conformance_tests::cases::{self, Case};
use conformance_tests::run::{run_case, Abilities, CaseResult, Outcome};
use conformance_tests::{cleanup, report, Settings};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Checks an NGSI-LD broker against the cases of GS CIM 009 v1.8"
)]
struct Args {
    /// The broker under test, e.g. http://localhost:1026.
    #[arg(
        long,
        env = "NGSI_CONFORMANCE_BROKER",
        required_unless_present = "list"
    )]
    broker: Option<String>,
    /// The host this tool's callback listener binds to and the broker calls back.
    #[arg(
        long,
        env = "NGSI_CONFORMANCE_NOTIFY_HOST",
        default_value = "127.0.0.1"
    )]
    notify_host: String,
    /// The callback listener's port (0: a free one).
    #[arg(long, env = "NGSI_CONFORMANCE_NOTIFY_PORT", default_value_t = 0)]
    notify_port: u16,
    /// mqtt://host:port of an MQTT broker that the broker under test reaches too; without it
    /// the MQTT endpoint case is skipped.
    #[arg(long, env = "NGSI_CONFORMANCE_MQTT_URL")]
    mqtt_url: Option<String>,
    /// Starts every id, type and tenant the cases make up (letters and digits; default: a
    /// fresh one per run).
    #[arg(long, env = "NGSI_CONFORMANCE_RUN_ID")]
    run_id: Option<String>,
    /// Runs only the cases of an area (`query`), a clause prefix (`5.7`, `4.10`) or a case
    /// name; repeatable, or comma-separated.
    #[arg(long, env = "NGSI_CONFORMANCE_ONLY", value_delimiter = ',')]
    only: Vec<String>,
    /// Lists the (selected) cases with their area, clauses and needs, and runs nothing.
    #[arg(long)]
    list: bool,
    /// Writes a JUnit XML report there.
    #[arg(long, env = "NGSI_CONFORMANCE_JUNIT")]
    junit: Option<PathBuf>,
    /// How many cases run at the same time.
    #[arg(long, env = "NGSI_CONFORMANCE_CONCURRENCY", default_value_t = 8)]
    concurrency: usize,
    /// Seconds after which a case fails as hung.
    #[arg(long, env = "NGSI_CONFORMANCE_CASE_TIMEOUT", default_value_t = 120)]
    case_timeout: u64,
    /// Leaves what the cases created on the broker.
    #[arg(long, env = "NGSI_CONFORMANCE_KEEP")]
    keep: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let selected: Vec<Case> = cases::all()
        .iter()
        .filter(|case| args.only.is_empty() || args.only.iter().any(|f| case.matches(f)))
        .copied()
        .collect();
    if args.list {
        for case in &selected {
            let clauses = if case.clauses.is_empty() {
                "-".to_owned()
            } else {
                case.clauses.join(",")
            };
            let needs = match case.needs {
                cases::Needs::Nothing => String::new(),
                other => format!("  [{other:?}]"),
            };
            println!("{:<14} {:<22} {}{needs}", case.area, clauses, case.name);
        }
        return ExitCode::SUCCESS;
    }
    match check(&args, selected).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("ngsi-conformance: {error}");
            ExitCode::from(2)
        }
    }
}

/// Runs the cases and reports; `Ok(true)` when none failed.
async fn check(args: &Args, selected: Vec<Case>) -> Result<bool, String> {
    let broker = args
        .broker
        .as_deref()
        .ok_or("--broker is required")?
        .trim_end_matches('/')
        .to_owned();
    if selected.is_empty() {
        return Err(format!("no case matches {:?} (see --list)", args.only));
    }
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(conformance_tests::fresh_run_id);
    if run_id.is_empty() || !run_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("--run-id {run_id:?}: letters and digits only"));
    }
    conformance_tests::configure(Settings {
        broker_url: Some(broker.clone()),
        notify_host: args.notify_host.clone(),
        notify_port: args.notify_port,
        mqtt_url: args.mqtt_url.clone(),
        run_id: run_id.clone(),
    })?;
    let abilities = Abilities {
        spawn: false,
        mqtt: args.mqtt_url.is_some(),
    };

    let progress = ProgressBar::new(selected.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {elapsed} {msg}")
            .map_err(|e| e.to_string())?,
    );
    let results = run_all(
        selected,
        abilities,
        args.concurrency.max(1),
        Duration::from_secs(args.case_timeout),
        &progress,
    )
    .await;
    progress.finish_and_clear();

    println!("ngsi-conformance: {broker}, run id {run_id}\n");
    println!("{}", report::summary(&results));
    let failures = report::failures(&results);
    if !failures.is_empty() {
        println!("failures:\n\n{failures}");
    }
    if let Some(path) = &args.junit {
        let xml = report::junit(&results, "ngsi-conformance")?;
        std::fs::write(path, xml).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if !args.keep {
        let (tried, refused) = cleanup::clean_up(&broker).await;
        println!(
            "cleanup: deleted what the cases created ({tried} resources, {} refused)",
            refused.len()
        );
        for (created, status) in refused {
            let tenant = created.tenant.as_deref().unwrap_or("default tenant");
            let status = status.map_or("no answer".to_owned(), |s| s.to_string());
            println!("  DELETE {} ({tenant}): {status}", created.path);
        }
    }
    let total = report::totals(&results);
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    Ok(total.failed == 0)
}

/// Runs `cases`, `concurrency` at a time, and returns their results in table order.
async fn run_all(
    cases: Vec<Case>,
    abilities: Abilities,
    concurrency: usize,
    limit: Duration,
    progress: &ProgressBar,
) -> Vec<CaseResult> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut running = tokio::task::JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        let permits = permits.clone();
        running.spawn(async move {
            if let Some(reason) = abilities.skip_reason(&case) {
                let skipped = CaseResult {
                    case,
                    outcome: Outcome::Skipped(reason),
                    duration: Duration::ZERO,
                };
                return (index, skipped);
            }
            let _permit = permits.acquire_owned().await;
            (index, run_case(&case, limit).await)
        });
    }
    let mut results = Vec::new();
    let mut failed = 0;
    while let Some(done) = running.join_next().await {
        let Ok((index, result)) = done else { continue };
        if matches!(result.outcome, Outcome::Failed(_)) {
            failed += 1;
            progress.set_message(format!("{failed} failed"));
        }
        progress.inc(1);
        results.push((index, result));
    }
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}
