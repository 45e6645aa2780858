//! Passing fallback requests on when something between the instances fails:
//! only an owner known to be gone (not registered, or refusing connections)
//! means `404 unknown_session`, which makes the client drop its session;
//! a Redis that cannot answer or an owner that is slow to means `503
//! unavailable`, which the client retries with the same session.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tether_protocol::ClientMsg;
use tokio::net::TcpStream;

use crate::cluster::{database, instance, redis, skip, wait_health};
use crate::common::emu::{Reply, fetch, start_session};
use crate::common::{WAIT, metric};
use crate::forward::registered;

/// POSTs frame `seq` (a hello, the nick from the token: one per session) of
/// `token`'s session through `addr`.
async fn send(addr: SocketAddr, token: &str, seq: u64) -> Reply {
    let nick: String = token.chars().rev().filter(char::is_ascii_alphabetic).take(8).collect();
    let hello = serde_json::to_string(&ClientMsg::Hello { nick }).unwrap();
    let body = serde_json::to_string(&[hello]).unwrap();
    let path = format!("/ws/send?session={token}&seq={seq}");
    fetch(addr, "POST", &path, &[("content-type", "application/json")], &body).await
}

/// [`send`], waiting as long as an instance may wait for a slow owner.
async fn send_patiently(addr: SocketAddr, token: &str) -> Reply {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("handshake");
    tokio::spawn(conn);
    let req = hyper::Request::post(format!("/ws/send?session={token}&seq=1"))
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"[]")))
        .expect("request");
    let resp = tokio::time::timeout(WAIT * 6, sender.send_request(req)).await.expect("answered").expect("response");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn assert_retry(r: &Reply, what: &str) {
    assert_eq!((r.status, r.error()), (503, "unavailable".to_owned()), "{what}: {}", r.body);
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"), "{what}");
}

/// Sends frame `seq` through `addr` until it is accepted, as the client's
/// retries would: each answer before that must say "retry", never "gone".
async fn retried_until_passed_on(addr: SocketAddr, token: &str, seq: u64) {
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    loop {
        let r = send(addr, token, seq).await;
        if r.status == 200 {
            return;
        }
        assert_retry(&r, "until Redis answers again");
        assert!(tokio::time::Instant::now() < deadline, "never passed on after Redis answered again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_known_owners_are_still_reached_and_others_are_retried() {
    if skip() {
        return;
    }
    let (store, mut bus) = (database("forward_redis_down"), redis());
    let (one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    registered(&bus.url(), 2).await;
    // Two has looked one up; one has never looked two up.
    let (known, unknown) = (start_session(one.addr).await, start_session(two.addr).await);
    assert_eq!(send(two.addr, &known, 1).await.status, 200, "passed on while Redis is up");
    assert_eq!(send(two.addr, &unknown, 1).await.status, 200, "served by its owner");
    bus.stop();
    let r = send(two.addr, &known, 2).await;
    assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(2)), "an owner found before: {}", r.body);
    assert_retry(&send(one.addr, &unknown, 2).await, "an owner Redis cannot name just now");
    // Once Redis is back (the instances re-register), the same session goes on.
    bus.start_again().expect("restart redis-server");
    retried_until_passed_on(one.addr, &unknown, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_owner_is_retried_and_a_refusing_one_is_gone() {
    if skip() {
        return;
    }
    let (store, bus) = (database("forward_slow"), redis());
    let two = instance(&store, &bus.url());
    wait_health(two.addr, 200).await;
    // An owner that accepts connections and never answers.
    let slow = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = slow.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = slow.accept().await {
            open.push(s);
        }
    });
    let mut conn = ::redis::Client::open(bus.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    for (id, url) in [("slowslow", format!("http://{at}")), ("badentry", format!("http://{at}/elsewhere"))] {
        let _: () =
            ::redis::cmd("SET").arg(format!("tether:instance:{id}")).arg(url).query_async(&mut conn).await.unwrap();
    }
    let token = "slowslow.AAAAAAAAAAAAAAAAAAAAAA";
    assert_retry(&send_patiently(two.addr, token).await, "an owner that does not answer in time");
    assert_retry(&send(two.addr, "badentry.AAAAAAAAAAAAAAAAAAAAAA", 1).await, "a registry entry with a path");
    assert_eq!(metric(two.addr, "tether_emulated_forward_attempts_total").await, 1, "the bad entry is not tried");
    // Nothing listens there any more: the owner is gone.
    held.abort();
    let _ = held.await;
    let r = send(two.addr, token, 1).await;
    assert_eq!((r.status, r.error()), (404, "unknown_session".to_owned()), "{}", r.body);
    assert_eq!(metric(two.addr, "tether_emulated_forward_attempts_total").await, 2);
    assert_eq!(metric(two.addr, "tether_emulated_forwarded_total").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_hangs_requests_for_other_instances_sessions_are_retried() {
    if skip() {
        return;
    }
    let (store, bus) = (database("forward_redis_hung"), redis());
    let (one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    registered(&bus.url(), 2).await;
    let token = start_session(two.addr).await;
    assert_eq!(send(two.addr, &token, 1).await.status, 200, "served by its owner");
    bus.pause().expect("SIGSTOP redis-server");
    // Several at once: each is answered, none is told its session is gone.
    let tries = (0..4).map(|_| send(one.addr, &token, 2));
    for r in futures_util::future::join_all(tries).await {
        assert_retry(&r, "an owner a hung Redis cannot name");
    }
    bus.resume().expect("SIGCONT redis-server");
    retried_until_passed_on(one.addr, &token, 2).await;
}
