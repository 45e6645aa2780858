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
    /// bound address; required when that is unspecified (0.0.0.0 or ::).
    #[arg(long, env = "TETHER_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    /// Benchmark baseline only: one transaction and fsync per post instead
    /// of group commit.
    #[arg(long, env = "TETHER_ONE_FSYNC_PER_POST", hide = true)]
    pub one_fsync_per_post: bool,
    /// Milliseconds between comparisons of every live room with the store
    /// (with `--bus`); 0: only after (re)subscribing. Tests turn it off so a
    /// bus that carries nothing cannot hide behind the resync.
    #[arg(long, env = "TETHER_BUS_RESYNC_MS", default_value_t = crate::hub::DEFAULT_RESYNC_MS, hide = true)]
    pub bus_resync_ms: u64,
    #[command(flatten)]
    pub limits: crate::Limits,
}

/// Flag combinations that cannot work, refused before anything starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "--bus needs --store postgres://…: instances sharing a bus must share one store, \
         or each SQLite file would number the same room's messages on its own"
    )]
    BusWithoutSharedStore,
    #[error(
        "--bus with --addr {0} needs --advertise-url http://host:port: the other instances cannot reach an \
         unspecified address, so clients of this one's fallback sessions would lose them behind a balancer"
    )]
    BusWithoutAdvertiseUrl(String),
}

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bus.is_some() && self.store.is_none() {
            return Err(ConfigError::BusWithoutSharedStore);
        }
        let unspecified = self.addr.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_unspecified());
        if self.bus.is_some() && self.advertise_url.is_none() && unspecified {
            return Err(ConfigError::BusWithoutAdvertiseUrl(self.addr.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from([&["tether-server"], args].concat()).expect("flags parse")
    }

    #[test]
    fn a_bus_without_a_shared_store_is_refused_saying_what_is_missing() {
        let err = parse(&["--bus", "redis://127.0.0.1:6379"]).validate().unwrap_err();
        assert_eq!(err, ConfigError::BusWithoutSharedStore);
        assert!(err.to_string().contains("--store postgres://"), "{err}");
        let shared = ["--bus", "redis://127.0.0.1:6379", "--store", "postgres://u@127.0.0.1:5432/t"];
        assert_eq!(parse(&shared).validate(), Ok(()));
        assert_eq!(parse(&[]).validate(), Ok(()), "one instance on SQLite, as before");
    }

    #[test]
    fn a_bus_on_an_unspecified_address_needs_an_advertised_url() {
        let shared = ["--bus", "redis://127.0.0.1:6379", "--store", "postgres://u@127.0.0.1:5432/t"];
        for addr in ["0.0.0.0:8080", "[::]:8080"] {
            let err = parse(&[&shared[..], &["--addr", addr]].concat()).validate().unwrap_err();
            assert_eq!(err, ConfigError::BusWithoutAdvertiseUrl(addr.into()));
            assert!(err.to_string().contains("--advertise-url"), "{err}");
            let told = [&shared[..], &["--addr", addr, "--advertise-url", "http://tether-1:8080"]].concat();
            assert_eq!(parse(&told).validate(), Ok(()));
        }
        assert_eq!(parse(&[&shared[..], &["--addr", "10.0.0.5:8080"]].concat()).validate(), Ok(()));
        assert_eq!(parse(&["--addr", "0.0.0.0:8080"]).validate(), Ok(()), "one instance needs no address");
    }
}
