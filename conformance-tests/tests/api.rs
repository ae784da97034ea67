//! Every case of the table as a test named `area::case`, against an `oxion` that this binary
//! starts (or `OXION_TEST_BROKER_URL`). A libtest-compatible harness (libtest-mimic), so
//! `cargo test -p conformance-tests` and `cargo nextest run -p conformance-tests` list, filter
//! and run the cases one by one, each on a runtime of its own.
//!
//! Cases that need an MQTT broker are ignored without `OXION_TEST_MQTT_URL`, unless
//! `OXION_REQUIRE_MQTT=1` makes them run (and fail, saying what is missing).

use std::time::Duration;

use conformance_tests::cases;
use conformance_tests::run::{run_case, Abilities, Outcome};
use libtest_mimic::{Arguments, Failed, Trial};

/// Far above what any case takes; a hung case fails with its last exchange instead of hanging.
const CASE_LIMIT: Duration = Duration::from_secs(300);

fn main() {
    let args = Arguments::from_args();
    let settings = conformance_tests::settings();
    let abilities = Abilities {
        spawn: true,
        mqtt: settings.mqtt_url.is_some()
            || std::env::var("OXION_REQUIRE_MQTT").as_deref() == Ok("1"),
    };
    let trials = cases::all()
        .iter()
        .map(|case| {
            let skip = abilities.skip_reason(case).is_some();
            Trial::test(case.id(), move || run(case)).with_ignored_flag(skip)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run(case: &'static cases::Case) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("no runtime: {e}")))?;
    let result = runtime.block_on(run_case(case, CASE_LIMIT));
    match result.outcome {
        Outcome::Passed => Ok(()),
        Outcome::Failed(failure) => Err(Failed::from(failure.to_string())),
        Outcome::Skipped(reason) => Err(Failed::from(format!("skipped: {reason}"))),
    }
}
