//! Page-wide bookkeeping that lets a test (or a curious developer) prove that
//! nothing leaks: `window.__tether.liveSockets()` counts sockets the hook
//! created that are not closed yet, `liveHooks()` hook instances not yet
//! disposed, and `lateEvents()` events that reached a disposed hook (always 0
//! unless a handler was left attached).

use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::WebSocket;

thread_local! {
    static SOCKETS: RefCell<Vec<WebSocket>> = const { RefCell::new(Vec::new()) };
    static HOOKS: Cell<u32> = const { Cell::new(0) };
    static LATE: Cell<u32> = const { Cell::new(0) };
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
}

pub fn socket_created(ws: &WebSocket) {
    SOCKETS.with(|s| s.borrow_mut().push(ws.clone()));
}

/// Sockets not yet CLOSED. Polls `readyState`, so a socket whose close
/// event we detached from is still accounted for correctly.
pub fn live_sockets() -> u32 {
    SOCKETS.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|ws| ws.ready_state() != WebSocket::CLOSED);
        s.len() as u32
    })
}

pub fn hook_created() {
    HOOKS.with(|h| h.set(h.get() + 1));
}

pub fn hook_disposed() {
    HOOKS.with(|h| h.set(h.get().saturating_sub(1)));
}

pub fn live_hooks() -> u32 {
    HOOKS.with(Cell::get)
}

pub fn late_event() {
    LATE.with(|l| l.set(l.get() + 1));
}

pub fn late_events() -> u32 {
    LATE.with(Cell::get)
}

/// Define `window.__tether` once per page. The functions are handed to the
/// JS garbage collector (`into_js_value`), not leaked: they live as long as
/// the object that holds them.
pub fn install_debug_api() {
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else { return };
    let obj = js_sys::Object::new();
    let f = |f: fn() -> u32| Closure::<dyn Fn() -> u32>::new(f).into_js_value();
    for (name, fun) in [("liveSockets", f(live_sockets)), ("liveHooks", f(live_hooks)), ("lateEvents", f(late_events))]
    {
        let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(name), &fun);
    }
    let _ = js_sys::Reflect::set(window.unchecked_ref(), &JsValue::from_str("__tether"), &obj);
}
