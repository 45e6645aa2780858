//! The HTTP fallback in real headless Chromium against the real server,
//! with the server's fault switches standing in for broken networks:
//! upgrades refused (a proxy that strips `Upgrade`), upgrades black-holed (a
//! proxy that accepts and passes nothing), SSE held back (a buffering
//! proxy). Each time the hook must end up on a transport that works, carry
//! messages both ways (every frame received once, in order), and come back
//! to WebSocket when it is allowed again without losing or doubling a
//! message; a probe comes back only on a real frame, and a remembered
//! fallback that broke gives way to WebSocket. Timings are printed
//! (`FALLBACK:` lines), never asserted.

#![cfg(target_arch = "wasm32")]

mod common;
mod fallback_util;

use common::client::*;
use common::dom::*;
use common::*;
use fallback_util::*;
use leptos::prelude::*;
use tether_ws::{Transport, now_ms, registry};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn refused_upgrades_fall_back_to_sse_and_come_back_to_websocket() {
    reset().await;
    fault("refuse-upgrade", true).await;
    let url = ws_url().await;
    let room = unique_room("refused");
    let t0 = now_ms();
    let a = client_with(Signal::stored(url.clone()), "ria", &room, no_timed_probes);
    let b = client_with(Signal::stored(url.clone()), "rob", &room, no_timed_probes);
    let took = ready(&a, Transport::Sse, t0, 15_000).await;
    ready(&b, Transport::Sse, t0, 15_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: refused upgrade -> open on SSE in {took:.0} ms");
    both_ways(&a, &b, &room, "sse", 20).await;

    fault("refuse-upgrade", false).await;
    let t1 = now_ms();
    // Messages keep flowing while the probe takes over.
    for i in 0..10 {
        a.post(&room, &format!("switch-{i}"), &format!("switch {i:02}")).unwrap();
    }
    set_page_hidden(false); // becoming visible probes at once
    let back = open_on(&a, Transport::WebSocket, t1, 15_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: refused upgrade allowed again -> back on WebSocket in {back:.0} ms");
    let want: Vec<String> = (0..10).map(|i| format!("switch {i:02}")).collect();
    let seen = |c: &Client| room_view(c).into_iter().filter(|x| x.starts_with("switch ")).collect::<Vec<_>>();
    assert!(wait_for(15_000, || seen(&b) == want && seen(&a) == want).await, "b {:?} a {:?}", seen(&b), seen(&a));
    both_on_websocket(&a, &b, t1).await;
    both_ways(&a, &b, &room, "ws", 10).await;
    both_on_websocket(&a, &b, t1).await;
    let m = a.ws.metrics.get_untracked();
    assert_eq!((m.opens, m.drops, m.invalid_transitions), (1, 0, 0), "one connection throughout: {m:?}");
    a.owner.cleanup();
    b.owner.cleanup();
    nothing_left().await;
}

#[wasm_bindgen_test]
async fn a_black_holed_upgrade_falls_back_within_the_deadline() {
    reset().await;
    fault("blackhole-upgrade", true).await;
    let url = ws_url().await;
    let room = unique_room("hole");
    let t0 = now_ms();
    let a = client_with(Signal::stored(url.clone()), "hal", &room, no_timed_probes);
    let took = ready(&a, Transport::Sse, t0, 15_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: black-holed upgrade -> open on SSE in {took:.0} ms (deadline 3000)");
    assert!(took < 3_000.0 + 5_000.0, "fell back after the 3 s deadline, not the 10 s connect timeout: {took}");
    let b = client_with(Signal::stored(url.clone()), "hob", &room, no_timed_probes);
    ready(&b, Transport::Sse, now_ms(), 15_000).await;
    both_ways(&a, &b, &room, "sse", 10).await;

    // Probes while the upgrade is still black-holed: their sockets open and
    // pass nothing, so nothing switches and the chat goes on over SSE.
    let opens = |c: &Client| c.ws.metrics.get_untracked().opens;
    let probes = |c: &Client| c.ws.metrics.get_untracked().probes;
    let before = (opens(&a), opens(&b));
    let probes_before = (probes(&a), probes(&b));
    set_page_hidden(false);
    went_online();
    assert!(
        wait_for(5_000, || probes(&a) > probes_before.0 && probes(&b) > probes_before.1).await,
        "the page events started a probe: {:?} -> {:?}",
        probes_before,
        (probes(&a), probes(&b))
    );
    sleep(3_000 + 2_000).await; // past the probe's deadline
    for c in [&a, &b] {
        assert_eq!((transport(c), c.state().is_open()), (Transport::Sse, true), "an open socket is not a frame");
    }
    assert_eq!((opens(&a), opens(&b)), before, "no reconnect");
    both_ways(&a, &b, &room, "still", 5).await;

    // Allowed again: the network coming back is enough to probe.
    fault("blackhole-upgrade", false).await;
    let t1 = now_ms();
    went_online();
    let back = open_on(&a, Transport::WebSocket, t1, 15_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: black-holed upgrade allowed again -> back on WebSocket in {back:.0} ms");
    both_on_websocket(&a, &b, t1).await;
    both_ways(&a, &b, &room, "ws", 10).await;
    both_on_websocket(&a, &b, t1).await;
    a.owner.cleanup();
    b.owner.cleanup();
    nothing_left().await;
}

#[wasm_bindgen_test]
async fn held_sse_falls_back_to_long_polling_and_comes_back() {
    reset().await;
    fault("refuse-upgrade", true).await;
    fault("hold-sse", true).await;
    let url = ws_url().await;
    let room = unique_room("held");
    let t0 = now_ms();
    let a = client_with(Signal::stored(url.clone()), "lee", &room, no_timed_probes);
    let took = ready(&a, Transport::LongPoll, t0, 20_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: SSE held (upgrades refused) -> open on long-poll in {took:.0} ms");
    let b = client_with(Signal::stored(url.clone()), "lou", &room, no_timed_probes);
    ready(&b, Transport::LongPoll, now_ms(), 20_000).await;
    both_ways(&a, &b, &room, "lp", 20).await;
    assert!(registry::live_polls() >= 2, "polling: {}", registry::live_polls());
    assert_eq!(registry::live_event_sources(), 0, "the held stream was closed");

    // A reload in the same tab starts on long-polling at once.
    let t2 = now_ms();
    let c = client_with(Signal::stored(url.clone()), "lia", &room, no_timed_probes);
    let again = open_on(&c, Transport::LongPoll, t2, 3_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: remembered long-poll -> open in {again:.0} ms");
    c.owner.cleanup();

    fault("hold-sse", false).await;
    fault("refuse-upgrade", false).await;
    let t1 = now_ms();
    set_page_hidden(false);
    let back = open_on(&a, Transport::WebSocket, t1, 15_000).await;
    wasm_bindgen_test::console_log!(
        "FALLBACK: long-poll, WebSocket allowed again -> back on WebSocket in {back:.0} ms"
    );
    both_on_websocket(&a, &b, t1).await;
    both_ways(&a, &b, &room, "ws", 10).await;
    both_on_websocket(&a, &b, t1).await;
    a.owner.cleanup();
    b.owner.cleanup();
    nothing_left().await;
}

/// Long-polling remembered for a URL where WebSocket works and the HTTP
/// fallback does not (`/test/echo`: a WebSocket echo, which sends the
/// handshake back as a frame, with no emulated endpoints under it): the
/// page goes back to WebSocket and forgets the broken fallback.
#[wasm_bindgen_test]
async fn a_remembered_fallback_that_broke_gives_way_to_websocket() {
    reset().await;
    let url = ws_url().await.replace("/ws", "/test/echo");
    let key = format!("tether-ws transport {url}");
    session_storage().set_item(&key, "longpoll").unwrap();
    let t0 = now_ms();
    let a = client_with(Signal::stored(url), "rem", &unique_room("rem"), no_timed_probes);
    let took = open_on(&a, Transport::WebSocket, t0, 15_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: remembered long-poll broken -> open on WebSocket in {took:.0} ms");
    assert_eq!(session_storage().get_item(&key).unwrap(), None, "the broken fallback is forgotten");
    a.owner.cleanup();
    nothing_left().await;
}

/// A server restart refuses every transport: the remembered fallback must
/// survive it (a reload would otherwise pay the WebSocket deadline again),
/// and is forgotten only once WebSocket delivers a frame.
#[wasm_bindgen_test]
async fn a_remembered_fallback_survives_a_server_restart_until_websocket_works() {
    reset().await;
    let url = ws_url().await;
    let key = format!("tether-ws transport {url}");
    session_storage().set_item(&key, "sse").unwrap();
    ctl_post("/kill").await;
    let a = client_with(Signal::stored(url), "rst", &unique_room("rst"), no_timed_probes);
    let lost = || a.ws.metrics.get_untracked().reconnects >= 1;
    assert!(wait_for(30_000, lost).await, "every transport refused: {:?}", a.ws.metrics.get_untracked());
    assert_eq!(session_storage().get_item(&key).unwrap().as_deref(), Some("sse"), "kept while nothing works");
    ctl_post("/start").await;
    let t0 = now_ms();
    let took = open_on(&a, Transport::WebSocket, t0, 30_000).await;
    wasm_bindgen_test::console_log!("FALLBACK: server back, remembered SSE -> open on WebSocket in {took:.0} ms");
    assert_eq!(session_storage().get_item(&key).unwrap(), None, "WebSocket works: the fallback is forgotten");
    a.owner.cleanup();
    nothing_left().await;
}

#[wasm_bindgen_test]
async fn with_fallback_off_a_refused_upgrade_stays_down() {
    reset().await;
    fault("refuse-upgrade", true).await;
    let url = ws_url().await;
    let a = client_with(Signal::stored(url), "off", &unique_room("off"), |o| o.fallback(false));
    sleep(2_000).await;
    assert!(!a.state().is_open(), "{:?}", a.state());
    assert_eq!(transport(&a), Transport::WebSocket);
    assert_eq!(registry::live_sessions(), 0, "no session tried");
    a.owner.cleanup();
    fault("refuse-upgrade", false).await;
    nothing_left().await;
}

/// Wait for the chat to be back on WebSocket. A probe can fail for a
/// passing reason (it then waits for its backoff); the user coming back to
/// the tab again is another chance, as it would be for a real user.
async fn back_on_websocket(root: &web_sys::HtmlElement) -> bool {
    for _ in 0..5 {
        if wait_for(3_000, || badge(root).0 == "websocket").await {
            return true;
        }
        wasm_bindgen_test::console_log!("FALLBACK SOAK: still on {:?}, becoming visible again", badge(root));
        set_page_hidden(false);
    }
    false
}

fn badge(root: &web_sys::HtmlElement) -> (String, String) {
    let b = q(root, "[data-testid=connection-status]").unwrap();
    (b.get_attribute("data-transport").unwrap_or_default(), b.text_content().unwrap_or_default())
}

/// The chat through transport switches, server kills and restarts: 0 lost,
/// 0 duplicated, 0 out of order, and the badge says what it rides on.
#[wasm_bindgen_test]
async fn soak_across_transport_switches_loses_and_doubles_nothing() {
    reset().await;
    let url = ws_url().await;
    let room = unique_room("fbsoak");
    let (a, ha) = mount(url.clone(), "ann", &room);
    let (b, hb) = mount(url.clone(), "bob", &room);
    assert!(wait_for(10_000, || state(&a) == "open" && state(&b) == "open").await);
    assert_eq!(badge(&a).0, "websocket");
    let mut sent: Vec<(String, String)> = Vec::new();
    let mut seen_transports = std::collections::BTreeSet::new();
    for i in 0..60 {
        for (who, root) in [("ann", &a), ("bob", &b)] {
            let body = format!("{who} {i:02}");
            type_and_enter(root, "message-input", &body);
            sent.push((who.into(), body));
        }
        sleep(60).await;
        seen_transports.insert(badge(&a).0);
        match i {
            // Upgrades refused, connections dropped: both go to SSE.
            5 => {
                fault("refuse-upgrade", true).await;
                ctl_post("/drop-all?code=1001").await;
            }
            12 => {
                assert!(wait_for(15_000, || badge(&a).0 == "sse" && state(&a) == "open").await, "{:?}", badge(&a));
                assert!(badge(&a).1.contains("fallback: SSE"), "{:?}", badge(&a));
            }
            // Killed and restarted while on SSE.
            15 => {
                ctl_post("/kill").await;
            }
            18 => {
                ctl_post("/start").await;
                fault("refuse-upgrade", true).await; // a new process starts with no faults
            }
            24 => assert!(wait_for(15_000, || state(&a) == "open" && state(&b) == "open").await),
            // Allowed again: back to WebSocket.
            25 => {
                fault("refuse-upgrade", false).await;
                set_page_hidden(false);
            }
            30 => assert!(back_on_websocket(&a).await, "{:?}", badge(&a)),
            // SSE held and upgrades refused, connections dropped: long-polling.
            35 => {
                fault("refuse-upgrade", true).await;
                fault("hold-sse", true).await;
                ctl_post("/abort-all").await;
            }
            45 => assert!(wait_for(30_000, || badge(&a).0 == "longpoll").await, "{:?}", badge(&a)),
            50 => {
                fault("hold-sse", false).await;
                fault("refuse-upgrade", false).await;
                set_page_hidden(false);
            }
            _ => {}
        }
    }
    let own_acked =
        |root: &web_sys::HtmlElement, me: &str| messages(root).iter().filter(|m| m.0 == me).all(|m| m.2 == "acked");
    let settled = wait_for(60_000, || {
        own_acked(&a, "ann")
            && own_acked(&b, "bob")
            && messages(&a).len() >= sent.len()
            && messages(&b).len() >= sent.len()
    })
    .await;
    let (seen_a, seen_b) = (messages(&a), messages(&b));
    let count = |seen: &[(String, String, String)], m: &(String, String)| {
        seen.iter().filter(|s| s.0 == m.0 && s.1 == m.1).count()
    };
    let lost: Vec<_> = sent.iter().filter(|m| count(&seen_a, m) == 0 || count(&seen_b, m) == 0).collect();
    let duplicated: usize =
        sent.iter().map(|m| count(&seen_a, m).saturating_sub(1) + count(&seen_b, m).saturating_sub(1)).sum();
    let out_of_order: usize = ["ann", "bob"]
        .iter()
        .map(|who| {
            [&seen_a, &seen_b]
                .iter()
                .map(|seen| {
                    let mine: Vec<&String> = seen.iter().filter(|s| s.0 == *who).map(|s| &s.1).collect();
                    let bad: Vec<_> = mine.windows(2).filter(|w| w[0] > w[1]).collect();
                    if !bad.is_empty() {
                        wasm_bindgen_test::console_log!("OUT OF ORDER {who}: {bad:?}");
                    }
                    bad.len()
                })
                .sum::<usize>()
        })
        .sum();
    wasm_bindgen_test::console_log!(
        "FALLBACK SOAK: sent {} lost {} duplicated {duplicated} out_of_order {out_of_order} transports {seen_transports:?}",
        sent.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(settled, "did not settle: {} / {} rows", seen_a.len(), seen_b.len());
    assert_eq!((duplicated, out_of_order), (0, 0));
    assert!(back_on_websocket(&a).await, "ends on WebSocket: {:?}", badge(&a));
    for t in ["websocket", "sse", "longpoll"] {
        assert!(seen_transports.contains(t), "went through {t}: {seen_transports:?}");
    }
    drop(ha);
    drop(hb);
    a.remove();
    b.remove();
    nothing_left().await;
}

/// Start nginx in front of the server in `mode` (testctl); its `/ws` URL.
async fn nginx(mode: &str) -> String {
    let info = ctl_post(&format!("/nginx/start?mode={mode}")).await;
    let v: serde_json::Value = serde_json::from_str(&info).expect("/nginx/start answers JSON");
    v["ws"].as_str().expect("ws field").to_owned()
}

/// The chat through a real reverse proxy configured as broken deployments
/// are: nginx without `Upgrade`/`Connection` forwarded (SSE passes), then
/// one that also buffers every response (only long-polling passes).
#[wasm_bindgen_test]
async fn the_chat_works_through_nginx_that_forwards_no_upgrade() {
    reset().await;
    for (mode, want, words) in
        [("no-upgrade", "sse", "fallback: SSE"), ("buffered", "longpoll", "fallback: long-polling")]
    {
        let url = nginx(mode).await;
        let room = unique_room("nginx");
        let t0 = now_ms();
        let (a, ha) = mount(url.clone(), "nia", &room);
        let (b, hb) = mount(url.clone(), "nob", &room);
        let ok = wait_for(20_000, || state(&a) == "open" && state(&b) == "open" && badge(&a).0 == want).await;
        assert!(ok, "{mode}: {} {:?}", state(&a), badge(&a));
        wasm_bindgen_test::console_log!("FALLBACK: nginx {mode} -> chat open on {want} in {:.0} ms", now_ms() - t0);
        assert!(badge(&a).1.contains(words), "{:?}", badge(&a));
        let mut sent = Vec::new();
        for i in 0..10 {
            for (who, root) in [("nia", &a), ("nob", &b)] {
                let body = format!("{who} {i:02}");
                type_and_enter(root, "message-input", &body);
                sent.push((who.to_owned(), body));
            }
        }
        let all_acked =
            |root: &web_sys::HtmlElement, me: &str| messages(root).iter().filter(|m| m.0 == me).all(|m| m.2 == "acked");
        let settled = wait_for(20_000, || {
            all_acked(&a, "nia") && all_acked(&b, "nob") && messages(&a).len() == 20 && messages(&b).len() == 20
        })
        .await;
        assert!(settled, "{mode}: a {:?} b {:?}", messages(&a), messages(&b));
        for who in ["nia", "nob"] {
            let want: Vec<&String> = sent.iter().filter(|m| m.0 == who).map(|m| &m.1).collect();
            for root in [&a, &b] {
                let seen: Vec<String> = messages(root).into_iter().filter(|m| m.0 == who).map(|m| m.1).collect();
                assert_eq!(seen.iter().collect::<Vec<_>>(), want, "{mode}: once, in order");
            }
        }
        drop(ha);
        drop(hb);
        a.remove();
        b.remove();
        nothing_left().await;
    }
    ctl_post("/nginx/stop").await;
}

#[wasm_bindgen_test]
async fn frames_sent_while_posts_fail_survive_the_fallback_closing_and_arrive_once() {
    reset().await;
    fault("refuse-upgrade", true).await;
    let url = ws_url().await;
    let room = unique_room("unsent");
    let t0 = now_ms();
    let a = client_with(Signal::stored(url.clone()), "uma", &room, no_timed_probes);
    let b = client_with(Signal::stored(url.clone()), "ulf", &room, no_timed_probes);
    ready(&a, Transport::Sse, t0, 15_000).await;
    ready(&b, Transport::Sse, t0, 15_000).await;
    exchange(&a, &b, &room, "pre", 3).await;

    // The server dies: the SSE stream breaks, but until it gives up the
    // connection still counts as open, so these go to POSTs that fail.
    ctl_post("/kill").await;
    assert!(a.state().is_open() && transport(&a) == Transport::Sse, "{:?} on {:?}", a.state(), transport(&a));
    let want: Vec<String> = (0..5).map(|i| format!("lost {i:02}")).collect();
    for (i, body) in want.iter().enumerate() {
        a.post(&room, &format!("lost-{i}"), body).unwrap();
    }
    assert!(wait_for(20_000, || !a.state().is_open()).await, "the fallback never closed: {:?}", a.state());
    ctl_post("/start").await;

    let seen = |c: &Client| room_view(c).into_iter().filter(|x| x.starts_with("lost ")).collect::<Vec<_>>();
    let acked = || a.acked().iter().filter(|(id, _)| id.starts_with("lost-")).count();
    assert!(
        wait_for(30_000, || seen(&b) == want && seen(&a) == want && acked() == want.len()).await,
        "b {:?} a {:?} acks {}",
        seen(&b),
        seen(&a),
        acked()
    );
    let ids: Vec<String> = a.acked().into_iter().map(|(id, _)| id).filter(|id| id.starts_with("lost-")).collect();
    assert_eq!(ids.len(), want.len(), "each acked once: {ids:?}");
    a.owner.cleanup();
    b.owner.cleanup();
    nothing_left().await;
}
