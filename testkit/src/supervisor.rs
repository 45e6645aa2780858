//! Owns the tether-server child process: start it, learn its port, kill it,
//! and bring it back on the same port so clients' reconnects land on it.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::http;

/// How long a restart keeps retrying when the old port is momentarily busy.
const BIND_RETRY: Duration = Duration::from_secs(5);
/// How long to wait for the `listening on` line, and then for /healthz.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long SIGTERM may take before we fall back to SIGKILL.
const TERM_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("cannot spawn {bin}: {source}")]
    Spawn { bin: PathBuf, source: std::io::Error },
    #[error("server exited during startup ({0})")]
    ExitedEarly(ExitStatus),
    #[error("server did not start in time")]
    StartTimeout,
    #[error("server is not running")]
    NotRunning,
    #[error("waiting for the server: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Http(#[from] http::HttpError),
}

/// How the server process ended, as reported by `POST /term`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Exit {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub success: bool,
    /// True if SIGTERM was not enough and the server had to be killed.
    pub killed: bool,
}

impl Exit {
    fn from_status(status: ExitStatus, killed: bool) -> Self {
        use std::os::unix::process::ExitStatusExt;
        Self { exit_code: status.code(), signal: status.signal(), success: status.success(), killed }
    }
}

pub struct Supervisor {
    server_bin: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    /// 0 until the first start picks a port; then every start reuses it.
    port: u16,
    /// The server's database, for `wipe`.
    db: Option<PathBuf>,
}

impl Supervisor {
    /// `args` are passed to the server before `--addr`.
    pub fn new(server_bin: PathBuf, args: Vec<String>) -> Self {
        Self { server_bin, args, child: None, port: 0, db: None }
    }

    /// Remember the database file so `wipe` can delete it.
    pub fn with_db(mut self, db: PathBuf) -> Self {
        self.db = Some(db);
        self
    }

    /// Lose all history: kill the server, delete its database (and WAL
    /// files), start it again. Clients must notice via a new room epoch.
    pub async fn wipe(&mut self) -> Result<(), SupervisorError> {
        self.kill().await?;
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = db.clone().into_os_string();
                p.push(suffix);
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.start().await
    }

    /// Listen on `port` from the first start (instead of a free one), for a
    /// test that must name the server's address before starting it.
    pub fn on_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Starts the server (no-op if running) and waits until /healthz answers.
    pub async fn start(&mut self) -> Result<(), SupervisorError> {
        if self.is_running() {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + BIND_RETRY;
        loop {
            match self.spawn_once().await {
                Ok(()) => break,
                // A fixed port can be briefly busy right after a kill.
                Err(SupervisorError::ExitedEarly(_)) if self.port != 0 && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.wait_healthy().await
    }

    async fn spawn_once(&mut self) -> Result<(), SupervisorError> {
        let mut cmd = Command::new(&self.server_bin);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to
        // SIGKILL the server if testctl itself dies without cleaning up.
        #[cfg(target_os = "linux")]
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd
            .args(&self.args)
            .arg("--addr")
            .arg(format!("127.0.0.1:{}", self.port))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| SupervisorError::Spawn { bin: self.server_bin.clone(), source })?;
        let stdout = child.stdout.take().ok_or(SupervisorError::StartTimeout)?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                let port = line
                    .trim()
                    .strip_prefix("listening on http://")
                    .and_then(|a| a.rsplit_once(':'))
                    .and_then(|(_, p)| p.parse::<u16>().ok());
                if port.is_some() {
                    return Ok(port);
                }
            }
            Ok::<_, std::io::Error>(None)
        })
        .await;
        let port = match port {
            Ok(Ok(Some(port))) => port,
            Ok(Ok(None)) | Ok(Err(_)) => {
                let status = child.wait().await?;
                return Err(SupervisorError::ExitedEarly(status));
            }
            Err(_) => {
                let _ = child.kill().await;
                return Err(SupervisorError::StartTimeout);
            }
        };
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.port = port;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_healthy(&mut self) -> Result<(), SupervisorError> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok((200, _)) = http::request(self.port, "GET", "/healthz").await {
                return Ok(());
            }
            if !self.is_running() {
                return Err(SupervisorError::NotRunning);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(SupervisorError::StartTimeout);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL and reap. A server that is already gone is not an error.
    pub async fn kill(&mut self) -> Result<(), SupervisorError> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// SIGTERM, then wait for the exit (SIGKILL after a timeout).
    pub async fn term(&mut self) -> Result<Exit, SupervisorError> {
        let mut child = self.child.take().ok_or(SupervisorError::NotRunning)?;
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a pid we spawned and have not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        match tokio::time::timeout(TERM_TIMEOUT, child.wait()).await {
            Ok(status) => Ok(Exit::from_status(status?, false)),
            Err(_) => {
                child.kill().await?;
                Ok(Exit::from_status(child.wait().await?, true))
            }
        }
    }
}
