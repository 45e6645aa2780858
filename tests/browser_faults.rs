//! Real faults against the real server, in headless Chromium: the server is
//! SIGKILLed and restarted, closes with 1001, stops answering pings, or is
//! unreachable; the page goes offline and hidden. Each test leaves the
//! server running and answering pings for the next.

#![cfg(target_arch = "wasm32")]

mod common;

use common::client::*;
use common::dom::*;
use common::*;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use tether_ws::{ConnState, now_ms};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

/// Undo whatever an earlier (possibly failed) test left behind.
async fn reset() {
    ctl_post("/start").await;
    ctl_post("/stall-pongs?on=false").await;
}

fn connects(c: &Client) -> u32 {
    c.ws.metrics.get_untracked().connects
}

fn dispatch_window(name: &str) {
    let w = web_sys::window().unwrap();
    w.dispatch_event(&web_sys::Event::new(name).unwrap()).unwrap();
}

#[wasm_bindgen_test]
async fn server_killed_and_restarted_page_recovers_and_typed_messages_arrive_once_in_order() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("kill");
    let (a, ha) = mount(url.clone(), "kim", &room);
    let (b, hb) = mount(url, "lee", &room);
    assert!(wait_for(5_000, || state(&a) == "open" && state(&b) == "open").await);
    type_and_enter(&a, "message-input", "before");
    assert!(wait_for(3_000, || messages(&b).len() == 1).await);

    ctl_post("/kill").await;
    assert!(wait_for(5_000, || state(&a) == "reconnecting").await, "badge: {}", state(&a));
    assert!(q(&a, "[data-testid=reconnect-now]").is_some(), "reconnect-now offered while down");
    let typed: Vec<String> = (1..=5).map(|i| format!("while down {i}")).collect();
    for t in &typed {
        type_and_enter(&a, "message-input", t);
    }
    assert!(
        wait_for(1_000, || messages(&a).iter().filter(|m| m.2 == "queued").count() == 5).await,
        "{:?}",
        messages(&a)
    );
    ctl_post("/start").await;

    assert!(wait_for(20_000, || state(&a) == "open" && state(&b) == "open").await, "{} {}", state(&a), state(&b));
    assert!(wait_for(5_000, || messages(&a).iter().all(|m| m.2 == "acked")).await, "{:?}", messages(&a));
    let mut want = vec!["before".to_string()];
    want.extend(typed);
    let bodies = |root: &HtmlElement| messages(root).into_iter().map(|m| m.1).collect::<Vec<_>>();
    assert!(wait_for(5_000, || bodies(&b) == want).await, "observer saw {:?}", bodies(&b));
    assert_eq!(bodies(&a), want, "author sees each once, in order");
    let seqs: Vec<String> =
        all(&b, "[data-testid=message]").iter().filter_map(|m| m.get_attribute("data-seq")).collect();
    assert_eq!(seqs, ["1", "2", "3", "4", "5", "6"]);
    drop(ha);
    drop(hb);
}

#[wasm_bindgen_test]
async fn server_going_away_with_1001_reconnects() {
    reset().await;
    let c = client(&ws_url().await, "gone", &unique_room("1001"));
    c.wait_open().await;
    ctl_post("/drop-all?code=1001").await;
    assert!(wait_for(3_000, || c.ws.metrics.get_untracked().drops == 1).await);
    assert!(wait_for(5_000, || c.state().is_open()).await, "{:?}", c.state());
    let m = c.ws.metrics.get_untracked();
    assert_eq!((m.opens, m.reconnects), (2, 1));
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn silent_server_is_detected_by_heartbeat_within_interval_plus_timeout() {
    reset().await;
    let (interval, timeout) = (600u32, 400u32);
    let c = client_with(Signal::stored(ws_url().await), "hb", &unique_room("hb"), |o| {
        o.heartbeat(
            interval,
            timeout,
            |nonce| tether_protocol::ClientMsg::Ping { nonce },
            |m| match m {
                tether_protocol::ServerMsg::Pong { nonce } => Some(*nonce),
                _ => None,
            },
        )
    });
    c.wait_open().await;
    assert!(wait_for(3_000, || c.ws.metrics.get_untracked().rtt_ms.last.is_some()).await, "pongs measured");
    ctl_post("/stall-pongs?on=true").await;
    let stalled_at = now_ms();
    assert!(wait_for(5_000, || c.ws.metrics.get_untracked().heartbeat_timeouts == 1).await);
    let took = now_ms() - stalled_at;
    // Worst case: the stall starts just after a pong, so the next ping is one
    // interval away, then the timeout; plus polling slack.
    assert!(took <= f64::from(interval + timeout) + 300.0, "detected after {took:.0} ms");
    // Written off: dropped and reconnecting. Not read from the state, which
    // may be open again already (the first retry's jitter can be near 0).
    let m = c.ws.metrics.get_untracked();
    assert_eq!(m.drops, 1, "written off: {:?}", m.history);
    ctl_post("/stall-pongs?on=false").await;
    assert!(wait_for(5_000, || c.state().is_open()).await, "reconnected: {:?}", c.state());
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn own_close_does_not_reconnect_and_open_re_enables_it() {
    reset().await;
    let c = client(&ws_url().await, "closer", &unique_room("close"));
    c.wait_open().await;
    (c.ws.close)();
    assert!(wait_for(3_000, || matches!(c.state(), ConnState::Closed { code: 1000, .. })).await, "{:?}", c.state());
    assert!(wait_for_server_connections(3_000, 0).await);
    sleep(1_500).await; // longer than any first retry (≤ 500 ms)
    assert!(matches!(c.state(), ConnState::Closed { .. }));
    assert_eq!(connects(&c), 1, "no reconnect after our own close");
    (c.ws.open)();
    c.wait_open().await;
    ctl_post("/drop-all?code=1001").await;
    assert!(
        wait_for(5_000, || c.ws.metrics.get_untracked().opens == 3).await,
        "auto-reconnect is back: {:?}",
        c.ws.metrics.get_untracked()
    );
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn unreachable_server_backs_off_gives_up_then_reconnect_now_works() {
    reset().await;
    ctl_post("/kill").await;
    // Each wait the hook schedules (from entering `reconnecting` to its
    // `retry_at_ms`), read off its own clock: what a retry then costs the
    // browser (Firefox delays sockets to a host that keeps failing) is not
    // the hook's backoff.
    let waits = Rc::new(RefCell::new(Vec::<(u32, f64)>::new()));
    let c = client_with(Signal::stored(ws_url().await), "retry", &unique_room("backoff"), |o| {
        o.backoff(200, 800).max_attempts(Some(4))
    });
    let (w, st) = (waits.clone(), c.ws.state);
    c.owner.with(|| {
        Effect::new(move |_| {
            if let ConnState::Reconnecting { attempt, retry_at_ms: Some(at) } = st.get() {
                w.borrow_mut().push((attempt, at - now_ms()));
            }
        })
    });
    assert!(wait_for(10_000, || matches!(c.state(), ConnState::Failed { .. })).await, "{:?}", c.state());
    let ConnState::Failed { reason } = c.state() else { unreachable!() };
    assert!(reason.contains("4 reconnect attempts"), "{reason}");
    assert_eq!(connects(&c), 5, "first try plus 4 retries, then nothing");
    let mut waits = waits.borrow().clone();
    waits.dedup_by_key(|(attempt, _)| *attempt);
    assert_eq!(waits.iter().map(|(a, _)| *a).collect::<Vec<_>>(), [1, 2, 3, 4], "one wait per retry: {waits:?}");
    for (i, (attempt, wait)) in waits.iter().enumerate() {
        // Full jitter: anywhere from 0 up to base × 2^i, capped.
        let ceiling = f64::from(200u32 << i).min(800.0);
        assert!(*wait <= ceiling, "retry {attempt} scheduled {wait:.0} ms ahead (ceiling {ceiling})");
    }
    sleep(1_500).await;
    assert_eq!(connects(&c), 5, "gave up for good");
    ctl_post("/start").await;
    (c.ws.reconnect_now)();
    c.wait_open().await;
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn offline_pauses_retries_and_online_retries_at_once() {
    reset().await;
    let c = client(&ws_url().await, "net", &unique_room("net"));
    c.wait_open().await;
    dispatch_window("offline");
    sleep(300).await;
    assert!(c.state().is_open(), "going offline does not close a working socket");
    ctl_post("/kill").await;
    assert!(
        wait_for(3_000, || matches!(c.state(), ConnState::Reconnecting { retry_at_ms: None, .. })).await,
        "{:?}",
        c.state()
    );
    let before = connects(&c);
    ctl_post("/start").await;
    sleep(2_000).await;
    assert_eq!(connects(&c), before, "no attempts while offline");
    dispatch_window("online");
    assert!(wait_for(1_000, || connects(&c) == before + 1).await, "retried at once");
    c.wait_open().await;
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn a_hidden_page_keeps_reconnecting_and_becoming_visible_retries_at_once() {
    reset().await;
    let url = ws_url().await;
    let c = client(&url, "vis", &unique_room("vis"));
    // Its first retry is anywhere in the next minute: only becoming visible
    // brings it back quickly.
    let slow = client_with(Signal::stored(url), "slow", &unique_room("vis"), |o| o.backoff(60_000, 60_000));
    c.wait_open().await;
    slow.wait_open().await;
    set_page_hidden(true);
    sleep(300).await;
    assert!(c.state().is_open(), "hidden is no reason to close");
    assert_eq!(c.ws.metrics.get_untracked().drops, 0);
    ctl_post("/kill").await;
    assert!(
        wait_for(3_000, || matches!(c.state(), ConnState::Reconnecting { retry_at_ms: Some(_), .. })).await,
        "a hidden tab keeps its retry timer: {:?}",
        c.state()
    );
    ctl_post("/start").await;
    assert!(wait_for(10_000, || c.state().is_open()).await, "reconnected while hidden: {:?}", c.state());
    let before = connects(&slow);
    let waiting = matches!(slow.state(), ConnState::Reconnecting { .. }); // its random delay may be short
    set_page_hidden(false);
    if waiting {
        assert!(wait_for(1_000, || connects(&slow) > before).await, "retried at once when shown: {:?}", slow.state());
    }
    slow.wait_open().await;
    c.owner.cleanup();
    slow.owner.cleanup();
}

#[wasm_bindgen_test]
async fn badge_counts_down_and_its_reconnect_now_button_reconnects() {
    reset().await;
    let (a, h) = mount(ws_url().await, "btn", &unique_room("btn"));
    assert!(wait_for(5_000, || state(&a) == "open").await);
    assert!(q(&a, "[data-testid=reconnect-now]").is_none(), "no button while connected");
    let label = |root: &HtmlElement| q(root, ".badge .label").and_then(|l| l.text_content()).unwrap_or_default();
    ctl_post("/kill").await;
    assert!(
        wait_for(5_000, || label(&a).starts_with("Reconnecting (attempt ") && label(&a).ends_with(" s")).await,
        "{}",
        label(&a)
    );
    // Pause retries (offline), so only the button can bring the page back.
    dispatch_window("offline");
    assert!(wait_for(5_000, || label(&a).starts_with("Offline, paused")).await, "{}", label(&a));
    ctl_post("/start").await;
    sleep(1_000).await;
    assert_eq!(state(&a), "reconnecting", "still paused");
    let button: HtmlElement = q(&a, "[data-testid=reconnect-now]").expect("button while down").unchecked_into();
    button.click();
    assert!(wait_for(3_000, || state(&a) == "open").await, "{}", label(&a));
    assert_eq!(label(&a), "Connected");
    dispatch_window("online");
    drop(h);
}
