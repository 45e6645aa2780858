//! What both hook pages share: reading the query string, the list they
//! render, and telling the harness (harness.js) when the socket opened and
//! when every message of a burst is in the list.

use leptos::prelude::*;

/// How many of the newest messages are on screen: a chat view renders a
/// window, so the work per message stays bounded however long the burst.
pub const WINDOW: usize = 100;

pub fn query(key: &str) -> Option<String> {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .map(String::from)
}

/// `?n=N`: burst mode, connected to the server's burst endpoint; otherwise
/// `?url=` (default `/ws`), as in the hook's minimal example.
pub fn target_and_url() -> (Option<usize>, String) {
    match query("n").and_then(|n| n.parse().ok()) {
        Some(n) => (Some(n), format!("/test/burst-ws?n={n}")),
        None => (None, query("url").unwrap_or_else(|| "/ws".into())),
    }
}

pub fn call_harness(name: &str, arg: usize) {
    let Some(window) = web_sys::window() else { return };
    if let Ok(f) = js_sys::Reflect::get(&window, &name.into()) {
        if let Ok(f) = f.dyn_into::<js_sys::Function>() {
            let _ = f.call1(&window, &(arg as f64).into());
        }
    }
}

/// Appends `line`; in burst mode, reports once all `target` are in.
pub fn receive(received: RwSignal<Vec<String>>, target: Option<usize>, line: String) {
    let mut len = 0;
    received.update(|r| {
        r.push(line);
        len = r.len();
    });
    if target == Some(len) {
        call_harness("__benchDone", len);
    }
}

/// The newest [`WINDOW`] lines with their index (the `For` key).
pub fn window_of(received: RwSignal<Vec<String>>) -> Vec<(usize, String)> {
    // Skip first (O(1) on a slice), then clone only the window.
    received.with(|r| r.iter().enumerate().skip(r.len().saturating_sub(WINDOW)).map(|(i, s)| (i, s.clone())).collect())
}

use wasm_bindgen::JsCast;
