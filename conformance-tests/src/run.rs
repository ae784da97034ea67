//! Running one case: on a task of its own with a journal, a panic or a timeout turned into a
//! [`Failure`] that shows the assertion, where it failed, and the last request with its
//! response. Both runners (the test binary, `ngsi-conformance`) go through [`run_case`], so
//! a failure reads the same in both.

use std::fmt;
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::cases::{Case, Needs};
use crate::journal::{self, Exchange, SharedJournal};

/// What a run can offer the cases beyond a broker URL.
#[derive(Debug, Clone, Copy)]
pub struct Abilities {
    /// It can start `oxion` processes of its own.
    pub spawn: bool,
    /// It has an MQTT broker.
    pub mqtt: bool,
}

impl Abilities {
    /// Why `case` cannot run here, if it cannot.
    pub fn skip_reason(&self, case: &Case) -> Option<&'static str> {
        let met = match case.needs {
            Needs::Nothing => true,
            Needs::SpawnedBroker => self.spawn,
            Needs::Mqtt => self.mqtt,
        };
        (!met).then(|| case.needs.reason())
    }
}

/// How a case ended.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// Not run, and why (never counted as passed).
    Skipped(&'static str),
}

/// Why a case failed, with what it last sent and got.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The assertion message (expected and actual) or the reason (timeout, a lost task).
    pub message: String,
    /// `file:line:column` of the failed assertion.
    pub location: Option<String>,
    /// The case's last request and its response.
    pub last: Option<Exchange>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => writeln!(f, "failed at {location}:")?,
            None => writeln!(f, "failed:")?,
        }
        for line in self.message.lines() {
            writeln!(f, "  {line}")?;
        }
        match &self.last {
            Some(exchange) => write!(f, "last exchange:\n{exchange}"),
            None => writeln!(f, "(no request was sent)"),
        }
    }
}

/// One case and how it ended.
#[derive(Debug)]
pub struct CaseResult {
    pub case: Case,
    pub outcome: Outcome,
    pub duration: Duration,
}

/// Routes the panics of running cases into their journals instead of stderr (once per
/// process; panics outside a case still print as usual).
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(|l| l.to_string()).unwrap_or_default();
            if !journal::record_panic(location) {
                default(info);
            }
        }));
    });
}

/// Runs `case` to its end, at most `limit`, on the current runtime.
pub async fn run_case(case: &Case, limit: Duration) -> CaseResult {
    install_panic_hook();
    let started = Instant::now();
    let journal = SharedJournal::default();
    let mut task = tokio::spawn(journal::keep(journal.clone(), (case.run)()));
    let ended = tokio::time::timeout(limit, &mut task).await;
    let message = match ended {
        Ok(Ok(())) => None,
        Ok(Err(error)) if error.is_panic() => Some(panic_message(error.into_panic())),
        Ok(Err(error)) => Some(format!("the case's task was lost: {error}")),
        Err(_) => {
            task.abort();
            Some(format!("did not finish within {limit:?}"))
        }
    };
    let outcome = match message {
        None => Outcome::Passed,
        Some(message) => {
            let journal = journal.lock().unwrap_or_else(|e| e.into_inner());
            Outcome::Failed(Failure {
                message,
                location: journal.panic_location.clone(),
                last: journal.last.clone(),
            })
        }
    };
    CaseResult {
        case: *case,
        outcome,
        duration: started.elapsed(),
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "panicked (no message)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(run: fn() -> crate::cases::CaseFuture) -> Case {
        Case {
            name: "a_case",
            area: "runner",
            clauses: &[],
            needs: Needs::Nothing,
            run,
        }
    }

    #[tokio::test]
    async fn a_panic_is_a_failure_with_its_message_and_location() {
        let result = run_case(
            &case(|| Box::pin(async { assert_eq!(1 + 1, 3, "arithmetic") })),
            Duration::from_secs(5),
        )
        .await;
        let Outcome::Failed(failure) = result.outcome else {
            panic!("{:?}", result.outcome)
        };
        assert!(failure.message.contains("arithmetic"), "{failure}");
        assert!(failure.message.contains("left: 2"), "{failure}");
        assert!(
            failure
                .location
                .as_deref()
                .is_some_and(|l| l.contains("run.rs")),
            "{failure}"
        );
        assert!(failure.to_string().contains("(no request was sent)"));
    }

    #[tokio::test]
    async fn a_hung_case_fails_at_the_limit_and_a_finished_one_passes() {
        let hung = run_case(
            &case(|| Box::pin(std::future::pending())),
            Duration::from_millis(50),
        )
        .await;
        assert!(
            matches!(&hung.outcome, Outcome::Failed(f) if f.message.contains("did not finish")),
            "{:?}",
            hung.outcome
        );
        let passed = run_case(&case(|| Box::pin(async {})), Duration::from_secs(5)).await;
        assert!(matches!(passed.outcome, Outcome::Passed));
    }

    #[test]
    fn skips_are_decided_by_what_the_run_has() {
        let mut mqtt = case(|| Box::pin(async {}));
        mqtt.needs = Needs::Mqtt;
        let none = Abilities {
            spawn: false,
            mqtt: false,
        };
        assert_eq!(none.skip_reason(&mqtt), Some(Needs::Mqtt.reason()));
        assert_eq!(none.skip_reason(&case(|| Box::pin(async {}))), None);
        let all = Abilities {
            spawn: true,
            mqtt: true,
        };
        assert_eq!(all.skip_reason(&mqtt), None);
    }
}
