//! Server write path: posts per second with N concurrent posters, each in
//! its own room (so what is measured is the disk path, not the broadcast),
//! each sending its next post only once the previous one is acked (and an
//! ack means the post is on disk).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tether_protocol::ids::uuid_v7;
use tether_protocol::{ClientMsg, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{Dialect, connect, join, text};
use crate::procs::Proc;

/// How every broadcast frame (`ServerMsg::Message`) begins.
const BROADCAST: &str = r#"{"type":"message","#;

/// Acked posts per second over `secs`, with `posters` closed-loop posters.
///
/// The posters run on a runtime of their own with one thread: the generator
/// shares the two cores with the server it measures, and on the main
/// (multi-threaded) runtime it spent a quarter of its CPU waking its other
/// worker and switching between them.
pub async fn posts_per_sec(server: &Proc, posters: usize, secs: f64) -> f64 {
    let (url, pid) = (server.ws_url(), server.pid());
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("posters' runtime");
        rt.block_on(measure(url, pid, posters, secs))
    })
    .await
    .expect("posters run")
}

async fn measure(url: String, server_pid: u32, posters: usize, secs: f64) -> f64 {
    let mut conns = Vec::new();
    for p in 0..posters {
        let mut ws = connect(&url, Dialect::Tether, &format!("w{p}")).await.expect("poster connects");
        join(&mut ws, Dialect::Tether, &format!("write-{p}")).await.expect("poster joins");
        conns.push(ws);
    }
    let committer = committer_stat(server_pid);
    let cpu_before =
        (cpu_ticks(server_pid), cpu_ticks(std::process::id()), committer.as_deref().map_or(0.0, stat_ticks));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(p, mut ws)| {
            tokio::spawn(async move {
                let mut acked = 0usize;
                let room = format!("write-{p}");
                while Instant::now() < deadline {
                    // Ids as the app makes them (UUID v7: the clock, then bits
                    // that only need to be unique, here the poster and its count).
                    let mut unique = [0u8; 10];
                    unique[..2].copy_from_slice(&(p as u16).to_be_bytes());
                    unique[2..].copy_from_slice(&(acked as u64).to_be_bytes());
                    let id = uuid_v7(unix_ms(), unique);
                    let post =
                        ClientMsg::Post { room: room.clone(), id: id.clone(), body: "a small chat message".into() };
                    if ws.send(text(&post)).await.is_err() {
                        break;
                    }
                    // Skip the broadcasts of everyone's posts until our ack.
                    // The generator is the measuring tool: it shares the
                    // server's two cores, so it skips a broadcast by its
                    // first bytes instead of decoding it.
                    let ok = loop {
                        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                            Ok(Some(Ok(Message::Text(t)))) if t.starts_with(BROADCAST) => {}
                            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<ServerMsg>(&t) {
                                Ok(ServerMsg::Ack { id: got, .. }) if got == id => break true,
                                Ok(ServerMsg::Rejected { .. }) => break false,
                                _ => {}
                            },
                            Ok(Some(Ok(_))) => {}
                            _ => break false,
                        }
                    };
                    if !ok {
                        break;
                    }
                    acked += 1;
                }
                acked
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (server_cpu, own_cpu) = (cpu_ticks(server_pid) - cpu_before.0, cpu_ticks(std::process::id()) - cpu_before.1);
    let commit_cpu = committer.as_deref().map_or(0.0, stat_ticks) - cpu_before.2;
    // CPU per post (server, generator): robust to other load on the machine.
    let per_post = |ticks: f64| ticks / USER_HZ * 1e6 / total.max(1) as f64;
    eprintln!(
        "    {posters} posters: {total} posts, CPU per post: server {:.1} µs (its committer thread {:.1} µs, \
         busy {:.0}% of the time), generator {:.1} µs",
        per_post(server_cpu),
        per_post(commit_cpu),
        commit_cpu / USER_HZ / elapsed * 100.0,
        per_post(own_cpu)
    );
    total as f64 / elapsed
}

/// The `stat` file of the server's committer thread (named `tether-commit`),
/// if it has one: the group commit's serial part, whose load says whether
/// it is what limits the rate.
fn committer_stat(pid: u32) -> Option<String> {
    std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten().find_map(|t| {
        let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
        (comm.trim() == "tether-commit").then(|| t.path().join("stat").to_string_lossy().into_owned())
    })
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> f64 {
    stat_ticks(&format!("/proc/{pid}/stat"))
}

/// utime + stime from a `/proc/…/stat` file, in clock ticks.
fn stat_ticks(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    get(11) + get(12)
}

/// Milliseconds since 1970, as the app's `Date.now()`.
fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// /proc reports CPU times in USER_HZ ticks, 100 per second on Linux.
const USER_HZ: f64 = 100.0;
