//! The `tether-testctl` binary; see the library for what it does.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let args = tether_testkit::Args::parse();
    match tether_testkit::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether-testctl: {e}");
            ExitCode::FAILURE
        }
    }
}
