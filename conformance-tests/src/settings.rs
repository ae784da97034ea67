//! What a run is pointed at, set once per process before the first case runs: the broker URL
//! (or none, to spawn `oxion`), where the callback endpoint listens, the MQTT broker, and the
//! run id that every id, type and tenant a case makes up starts with.
//!
//! The test binary takes them from the environment ([`Settings::from_env`]); `ngsi-conformance`
//! from its flags ([`configure`]). Cases read them through [`settings`], never from the
//! environment themselves, so both runners check the same thing.

use std::sync::OnceLock;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The broker under test; `None` starts an `oxion` process for the shared cases.
    pub broker_url: Option<String>,
    /// The host the callback endpoint (notifications, @context documents) binds to, and the
    /// host the broker calls back.
    pub notify_host: String,
    /// Its port; 0 picks a free one.
    pub notify_port: u16,
    /// `mqtt://host:port` of an MQTT broker for the MQTT endpoint case.
    pub mqtt_url: Option<String>,
    /// Starts every made-up id, entity type and tenant name (letters and digits only).
    pub run_id: String,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

impl Settings {
    /// `OXION_TEST_BROKER_URL`, `OXION_TEST_MQTT_URL`, `OXION_TEST_NOTIFY_HOST` (default
    /// 127.0.0.1) and `OXION_TEST_NOTIFY_PORT` (default: a free port).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            broker_url: var("OXION_TEST_BROKER_URL"),
            notify_host: var("OXION_TEST_NOTIFY_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            notify_port: var("OXION_TEST_NOTIFY_PORT")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            mqtt_url: var("OXION_TEST_MQTT_URL"),
            run_id: fresh_run_id(),
        }
    }
}

/// A run id unique enough across runs on one machine and across machines: `conf`, the process
/// id and the clock, in base 36.
pub fn fresh_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "conf{}{}",
        base36(u64::from(std::process::id())),
        base36(nanos)
    )
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Sets this process's settings; fails if they were already set or read.
pub fn configure(settings: Settings) -> Result<(), String> {
    SETTINGS
        .set(settings)
        .map_err(|_| "the settings were already fixed".to_owned())
}

/// This process's settings ([`Settings::from_env`] unless [`configure`]d first).
pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::from_env)
}
