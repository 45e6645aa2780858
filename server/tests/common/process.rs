//! The real `tether-server` binary as a child process, for the tests that
//! need a real process: signals, exit codes, crashes.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; killed (SIGKILL) and reaped when dropped.
pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and reads `listening on http://HOST:PORT` from stdout.
/// `configure` adds arguments and environment; TETHER_* variables from the
/// caller's environment are removed first so they cannot leak in.
pub fn spawn(configure: impl FnOnce(&mut Command)) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether-server"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TETHER_")) {
        cmd.env_remove(k);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    configure(&mut cmd);
    let mut child = cmd.spawn().expect("spawn tether-server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).expect("no announce line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("address");
    Proc { child, addr }
}
