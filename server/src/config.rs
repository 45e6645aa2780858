//! Command-line and environment configuration (see shared/CONTRACT.md);
//! every flag has an env var so containers and scripts need no arguments.

use std::path::PathBuf;

use clap::Parser;
use clap::builder::BoolishValueParser;

#[derive(Parser, Debug, Clone)]
#[command(name = "tether-server", version, about = "Tether chat server")]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TETHER_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// SQLite database file; parent directories are created.
    #[arg(long, env = "TETHER_DB", default_value = "./data/tether.db")]
    pub db: PathBuf,
    /// Directory of the built app, served with an index.html fallback.
    #[arg(long, env = "TETHER_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,
    /// Enable the /test/* fault-injection endpoints. Never in production.
    #[arg(
        long,
        env = "TETHER_TEST_FAULTS",
        value_parser = BoolishValueParser::new(),
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub test_faults: bool,
    /// Origin allowed besides the server's own (repeatable; the env var is
    /// comma-separated). Others get 403 on /ws and state-changing endpoints.
    #[arg(long = "allowed-origin", env = "TETHER_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Shared store for several instances: `postgres://user@host:port/db`.
    /// Without it, the SQLite file `--db`.
    #[arg(long, env = "TETHER_STORE")]
    pub store: Option<String>,
    /// Fan-out between instances: `redis://host:port`. Without it, one process.
    #[arg(long, env = "TETHER_BUS")]
    pub bus: Option<String>,
    /// With `--bus`: the `http://host:port` the other instances reach this
    /// one at, to pass on requests for its fallback sessions. Default: the
    /// bound address, unless it is unspecified (0.0.0.0 or ::).
    #[arg(long, env = "TETHER_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    /// Benchmark baseline only: one transaction and fsync per post instead
    /// of group commit.
    #[arg(long, env = "TETHER_ONE_FSYNC_PER_POST", hide = true)]
    pub one_fsync_per_post: bool,
    #[command(flatten)]
    pub limits: crate::Limits,
}
