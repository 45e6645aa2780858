//! The processes a run measures: the real `tether-server` binary and the
//! Node `ws` peer, each announcing `listening on http://ADDR` on stdout;
//! their resident memory from /proc; the fd limit raised for 10,000 sockets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Resident set size in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn announced(mut cmd: Command, what: &str) -> Proc {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(Duration::from_secs(15), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{what} did not announce its address"))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{what} exited before announcing its address"));
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{what}: unexpected first line {line:?}"));
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Proc { child, addr }
}

/// How to start `tether-server` for a measurement.
#[derive(Clone)]
pub struct TetherCmd {
    pub bin: PathBuf,
    pub work: PathBuf,
}

impl TetherCmd {
    /// A server on a fresh database named `name`, limits opened up for load
    /// (the rate limits and per-IP caps are not what is measured), plus `extra`.
    pub async fn start(&self, name: &str, addr: &str, extra: &[&str]) -> Proc {
        let db = self.work.join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        self.start_on(&db, addr, extra).await
    }

    pub async fn start_on(&self, db: &Path, addr: &str, extra: &[&str]) -> Proc {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--addr", addr, "--db"]).arg(db);
        cmd.args(["--post-rate", "1000000", "--post-burst", "1000000", "--join-rate", "1000000"]);
        cmd.args(["--join-burst", "1000000", "--conns-per-ip", "100000", "--max-conns", "100000"]);
        cmd.args(["--outbox-bytes", "67108864"]);
        cmd.args(extra);
        cmd.env("RUST_LOG", "warn");
        announced(cmd, "tether-server").await
    }
}

/// The Node `ws` broadcast server (bench/node/broadcast.js).
pub async fn start_node(script: &Path, ws_modules: &Path) -> Proc {
    let mut cmd = Command::new("node");
    cmd.arg(script).arg("0").env("WS_MODULE_DIR", ws_modules);
    announced(cmd, "node ws server").await
}
