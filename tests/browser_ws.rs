//! The `tether-ws` crate through its public API only, in real headless
//! Chromium against the real server: the review's fixes (closes nobody asked
//! for, URL changes, timer clamping, `try_send` and queue expiry), relative
//! URLs, `immediate(false)`, callbacks, codecs over the server's test echo
//! endpoint, and shared connections.

#![cfg(target_arch = "wasm32")]

mod common;

use common::client::*;
use common::dom::*;
use common::*;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use tether_protocol::{ClientMsg, ServerMsg};
use tether_ws::{
    BinaryCodec, ConnState, Incoming, TextCodec, UseWebSocketOptions, WsError, registry, use_websocket_with_options,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn reset() {
    ctl_post("/start").await;
    ctl_post("/stall-pongs?on=false").await;
}

/// The server's test-only echo endpoint (it runs with `--test-faults`).
async fn echo_url() -> String {
    ws_url().await.replace("/ws", "/test/echo")
}

#[wasm_bindgen_test]
async fn a_1000_close_nobody_asked_for_reconnects_and_the_chat_offers_reconnect_now_meanwhile() {
    reset().await;
    let url = ws_url().await;
    let c = client(&url, "idle", &unique_room("idle"));
    c.wait_open().await;
    // A proxy's "idle timeout": a clean 1000 close the app did not ask for.
    ctl_post("/drop-all?code=1000").await;
    assert!(wait_for(5_000, || c.ws.metrics.get_untracked().opens == 2).await, "{:?}", c.state());
    assert!(c.state().is_open());

    let (page, h) = mount(url, "ann", &unique_room("idle"));
    assert!(wait_for(5_000, || state(&page) == "open").await);
    ctl_post("/kill").await;
    assert!(wait_for(5_000, || state(&page) == "reconnecting").await);
    assert!(q(&page, "[data-testid=reconnect-now]").is_some(), "a state the user did not choose offers a way back");
    ctl_post("/start").await;
    assert!(wait_for(10_000, || state(&page) == "open").await);
    assert!(q(&page, "[data-testid=reconnect-now]").is_none());
    drop(h);
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn an_invalid_url_closes_the_old_socket_the_same_url_does_not_reconnect_and_a_fix_clears_the_error() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("badurl");
    let url_sig = RwSignal::new(url.clone());
    let c = client_with(url_sig.into(), "mover", &room, |o| o);
    c.wait_open().await;
    assert!(wait_for_server_connections(3_000, 1).await);
    url_sig.set(url.clone());
    sleep(300).await;
    assert_eq!(c.ws.metrics.get_untracked().connects, 1, "the same URL again is not a reason to reconnect");

    url_sig.set("ws://bad host/ws".into());
    assert!(wait_for(2_000, || matches!(c.state(), ConnState::Failed { .. })).await, "{:?}", c.state());
    assert!(matches!(c.ws.error.get_untracked(), Some(WsError::InvalidUrl(_))));
    assert!(wait_for_server_connections(3_000, 0).await, "the old socket was closed");
    assert!(wait_for(2_000, || registry::live_sockets() == 0).await);
    let seen = *c.calls.borrow();
    let other = client(&url, "talker", &room);
    other.wait_open().await;
    other.post(&room, "badurl-1", "anyone?").unwrap();
    assert!(wait_for(3_000, || other.acked().len() == 1).await);
    sleep(200).await;
    assert_eq!(*c.calls.borrow(), seen, "nothing from the old socket after the URL changed");

    url_sig.set(url);
    c.wait_open().await;
    assert_eq!(c.ws.error.get_untracked(), None, "the URL error cleared once the URL was fixed");
    c.owner.cleanup();
    other.owner.cleanup();
}

#[wasm_bindgen_test]
async fn huge_timer_delays_are_clamped_instead_of_firing_at_once() {
    reset().await;
    let c = client_with(Signal::stored(ws_url().await), "slowpoke", &unique_room("clamp"), |o| {
        o.heartbeat(u32::MAX, u32::MAX, |nonce| ClientMsg::Ping { nonce }, |_| None)
    });
    c.wait_open().await;
    let out = c.ws.metrics.get_untracked().frames_out;
    sleep(500).await;
    let m = c.ws.metrics.get_untracked();
    assert_eq!(m.frames_out, out, "no ping: a delay past i32::MAX ms must not mean 'now'");
    assert!(c.state().is_open());
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn try_send_never_queues_and_queued_frames_past_their_ttl_are_reported_not_sent() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("ttl");
    let c = client_with(Signal::stored(url.clone()), "ttl", &room, |o| o.immediate(false).queue_ttl_ms(Some(300.0)));
    let post = |id: &str| ClientMsg::Post { room: room.clone(), id: id.into(), body: id.into() };
    assert_eq!((c.ws.try_send)(&post("direct")), Err(WsError::NotOpen));
    (c.ws.send)(&post("stale")).unwrap();
    assert_eq!(c.ws.metrics.get_untracked().queued, 1, "only `send` queues");
    sleep(400).await;
    (c.ws.send)(&post("fresh")).unwrap();
    (c.ws.open)();
    c.wait_open().await;
    assert!(wait_for(3_000, || c.acked().len() == 1).await, "{:?}", c.acked());
    assert_eq!(c.acked()[0].0, "fresh", "neither the refused nor the expired frame went out");
    assert_eq!(c.ws.error.get_untracked(), Some(WsError::Expired(1)));
    assert_eq!(c.ws.metrics.get_untracked().queue_expired, 1);
    assert!((c.ws.try_send)(&post("now")).is_ok());
    assert!(wait_for(3_000, || c.acked().len() == 2).await);
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn relative_and_http_urls_resolve_to_the_server() {
    reset().await;
    let ws = ws_url().await;
    for url in [ws.replace("ws://", "http://"), ws.replace("ws://", "//")] {
        let c = client(&url, "rel", &unique_room("rel"));
        c.wait_open().await;
        c.owner.cleanup();
    }
    assert!(wait_for(3_000, || registry::live_sockets() == 0).await);
}

#[wasm_bindgen_test]
async fn immediate_false_waits_for_open() {
    reset().await;
    let c = client_with(Signal::stored(ws_url().await), "lazy", &unique_room("lazy"), |o| o.immediate(false));
    sleep(500).await;
    assert_eq!(c.state(), ConnState::Idle);
    assert_eq!(registry::live_sockets(), 0);
    assert_eq!(server_connections().await, 0);
    (c.ws.open)();
    c.wait_open().await;
    assert_eq!(c.ws.metrics.get_untracked().connects, 1);
    c.owner.cleanup();
}

#[wasm_bindgen_test]
async fn callbacks_fire_once_each_in_order() {
    reset().await;
    let url = ws_url().await;
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log.clone());
    let room = unique_room("cb");
    let c = client_with(Signal::stored(url), "cb", &room, move |o| {
        o.on_open(move || l1.borrow_mut().push("open".into()))
            .on_message(move |m: &Incoming<ServerMsg>| {
                if let Incoming::Message(ServerMsg::Joined { .. }) = m {
                    l2.borrow_mut().push("joined".into());
                }
            })
            .on_close(move |code, _, _| l3.borrow_mut().push(format!("close {code}")))
            .on_error(move |e| l4.borrow_mut().push(format!("error {e}")))
    });
    assert!(wait_for(5_000, || log.borrow().len() == 2).await, "{:?}", log.borrow());
    ctl_post("/drop-all?code=1001").await;
    assert!(wait_for(5_000, || log.borrow().len() == 5).await, "{:?}", log.borrow());
    sleep(300).await;
    assert_eq!(*log.borrow(), ["open", "joined", "close 1001", "open", "joined"]);
    c.owner.cleanup();
    sleep(200).await;
    assert_eq!(log.borrow().len(), 5, "nothing after unmount");
}

/// An echo client with codec `C`, recording every decoded message.
fn echo_client<T, C>(url: &str, codec: C) -> (Owner, tether_ws::UseWebSocketReturn<T, T>, Rc<RefCell<Vec<T>>>)
where
    T: Clone + Send + Sync + 'static,
    C: tether_ws::Codec<T, T> + Clone,
{
    init();
    let owner = Owner::new();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let opts = UseWebSocketOptions::with_codec(codec).on_message(move |m: &Incoming<T>| {
        if let Incoming::Message(t) = m {
            g.borrow_mut().push(t.clone());
        }
    });
    let url = url.to_owned();
    let ws = owner.with(|| use_websocket_with_options(url, opts));
    (owner, ws, got)
}

#[wasm_bindgen_test]
async fn binary_and_text_codecs_round_trip_through_a_real_echo() {
    reset().await;
    let url = echo_url().await;
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    let (owner, ws, got) = echo_client(&url, BinaryCodec);
    (ws.send)(&bytes).unwrap();
    assert!(wait_for(5_000, || got.borrow().len() == 1).await, "{:?}", ws.state.get_untracked());
    assert_eq!(got.borrow()[0], bytes, "every byte back, in a binary frame");
    owner.cleanup();

    let (owner, ws, got) = echo_client(&url, TextCodec);
    (ws.send)(&"héllo ✓".to_owned()).unwrap();
    assert!(wait_for(5_000, || got.borrow().len() == 1).await);
    assert_eq!(got.borrow()[0], "héllo ✓");
    assert_eq!(ws.metrics.get_untracked().malformed_in, 0);
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn a_frame_the_codec_cannot_read_is_reported_and_counted() {
    reset().await;
    let url = echo_url().await;
    init();
    let owner = Owner::new();
    let bad = Rc::new(RefCell::new(Vec::new()));
    let b = bad.clone();
    // Sends text, expects JSON numbers: the echo of "not json" cannot decode.
    let opts = UseWebSocketOptions::default().on_message(move |m: &Incoming<u32>| {
        if let Incoming::Undecodable { error, .. } = m {
            b.borrow_mut().push(error.clone());
        }
    });
    let ws = owner.with(|| use_websocket_with_options::<String, u32, _>(url, opts));
    (ws.send)(&"not json".to_owned()).unwrap();
    assert!(wait_for(5_000, || bad.borrow().len() == 1).await);
    // Metrics reach the signal within a publishing interval (250 ms).
    assert!(wait_for(1_000, || ws.metrics.get_untracked().malformed_in == 1).await);
    assert!(matches!(ws.error.get_untracked(), Some(WsError::Decode(_))));
    owner.cleanup();
}
