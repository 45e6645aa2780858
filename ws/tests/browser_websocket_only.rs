//! The hook built without its default features (WebSocket only: no HTTP
//! fallback, no cross-tab sharing) in real headless Chromium against the
//! real server, as an app with `default-features = false` gets it. The
//! app's browser tests cover the full build; this covers the carrier that
//! replaces the fallback's. scripts/test.sh runs it in its browser suite:
//! `cargo test -p tether-ws --no-default-features --target wasm32-unknown-unknown
//! --test browser_websocket_only` with `TETHER_TESTCTL` set.

#![cfg(all(target_arch = "wasm32", not(feature = "fallback"), not(feature = "tabs")))]

use leptos::prelude::*;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;
use tether_ws::{ConnState, Incoming, Transport, UseWebSocketOptions, registry, use_websocket_with_options};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A request to tether-testctl (which supervises the real server), through
/// `fetch` called by name: web-sys's `fetch` types are features of the
/// crate under test, and a test must not turn them on for it.
async fn ctl(method: &str, path: &str) -> String {
    #[allow(clippy::option_env_unwrap)]
    let base = option_env!("TETHER_TESTCTL").expect("TETHER_TESTCTL not set: run the browser tests with `make test`");
    let url = format!("{base}{path}");
    let get = |obj: &JsValue, key: &str| js_sys::Reflect::get(obj, &key.into()).expect(key);
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"method".into(), &method.into()).unwrap();
    let fetch: js_sys::Function = get(&js_sys::global(), "fetch").unchecked_into();
    let promise = fetch.call2(&JsValue::NULL, &url.as_str().into(), &init).expect("fetch");
    let resp = JsFuture::from(js_sys::Promise::from(promise)).await.unwrap_or_else(|e| panic!("{url}: {e:?}"));
    let text: js_sys::Function = get(&resp, "text").unchecked_into();
    let body = JsFuture::from(js_sys::Promise::from(text.call0(&resp).unwrap())).await.unwrap();
    let body = body.as_string().unwrap_or_default();
    assert_eq!(get(&resp, "ok").as_bool(), Some(true), "{method} {url}: {body}");
    body
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |done, _| {
        let _ = web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&done, ms);
    });
    let _ = JsFuture::from(p).await;
}

/// Poll `cond` every 20 ms for up to `ms`; true as soon as it holds.
async fn wait_for(ms: i32, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..=ms / 20 {
        if cond() {
            return true;
        }
        sleep(20).await;
    }
    cond()
}

async fn server_connections() -> u32 {
    ctl("GET", "/connections").await.trim().parse().expect("a number")
}

/// The acks the server sent for posts, by client id.
fn acked(inbox: &RefCell<Vec<Value>>) -> Vec<String> {
    let inbox = inbox.borrow();
    inbox.iter().filter(|m| m["type"] == "ack").filter_map(|m| m["id"].as_str().map(String::from)).collect()
}

#[wasm_bindgen_test]
async fn talks_reconnects_and_retries_websocket_when_upgrades_are_refused() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
    ctl("POST", "/start").await;
    ctl("POST", "/refuse-upgrade?on=false").await;
    let info: Value = serde_json::from_str(&ctl("GET", "/info").await).expect("/info is JSON");
    let url = info["ws"].as_str().expect("ws field").to_owned();
    let room = format!("only-{}", (js_sys::Math::random() * 1e9) as u64);
    let inbox = Rc::new(RefCell::new(Vec::<Value>::new()));
    let (i, r) = (inbox.clone(), room.clone());
    let owner = Owner::new();
    let ws = owner.with(|| {
        let opts = UseWebSocketOptions::<Value, Value>::default()
            .backoff(100, 500)
            .handshake(move || vec![json!({"type": "hello", "nick": "solo"}), json!({"type": "join", "room": r})])
            .on_message(move |m: &Incoming<Value>| {
                if let Incoming::Message(m) = m {
                    i.borrow_mut().push(m.clone());
                }
            });
        use_websocket_with_options(url, opts)
    });
    let post = |id: &str| (ws.send)(&json!({"type": "post", "room": room, "id": id, "body": id}));
    let open = || ws.state.get_untracked().is_open();

    assert!(wait_for(5_000, open).await, "never opened: {:?}", ws.state.get_untracked());
    post("one").unwrap();
    assert!(wait_for(5_000, || acked(&inbox) == ["one"]).await, "acks: {:?}", acked(&inbox));

    // The server restarts: the hook reconnects on its own and carries on.
    ctl("POST", "/restart").await;
    assert!(
        wait_for(10_000, || open() && ws.metrics.get_untracked().opens == 2).await,
        "{:?}",
        ws.state.get_untracked()
    );
    post("two").unwrap();
    assert!(wait_for(5_000, || acked(&inbox).len() == 2).await, "acks: {:?}", acked(&inbox));

    // Upgrades refused (a proxy stripping `Upgrade`): with no fallback built
    // in, the hook keeps retrying WebSocket, holding what is sent meanwhile,
    // and gets through once upgrades are allowed again.
    ctl("POST", "/refuse-upgrade?on=true").await;
    ctl("POST", "/drop-all?code=1001").await;
    let connects = ws.metrics.get_untracked().connects;
    assert!(wait_for(10_000, || ws.metrics.get_untracked().connects >= connects + 3).await, "retries");
    assert!(!open(), "open while every upgrade is refused: {:?}", ws.state.get_untracked());
    assert!(matches!(ws.state.get_untracked(), ConnState::Reconnecting { .. } | ConnState::Connecting));
    post("three").unwrap();
    ctl("POST", "/refuse-upgrade?on=false").await;
    assert!(wait_for(10_000, || acked(&inbox).len() == 3).await, "acks: {:?}", acked(&inbox));
    let m = ws.metrics.get_untracked();
    assert_eq!((m.transport, m.probes, m.invalid_transitions), (Transport::WebSocket, 0, 0), "{m:?}");
    assert_eq!((registry::live_event_sources(), registry::live_sessions()), (0, 0));

    // Unmounting closes the socket and nothing reaches the hook after.
    owner.cleanup();
    assert!(wait_for(3_000, || registry::live_sockets() == 0).await, "sockets: {}", registry::live_sockets());
    let mut left = u32::MAX;
    for _ in 0..100 {
        left = server_connections().await;
        if left == 0 {
            break;
        }
        sleep(50).await;
    }
    assert_eq!(left, 0, "the server still has a connection");
    assert_eq!(registry::late_events(), 0);
}
