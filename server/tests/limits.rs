//! Each rate limit and cap, over real sockets: the refusal names the limit
//! (and when to retry), and nobody else is affected.

mod common;

use common::frames::{join, joined, post, post_ok};
use common::{Client, Closed, TestServer};
use tether_protocol::{ClientMsg, ErrorCode, RejectReason, ServerMsg, close_code};
use tether_server::Limits;

fn error_code(m: ServerMsg) -> (ErrorCode, Option<u64>) {
    match m {
        ServerMsg::Error { code, message, retry_after_ms } => {
            assert!(!message.is_empty());
            (code, retry_after_ms)
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn posts_over_the_rate_are_refused_with_a_retry_time_and_sustained_flooding_closes_1008() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { post_burst: 3, post_rate: 1.0, post_strikes: 5, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let mut c = Client::hello(&server.ws_url(), "fast").await;
    let mut other = Client::hello(&server.ws_url(), "calm").await;
    joined(&mut c, "lobby", None).await;
    joined(&mut other, "quiet", None).await;
    for i in 0..3 {
        post_ok(&mut c, "lobby", &format!("ok{i}"), "within the burst").await;
    }
    c.send(&post("lobby", "over", "one too many")).await;
    match c.recv().await {
        ServerMsg::Rejected { id, reason: RejectReason::RateLimited, retry_after_ms, detail, .. } => {
            assert_eq!(id, "over");
            let ms = retry_after_ms.expect("retry_after_ms");
            assert!(ms > 0 && ms <= 1000, "{ms}");
            assert!(detail.contains("retry in"), "{detail}");
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    // Another connection is not limited by this one.
    post_ok(&mut other, "quiet", "calm1", "fine").await;
    // A backlog sent in one go is refused, not punished...
    for i in 0..10 {
        c.send(&post("lobby", &format!("backlog{i}"), "x")).await;
    }
    for _ in 0..10 {
        assert!(matches!(c.recv().await, ServerMsg::Rejected { reason: RejectReason::RateLimited, .. }));
    }
    // ...but ignoring the refusals for over a second closes the connection.
    let flooder = tokio::spawn(async move {
        for i in 0..200 {
            if c.ws_send(&post("lobby", &format!("flood{i}"), "x")).await.is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        c
    });
    let mut c = flooder.await.unwrap();
    assert_eq!(c.closed().await, Closed::Code(close_code::POLICY));
    server.stop().await;
}

#[tokio::test]
async fn a_post_refused_as_rate_limited_is_not_overtaken_by_a_later_one() {
    let dir = tempfile::tempdir().unwrap();
    // A token every 100 ms: one comes back while the refused post is sent again.
    let limits = Limits { post_burst: 1, post_rate: 10.0, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let mut c = Client::hello(&server.ws_url(), "ord").await;
    joined(&mut c, "lobby", None).await;
    let refused = |m: ServerMsg, want: &str| {
        assert!(
            matches!(&m, ServerMsg::Rejected { id, reason: RejectReason::RateLimited, retry_after_ms: Some(_), .. } if id == want),
            "expected {want} refused as rate-limited, got {m:?}"
        )
    };
    post_ok(&mut c, "lobby", "p1", "first").await;
    c.send(&post("lobby", "p2", "refused")).await;
    refused(c.recv().await, "p2");
    // Sent before the client heard that p2 was refused, after a token came back.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    c.send(&post("lobby", "p3", "typed after p2")).await;
    refused(c.recv().await, "p3");
    // The client sends both again, in order: stored in that order.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let s2 = post_ok(&mut c, "lobby", "p2", "refused").await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let s3 = post_ok(&mut c, "lobby", "p3", "typed after p2").await;
    assert!(s2 < s3, "{s2} {s3}");
    server.stop().await;
}

#[tokio::test]
async fn joins_over_the_rate_are_refused_with_a_retry_time() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { join_burst: 2, join_rate: 0.5, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let mut c = Client::hello(&server.ws_url(), "j").await;
    joined(&mut c, "a", None).await;
    joined(&mut c, "a", None).await;
    c.send(&join("a", None)).await;
    let (code, retry) = error_code(c.recv().await);
    assert_eq!(code, ErrorCode::RateLimited);
    assert!(retry.is_some_and(|ms| ms > 0 && ms <= 2000), "{retry:?}");
    assert_eq!(common::metric(server.addr, "tether_rate_limited_total").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn room_creation_is_capped_per_connection_and_in_total() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { rooms_created_per_conn: 2, max_rooms: 3, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let mut a = Client::hello(&server.ws_url(), "a").await;
    joined(&mut a, "r1", None).await;
    joined(&mut a, "r2", None).await;
    a.send(&join("r3", None)).await;
    assert_eq!(error_code(a.recv().await).0, ErrorCode::RoomLimit);
    // Another connection may create one more, up to the server's total...
    let mut b = Client::hello(&server.ws_url(), "b").await;
    joined(&mut b, "r3", None).await;
    b.send(&join("r4", None)).await;
    match b.recv().await {
        ServerMsg::Error { code: ErrorCode::RoomLimit, message, .. } => {
            assert!(message.contains("server"), "{message}")
        }
        other => panic!("expected room_limit, got {other:?}"),
    }
    // ...and joining rooms that exist is never limited by either cap.
    joined(&mut a, "r3", None).await;
    joined(&mut b, "r1", None).await;
    server.stop().await;
}

#[tokio::test]
async fn rooms_joined_at_once_are_capped_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { rooms_joined_per_conn: 2, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let mut c = Client::hello(&server.ws_url(), "c").await;
    joined(&mut c, "a", None).await;
    joined(&mut c, "b", None).await;
    joined(&mut c, "b", None).await;
    c.send(&join("c", None)).await;
    assert_eq!(error_code(c.recv().await).0, ErrorCode::TooManyJoined);
    c.send(&ClientMsg::Leave { room: "a".into() }).await;
    assert_eq!(c.recv().await, ServerMsg::Left { room: "a".into() });
    joined(&mut c, "c", None).await;
    server.stop().await;
}

#[tokio::test]
async fn connections_are_capped_per_ip_and_in_total() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { conns_per_ip: 2, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t.db"), limits).await;
    let url = server.ws_url();
    let first = Client::try_connect(&url).await.unwrap();
    let _second = Client::try_connect(&url).await.unwrap();
    assert_eq!(Client::try_connect(&url).await.err(), Some(429));
    assert_eq!(common::metric(server.addr, "tether_connections_refused_total").await, 1);
    drop(first);
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while Client::try_connect(&url).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "a closed connection must free its place");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.stop().await;

    let limits = Limits { max_conns: 1, ..Limits::default() };
    let server = TestServer::start_limited(&dir.path().join("t2.db"), limits).await;
    let _only = Client::try_connect(&server.ws_url()).await.unwrap();
    assert_eq!(Client::try_connect(&server.ws_url()).await.err(), Some(503));
    server.stop().await;
}
