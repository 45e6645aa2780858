//! Helpers for the fallback browser tests: fault switches, waiting for a
//! transport, and exchanging messages with every received frame checked
//! (once each, in order), not just the room as an app would show it.

use crate::common::client::*;
use crate::common::*;
use leptos::prelude::*;
use tether_protocol::ServerMsg;
use tether_ws::{Transport, now_ms, registry};

/// Set a fault switch on the real server (through testctl).
pub async fn fault(name: &str, on: bool) {
    ctl_post(&format!("/{name}?on={on}")).await;
}

/// A clean server and tab: no fault, nothing remembered.
pub async fn reset() {
    ctl_post("/start").await;
    for f in ["refuse-upgrade", "blackhole-upgrade", "hold-sse"] {
        fault(f, false).await;
    }
    session_storage().clear().unwrap();
}

pub fn session_storage() -> web_sys::Storage {
    web_sys::window().unwrap().session_storage().unwrap().unwrap()
}

/// Probes only when the test asks (a page event), never on a timer
/// during the test.
pub fn no_timed_probes(o: Opts) -> Opts {
    o.probe_backoff(600_000, 600_000)
}

/// The network comes back, as the browser tells the page.
pub fn went_online() {
    web_sys::window().unwrap().dispatch_event(&web_sys::Event::new("online").unwrap()).unwrap();
}

pub fn transport(c: &Client) -> Transport {
    c.ws.transport.get_untracked()
}

/// Wait until `c` is open on `t`; the time it took from `since`.
pub async fn open_on(c: &Client, t: Transport, since: f64, ms: u32) -> f64 {
    let ok = wait_for(ms, || c.state().is_open() && transport(c) == t).await;
    assert!(ok, "not open on {t:?} within {ms} ms: {:?} on {:?}", c.state(), transport(c));
    now_ms() - since
}

/// Open on `t` and joined: what it posts next reaches the room.
pub async fn ready(c: &Client, t: Transport, since: f64, ms: u32) -> f64 {
    let took = open_on(c, t, since, ms).await;
    let joined = wait_for(5_000, || c.inbox.borrow().iter().any(|m| matches!(m, ServerMsg::Joined { .. }))).await;
    assert!(joined, "never joined");
    took
}

/// Every chat message `c` received, in arrival order, as (seq, body): live
/// ones and those replayed in a join's history.
pub fn arrivals(c: &Client) -> Vec<(u64, String)> {
    let mut all = Vec::new();
    for m in c.inbox.borrow().iter() {
        match m {
            ServerMsg::Message { message } => all.push((message.seq, message.body.clone())),
            ServerMsg::Joined { history, .. } => all.extend(history.iter().map(|h| (h.seq, h.body.clone()))),
            _ => {}
        }
    }
    all
}

/// The room as an app shows it: every message received, once per sequence
/// number, in sequence order. Across a switch back to WebSocket the same
/// frame may arrive on both transports (and a probe's join replays the
/// history); the sequence number is what lets an app drop the second copy.
pub fn room_view(c: &Client) -> Vec<String> {
    let by_seq: std::collections::BTreeMap<u64, String> = arrivals(c).into_iter().collect();
    by_seq.into_values().collect()
}

/// What `c` received of the messages tagged `tag`, in arrival order.
fn tagged(c: &Client, tag: &str) -> Vec<(u64, String)> {
    arrivals(c).into_iter().filter(|(_, b)| b.starts_with(&format!("{tag} "))).collect()
}

fn acks(c: &Client, tag: &str) -> Vec<String> {
    c.acked().into_iter().map(|(id, _)| id).filter(|id| id.starts_with(&format!("{tag}-"))).collect()
}

/// Posts `n` messages from `from` (bodies `tag i`, ids `tag-i-room`: the
/// server takes an id once, whatever the room).
fn post_tagged(from: &Client, room: &str, tag: &str, n: usize) -> Vec<String> {
    let bodies: Vec<String> = (0..n).map(|i| format!("{tag} {i:02}")).collect();
    for (i, b) in bodies.iter().enumerate() {
        from.post(room, &format!("{tag}-{i}-{room}"), b).unwrap();
    }
    bodies
}

/// `to` received exactly `bodies` (tagged `tag`): each once, in order, with
/// strictly increasing sequence numbers, and `from` got one ack for each.
async fn delivered_once_in_order(from: &Client, to: &Client, tag: &str, bodies: &[String]) {
    let n = bodies.len();
    let arrived = wait_for(15_000, || tagged(to, tag).len() >= n && acks(from, tag).len() >= n).await;
    let got = tagged(to, tag);
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    let got: Vec<String> = got.into_iter().map(|(_, b)| b).collect();
    let last = |c: &Client| {
        format!(
            "{:?} on {:?}: {:?}",
            c.state(),
            transport(c),
            c.inbox.borrow().iter().rev().take(4).collect::<Vec<_>>()
        )
    };
    assert!(arrived, "{tag}: only {got:?} arrived, acks {:?}; from {}; to {}", acks(from, tag), last(from), last(to));
    assert_eq!(got, bodies, "{tag}: every message once, in order");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{tag}: sequence numbers not increasing: {seqs:?}");
    assert_eq!(acks(from, tag).len(), n, "{tag}: one ack each: {:?}", acks(from, tag));
}

/// `from` posts `n` messages tagged `tag`; `to` receives each once, in order.
pub async fn exchange(from: &Client, to: &Client, room: &str, tag: &str, n: usize) {
    let bodies = post_tagged(from, room, tag, n);
    delivered_once_in_order(from, to, tag, &bodies).await;
}

/// Messages both ways at once (`tag-a` from `a`, `tag-b` from `b`), each
/// received once and in order on the other side.
pub async fn both_ways(a: &Client, b: &Client, room: &str, tag: &str, n: usize) {
    let (ta, tb) = (format!("{tag}-a"), format!("{tag}-b"));
    let from_a = post_tagged(a, room, &ta, n);
    let from_b = post_tagged(b, room, &tb, n);
    delivered_once_in_order(a, b, &ta, &from_a).await;
    delivered_once_in_order(b, a, &tb, &from_b).await;
}

/// Both open on WebSocket, as they end every test that allowed it again.
pub async fn both_on_websocket(a: &Client, b: &Client, since: f64) {
    for c in [a, b] {
        open_on(c, Transport::WebSocket, since, 15_000).await;
    }
}

/// Nothing the hook started is left running.
pub async fn nothing_left() {
    let clean = wait_for(5_000, || {
        registry::live_event_sources() == 0 && registry::live_polls() == 0 && registry::live_sessions() == 0
    })
    .await;
    assert!(
        clean,
        "left running: {} event sources, {} polls, {} sessions",
        registry::live_event_sources(),
        registry::live_polls(),
        registry::live_sessions()
    );
    assert!(wait_for(5_000, || registry::live_sockets() == 0).await, "sockets: {}", registry::live_sockets());
    assert_eq!(registry::late_events(), 0);
}
