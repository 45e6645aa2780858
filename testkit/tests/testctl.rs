//! End-to-end test of tether-testctl against a real server process.
//!
//! `CARGO_BIN_EXE_` only exists for a crate's own binaries, and a clean
//! `cargo test -p tether-testkit` does not build tether-server's binary. So
//! this test binary doubles as the server: run with TETHER_TESTKIT_AS_SERVER
//! set, it executes `tether_server::run` (the same code as the real
//! binary's main) and nothing else. Hence `harness = false`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ClientMsg, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const AS_SERVER: &str = "TETHER_TESTKIT_AS_SERVER";
const WAIT: Duration = Duration::from_secs(10);

fn main() {
    if std::env::var_os(AS_SERVER).is_some() {
        let config = <tether_server::Config as clap::Parser>::parse();
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let result = rt.block_on(tether_server::run(config, tether_server::shutdown_signal()));
        std::process::exit(if result.is_ok() { 0 } else { 1 });
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(testctl_drives_the_server());
    println!("test testctl_drives_the_server ... ok");
    println!("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n");
}

struct Ctl {
    child: Child,
}

impl Drop for Ctl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raw HTTP so the test can send custom headers and see response headers.
async fn raw(port: u16, method: &str, path: &str, extra: &str) -> (u16, String, String) {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let req =
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n{extra}\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf).into_owned())
    };
    let text = tokio::time::timeout(WAIT, fut).await.expect("http timeout").expect("http");
    let (head, body) = text.split_once("\r\n\r\n").expect("response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

async fn call(port: u16, method: &str, path: &str) -> (u16, String) {
    let (status, head, body) = raw(port, method, path, "Origin: http://other.example\r\n").await;
    assert!(head.contains("access-control-allow-origin: *"), "{method} {path}: no CORS header\n{head}");
    (status, body)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn client(url: &str) -> Ws {
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect timeout")
        .expect("connect");
    send(&mut ws, &ClientMsg::Hello { nick: "t".into() }).await;
    assert!(matches!(recv(&mut ws).await, ServerMsg::Welcome { .. }));
    assert!(matches!(recv(&mut ws).await, ServerMsg::Rooms { .. }));
    ws
}

async fn send(ws: &mut Ws, msg: &ClientMsg) {
    let text = serde_json::to_string(msg).expect("json");
    tokio::time::timeout(WAIT, ws.send(Message::text(text))).await.expect("send timeout").expect("send");
}

async fn recv(ws: &mut Ws) -> ServerMsg {
    match tokio::time::timeout(WAIT, ws.next()).await.expect("recv timeout") {
        Some(Ok(Message::Text(t))) => serde_json::from_str(&t).expect("server json"),
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// The close code the client saw, or None for an abrupt end (1006).
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("close timeout") {
            Some(Ok(Message::Close(f))) => return f.map(|f| f.code.into()),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// The HTTP status a WebSocket upgrade was refused with (None: accepted).
async fn upgrade_status(url: &str) -> Option<u16> {
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await.expect("connect timeout") {
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Some(resp.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

async fn testctl_drives_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether-testctl"))
        .arg("--server-bin")
        .arg(std::env::current_exe().expect("current_exe"))
        .arg("--db")
        .arg(dir.path().join("ctl.db"))
        .env(AS_SERVER, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn testctl");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
    let port: u16 = line
        .trim()
        .strip_prefix("control on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    let mut ctl = Ctl { child };

    let (status, info) = call(port, "GET", "/info").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&info).expect("info json");
    let ws_url = info["ws"].as_str().expect("ws").to_owned();
    let server_port: u16 =
        ws_url.rsplit(':').next().and_then(|p| p.trim_end_matches("/ws").parse().ok()).expect("port");
    assert_eq!(info["http"], format!("http://127.0.0.1:{server_port}"));

    // CORS preflight for a POST from another origin.
    let pre = "Origin: http://other.example\r\nAccess-Control-Request-Method: POST\r\n";
    let (status, head, _) = raw(port, "OPTIONS", "/kill", pre).await;
    assert!(status < 300, "preflight status {status}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(head.contains("access-control-allow-methods"), "{head}");

    // connections, metrics, drop-all
    let mut a = client(&ws_url).await;
    assert_eq!(call(port, "GET", "/connections").await, (200, "1".into()));
    assert!(call(port, "GET", "/metrics").await.1.contains("tether_messages_stored_total"));
    assert_eq!(call(port, "POST", "/drop-all?code=4000").await.0, 200);
    assert_eq!(close_code(&mut a).await, Some(4000));

    // stall-pongs
    let mut b = client(&ws_url).await;
    assert_eq!(call(port, "POST", "/stall-pongs?on=true").await.0, 200);
    send(&mut b, &ClientMsg::Ping { nonce: 1 }).await;
    assert!(tokio::time::timeout(Duration::from_millis(300), b.next()).await.is_err(), "pong while stalled");
    assert_eq!(call(port, "POST", "/stall-pongs?on=false").await.0, 200);
    send(&mut b, &ClientMsg::Ping { nonce: 2 }).await;
    assert_eq!(recv(&mut b).await, ServerMsg::Pong { nonce: 2 });

    // Transport faults and a broken proxy, for the fallback's browser tests.
    assert_eq!(call(port, "POST", "/refuse-upgrade?on=true").await.0, 200);
    assert_eq!(upgrade_status(&ws_url).await, Some(400));
    assert_eq!(call(port, "POST", "/refuse-upgrade?on=false").await.0, 200);
    assert_eq!(call(port, "POST", "/hold-sse?on=false").await.0, 200);
    assert_eq!(call(port, "POST", "/blackhole-upgrade?on=false").await.0, 200);
    assert_eq!(call(port, "POST", "/nginx/start?mode=sideways").await.0, 400);
    let (status, body) = call(port, "POST", "/nginx/start?mode=no-upgrade").await;
    assert_eq!(status, 200, "{body}");
    let proxy: serde_json::Value = serde_json::from_str(&body).expect("nginx json");
    let proxy_port: u16 = proxy["http"].as_str().and_then(|u| u.rsplit(':').next()?.parse().ok()).expect("port");
    assert_eq!(proxy["ws"], format!("ws://127.0.0.1:{proxy_port}/ws"));
    assert_eq!(raw(proxy_port, "POST", "/ws/session", "").await.0, 201, "the fallback passes");
    assert!(upgrade_status(proxy["ws"].as_str().unwrap()).await.is_some_and(|s| s >= 400), "upgrades do not");
    assert_eq!(call(port, "POST", "/nginx/stop").await, (200, r#"{"stopped":true}"#.into()));
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", proxy_port)).await.is_err(), "nginx still up");

    // A stored message survives kill + start on the same port.
    send(&mut b, &ClientMsg::Join { room: "r".into(), since: None }).await;
    assert!(matches!(recv(&mut b).await, ServerMsg::RoomAdded { .. }));
    assert!(matches!(recv(&mut b).await, ServerMsg::Joined { .. }));
    assert!(matches!(recv(&mut b).await, ServerMsg::Presence { .. }));
    send(&mut b, &ClientMsg::Post { room: "r".into(), id: "m1".into(), body: "kept".into() }).await;
    assert!(matches!(recv(&mut b).await, ServerMsg::Ack { seq: 1, .. }));
    assert_eq!(call(port, "POST", "/kill").await.0, 200);
    assert_eq!(close_code(&mut b).await, None, "a killed server sends no close frame");
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", server_port)).await.is_err(), "server still up");
    assert_eq!(call(port, "POST", "/start").await.0, 200);
    let mut c = client(&ws_url).await;
    send(&mut c, &ClientMsg::Join { room: "r".into(), since: None }).await;
    match recv(&mut c).await {
        ServerMsg::Joined { history, .. } => assert_eq!(history.len(), 1, "history lost"),
        other => panic!("expected joined, got {other:?}"),
    }

    // restart: abrupt end for clients, then the same port again.
    assert_eq!(call(port, "POST", "/restart").await.0, 200);
    assert_eq!(close_code(&mut c).await, None);
    let mut d = client(&ws_url).await;
    assert_eq!(call(port, "POST", "/abort-all").await.0, 200);
    assert_eq!(close_code(&mut d).await, None);

    // term: a clean 1001 and exit status 0.
    let mut e = client(&ws_url).await;
    let (status, body) = call(port, "POST", "/term").await;
    assert_eq!(status, 200, "{body}");
    let exit: serde_json::Value = serde_json::from_str(&body).expect("term json");
    assert_eq!((exit["exit_code"].as_i64(), exit["success"].as_bool()), (Some(0), Some(true)), "{body}");
    assert_eq!(close_code(&mut e).await, Some(1001));
    assert_eq!(call(port, "POST", "/term").await.0, 409);
    assert_eq!(call(port, "GET", "/connections").await.0, 502);

    // stdin EOF: testctl exits and takes the server with it.
    assert_eq!(call(port, "POST", "/start").await.0, 200);
    drop(ctl.child.stdin.take());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = ctl.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "testctl did not exit on stdin EOF");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", server_port)).await.is_err(), "server outlived testctl");
    let _ = std::io::stdout().flush();
}
