//! The real `tether-server` binary: flags, env vars, the announce line, and
//! SIGTERM handling, as scripts and operators see them.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Closed, http};
use tether_protocol::close_code;

struct Proc {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and reads `listening on http://HOST:PORT` from stdout.
fn spawn(configure: impl FnOnce(&mut Command)) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether-server"));
    cmd.env_remove("TETHER_TEST_FAULTS")
        .env_remove("TETHER_ADDR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    configure(&mut cmd);
    let mut child = cmd.spawn().expect("spawn tether-server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("no announce line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("address");
    Proc { child, addr }
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_clients_with_1001_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/t.db");
    let mut server = spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--db"]).arg(&db);
    });
    let url = format!("ws://{}/ws", server.addr);
    let mut client = Client::hello(&url, "a").await;
    assert_eq!(
        http(server.addr, "GET", "/healthz").await,
        (200, "ok".into())
    );
    // SAFETY: plain kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    assert_eq!(client.closed().await, Closed::Code(close_code::GOING_AWAY));
    let status =
        tokio::task::block_in_place(|| wait_exit(&mut server.child, Duration::from_secs(5)));
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        db.exists(),
        "database file created with its parent directories"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_faults_are_off_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let off = spawn(|c| {
        c.args(["--addr", "127.0.0.1:0"])
            .env("TETHER_DB", dir.path().join("a.db"));
    });
    assert_eq!(
        http(off.addr, "POST", "/test/drop-all?code=1001").await.0,
        404
    );
    assert_eq!(
        http(off.addr, "POST", "/test/stall-pongs?on=true").await.0,
        404
    );

    let on = spawn(|c| {
        c.env("TETHER_ADDR", "127.0.0.1:0")
            .env("TETHER_DB", dir.path().join("b.db"))
            .env("TETHER_TEST_FAULTS", "true");
    });
    assert_eq!(
        http(on.addr, "POST", "/test/stall-pongs?on=true").await.0,
        200
    );
    let flag = spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--test-faults", "--db"])
            .arg(dir.path().join("c.db"));
    });
    let mut client = Client::hello(&format!("ws://{}/ws", flag.addr), "a").await;
    assert_eq!(
        http(flag.addr, "POST", "/test/drop-all?code=4001").await.0,
        200
    );
    assert_eq!(client.closed().await, Closed::Code(4001));
}
