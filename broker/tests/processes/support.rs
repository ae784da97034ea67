//! What the process tests share: free ports, killing children on every exit path, bounded
//! waits, and the MongoDB settings `scripts/services.sh` provides.

use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

/// A child process, killed when dropped (also when the test fails).
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A MongoDB test setting (`OXION_TEST_MONGO_URL`, `OXION_TEST_MONGOD`), or `None` when it is
/// absent and not required; `OXION_REQUIRE_MONGO=1` (set by `scripts/test.sh`) makes its absence
/// a failure.
pub fn mongo_setting(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            assert!(
                std::env::var("OXION_REQUIRE_MONGO").as_deref() != Ok("1"),
                "OXION_REQUIRE_MONGO=1 but {var} is not set (scripts/services.sh start mongo)"
            );
            eprintln!("skipped: no {var}");
            None
        }
    }
}

/// Polls `url` until it answers `status` (bounded).
pub async fn wait_status(http: &reqwest::Client, url: &str, status: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status().as_u16() == status {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{url} never answered {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
