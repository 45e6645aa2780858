//! Several instances on one PostgreSQL and one Redis (all real processes
//! started here): users on different instances see one conversation, each
//! message once and in seq order, through instance crashes and a Redis
//! restart; `/healthz` tells when a shared component is away.

mod ack_order;
mod cluster;
#[path = "../common/mod.rs"]
mod common;
mod forward;
mod forward_faults;
mod health;
mod soak;

use cluster::{Viewer, bus_only, database, instance, redis, shows, skip, wait_for, wait_health};
use common::Client;
use common::frames::{joined, post, recv_ack};
use tether_protocol::ServerMsg;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_two_instances_see_one_conversation_once_and_in_order() {
    if skip() {
        return;
    }
    let (store, bus) = (database("chat"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut ann = Viewer::join(one.addr, "ann", "lobby").await;
    let mut bob = Viewer::join(two.addr, "bob", "lobby").await;
    for i in 0..20 {
        ann.post(&format!("a{i}"), &format!("hi {i}")).await;
        bob.post(&format!("b{i}"), &format!("yo {i}")).await;
    }
    ann.read_until(40).await;
    bob.read_until(40).await;
    ann.assert_complete(40);
    bob.assert_complete(40);
    assert_eq!(ann.seen, bob.seen, "both instances show the same order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_posts_on_both_instances_get_seqs_without_gaps_or_duplicates() {
    if skip() {
        return;
    }
    let (store, bus) = (database("seqs"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    const EACH: usize = 40;
    let mut posters = Vec::new();
    for i in 0..6 {
        let addr = if i % 2 == 0 { one.addr } else { two.addr };
        posters.push(Viewer::join(addr, &format!("p{i}"), "busy").await);
    }
    let total = posters.len() * EACH;
    let tasks: Vec<_> = posters
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            tokio::spawn(async move {
                for k in 0..EACH {
                    v.post(&format!("p{i}-{k}"), "x").await;
                }
                v.read_until(total).await;
                v
            })
        })
        .collect();
    let mut views = Vec::new();
    for t in tasks {
        views.push(t.await.expect("poster"));
    }
    for v in &views {
        v.assert_complete(total);
        assert_eq!(v.seen, views[0].seen, "{} disagrees on the order", v.nick);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_on_the_other_instance_is_acked_with_the_original_seq_and_shown_once() {
    if skip() {
        return;
    }
    let (store, bus) = (database("dedup"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut watcher = Viewer::join(two.addr, "w", "d").await;
    let mut first = Client::hello(&format!("ws://{}/ws", one.addr), "ann").await;
    joined(&mut first, "d", None).await;
    first.send(&post("d", "same-id", "once")).await;
    assert_eq!(recv_ack(&mut first).await.2, 1);
    let mut retry = Client::hello(&format!("ws://{}/ws", two.addr), "ann").await;
    joined(&mut retry, "d", None).await;
    retry.send(&post("d", "same-id", "once")).await;
    assert_eq!(recv_ack(&mut retry).await.2, 1, "the retry is acked with the original seq");
    retry.send(&post("d", "next", "twice")).await;
    assert_eq!(recv_ack(&mut retry).await.2, 2);
    watcher.read_until(2).await;
    watcher.assert_complete(2);
    watcher.client.recv_nothing(std::time::Duration::from_millis(500)).await;
}

/// A room made on one instance is announced to the other's clients over
/// the bus, and listed to whoever greets there next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_created_on_one_instance_reaches_the_other_s_clients() {
    if skip() {
        return;
    }
    let (store, bus) = (database("rooms"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut bob = Client::hello(&format!("ws://{}/ws", two.addr), "bob").await;
    let _ann = Viewer::join(one.addr, "ann", "made-on-one").await;
    let limit = std::time::Duration::from_secs(15);
    let added = |m: &ServerMsg| matches!(m, ServerMsg::RoomAdded { room } if room == "made-on-one");
    wait_for(&mut bob, limit, "room_added on the other instance", added).await;
    let mut cat = Client::connect(&format!("ws://{}/ws", two.addr)).await;
    cat.send(&tether_protocol::ClientMsg::Hello { nick: "cat".into() }).await;
    assert!(matches!(cat.recv().await, ServerMsg::Welcome { .. }));
    match cat.recv().await {
        ServerMsg::Rooms { rooms, .. } => assert!(rooms.iter().any(|r| r == "made-on-one"), "{rooms:?}"),
        other => panic!("expected rooms, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_instance_loses_nothing_and_its_users_resume_on_the_other() {
    if skip() {
        return;
    }
    let (store, bus) = (database("kill"), redis());
    let (mut one, two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut ann = Viewer::join(one.addr, "ann", "k").await;
    let mut cat = Viewer::join(one.addr, "cat", "k").await;
    let mut bob = Viewer::join(two.addr, "bob", "k").await;
    for i in 0..10 {
        ann.post(&format!("a{i}"), "before").await;
        bob.post(&format!("b{i}"), "before").await;
    }
    ann.read_until(20).await;
    // Posts in flight while the instance dies: acked or not, none may be lost.
    for i in 10..15 {
        ann.try_post(&format!("a{i}"), "in flight").await;
    }
    one.child.kill().expect("SIGKILL");
    one.child.wait().expect("reap");
    for i in 10..15 {
        bob.post(&format!("b{i}"), "meanwhile").await;
    }
    ann.resume(two.addr).await;
    cat.resume(two.addr).await;
    for i in 15..20 {
        ann.post(&format!("a{i}"), "after").await;
        bob.post(&format!("b{i}"), "after").await;
    }
    for v in [&mut ann, &mut bob, &mut cat] {
        v.read_until(40).await;
        v.assert_complete(40);
    }
    assert_eq!(ann.seen, bob.seen);
    assert_eq!(cat.seen, bob.seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_restart_fanout_resumes_and_gaps_are_filled_from_the_store() {
    if skip() {
        return;
    }
    let (store, mut bus) = (database("redis"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut ann = Viewer::join(one.addr, "ann", "r").await;
    let mut bob = Viewer::join(two.addr, "bob", "r").await;
    for i in 0..5 {
        ann.post(&format!("a{i}"), "before").await;
    }
    bob.read_until(5).await;
    bus.stop();
    let why = wait_health(one.addr, 503).await;
    assert!(why.contains("bus unavailable"), "{why}");
    wait_health(two.addr, 503).await;
    // Stored and acked while the bus is away: they reach bob from the store
    // once his instance hears the bus again (it catches up on resubscribing;
    // no timer resync here, and nothing else is posted before he has them).
    for i in 5..10 {
        ann.post(&format!("a{i}"), "during").await;
    }
    ann.read_until(10).await;
    bus.start_again().expect("restart redis");
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    bob.read_until(10).await;
    // And fan-out over the bus resumes.
    for i in 10..15 {
        ann.post(&format!("a{i}"), "after").await;
        bob.post(&format!("b{i}"), "after").await;
    }
    ann.read_until(20).await;
    bob.read_until(20).await;
    ann.assert_complete(20);
    bob.assert_complete(20);
    assert_eq!(ann.seen, bob.seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_spans_instances_and_a_crashed_instance_s_users_leave() {
    if skip() {
        return;
    }
    let (store, bus) = (database("presence"), redis());
    let (one, mut two) = (instance(&store, &bus.url()), instance(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let limit = std::time::Duration::from_secs(15);
    let mut ann = Viewer::join(one.addr, "ann", "pr").await;
    let mut bob = Viewer::join(two.addr, "bob", "pr").await;
    wait_for(&mut ann.client, limit, "bob in ann's presence", shows("bob")).await;
    wait_for(&mut bob.client, limit, "ann in bob's presence", shows("ann")).await;
    two.child.kill().expect("SIGKILL");
    two.child.wait().expect("reap");
    wait_for(
        &mut ann.client,
        limit,
        "bob leaving",
        |m| matches!(m, ServerMsg::MemberLeft { nick, .. } if nick == "bob"),
    )
    .await;
}
