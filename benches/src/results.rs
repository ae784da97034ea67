//! What a run measured, in the shape of `results.json`, and the plain-text table of it.
//!
//! `results.json` is the record of a run: the tool's version, when and with which command line
//! it ran, on what host, the workload, and per broker per scenario the counts, the throughput
//! and the latency percentiles in milliseconds. The chart and the table are rendered from it
//! alone, so `--from-json` redraws them without a broker.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The whole record of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub tool: String,
    pub version: String,
    /// RFC 3339, UTC.
    pub date: String,
    pub command_line: Vec<String>,
    pub host: Host,
    pub workload: WorkloadInfo,
    /// In the order they were measured.
    pub brokers: Vec<BrokerResults>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub os: String,
    pub arch: String,
    /// Cores available to the tool (the broker under test shares them when on the same host).
    pub cores: usize,
    pub cpu: Option<String>,
    pub memory_gib: Option<f64>,
    /// The 1-minute load average when the run started: other work on a shared machine shows
    /// here, and in the numbers.
    #[serde(default)]
    pub load_avg: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadInfo {
    pub run: String,
    pub entities: u64,
    pub connections: usize,
    pub duration_s: u64,
    pub max_requests: u64,
    pub batch_size: u64,
    pub subscriptions: u64,
    pub fanout: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrokerResults {
    pub label: String,
    pub url: String,
    pub tenant: Option<String>,
    /// Seconds the preload of `entities` took; `None` when skipped.
    pub preload_s: Option<f64>,
    pub scenarios: Vec<Measurement>,
}

/// One scenario against one broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub scenario: String,
    /// Requests completed (or, for `notify-delivery`, notifications received).
    pub requests: u64,
    /// Requests that failed or answered an unexpected status (`notify-delivery`: missing ones).
    pub errors: u64,
    pub duration_s: f64,
    /// `requests / duration_s`.
    pub throughput: f64,
    pub latency_ms: Latency,
    /// Anything else worth knowing to read the numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// From a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |v: u64| v as f64 / 1000.0;
        Latency {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

impl Measurement {
    pub fn new(scenario: &str, requests: u64, errors: u64, secs: f64, h: &Histogram<u64>) -> Self {
        Measurement {
            scenario: scenario.to_owned(),
            requests,
            errors,
            duration_s: secs,
            throughput: if secs > 0.0 {
                requests as f64 / secs
            } else {
                0.0
            },
            latency_ms: Latency::of(h),
            note: None,
        }
    }
}

impl Host {
    /// This machine: cores from the OS, CPU model and memory from /proc where there is one.
    pub fn this() -> Self {
        let proc = |path: &str, key: &str| -> Option<String> {
            let text = std::fs::read_to_string(path).ok()?;
            let line = text.lines().find(|l| l.starts_with(key))?;
            Some(line.split_once(':')?.1.trim().to_owned())
        };
        let memory_gib = proc("/proc/meminfo", "MemTotal")
            .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0);
        let load_avg = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next()?.parse().ok());
        Host {
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu: proc("/proc/cpuinfo", "model name"),
            memory_gib,
            load_avg,
        }
    }
}

impl Results {
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Scenario names in the order first measured, with every broker's row for each.
    pub fn scenarios(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for m in self.brokers.iter().flat_map(|b| &b.scenarios) {
            if !names.contains(&m.scenario.as_str()) {
                names.push(&m.scenario);
            }
        }
        names
    }

    /// The measurement of `scenario` against broker `b`, if it ran.
    pub fn get(&self, b: usize, scenario: &str) -> Option<&Measurement> {
        self.brokers
            .get(b)?
            .scenarios
            .iter()
            .find(|m| m.scenario == scenario)
    }

    /// The summary table: a row per scenario per broker, brokers side by side.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let lw = self
            .brokers
            .iter()
            .map(|b| b.label.len())
            .fold(6, usize::max);
        let _ = writeln!(
            out,
            "{:<16} {:<lw$} {:>10} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "scenario",
            "broker",
            "requests",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p999 ms",
            "errors"
        );
        for scenario in self.scenarios() {
            for (b, broker) in self.brokers.iter().enumerate() {
                if let Some(m) = self.get(b, scenario) {
                    let l = m.latency_ms;
                    let _ = writeln!(
                        out,
                        "{:<16} {:<lw$} {:>10} {:>11.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8}",
                        m.scenario,
                        broker.label,
                        m.requests,
                        m.throughput,
                        l.p50,
                        l.p90,
                        l.p99,
                        l.p999,
                        m.errors
                    );
                }
            }
        }
        for broker in &self.brokers {
            for m in &broker.scenarios {
                if let Some(note) = &m.note {
                    let _ = writeln!(out, "{} {}: {note}", broker.label, m.scenario);
                }
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Two brokers, three scenarios; values exact in binary so a JSON round trip keeps them.
    pub(crate) fn sample() -> Results {
        let m = |scenario: &str, throughput: f64, p50: f64| Measurement {
            scenario: scenario.to_owned(),
            requests: (throughput * 4.0) as u64,
            errors: 1,
            duration_s: 4.0,
            throughput,
            latency_ms: Latency {
                p50,
                p90: p50 * 2.0,
                p99: p50 * 4.0,
                p999: p50 * 8.0,
                max: p50 * 16.0,
            },
            note: (scenario == "notify-delivery").then(|| "expected 10, 9 delivered".to_owned()),
        };
        let broker = |label: &str, k: f64| BrokerResults {
            label: label.to_owned(),
            url: "http://127.0.0.1:1026".to_owned(),
            tenant: None,
            preload_s: Some(1.5),
            scenarios: vec![
                m("create", 1000.0 * k, 1.25),
                m("get-by-id", 8000.0 * k, 0.5),
                m("notify-delivery", 500.0 * k, 2.5),
            ],
        };
        Results {
            tool: "oxion-load".to_owned(),
            version: "0.1.0".to_owned(),
            date: "2026-11-25T08:00:00Z".to_owned(),
            command_line: vec!["oxion-load".to_owned(), "--compare".to_owned()],
            host: Host {
                os: "linux".to_owned(),
                arch: "x86_64".to_owned(),
                cores: 2,
                cpu: None,
                memory_gib: Some(24.0),
                load_avg: Some(0.5),
            },
            workload: WorkloadInfo {
                run: "r1".to_owned(),
                entities: 20_000,
                connections: 16,
                duration_s: 5,
                max_requests: 1_000_000,
                batch_size: 100,
                subscriptions: 100,
                fanout: 1,
            },
            brokers: vec![broker("oxion", 1.0), broker("orion-ld", 0.5)],
        }
    }

    #[test]
    fn results_survive_a_json_round_trip() {
        let dir = std::env::temp_dir().join(format!("oxion-load-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("results.json");
        let results = sample();
        results.write(&path).expect("written");
        assert_eq!(Results::read(&path).expect("read back"), results);
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }

    #[test]
    fn the_table_has_a_row_per_scenario_per_broker_side_by_side() {
        let table = sample().table();
        let rows: Vec<&str> = table.lines().skip(1).take(6).collect();
        assert!(rows[0].starts_with("create") && rows[0].contains("oxion"));
        assert!(rows[1].starts_with("create") && rows[1].contains("orion-ld"));
        assert!(rows[5].starts_with("notify-delivery") && rows[5].contains("orion-ld"));
        assert!(rows[0].contains(" 1000 "), "{}", rows[0]);
        assert!(table.contains("oxion notify-delivery: expected 10, 9 delivered"));
    }
}
