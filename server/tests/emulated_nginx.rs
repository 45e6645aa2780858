//! Through a real nginx configured the way broken deployments are (plain
//! `proxy_pass`: no `Upgrade`/`Connection` forwarded, HTTP/1.0 upstream,
//! default buffering): WebSockets cannot pass, the emulated connection can.
//! SSE gets through at once only because it says `X-Accel-Buffering: no`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::emu::{Emu, Sse, start_session};
use common::frames::{join, post};
use common::{Client, TestServer};
use tether_protocol::{ClientMsg, ServerMsg};
use tether_testkit::nginx::Nginx;
use tether_testkit::proxy::{ProxyMode, config};

/// True (after saying why) when nginx is missing and this machine has no
/// apt-get to install it; on any machine with apt-get these tests must run.
fn skip() -> bool {
    if tether_testkit::nginx::available() {
        return false;
    }
    assert!(!std::path::Path::new("/usr/bin/apt-get").exists(), "nginx missing: run scripts/setup.sh (it installs it)");
    eprintln!("SKIPPED: nginx is not installed and this machine has no apt-get to install it");
    true
}

fn proxy(server: &TestServer, mode: ProxyMode) -> (Nginx, SocketAddr) {
    let nginx = Nginx::start(&config(mode, server.addr.port())).expect("nginx (scripts/setup.sh installs it)");
    let addr = SocketAddr::from(([127, 0, 0, 1], nginx.port()));
    (nginx, addr)
}

#[tokio::test]
async fn through_a_proxy_that_strips_upgrade_websocket_fails_and_sse_poll_and_post_work() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let (_nginx, via) = proxy(&server, ProxyMode::NoUpgrade);
    let status = Client::try_connect(&format!("ws://{via}/ws")).await.err();
    assert!(status.is_some_and(|s| s >= 400), "the upgrade cannot pass: {status:?}");

    // SSE: the first frame arrives at once, not when a buffer fills.
    let token = start_session(via).await;
    let mut sse = Sse::open(via, &format!("/ws/sse?session={token}"), &[]).await;
    assert_eq!(sse.status, 200);
    let mut up = Emu::of(via, &token);
    up.send(&ClientMsg::Hello { nick: "al".into() }).await;
    let first = sse.next_event(Duration::from_secs(3)).await.expect("the welcome, promptly");
    assert!(matches!(serde_json::from_str(&first.data).unwrap(), ServerMsg::Welcome { .. }), "{first:?}");

    // Long-poll + POST, chatting with a direct WebSocket client.
    let mut p = Emu::longpoll(via).await.greet("poller").await;
    p.send(&join("lobby", None)).await;
    let mut w = Client::hello(&server.ws_url(), "ws").await;
    w.send(&join("lobby", None)).await;
    loop {
        if let ServerMsg::Joined { .. } = p.recv().await {
            break;
        }
    }
    loop {
        if let ServerMsg::Joined { .. } = w.recv().await {
            break;
        }
    }
    w.send(&post("lobby", "w1", "through nginx")).await;
    loop {
        if let ServerMsg::Message { message } = p.recv().await {
            assert_eq!(message.body, "through nginx");
            break;
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_that_buffers_everything_holds_sse_back_but_long_poll_works() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let (_nginx, via) = proxy(&server, ProxyMode::Buffered);
    let token = start_session(via).await;
    let path = format!("/ws/sse?session={token}");
    let stream = tokio::spawn(async move {
        let mut sse = Sse::open(via, &path, &[]).await;
        sse.next_event(Duration::from_secs(5)).await
    });
    Emu::of(via, &token).send(&ClientMsg::Hello { nick: "al".into() }).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!stream.is_finished(), "a buffering proxy holds the stream back (not even its headers pass)");
    stream.abort();
    let r = Emu::of(via, &token).poll(0).await;
    assert_eq!(r.json()["frames"][0]["n"], 1, "{}", r.body);
    server.stop().await;
}
