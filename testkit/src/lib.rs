//! tether-testctl: a small supervisor that lets browser tests (wasm in
//! headless Chromium, which cannot touch processes) kill, restart and
//! inspect a real tether-server over HTTP.

pub mod cluster;
pub mod control;
pub mod http;
pub mod nginx;
pub mod postgres;
pub mod proxy;
pub mod redis;
pub mod supervisor;

/// Runs `cleanup` (a shell command) once this process has gone, however it
/// went. A server started for a test must not outlive it, and Drop alone
/// cannot promise that: a cluster shared through a `static` is never
/// dropped, and a killed or aborted test runs no destructor. The watchdog
/// is detached from our stdio so `cargo test` never waits on it.
pub fn cleanup_after_exit(cleanup: &str) -> std::io::Result<()> {
    let script = format!("while kill -0 {} 2>/dev/null; do sleep 1; done; {cleanup}", std::process::id());
    std::process::Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
}

/// A number unique within this process, for temporary directory names.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use tokio::io::AsyncReadExt;

#[derive(Parser, Debug, Clone)]
#[command(name = "tether-testctl", version, about = "Supervises a tether-server for browser tests")]
pub struct Args {
    /// The tether-server binary to run.
    #[arg(long)]
    pub server_bin: PathBuf,
    /// Database file for the server (kept across restarts).
    #[arg(long)]
    pub db: PathBuf,
    /// Where this control API listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub control_addr: String,
    /// Static dir for the server; by default a path that does not exist.
    #[arg(long)]
    pub static_dir: Option<PathBuf>,
    /// Do not exit when stdin reaches EOF (for runners without a stdin).
    #[arg(long)]
    pub ignore_stdin: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TestctlError {
    #[error(transparent)]
    Supervisor(#[from] supervisor::SupervisorError),
    #[error("control listener: {0}")]
    Io(#[from] std::io::Error),
}

/// Starts the server, announces `control on http://127.0.0.1:PORT`, serves
/// the control API until SIGTERM/SIGINT or stdin EOF, then kills the server.
pub async fn run(args: Args) -> Result<(), TestctlError> {
    let static_dir = args.static_dir.clone().unwrap_or_else(|| PathBuf::from("/nonexistent/tether-testctl-static"));
    let server_args = vec![
        "--db".to_owned(),
        args.db.display().to_string(),
        "--test-faults".to_owned(),
        "--static-dir".to_owned(),
        static_dir.display().to_string(),
    ];
    let mut sup = supervisor::Supervisor::new(args.server_bin.clone(), server_args).with_db(args.db.clone());
    sup.start().await?;
    let shared = Arc::new(tokio::sync::Mutex::new(sup));
    let listener = tokio::net::TcpListener::bind(&args.control_addr).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "control on http://{addr}")?;
        out.flush()?;
    }
    let app = control::router(shared.clone());
    axum::serve(listener, app).with_graceful_shutdown(stop_signal(args.ignore_stdin)).await?;
    shared.lock().await.kill().await?;
    Ok(())
}

async fn stop_signal(ignore_stdin: bool) {
    let stdin_eof = async {
        if ignore_stdin {
            return std::future::pending().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = stdin_eof => {},
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}
