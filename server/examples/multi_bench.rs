//! Posts per second and fan-out latency with one instance and with two on
//! one PostgreSQL + Redis (and SQLite's single process for reference).
//! Prints figures; asserts nothing about speed.
//!
//! ```text
//! cargo build --release -p tether-server
//! cargo run --release -p tether-server --example multi_bench
//! ```
//! Posters and receivers are spread round-robin over the instances; each
//! poster keeps a window of posts in flight; a message's fan-out latency is
//! from its send to its arrival at each receiver (bodies carry the send time).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ClientMsg, ServerMsg};
use tether_testkit::postgres::Postgres;
use tether_testkit::redis::Redis;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type R<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const POSTERS: usize = 8;
const RECEIVERS: usize = 16;
const PER_POSTER: usize = 100;
const WINDOW: usize = 8;

/// The server binary built next to this example (`target/<profile>/`).
fn server_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(|d| d.parent()).expect("target dir").join("tether-server")
}

struct Server(Child, SocketAddr);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(args: &[&str]) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(server_bin())
        .args(["--addr", "127.0.0.1:0", "--static-dir", "/nonexistent", "--post-rate", "1000000"])
        .args(["--post-burst", "1000000", "--join-rate", "1000000", "--join-burst", "1000000"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run target/<profile>/tether-server: build it first (cargo build --release -p tether-server)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("announce line");
    let addr = line.trim().trim_start_matches("listening on http://").parse().expect("address");
    Server(child, addr)
}

async fn send(ws: &mut Ws, msg: &ClientMsg) -> R {
    ws.send(Message::text(serde_json::to_string(msg)?)).await?;
    Ok(())
}

async fn recv(ws: &mut Ws) -> R<ServerMsg> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str())?),
            Some(Ok(_)) => {}
            other => return Err(format!("connection ended: {other:?}").into()),
        }
    }
}

/// Connected, greeted and joined to `room`.
async fn member(addr: SocketAddr, nick: &str, room: &str) -> R<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    send(&mut ws, &ClientMsg::Hello { nick: nick.into() }).await?;
    send(&mut ws, &ClientMsg::Join { room: room.into(), since: None }).await?;
    while !matches!(recv(&mut ws).await?, ServerMsg::Joined { .. }) {}
    Ok(ws)
}

/// Posts `PER_POSTER` messages with `WINDOW` in flight (or, `paced`, one
/// every 100 ms); returns when all are acked.
async fn poster(mut ws: Ws, me: usize, room: String, start: Instant, paced: bool) -> R {
    let (mut sent, mut acked) = (0, 0);
    let window = if paced { 1 } else { WINDOW };
    while acked < PER_POSTER {
        while sent < PER_POSTER && sent - acked < window {
            if paced {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let body = start.elapsed().as_nanos().to_string();
            send(&mut ws, &ClientMsg::Post { room: room.clone(), id: format!("{room}-{me}-{sent}"), body }).await?;
            sent += 1;
        }
        match recv(&mut ws).await? {
            ServerMsg::Ack { .. } => acked += 1,
            ServerMsg::Rejected { detail, .. } => return Err(detail.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Reads until every message arrived; each one's latency in microseconds.
async fn receiver(mut ws: Ws, total: usize, start: Instant) -> R<Vec<u64>> {
    let mut lat = Vec::with_capacity(total);
    while lat.len() < total {
        if let ServerMsg::Message { message } = recv(&mut ws).await? {
            let sent: u128 = message.body.parse()?;
            lat.push(u64::try_from((start.elapsed().as_nanos() - sent) / 1000)?);
        }
    }
    Ok(lat)
}

struct Figures {
    posts_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn measure(addrs: &[SocketAddr], room: &str, paced: bool) -> R<Figures> {
    let total = POSTERS * PER_POSTER;
    let mut receivers = Vec::new();
    for i in 0..RECEIVERS {
        receivers.push(member(addrs[i % addrs.len()], &format!("r{i}"), room).await?);
    }
    let mut posters = Vec::new();
    for i in 0..POSTERS {
        posters.push(member(addrs[i % addrs.len()], &format!("p{i}"), room).await?);
    }
    let start = Instant::now();
    let reading: Vec<_> = receivers.into_iter().map(|ws| tokio::spawn(receiver(ws, total, start))).collect();
    let posting: Vec<_> = posters
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(poster(ws, i, room.to_owned(), start, paced)))
        .collect();
    for p in posting {
        p.await??;
    }
    let posting_time = start.elapsed();
    let mut lat = Vec::new();
    for r in reading {
        lat.extend(r.await??);
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    Ok(Figures { posts_per_s: total as f64 / posting_time.as_secs_f64(), p50_ms: pct(0.50), p99_ms: pct(0.99) })
}

#[tokio::main]
async fn main() -> R {
    let pg = Postgres::start()?;
    let redis = Redis::start()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db").display().to_string();
    println!(
        "{POSTERS} posters x {PER_POSTER} posts ({WINDOW} in flight each), {RECEIVERS} receivers, one room; \
         clients spread over the instances"
    );
    println!("{:<38} {:>10} {:>14} {:>14}", "set-up", "posts/s", "fan-out p50", "fan-out p99");
    let sqlite = server(&["--db", &db]);
    let one_url = pg.create_db("one")?;
    let one = server(&["--store", &one_url, "--bus", &redis.url()]);
    let two_url = pg.create_db("two")?;
    let two =
        [server(&["--store", &two_url, "--bus", &redis.url()]), server(&["--store", &two_url, "--bus", &redis.url()])];
    tokio::time::sleep(Duration::from_secs(1)).await; // the bus subscribes
    let runs: [(&str, Vec<SocketAddr>); 3] = [
        ("SQLite, one instance (reference)", vec![sqlite.1]),
        ("PostgreSQL + Redis, one instance", vec![one.1]),
        ("PostgreSQL + Redis, two instances", vec![two[0].1, two[1].1]),
    ];
    for (name, addrs) in &runs {
        let f = measure(addrs, "flat-out", false).await?;
        println!("{name:<38} {:>10.0} {:>11.1} ms {:>11.1} ms", f.posts_per_s, f.p50_ms, f.p99_ms);
    }
    println!("paced: each poster posts one message every 100 ms (80/s in all), one at a time");
    for (name, addrs) in &runs {
        let f = measure(addrs, "paced", true).await?;
        println!("{name:<38} {:>10.0} {:>11.1} ms {:>11.1} ms", f.posts_per_s, f.p50_ms, f.p99_ms);
    }
    Ok(())
}
