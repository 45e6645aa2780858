//! Shared connections (`share(true)`) in real headless Chromium against the
//! real server: one socket for every component on the page using the same
//! URL, every subscriber sees every frame, a server kill is survived by all
//! with every queue drained, and the last to leave closes it.

#![cfg(target_arch = "wasm32")]

mod common;

use common::client::*;
use common::*;
use leptos::prelude::*;
use tether_protocol::ServerMsg;
use tether_ws::{live_shared, registry};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn shared(url: &str, nick: &str, room: &str) -> Client {
    client_with(Signal::stored(url.to_owned()), nick, room, |o| o.share(true))
}

fn joined(c: &Client) -> usize {
    c.inbox.borrow().iter().filter(|m| matches!(m, ServerMsg::Joined { .. })).count()
}

#[wasm_bindgen_test]
async fn two_components_share_one_socket_survive_a_kill_and_both_queues_drain() {
    ctl_post("/start").await;
    let url = ws_url().await;
    let (ra, rb) = (unique_room("sha"), unique_room("shb"));
    let a = shared(&url, "ann", &ra);
    let b = shared(&url, "bob", &rb);
    a.wait_open().await;
    b.wait_open().await;
    assert!(wait_for_server_connections(3_000, 1).await, "one socket for both: {}", server_connections().await);
    assert_eq!(registry::live_sockets(), 1);
    assert_eq!(live_shared(), 1);
    // Each subscriber's handshake went out (one join per room), and each sees every frame.
    assert!(wait_for(3_000, || joined(&a) == 2 && joined(&b) == 2).await, "{} {}", joined(&a), joined(&b));

    ctl_post("/kill").await;
    assert!(wait_for(3_000, || !a.state().is_open() && !b.state().is_open()).await);
    assert_eq!(a.state(), b.state(), "one connection, one state");
    a.post(&ra, "sh-a", "from a while down").unwrap();
    b.post(&rb, "sh-b", "from b while down").unwrap();
    assert_eq!(a.ws.metrics.get_untracked().queued, 2, "one queue for the shared socket");
    ctl_post("/start").await;
    assert!(wait_for(10_000, || a.state().is_open() && b.state().is_open()).await, "{:?}", a.state());
    let acked = |c: &Client| c.acked().into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert!(
        wait_for(5_000, || acked(&a).contains(&"sh-a".to_owned()) && acked(&a).contains(&"sh-b".to_owned())).await,
        "both queues drained after the reconnect: {:?}",
        acked(&a)
    );
    assert_eq!(acked(&a), acked(&b), "every subscriber received every frame");
    assert!(wait_for_server_connections(3_000, 1).await);

    a.owner.cleanup();
    sleep(300).await;
    assert!(b.state().is_open(), "the socket stays while a subscriber remains");
    assert_eq!(server_connections().await, 1);
    b.owner.cleanup();
    assert!(wait_for_server_connections(5_000, 0).await, "the last to leave closes it");
    assert!(wait_for(3_000, || registry::live_sockets() == 0).await);
    assert_eq!(live_shared(), 0);
}

#[wasm_bindgen_test]
async fn mounting_and_unmounting_a_shared_subscriber_200_times_leaves_nothing_open() {
    ctl_post("/start").await;
    let url = ws_url().await;
    let room = unique_room("churn");
    let hooks = registry::live_hooks();
    let keeper = shared(&url, "keeper", &room);
    keeper.wait_open().await;
    for i in 0..200 {
        let c = shared(&url, &format!("c{i}"), &room);
        if i % 50 == 0 {
            c.wait_open().await;
        }
        c.owner.cleanup();
    }
    assert_eq!(registry::live_hooks(), hooks + 1);
    assert!(keeper.state().is_open());
    assert_eq!(keeper.ws.metrics.get_untracked().connects, 1, "churn never disturbed the shared socket");
    keeper.owner.cleanup();
    // And with nobody holding it between mounts: each cycle opens and closes.
    for i in 0..200 {
        let c = shared(&url, &format!("d{i}"), &room);
        if i % 50 == 0 {
            c.wait_open().await;
        }
        c.owner.cleanup();
    }
    assert!(wait_for(5_000, || registry::live_sockets() == 0).await, "sockets: {}", registry::live_sockets());
    assert!(wait_for_server_connections(5_000, 0).await, "server: {}", server_connections().await);
    assert_eq!(registry::live_hooks(), hooks);
    assert_eq!(live_shared(), 0);
    assert_eq!(registry::late_events(), 0);
}

/// A counter from the server's `/metrics` (through testctl).
async fn server_counter(name: &str) -> f64 {
    let text = ctl_get("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[wasm_bindgen_test]
async fn identical_handshake_frames_of_shared_subscribers_go_out_once() {
    ctl_post("/start").await;
    let url = ws_url().await;
    let room = unique_room("hs");
    let dups_before = server_counter("tether_duplicate_posts_total").await;
    // Two components restored the same pending post (shared storage) and
    // both put it in their handshake, with the same hello and join.
    let with_pending = |o: tether_ws::UseWebSocketOptions<tether_protocol::ClientMsg, ServerMsg>| {
        let room = room.clone();
        o.share(true).handshake(move || {
            use tether_protocol::ClientMsg;
            vec![
                ClientMsg::Hello { nick: "ann".into() },
                ClientMsg::Join { room: room.clone(), since: None },
                ClientMsg::Post { room: room.clone(), id: "hs-pending".into(), body: "restored".into() },
            ]
        })
    };
    let a = client_with(Signal::stored(url.clone()), "ann", &room, with_pending);
    let b = client_with(Signal::stored(url), "ann", &room, with_pending);
    a.wait_open().await;
    b.wait_open().await;
    assert!(wait_for(3_000, || a.acked().len() == 1).await, "acked: {:?}", a.acked());
    sleep(300).await;
    assert_eq!(a.acked().len(), 1, "the post went out once, so it was acked once: {:?}", a.acked());
    assert_eq!(server_counter("tether_duplicate_posts_total").await, dups_before, "no duplicate reached the server");
    a.owner.cleanup();
    b.owner.cleanup();
}

#[wasm_bindgen_test]
async fn a_component_joining_an_open_shared_socket_has_its_handshake_sent_before_its_posts() {
    use tether_protocol::ClientMsg;
    ctl_post("/start").await;
    let url = ws_url().await;
    let (ra, rb) = (unique_room("lja"), unique_room("ljb"));
    let a = shared(&url, "ann", &ra);
    a.wait_open().await;
    // Mounted again over the open socket (a remount of the chat): its
    // handshake joins its room and resends a pending post; a post typed
    // afterwards must come after that one, not before.
    let room = rb.clone();
    let b = client_with(Signal::stored(url), "ann", &rb, move |o| {
        o.share(true).handshake(move || {
            vec![
                ClientMsg::Hello { nick: "ann".into() },
                ClientMsg::Join { room: room.clone(), since: None },
                ClientMsg::Post { room: room.clone(), id: "lj-pending".into(), body: "restored".into() },
            ]
        })
    });
    assert!(b.state().is_open(), "joined the open socket: {:?}", b.state());
    b.post(&rb, "lj-new", "typed after the remount").unwrap();
    let seq = |id: &str| b.acked().into_iter().find(|(i, _)| i == id).map(|(_, s)| s);
    assert!(
        wait_for(3_000, || seq("lj-pending").is_some() && seq("lj-new").is_some()).await,
        "both stored; inbox: {:?}",
        b.inbox.borrow()
    );
    assert!(seq("lj-pending") < seq("lj-new"), "in the order sent: {:?}", b.acked());
    a.owner.cleanup();
    b.owner.cleanup();
}
