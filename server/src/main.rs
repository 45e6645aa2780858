//! The `tether-server` binary: parse flags, bind, announce the address,
//! serve until Ctrl-C or SIGTERM. All behaviour lives in the library
//! (so tests can run exactly this code in a child process).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tether_server::{Config, run, shutdown_signal};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let config = Config::parse();
    match run(config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
