//! The HTTP fallback behind a plain round-robin balancer: any instance
//! serves any emulated session, passing requests on to the instance that
//! holds it; a gone owner means `404 unknown_session` at once (the client
//! starts a new session), and a request is never passed on twice.

use std::net::SocketAddr;
use std::time::Duration;

use tether_protocol::{ClientMsg, ServerMsg};

use crate::cluster::{database, instance, redis, skip, wait_health};
use crate::common::emu::{Emu, Sse, fetch, start_session};
use crate::common::emu_chat::{Receiver, collect, joined};
use crate::common::frames::{join, post};
use crate::common::{WAIT, metric};

/// Waits until `n` instances have registered where they can be reached.
pub async fn registered(bus: &str, n: usize) {
    let mut conn = ::redis::Client::open(bus).unwrap().get_multiplexed_async_connection().await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    loop {
        let keys: Vec<String> = ::redis::cmd("KEYS").arg("tether:instance:*").query_async(&mut conn).await.unwrap();
        if keys.len() == n {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} instances registered, wanted {n}", keys.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until Redis has been up long enough that the instances take a
/// missing registration for a gone instance (not one still re-registering).
async fn settled(bus: &str) {
    let mut conn = ::redis::Client::open(bus).unwrap().get_multiplexed_async_connection().await.unwrap();
    loop {
        let info: String = ::redis::cmd("INFO").arg("server").query_async(&mut conn).await.unwrap();
        let up = info.lines().find_map(|l| l.strip_prefix("uptime_in_seconds:")).map(|v| v.trim().parse::<u64>());
        if up.expect("uptime_in_seconds").unwrap() > 10 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A session's SSE stream read through one instance, its frames POSTed
/// through the instances in turn (as a round-robin balancer would).
struct RoundRobin {
    via: Vec<SocketAddr>,
    token: String,
    next_seq: u64,
    sse: Sse,
}

impl RoundRobin {
    async fn send(&mut self, msg: &ClientMsg) {
        let body = serde_json::to_string(&[serde_json::to_string(msg).unwrap()]).unwrap();
        let addr = self.via[self.next_seq as usize % self.via.len()];
        let path = format!("/ws/send?session={}&seq={}", self.token, self.next_seq);
        let r = fetch(addr, "POST", &path, &[("content-type", "application/json")], &body).await;
        assert_eq!((r.status, r.json()["accepted"].as_u64()), (200, Some(self.next_seq)), "{}", r.body);
        self.next_seq += 1;
    }
}

impl Receiver for RoundRobin {
    async fn next(&mut self) -> ServerMsg {
        serde_json::from_str(&self.sse.next_frame().await.data).expect("server json")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_started_on_one_instance_works_through_the_other() {
    if skip() {
        return;
    }
    let (store, bus) = (database("forward"), redis());
    let (one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    registered(&bus.url(), 2).await;
    // SSE down through the other instance, POSTs through both in turn.
    let token = start_session(one.addr).await;
    let sse = Sse::open(two.addr, &format!("/ws/sse?session={token}"), &[]).await;
    assert_eq!(sse.status, 200, "the other instance serves the stream");
    assert_eq!(sse.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
    let mut s = RoundRobin { via: vec![one.addr, two.addr], token, next_seq: 1, sse };
    s.send(&ClientMsg::Hello { nick: "sse".into() }).await;
    assert!(matches!(s.next().await, ServerMsg::Welcome { .. }));
    // Long-poll and POSTs, all through the other instance.
    let mut p = Emu::of(two.addr, &start_session(one.addr).await).greet("poll").await;
    s.send(&join("lobby", None)).await;
    joined(&mut s, "lobby").await;
    p.send(&join("lobby", None)).await;
    joined(&mut p, "lobby").await;
    for i in 0..6 {
        s.send(&post("lobby", &format!("s{i}"), "from sse")).await;
        p.send(&post("lobby", &format!("p{i}"), "from poll")).await;
    }
    let (seen_s, acks_s) = collect(&mut s, 12).await;
    let (seen_p, acks_p) = collect(&mut p, 12).await;
    assert_eq!(seen_s, seen_p, "both sessions saw the same messages in the same order");
    let seqs: Vec<u64> = seen_s.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<_>>(), "every message once, in order");
    assert_eq!((acks_s.len(), acks_p.len()), (6, 6), "each post acked once");
    assert!(metric(two.addr, "tether_emulated_forwarded_total").await > 0);
    assert_eq!(metric(one.addr, "tether_emulated_forwarded_total").await, 0, "the owner served them itself");
    // Ending the session through the other instance ends it on the owner.
    let path = format!("/ws/session?session={}", p.token);
    assert_eq!(fetch(two.addr, "DELETE", &path, &[], "").await.status, 204);
    // (A poll past the last frame: 400 while the session lives, 410 once it ended.)
    let probe = format!("/ws/poll?session={}&after=999999", p.token);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = fetch(one.addr, "GET", &probe, &[], "").await.status;
        if status == 410 {
            break;
        }
        assert!(status == 400 && tokio::time::Instant::now() < deadline, "the owner's session: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_owner_dies_the_other_instance_answers_404_at_once() {
    if skip() {
        return;
    }
    let (store, bus) = (database("forward_kill"), redis());
    let (mut one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    registered(&bus.url(), 2).await;
    let token = start_session(one.addr).await;
    let mut sse = Sse::open(two.addr, &format!("/ws/sse?session={token}"), &[]).await;
    assert_eq!(sse.status, 200);
    one.child.kill().expect("SIGKILL");
    one.child.wait().expect("reap");
    // The stream through the survivor ends rather than hanging (pings come every 15 s).
    let ended = tokio::time::timeout(WAIT * 2, async { while sse.chunk(WAIT * 4).await.is_some() {} }).await;
    assert!(ended.is_ok(), "the forwarded stream outlived its owner");
    let body = serde_json::to_string(&["{}"]).unwrap();
    for (method, path, body) in [
        ("GET", format!("/ws/sse?session={token}&after=0"), ""),
        ("GET", format!("/ws/poll?session={token}&after=0"), ""),
        ("POST", format!("/ws/send?session={token}&seq=1"), body.as_str()),
        ("DELETE", format!("/ws/session?session={token}"), ""),
    ] {
        let r = fetch(two.addr, method, &path, &[("content-type", "application/json")], body).await;
        assert_eq!((r.status, r.error()), (404, "unknown_session".to_owned()), "{method} {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_request_is_never_forwarded_again() {
    if skip() {
        return;
    }
    let (store, bus) = (database("forward_loop"), redis());
    let (one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    registered(&bus.url(), 2).await;
    // A registry that points an instance back at the one asking.
    let mut conn = ::redis::Client::open(bus.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: () = ::redis::cmd("SET")
        .arg("tether:instance:loopyid1")
        .arg(format!("http://{}", two.addr))
        .query_async(&mut conn)
        .await
        .unwrap();
    let r = fetch(two.addr, "GET", "/ws/poll?session=loopyid1.AAAAAAAAAAAAAAAAAAAAAA&after=0", &[], "").await;
    assert_eq!((r.status, r.error()), (404, "unknown_session".to_owned()));
    assert_eq!(metric(two.addr, "tether_emulated_forwarded_total").await, 1, "passed on once, not in a loop");
    // A client cannot make an instance serve another's session by claiming
    // the request was forwarded: it is answered where it lands.
    let token = start_session(one.addr).await;
    let path = format!("/ws/session?session={token}");
    let r = fetch(two.addr, "DELETE", &path, &[("x-tether-forwarded", "1")], "").await;
    assert_eq!((r.status, r.error()), (404, "unknown_session".to_owned()));
    assert_eq!(fetch(two.addr, "DELETE", &path, &[], "").await.status, 204, "without it, passed on to the owner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_instance_unregisters_so_the_others_stop_trying_it() {
    if skip() {
        return;
    }
    let (store, bus) = (database("forward_stop"), redis());
    let (mut one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    registered(&bus.url(), 2).await;
    let token = start_session(one.addr).await;
    // SAFETY: kill(2) on the child process this test started.
    unsafe {
        libc::kill(one.child.id() as i32, libc::SIGTERM);
    }
    let status = one.child.wait().expect("reap");
    assert!(status.success(), "stopped cleanly: {status}");
    registered(&bus.url(), 1).await;
    settled(&bus.url()).await;
    let r = fetch(two.addr, "DELETE", &format!("/ws/session?session={token}"), &[], "").await;
    assert_eq!((r.status, r.error()), (404, "unknown_session".to_owned()));
    assert_eq!(metric(two.addr, "tether_emulated_forward_attempts_total").await, 0, "not even tried");
}
