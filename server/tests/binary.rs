//! The real `tether-server` binary: flags, env vars, the announce line, and
//! SIGTERM handling, as scripts and operators see them.

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::process::spawn;
use common::{Client, Closed, http};
use tether_protocol::close_code;

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit within {within:?}");
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
    assert_eq!(http(server.addr, "GET", "/healthz").await, (200, "ok".into()));
    // SAFETY: plain kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    assert_eq!(client.closed().await, Closed::Code(close_code::GOING_AWAY));
    let status = tokio::task::block_in_place(|| wait_exit(&mut server.child, Duration::from_secs(5)));
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(db.exists(), "database file created with its parent directories");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_faults_are_off_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let off = spawn(|c| {
        c.args(["--addr", "127.0.0.1:0"]).env("TETHER_DB", dir.path().join("a.db"));
    });
    assert_eq!(http(off.addr, "POST", "/test/drop-all?code=1001").await.0, 404);
    assert_eq!(http(off.addr, "POST", "/test/stall-pongs?on=true").await.0, 404);

    let on = spawn(|c| {
        c.env("TETHER_ADDR", "127.0.0.1:0").env("TETHER_DB", dir.path().join("b.db")).env("TETHER_TEST_FAULTS", "true");
    });
    assert_eq!(http(on.addr, "POST", "/test/stall-pongs?on=true").await.0, 200);
    let flag = spawn(|c| {
        c.args(["--addr", "127.0.0.1:0", "--test-faults", "--db"]).arg(dir.path().join("c.db"));
    });
    let mut client = Client::hello(&format!("ws://{}/ws", flag.addr), "a").await;
    assert_eq!(http(flag.addr, "POST", "/test/drop-all?code=4001").await.0, 200);
    assert_eq!(client.closed().await, Closed::Code(4001));
}

/// Instances sharing a bus must share the store: `--bus` alone is refused
/// before anything starts, saying what is missing.
#[test]
fn a_bus_without_a_shared_store_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tether-server"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TETHER_")) {
        cmd.env_remove(k);
    }
    cmd.args(["--addr", "127.0.0.1:0", "--bus", "redis://127.0.0.1:1", "--db"]).arg(dir.path().join("t.db"));
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run tether-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tether-server started with --bus and no --store instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("its output");
    assert!(!out.status.success(), "{:?}", out.status);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(stderr.contains("--bus needs --store postgres://"), "{stderr}");
}
