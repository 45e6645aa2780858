//! A real PostgreSQL 15 (Debian's package) for one test process: a fresh
//! cluster in a temporary directory on a free loopback port, trust auth,
//! stopped (immediately, like a crash) and deleted on drop.
//!
//! PostgreSQL refuses to run as root, so as root every server-side command
//! runs as the `postgres` user through `runuser`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::nginx::free_port;

const BIN: &str = "/usr/lib/postgresql/15/bin";

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("PostgreSQL 15 is not installed ({BIN}/postgres missing; Debian package `postgresql`, scripts/setup.sh)")]
    Missing,
    #[error("postgres: {0}")]
    Io(#[from] std::io::Error),
    #[error("{what} failed: {output}")]
    Command { what: String, output: String },
}

/// A running cluster with a superuser `tether`.
pub struct Postgres {
    dir: PathBuf,
    port: u16,
}

/// Whether the binaries are here (tests print what is missing otherwise).
pub fn available() -> bool {
    Path::new(BIN).join("postgres").exists()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `BIN/tool args…`, as `postgres` when we are root.
fn server_cmd(tool: &str) -> Command {
    let path = Path::new(BIN).join(tool);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn check(mut cmd: Command, what: &str) -> Result<(), PostgresError> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(());
    }
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Err(PostgresError::Command { what: what.to_owned(), output })
}

impl Postgres {
    /// initdb + start on a free port. Takes a few seconds.
    pub fn start() -> Result<Self, PostgresError> {
        if !available() {
            return Err(PostgresError::Missing);
        }
        let dir = std::env::temp_dir().join(format!("tether-pg-{}-{}", std::process::id(), crate::unique()));
        std::fs::create_dir_all(&dir)?;
        set_mode(&dir, 0o777)?;
        let mut init = server_cmd("initdb");
        init.arg("-D").arg(dir.join("data")).args(["-A", "trust", "-U", "tether", "--no-sync"]);
        check(init, "initdb")?;
        let pg = Self { dir, port: free_port()? };
        pg.start_again()?;
        let runuser = if is_root() { "runuser -u postgres -- " } else { "" };
        let d = pg.dir.display();
        crate::cleanup_after_exit(&format!(
            "{runuser}{BIN}/pg_ctl -D {d}/data -m immediate -w stop >/dev/null 2>&1; rm -rf {d}"
        ))?;
        let mut create = Command::new(Path::new(BIN).join("createdb"));
        create.args(["-h", "127.0.0.1", "-p", &pg.port.to_string(), "-U", "tether", "tether"]);
        check(create, "createdb")?;
        Ok(pg)
    }

    /// Starts the (stopped) cluster again on the same port.
    pub fn start_again(&self) -> Result<(), PostgresError> {
        let mut start = server_cmd("pg_ctl");
        let opts =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300", self.port, self.dir.display());
        start
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-o", &opts, "start"]);
        check(start, "pg_ctl start")
    }

    /// Stops at once, as a crash would (no checkpoint).
    pub fn stop(&self) -> Result<(), PostgresError> {
        let mut stop = server_cmd("pg_ctl");
        stop.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "stop"]);
        check(stop, "pg_ctl stop")
    }

    /// Stalls the cluster (SIGSTOP to the postmaster and its backends): it
    /// keeps every connection open and answers nothing, like a hung host.
    pub fn pause(&self) -> Result<(), PostgresError> {
        self.signal("-STOP")
    }

    /// Undoes [`Postgres::pause`].
    pub fn resume(&self) -> Result<(), PostgresError> {
        self.signal("-CONT")
    }

    /// Sends `sig` to this cluster's postmaster and its children, by pid.
    fn signal(&self, sig: &str) -> Result<(), PostgresError> {
        let pidfile = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))?;
        let master = pidfile.lines().next().unwrap_or_default().trim().to_owned();
        let mut pids = vec![master.clone()];
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // `pid (comm) state ppid …`: comm may hold spaces, so split after `)`.
            let ppid = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1));
            if ppid == Some(master.as_str()) {
                pids.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        let mut kill = Command::new("kill");
        kill.arg(sig).args(&pids);
        check(kill, "kill")
    }

    /// A new empty database; returns its URL.
    pub fn create_db(&self, name: &str) -> Result<String, PostgresError> {
        let mut create = Command::new(Path::new(BIN).join("createdb"));
        create.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "tether", name]);
        check(create, "createdb")?;
        Ok(self.url(name))
    }

    /// `postgres://tether@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://tether@127.0.0.1:{}/{db}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

fn set_mode(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
