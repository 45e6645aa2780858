//! Shared helpers for the browser tests: talking to `tether-testctl` (which
//! supervises the real server: kill, restart, stall pongs, count
//! connections) and waiting for conditions without fixed sleeps.
#![allow(dead_code)]

pub mod client;
pub mod dom;

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

/// Where testctl listens; compiled in by scripts/test.sh (the browser has no
/// environment). Missing means the tests were started the wrong way: fail
/// loudly rather than skip. (Not `env!`: that would stop the test crate
/// from even compiling, for clippy say, without a running testctl.)
#[allow(clippy::option_env_unwrap)]
pub fn ctl() -> &'static str {
    option_env!("TETHER_TESTCTL").expect("TETHER_TESTCTL not set: run the browser tests with `make test`")
}

async fn request(method: &str, path: &str) -> String {
    let init = RequestInit::new();
    init.set_method(method);
    let url = format!("{}{}", ctl(), path);
    let window = web_sys::window().expect("window");
    let resp = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e:?}"));
    let resp: Response = resp.dyn_into().expect("a Response");
    let text = JsFuture::from(resp.text().expect("text()")).await.expect("body");
    let text = text.as_string().unwrap_or_default();
    assert!(resp.ok(), "{method} {url} -> {}: {text}", resp.status());
    text
}

pub async fn ctl_get(path: &str) -> String {
    request("GET", path).await
}

pub async fn ctl_post(path: &str) -> String {
    request("POST", path).await
}

/// The real server's WebSocket URL.
pub async fn ws_url() -> String {
    let info = ctl_get("/info").await;
    let v: serde_json::Value = serde_json::from_str(&info).expect("/info is JSON");
    v["ws"].as_str().expect("ws field").to_owned()
}

/// WebSocket connections the server has open now (`tether_connections_open`).
pub async fn server_connections() -> u32 {
    ctl_get("/connections").await.trim().parse().expect("a number")
}

pub async fn sleep(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// Poll `cond` every 20 ms for up to `ms`; true as soon as it holds.
pub async fn wait_for(ms: u32, mut cond: impl FnMut() -> bool) -> bool {
    let mut waited = 0;
    loop {
        if cond() {
            return true;
        }
        if waited >= ms {
            return false;
        }
        sleep(20).await;
        waited += 20;
    }
}

/// Poll the server's connection gauge until it equals `n`.
pub async fn wait_for_server_connections(ms: u32, n: u32) -> bool {
    let mut waited = 0;
    loop {
        if server_connections().await == n {
            return true;
        }
        if waited >= ms {
            return false;
        }
        sleep(50).await;
        waited += 50;
    }
}

/// A unique room per test, so tests never see each other's messages.
pub fn unique_room(tag: &str) -> String {
    format!("{tag}-{}", (js_sys::Math::random() * 1e9) as u64)
}

pub fn init() {
    let _ = any_spawner::Executor::init_wasm_bindgen();
    console_error_panic_hook::set_once();
}
