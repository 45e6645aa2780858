//! Server shutdown with HTTP-fallback posts in flight: every post the server
//! stored was acked to its author before the 1001, and every ack is stored.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use common::emu::Emu;
use common::emu_chat::{joined, limits, quick};
use common::frames::{join, post};
use common::{TestServer, WAIT, open_store};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tether_protocol::{ServerMsg, close_code};
use tether_server::Limits;
use tether_server::emulated::EmulatedLimits;

const SESSIONS: usize = 40;

/// POSTs one frame; the status, or None once the server is gone.
async fn try_post(addr: SocketAddr, path: &str, body: String) -> Option<u16> {
    let fut = async {
        let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.ok()?;
        tokio::spawn(conn);
        let req = hyper::Request::post(path)
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .ok()?;
        let resp = sender.send_request(req).await.ok()?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await.ok()?;
        Some(status)
    };
    tokio::time::timeout(WAIT, fut).await.ok().flatten()
}

/// Holds the database's write lock until dropped (SQLite only: the server
/// waits for it, as for any busy moment of the disk).
fn stall_commits(db: &std::path::Path) -> Option<rusqlite::Connection> {
    if std::env::var("TETHER_TEST_STORE").as_deref() == Ok("postgres") {
        return None;
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    tokio::task::block_in_place(|| conn.execute_batch("BEGIN IMMEDIATE")).unwrap();
    Some(conn)
}

/// One session's view of the shutdown: it posts back to back until refused
/// while its SSE stream collects acks; returns the acks (id, seq) and the
/// close code.
async fn post_until_closed(mut emu: Emu, i: usize) -> (Vec<(String, u64)>, Option<u64>) {
    let (addr, token, first) = (emu.addr, emu.token.clone(), emu.next_seq);
    let poster = tokio::spawn(async move {
        for (k, seq) in (first..).enumerate() {
            let text = serde_json::to_string(&post(&format!("r{i}"), &format!("s{i}-{k}"), "bye")).unwrap();
            let path = format!("/ws/send?session={token}&seq={seq}");
            if try_post(addr, &path, serde_json::to_string(&[text]).unwrap()).await != Some(200) {
                break;
            }
        }
    });
    let sse = emu.stream().expect("an SSE client");
    let mut acks = Vec::new();
    let code = loop {
        let Some(ev) = sse.next_event(WAIT * 2).await else { break None };
        match ev.event.as_deref() {
            Some("close") => {
                break serde_json::from_str::<serde_json::Value>(&ev.data).unwrap()["code"].as_u64();
            }
            Some(_) => {}
            None => {
                if let Ok(ServerMsg::Ack { id, seq, .. }) = serde_json::from_str(&ev.data) {
                    acks.push((id, seq));
                }
            }
        }
    };
    poster.abort();
    (acks, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_fallback_posts_in_flight_acks_every_stored_post_and_stores_every_acked_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let server = TestServer::start_limited(
        &db,
        Limits { conns_per_ip: 1000, ..limits(EmulatedLimits { session_burst: 1000, ..quick() }) },
    )
    .await;
    let mut sessions = Vec::new();
    for i in 0..SESSIONS {
        let mut emu = Emu::sse(server.addr).await.greet(&format!("s{i}")).await;
        emu.send(&join(&format!("r{i}"), None)).await;
        joined(&mut emu, &format!("r{i}")).await;
        sessions.push(tokio::spawn(post_until_closed(emu, i)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A slow-commit moment: another writer holds SQLite's write lock, so
    // every session's post in flight is mid-commit when the server stops.
    let stalled = stall_commits(&db);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(stalled);
    stopping.await.unwrap();
    let mut acked = std::collections::HashMap::new();
    for (i, s) in sessions.into_iter().enumerate() {
        let (acks, code) = s.await.unwrap();
        assert_eq!(code, Some(close_code::GOING_AWAY.into()), "session {i} ends with 1001");
        acked.extend(acks);
    }
    assert!(acked.len() >= SESSIONS, "most sessions had posts acked: {}", acked.len());

    let store = open_store(&db);
    let mut stored = std::collections::HashMap::new();
    for i in 0..SESSIONS {
        stored.extend(store.after(&format!("r{i}"), 0, 100_000).unwrap().into_iter().map(|m| (m.id, m.seq)));
    }
    for (id, seq) in &acked {
        assert_eq!(stored.get(id), Some(seq), "acked {id} as {seq} but not stored");
    }
    let unacked: Vec<_> = stored.keys().filter(|id| !acked.contains_key(*id)).collect();
    assert!(unacked.is_empty(), "stored but their ack never reached the client before the 1001: {unacked:?}");
}
