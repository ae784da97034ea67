//! Starting the broker under test: a real `oxion` process, or an external URL.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The broker a test run talks to.
#[derive(Debug)]
pub enum Target {
    /// A process this run started (stopped when dropped).
    Spawned(BrokerProcess),
    /// A broker someone else runs (`OXION_TEST_BROKER_URL`).
    External(String),
}

impl Target {
    /// The broker shared by every case of this test binary.
    pub fn shared() -> &'static Target {
        static SHARED: OnceLock<Target> = OnceLock::new();
        SHARED.get_or_init(|| match &crate::settings().broker_url {
            Some(url) => Target::External(url.trim_end_matches('/').to_owned()),
            None => Target::Spawned(
                BrokerProcess::start(&[]).unwrap_or_else(|e| panic!("starting oxion: {e}")),
            ),
        })
    }

    /// Whether this run started the broker (so it is an `oxion` of this workspace).
    pub fn is_spawned(&self) -> bool {
        matches!(self, Target::Spawned(_))
    }

    pub fn base_url(&self) -> &str {
        match self {
            Target::Spawned(p) => &p.base_url,
            Target::External(url) => url,
        }
    }
}

/// A running `oxion` process with its own data directory.
#[derive(Debug)]
pub struct BrokerProcess {
    child: Child,
    /// Kills `child` when this test process ends without dropping us (the shared broker lives
    /// in a static, and statics are never dropped): it waits for EOF on its stdin, our pipe.
    watchdog: Option<Child>,
    pub base_url: String,
    pub port: u16,
    data_dir: tempfile::TempDir,
    /// The caller's flags, and the store's (the same for every start, so a restart finds
    /// the data).
    extra_args: Vec<String>,
}

impl BrokerProcess {
    /// Starts `oxion` on a free loopback port with a fresh data directory and waits until it
    /// answers `/health` (at most 20 s).
    ///
    /// With `OXION_TEST_STORE=mongodb` the broker keeps its data in MongoDB at
    /// `OXION_TEST_MONGO_URL`, in databases under a prefix of this process alone, chosen here
    /// once so that [`restart`](Self::restart) finds the same data.
    pub fn start(extra_args: &[&str]) -> Result<Self, String> {
        let data_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        extra_args.extend(store_args()?);
        let (child, port) = spawn(data_dir.path(), None, &extra_args)?;
        let watchdog = watchdog(child.id());
        let mut process = Self {
            child,
            watchdog,
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            data_dir,
            extra_args,
        };
        process.wait_ready()?;
        Ok(process)
    }

    /// Kills the process with SIGKILL (no chance to flush anything) and waits for it to die.
    /// The process id of the running broker.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }

    /// Starts the broker again on the same data directory and port.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill_hard();
        let (child, _) = spawn(self.data_dir.path(), Some(self.port), &self.extra_args)?;
        self.watchdog = watchdog(child.id());
        self.child = child;
        self.wait_ready()
    }

    /// Waits for `/health`; a process that exits first fails at once, with its log.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = format!("127.0.0.1:{}", self.port);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.data_dir.path().join("oxion.log"))
                    .unwrap_or_default();
                return Err(format!(
                    "oxion exited with {status} before answering: {log}"
                ));
            }
            let tls = self.extra_args.iter().any(|a| a == "--tls-cert");
            if let (true, Ok(_)) = (tls, std::net::TcpStream::connect(&addr)) {
                // Serving TLS: listening is ready (the port is bound after the store opened);
                // the case speaks HTTPS with its own certificate.
                return Ok(());
            }
            if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let req =
                    format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
                let mut reply = String::new();
                if stream.write_all(req.as_bytes()).is_ok()
                    && stream.read_to_string(&mut reply).is_ok()
                    && reply.starts_with("HTTP/1.1 200")
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "oxion did not become healthy on {addr} within 20 s"
        ))
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// True when the brokers this run starts keep their data in MongoDB (`OXION_TEST_STORE`).
pub fn spawns_on_mongodb() -> bool {
    std::env::var("OXION_TEST_STORE").as_deref() == Ok("mongodb")
}

/// The `--store` flags of every start: none for the embedded store (the default), or MongoDB
/// with a database prefix of its own.
fn store_args() -> Result<Vec<String>, String> {
    match std::env::var("OXION_TEST_STORE").as_deref() {
        Err(_) | Ok("") | Ok("embedded") => Ok(Vec::new()),
        Ok("mongodb") => {
            let url = std::env::var("OXION_TEST_MONGO_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .ok_or(
                    "OXION_TEST_STORE=mongodb needs OXION_TEST_MONGO_URL (scripts/services.sh env)",
                )?;
            Ok(vec![
                "--store".into(),
                "mongodb".into(),
                "--mongo-url".into(),
                url,
                "--mongo-db-prefix".into(),
                mongo_db_prefix(),
            ])
        }
        Ok(other) => Err(format!(
            "OXION_TEST_STORE={other}: expected `embedded` or `mongodb`"
        )),
    }
}

/// `oxt{pid}n{counter}`: apart from every other broker process, of this run or another.
fn mongo_db_prefix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("oxt{}n{n}", std::process::id())
}

/// The `oxion` binary of this workspace build (`OXION_BIN` overrides).
fn oxion_binary() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("OXION_BIN") {
        if !path.is_empty() {
            return Ok(PathBuf::from(path));
        }
    }
    // Test executables live in <target>/<profile>/deps; binaries one level up.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or("cannot locate the target directory")?;
    let candidate = profile_dir.join("oxion");
    if candidate.exists() {
        Ok(candidate)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build -p broker` (cargo test --workspace does), or set OXION_BIN",
            candidate.display()
        ))
    }
}

/// A `sh` that SIGKILLs `pid` once its stdin (a pipe held by this process) reaches EOF, which
/// happens when this process exits, however it exits.
fn watchdog(pid: u32) -> Option<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(format!("cat >/dev/null; kill -9 {pid} 2>/dev/null"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    free_port().unwrap_or(9)
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn spawn(
    data_dir: &std::path::Path,
    port: Option<u16>,
    extra_args: &[String],
) -> Result<(Child, u16), String> {
    let port = match port {
        Some(p) => p,
        None => free_port()?,
    };
    let log = std::fs::File::create(data_dir.join("oxion.log")).map_err(|e| e.to_string())?;
    let child = Command::new(oxion_binary()?)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--log",
            "warn",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra_args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("spawning oxion: {e}"))?;
    Ok((child, port))
}
