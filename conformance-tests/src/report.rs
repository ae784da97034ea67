//! What a run of `ngsi-conformance` prints and writes, from its list of results: a summary by
//! area and by clause (passed, failed, skipped), each failure in detail, and JUnit XML. Pure
//! functions of the results, so they are tested on a fixed list.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::run::{CaseResult, Outcome};

/// Counts of one row of the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
    }
}

/// The counts over every result.
pub fn totals(results: &[CaseResult]) -> Tally {
    let mut tally = Tally::default();
    for r in results {
        tally.add(&r.outcome);
    }
    tally
}

/// Rows by area, in the order areas first appear.
pub fn by_area(results: &[CaseResult]) -> Vec<(String, Tally)> {
    let mut rows: Vec<(String, Tally)> = Vec::new();
    for r in results {
        let i = match rows.iter().position(|(area, _)| area == r.case.area) {
            Some(i) => i,
            None => {
                rows.push((r.case.area.to_owned(), Tally::default()));
                rows.len() - 1
            }
        };
        rows[i].1.add(&r.outcome);
    }
    rows
}

/// Rows by clause, in clause order (4.9 before 4.10); a case counts under each of its
/// clauses, and cases outside the spec under `-`.
pub fn by_clause(results: &[CaseResult]) -> Vec<(String, Tally)> {
    let mut rows: BTreeMap<Vec<u32>, (String, Tally)> = BTreeMap::new();
    for r in results {
        let clauses: &[&str] = if r.case.clauses.is_empty() {
            &["-"]
        } else {
            r.case.clauses
        };
        for clause in clauses {
            let key = clause.split('.').map(|n| n.parse().unwrap_or(0)).collect();
            rows.entry(key)
                .or_insert_with(|| ((*clause).to_owned(), Tally::default()))
                .1
                .add(&r.outcome);
        }
    }
    rows.into_values().collect()
}

fn table(title: &str, rows: &[(String, Tally)], total: Tally) -> String {
    let width = rows
        .iter()
        .map(|(name, _)| name.len())
        .chain([title.len(), 5])
        .max()
        .unwrap_or(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{title:<width$}  {:>6}  {:>6}  {:>7}",
        "passed", "failed", "skipped"
    );
    for (name, t) in rows
        .iter()
        .map(|(n, t)| (n.as_str(), t))
        .chain([("total", &total)])
    {
        let _ = writeln!(
            out,
            "{name:<width$}  {:>6}  {:>6}  {:>7}",
            t.passed, t.failed, t.skipped
        );
    }
    out
}

/// The summary: a table by area, one by clause, and the skipped cases with their reason.
pub fn summary(results: &[CaseResult]) -> String {
    let total = totals(results);
    let mut out = table("area", &by_area(results), total);
    out.push('\n');
    out.push_str(&table("clause", &by_clause(results), total));
    let skipped: Vec<_> = results
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Skipped(reason) => Some((r.case.id(), reason)),
            _ => None,
        })
        .collect();
    if !skipped.is_empty() {
        out.push_str("\nskipped (not counted as passed):\n");
        for (id, reason) in skipped {
            let _ = writeln!(out, "  {id}: {reason}");
        }
    }
    out
}

/// Every failure: the case, its clauses, and the failure with the last exchange.
pub fn failures(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for r in results {
        if let Outcome::Failed(failure) = &r.outcome {
            let _ = writeln!(
                out,
                "---- {} (GS CIM 009 {}) ----\n{failure}",
                r.case.id(),
                clauses(r)
            );
        }
    }
    out
}

fn clauses(r: &CaseResult) -> String {
    if r.case.clauses.is_empty() {
        "-".to_owned()
    } else {
        r.case.clauses.join(", ")
    }
}

/// JUnit XML: a test suite per area, a test case per case (its clauses as a property); a
/// failure carries the assertion as its message and the whole report (request, expected,
/// actual) as its text, a skip its reason.
pub fn junit(results: &[CaseResult], name: &str) -> Result<String, String> {
    let mut report = Report::new(name);
    for (area, _) in by_area(results) {
        let mut suite = TestSuite::new(area.as_str());
        for r in results.iter().filter(|r| r.case.area == area) {
            let status = match &r.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Failed(failure) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let first = failure.message.lines().next().unwrap_or_default();
                    status
                        .set_message(first)
                        .set_description(failure.to_string());
                    status
                }
                Outcome::Skipped(reason) => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(*reason);
                    status
                }
            };
            let mut case = TestCase::new(r.case.name, status);
            case.set_classname(area.as_str())
                .set_time(r.duration)
                .add_property(Property::new("clauses", clauses(r)));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::cases::{Case, Needs};
    use crate::journal::{Answer, Exchange, Sent};
    use crate::run::Failure;

    fn case(area: &'static str, name: &'static str, clauses: &'static [&'static str]) -> Case {
        Case {
            name,
            area,
            clauses,
            needs: Needs::Nothing,
            run: || Box::pin(async {}),
        }
    }

    fn results() -> Vec<CaseResult> {
        let failure = Failure {
            message: "expected status 404, got 200 OK for GET http://b/x; body: {}".into(),
            location: Some("src/cases/attrs.rs:10:5".into()),
            last: Some(Exchange {
                request: Arc::new(Sent {
                    method: reqwest::Method::GET,
                    url: "http://b/x".into(),
                    headers: vec![("NGSILD-Tenant".into(), "t1".into())],
                    body: None,
                }),
                response: Ok(Answer {
                    status: "200 OK".into(),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: "{\"a\":\"<&>\"}".into(),
                }),
            }),
        };
        let result = |case, outcome| CaseResult {
            case,
            outcome,
            duration: Duration::from_millis(5),
        };
        vec![
            result(case("attrs", "a_passes", &["5.6.2"]), Outcome::Passed),
            result(
                case("attrs", "b_fails", &["5.6.10", "5.6.2"]),
                Outcome::Failed(failure),
            ),
            result(
                case("meta", "c_is_skipped", &[]),
                Outcome::Skipped("needs an MQTT broker"),
            ),
        ]
    }

    #[test]
    fn tallies_by_area_and_by_clause_in_clause_order() {
        let results = results();
        let areas = by_area(&results);
        assert_eq!(areas[0].0, "attrs");
        assert_eq!(
            areas[0].1,
            Tally {
                passed: 1,
                failed: 1,
                skipped: 0
            }
        );
        assert_eq!(areas[1].1.skipped, 1);
        let clauses: Vec<_> = by_clause(&results).into_iter().map(|(c, _)| c).collect();
        assert_eq!(clauses, ["-", "5.6.2", "5.6.10"]);
        let summary = summary(&results);
        assert!(summary.contains("total"), "{summary}");
        assert!(summary.contains("meta::c_is_skipped: needs an MQTT broker"));
    }

    #[test]
    fn failures_show_request_expected_and_actual() {
        let text = failures(&results());
        for part in [
            "---- attrs::b_fails (GS CIM 009 5.6.10, 5.6.2) ----",
            "failed at src/cases/attrs.rs:10:5",
            "expected status 404, got 200 OK",
            "request:  GET http://b/x",
            "NGSILD-Tenant: t1",
            "response: 200 OK",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn junit_is_well_formed_with_one_test_case_per_case() {
        let xml = junit(&results(), "ngsi-conformance").expect("serializes");
        let parsed = Report::deserialize_from_str(&xml).expect("well-formed JUnit");
        assert_eq!(parsed.tests, 3);
        assert_eq!(parsed.failures, 1);
        assert_eq!(parsed.test_suites.len(), 2);
        let failed = &parsed.test_suites[0].test_cases[1];
        assert_eq!(failed.name.as_str(), "b_fails");
        assert_eq!(failed.properties[0].value.as_str(), "5.6.10, 5.6.2");
        assert!(xml.contains("&lt;&amp;&gt;"), "bodies are escaped: {xml}");
        assert!(xml.contains("request:  GET http://b/x"), "{xml}");
    }
}
