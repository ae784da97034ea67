//! The `oxion` binary: parses the configuration, sets up logging, and runs the broker.

use clap::Parser;
use tracing_subscriber::EnvFilter;

use broker::config::{Config, LogFormat};

// A broker allocates per request (JSON trees, entities); mimalloc is much faster than glibc's
// malloc under concurrent load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => subscriber.json().init(),
        LogFormat::Text => subscriber.init(),
    }
    actix_web::rt::System::new().block_on(broker::server::run(config))
}
