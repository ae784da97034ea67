//! Crash recovery, for real: a child process (this test binary, re-executed in "writer" mode)
//! writes entities from several tasks and prints every acknowledged write; the test kills it
//! with SIGKILL mid-stream, reopens the database and checks that every acknowledged write is
//! there, intact, and that nothing stored is half-written.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use broker::store::embedded::{EmbeddedConfig, EmbeddedStore};
use broker::store::{EntityQuery, Precondition, Store, Tenant, Write, WriteAction, WriteOutcome};
use ngsi_types::geojson::Geometry;
use ngsi_types::{Attribute, AttributeValue, Entity};
use serde_json::json;

/// Set in the child's environment to the database path; selects writer mode.
const CHILD_ENV: &str = "OXION_CRASH_TEST_DB";
/// Acknowledgements to wait for before killing the child.
const ACKS_BEFORE_KILL: usize = 300;
/// Longest wait for those acknowledgements, from the first one.
const KILL_DEADLINE: Duration = Duration::from_secs(5);
/// Longest wait for the child to start acknowledging (a loaded machine starts processes slowly).
const START_DEADLINE: Duration = Duration::from_secs(30);
const WRITER_TASKS: usize = 8;

/// The entity stored under `id` at `version`: about 1 KB, deterministic, so the test can tell
/// an intact entity from a damaged one.
fn expected(id: &str, version: u64) -> Entity {
    let mut e = Entity::new(id, vec!["https://example.org/Crash".into()]);
    e.put_attribute("https://example.org/version", Attribute::property(version));
    let payload: String = id.chars().cycle().take(900).collect();
    e.put_attribute("https://example.org/payload", Attribute::property(payload));
    let n = id.len() as f64 + version as f64;
    let point = json!({"type": "Point", "coordinates": [n % 180.0, n % 90.0]});
    let geometry = Geometry::from_geojson("location", &point).expect("valid point");
    e.put_attribute(
        ngsi_types::entity::LOCATION,
        Attribute::new(AttributeValue::GeoProperty(geometry)),
    );
    e
}

fn write(id: &str, version: u64) -> Write {
    let precondition = match version {
        1 => Precondition::Absent,
        v => Precondition::Version(v - 1),
    };
    Write {
        id: id.to_owned(),
        precondition,
        action: WriteAction::Put(expected(id, version)),
        history: None,
    }
}

/// Writer mode: only does something in the child process.
#[test]
fn crash_writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store =
            std::sync::Arc::new(EmbeddedStore::open(EmbeddedConfig::new(path)).expect("open"));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for task in 0..WRITER_TASKS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let tenant = Tenant::default_tenant();
                // Bounded even if the parent never kills us.
                for n in 0..10_000 {
                    if started.elapsed() > Duration::from_secs(30) {
                        return;
                    }
                    let id = format!("urn:ngsi-ld:Crash:{task}-{n}");
                    for version in 1..=2 {
                        let out = store.commit(&tenant, vec![write(&id, version)]).await;
                        assert_eq!(out.expect("commit"), [WriteOutcome::Applied { version }]);
                        let mut stdout = std::io::stdout().lock();
                        writeln!(stdout, "ACK {id} {version}").expect("stdout");
                        stdout.flush().expect("stdout");
                    }
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer task");
        }
    });
}

#[test]
fn killed_writer_loses_no_acknowledged_write() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("oxion.redb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "crash_recovery::crash_writer_child",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let (lines, acks) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if lines.send(line).is_err() {
                return;
            }
        }
    });

    let mut acknowledged: HashMap<String, u64> = HashMap::new();
    let mut record = |line: String| {
        if let Some(ack) = line.strip_prefix("ACK ") {
            let (id, version) = ack.split_once(' ').expect("ACK id version");
            let version: u64 = version.parse().expect("version");
            let known = acknowledged.entry(id.to_owned()).or_default();
            *known = (*known).max(version);
            return 1;
        }
        0
    };
    let mut deadline = Instant::now() + START_DEADLINE;
    let mut count = 0;
    while count < ACKS_BEFORE_KILL {
        let left = deadline.saturating_duration_since(Instant::now());
        match acks.recv_timeout(left) {
            Ok(line) => {
                let first = count == 0;
                count += record(line);
                if first && count > 0 {
                    deadline = Instant::now() + KILL_DEADLINE;
                }
            }
            Err(_) => break,
        }
    }
    child.kill().expect("SIGKILL the writer");
    let status = child.wait().expect("reap the writer");
    assert!(!status.success(), "the writer was killed, not finished");
    // Acknowledgements printed before the kill count too: read the pipe to its end.
    reader.join().expect("reader thread");
    for line in acks.try_iter() {
        count += record(line);
    }
    assert!(
        count > 0,
        "the writer acknowledged nothing before the deadline"
    );
    eprintln!(
        "{count} acknowledgements over {} entities before SIGKILL",
        acknowledged.len()
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = EmbeddedStore::open(EmbeddedConfig::new(&path)).expect("reopen after crash");
        let tenant = Tenant::default_tenant();
        for (id, version) in &acknowledged {
            let stored = store.get(&tenant, id).await.expect("get");
            let stored = stored.unwrap_or_else(|| panic!("acknowledged {id} is missing"));
            assert!(stored.version >= *version, "{id} lost version {version}");
            assert_eq!(
                stored.entity,
                expected(id, stored.version),
                "{id} is damaged"
            );
        }
        // Nothing stored is half-written, acknowledged or not (the last batch may have
        // committed without its acknowledgements reaching us).
        let all = EntityQuery {
            limit: usize::MAX,
            count: true,
            ..EntityQuery::default()
        };
        let page = store.query(&tenant, &all).await.expect("query");
        assert!(page.entities.len() >= acknowledged.len());
        for entity in page.entities {
            let stored = store
                .get(&tenant, &entity.id)
                .await
                .expect("get")
                .expect("listed");
            assert_eq!(entity, expected(&entity.id, stored.version));
        }
        // The rebuilt indexes agree with the data.
        let types = store.types(&tenant).await.expect("types");
        assert_eq!(Some(types[0].entity_count), page.total);
    });
}
